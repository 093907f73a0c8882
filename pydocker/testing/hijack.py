"""A raw client of the hijacked attach and exec-start connections, for tests that read at
their own pace (slow readers, clients leaving mid-stream)."""

import socket


def open_hijack(socket_path, path, body=b"", timeout=10):
    """POST ``path`` on the daemon's unix socket with ``Upgrade: tcp``; returns the socket
    once the ``101 UPGRADED`` head has been read (nothing after it)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(socket_path)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    head = b""
    while b"\r\n\r\n" not in head:
        byte = s.recv(1)
        if not byte:
            raise ConnectionError(f"the daemon closed the connection: {head!r}")
        head += byte
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"no upgrade: {head!r}")
    return s


class FrameReader:
    """Splits a multiplexed (stdcopy) stream as it is read: ``sink(stream, payload)`` with
    stream 1 (stdout) or 2 (stderr) for every frame."""

    def __init__(self, sock, sink):
        self.sock = sock
        self.sink = sink
        self.eof = False
        self._buffer = bytearray()

    def read(self, size=65536):
        """One recv of up to ``size`` bytes; returns how many arrived (0 at the end)."""
        data = self.sock.recv(size)
        if not data:
            self.eof = True
            return 0
        self._buffer += data
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[4:8], "big")
            if len(self._buffer) < 8 + length:
                break
            self.sink(self._buffer[0], bytes(self._buffer[8:8 + length]))
            del self._buffer[:8 + length]
        return len(data)
