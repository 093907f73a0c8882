"""Driving a client in a real pseudo-terminal, as a person at a keyboard would."""

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


class Terminal:
    """A process on the slave side of a pty; type into it and read its screen output."""

    def __init__(self, argv, rows=30, cols=100, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if env:
                os.environ.update(env)
            os.execvp(argv[0], argv)
        self.resize(rows, cols, signal_child=False)
        self.output = b""
        self.status = None

    def resize(self, rows, cols, signal_child=True):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if signal_child:
            os.kill(self.pid, signal.SIGWINCH)

    def wait_signals_taken(self, timeout=15):
        """Wait until the process has taken every signal sent to it and is idle again (all
        its threads asleep, or it has exited): a signal sent before then may merge with the
        one still pending, as the kernel and the Go and Python runtimes keep one of each."""
        deadline = time.monotonic() + timeout
        idle_rounds = 0
        while idle_rounds < 3:  # three looks in a row: a thread may be between two waits
            idle_rounds = idle_rounds + 1 if self._idle() else 0
            if time.monotonic() > deadline:
                raise AssertionError(f"process {self.pid} never went idle after a signal")
            time.sleep(0.02)

    def _idle(self):
        try:
            process = _status(f"/proc/{self.pid}/status")
            if process["State"][0] in "ZX":  # exited: nothing more will be taken
                return True
            tasks = [_status(f"/proc/{self.pid}/task/{t}/status") for t in os.listdir(f"/proc/{self.pid}/task")]
        except FileNotFoundError:  # a thread ended while we looked: look again
            return False
        return int(process["ShdPnd"], 16) == 0 and all(
            int(task["SigPnd"], 16) == 0 and task["State"][0] in "SDT" for task in tasks)

    def type(self, data):
        os.write(self.fd, data if isinstance(data, bytes) else data.encode())

    def read_until(self, needle, timeout=30):
        """Read until ``needle`` (bytes) appears in the output after the current point."""
        start = len(self.output)
        deadline = time.monotonic() + timeout
        while needle not in self.output[start:]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{needle!r} not seen; got {self.output[start:][-500:]!r}")
            readable, _, _ = select.select([self.fd], [], [], min(remaining, 0.2))
            if readable:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {needle!r}; got {self.output[start:][-500:]!r}")
                self.output += chunk
        return self.output[start:]

    def wait(self, timeout=30):
        """The exit status of the process (draining its output meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                self._drain()
                os.close(self.fd)
                return self.status
            readable, _, _ = select.select([self.fd], [], [], 0.1)
            if readable:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    pass
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"process did not exit; output {self.output[-500:]!r}")

    def _drain(self):
        """Read what the process wrote before it exited and is still in the pty (its last
        words, such as the docker CLI's "read escape sequence")."""
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the slave side is closed and the buffer empty
                return
            if not chunk:
                return
            self.output += chunk


def _status(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
