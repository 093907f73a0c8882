"""Interactive sessions over a hijacked connection (attach, run, exec, start -a).

Output is copied on the calling thread until the daemon closes its side;
stdin is copied on a daemon thread and half-closed with ``shutdown(SHUT_WR)``
at EOF so the container sees end of input while its output still flows. With
a TTY the local terminal is put in raw mode (restored on every exit path),
``SIGWINCH`` resizes the remote TTY, and the detach keys (ctrl-p ctrl-q by
default) end the session without stopping the container.
"""

import _socket
import os
import sys
import threading

from .errors import ClientError
from .stdcopy import FrameError, copy_stream

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
ESCAPE_MESSAGE = "read escape sequence"  # the docker CLI's error when attach or exec is detached


def parse_detach_keys(spec):
    """``"ctrl-p,ctrl-q"`` -> b"\\x10\\x11"; single characters stand for themselves."""
    keys = bytearray()
    for part in (spec or DEFAULT_DETACH_KEYS).split(","):
        part = part.strip()
        if part.startswith("ctrl-") and len(part) == 6:
            char = part[5].lower()
            if char.isalpha():
                keys.append(ord(char) - ord("a") + 1)
                continue
            special = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}
            if char in special:
                keys.append(special[char])
                continue
        if len(part) != 1:
            raise ClientError(f"Invalid detach keys ({spec}) provided")
        keys.append(ord(part))
    return bytes(keys)


class RawTerminal:
    """Puts a terminal fd in raw mode; restores it on ``restore`` (idempotent)."""

    def __init__(self, fd):
        import termios
        import tty

        self.fd = fd
        self._termios = termios
        self._saved = termios.tcgetattr(fd)
        tty.setraw(fd)

    def restore(self):
        if self._saved is not None:
            self._termios.tcsetattr(self.fd, self._termios.TCSADRAIN, self._saved)
            self._saved = None


def terminal_size(fd):
    import fcntl
    import struct
    import termios

    try:
        packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols = struct.unpack("HHHH", packed)[:2]
    return (rows, cols) if rows and cols else None


def stdin_fd(stream):
    """The file descriptor behind ``stream``, else the process's stdin, else None."""
    for candidate in (stream, sys.stdin):
        try:
            return candidate.fileno()
        except (AttributeError, OSError, ValueError):
            continue
    return None


class Session:
    """Pumps one hijacked response between the local stdio and the container."""

    def __init__(self, response, tty, stdin=False, detach_keys=None, resize=None,
                 in_fd=None, out=None, err=None):
        self.response = response
        self.tty = tty
        self.stdin = stdin
        self.detach_keys = parse_detach_keys(detach_keys) if tty and stdin else b""
        self.resize = resize  # callable(rows, cols) or None
        self.in_fd = in_fd
        self.out = out or sys.stdout.buffer
        self.err = err or sys.stderr.buffer
        self.detached = False

    def run(self):
        """Run until the output ends (or the user detaches)."""
        raw = None
        old_winch = None
        try:
            if self.stdin and self.in_fd is None:
                raise ClientError("cannot attach stdin: no input file descriptor")
            if self.tty and self.stdin and os.isatty(self.in_fd):
                raw = RawTerminal(self.in_fd)
            if self.tty and self.resize is not None:
                old_winch = self._watch_resize()
            if self.stdin:
                threading.Thread(target=self._pump_stdin, daemon=True).start()
            try:
                copy_stream(self._read, self.out, self.err, self.tty)
            except FrameError as exc:
                raise ClientError(str(exc)) from None
            except OSError:
                if not self.detached:
                    raise
        finally:
            if raw is not None:
                raw.restore()
            if old_winch is not None:
                import signal

                signal.signal(signal.SIGWINCH, old_winch)
            self.response.close()
        return not self.detached

    def _read(self):
        if self.detached:
            return b""
        try:
            return self.response.read_some()
        except OSError:
            if self.detached:
                return b""
            raise

    def _watch_resize(self):
        import signal

        fd = self._tty_fd()

        def on_winch(signum, frame):
            size = terminal_size(fd) if fd is not None else None
            if size:
                try:
                    self.resize(*size)
                except ClientError:
                    pass

        on_winch(None, None)
        return signal.signal(signal.SIGWINCH, on_winch)

    def _tty_fd(self):
        for fd in (self.in_fd, 1, 2):
            if fd is not None and os.isatty(fd):
                return fd
        return None

    def _pump_stdin(self):
        sock = self.response.sock
        matched = 0
        try:
            while True:
                data = os.read(self.in_fd, 32768)
                if not data:
                    break
                hit = False
                if self.detach_keys:
                    data, matched, hit = self._scan_detach(data, matched)
                if data:
                    sock.sendall(data)
                if hit:
                    # Only now: what was typed before the keys has been sent.
                    self.detached = True
                    sock.shutdown(_socket.SHUT_RDWR)
                    return
            sock.shutdown(_socket.SHUT_WR)
        except OSError:
            pass

    def _scan_detach(self, data, matched):
        """Hold back bytes that may start the detach sequence. Returns (bytes to
        send, how much of the sequence is pending, whether it was completed)."""
        keys = self.detach_keys
        out = bytearray()
        for byte in data:
            if byte == keys[matched]:
                matched += 1
                if matched == len(keys):
                    return bytes(out), 0, True
                continue
            if matched:
                out += keys[:matched]
                matched = 0
                if byte == keys[0]:
                    matched = 1
                    continue
            out.append(byte)
        return bytes(out), matched, False
