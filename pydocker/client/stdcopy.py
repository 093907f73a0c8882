"""Demultiplexing of the Engine API's 8-byte-header stream framing.

Without a TTY, attach/exec/logs interleave stdout and stderr on one
connection: each frame is ``[stream, 0, 0, 0, size (4 bytes, big endian)]``
followed by ``size`` bytes; stream 1 is stdout, 2 is stderr (0 is stdin,
written to stdout as Docker's stdcopy does).
"""

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3
HEADER_SIZE = 8


class FrameError(Exception):
    """The stream is not in the expected framing."""


class Demuxer:
    """Feed bytes in any split; complete frames come out as (stream, payload)."""

    def __init__(self):
        self._pending = b""

    def feed(self, data):
        self._pending += data
        frames = []
        while len(self._pending) >= HEADER_SIZE:
            header = self._pending[:HEADER_SIZE]
            stream = header[0]
            if stream > SYSTEMERR:
                raise FrameError(f"unrecognized input header: {stream}")
            size = int.from_bytes(header[4:8], "big")
            if len(self._pending) < HEADER_SIZE + size:
                break
            frames.append((stream, self._pending[HEADER_SIZE:HEADER_SIZE + size]))
            self._pending = self._pending[HEADER_SIZE + size:]
        return frames

    @property
    def leftover(self):
        return self._pending


def frame(stream, payload):
    """Encode one frame (tests and stand-in servers use it)."""
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def copy_stream(read, stdout, stderr, tty):
    """Copy a container's output from ``read()`` (returns b"" at the end) to
    binary files; raw when ``tty``, demultiplexed otherwise."""
    if tty:
        while True:
            data = read()
            if not data:
                return
            stdout.write(data)
            stdout.flush()
    demux = Demuxer()
    while True:
        data = read()
        if not data:
            return
        for stream, payload in demux.feed(data):
            if stream == SYSTEMERR:
                raise FrameError(payload.decode("utf-8", "replace"))
            target = stderr if stream == STDERR else stdout
            target.write(payload)
            target.flush()
