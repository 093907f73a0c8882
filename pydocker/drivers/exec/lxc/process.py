"""One LXC tool run (``lxc-execute`` or ``lxc-attach``) whose stdio is the
container process's: a pipe per stream, or a pty slave with a TTY."""

import termios

from twisted.internet import defer

from pydocker.drivers.exec.common import StdioProcess


class LXCToolProcess(StdioProcess):
    """``exited`` fires with the tool's exit code once it and its pty are done.

    Without a TTY the container inherits the tool's stdio (``lxc.console.path =
    none``), so its output arrives here directly and goes to ``io``; with one the
    tool proxies it from the container's console.
    """

    def __init__(self, argv, io, tty, open_stdin, reactor):
        super().__init__(io, tty, open_stdin, reactor)
        self._argv = argv
        self._code = None
        self._output_filter = UndoOnlcr(io.stdout)
        self.exited = defer.Deferred()

    def _pty_output(self):
        return self._output_filter

    def spawn(self):
        self._spawn(self._argv, _tool_env(), "/")

    def terminal_ready(self, timeout=120.0):
        """A Deferred firing once the tool has switched our pty to raw mode.

        ``lxc-attach`` and ``lxc-execute`` proxy a TTY through a pty of the
        container's devpts and set ours raw with TCSAFLUSH, which drops input
        typed before: the caller waits
        for this before it hands out stdin. Fires anyway once the tool is gone,
        or after ``timeout``: a bound far above what even an emulated, loaded
        guest needs (seconds there), so input is not dropped on a slow host."""
        ready = defer.Deferred()
        deadline = self._reactor.seconds() + timeout

        def check():
            try:
                canonical = termios.tcgetattr(self._pty.master_fd)[3] & termios.ICANON
            except (OSError, termios.error):
                canonical = False       # the tool is gone: nothing to wait for
            if canonical and self._code is None and self._reactor.seconds() < deadline:
                self._reactor.callLater(0.005, check)
            else:
                ready.callback(None)
        check()
        return ready

    @property
    def pid(self):
        return self.transport.pid if self.transport else None

    def processEnded(self, reason):
        self._code = getattr(reason.value, "exitCode", None)
        if self._code is None:
            self._code = 128 + (getattr(reason.value, "signal", None) or 9)
        self._finished("process")

    def _ended(self):
        self._output_filter.flush()
        self.exited.callback(self._code)


class UndoOnlcr:
    """The container's terminal output as the container wrote it. An LXC tool
    proxying a TTY sets its own terminal (our pty) to output "\n" as "\r\n",
    over a container pty that did so already: each "\n" read has one "\r" too
    many before it, which is taken away here (a "\r" ending a read waits for the
    next one, which may begin with its "\n")."""

    def __init__(self, write):
        self._write = write
        self._held = b""

    def __call__(self, data):
        data = self._held + data
        self._held = b"\r" if data.endswith(b"\r") else b""
        if self._held:
            data = data[:-1]
        if data:
            self._write(data.replace(b"\r\n", b"\n"))

    def flush(self):
        if self._held:
            self._write(self._held)
            self._held = b""


def _tool_env():
    """The LXC tools need a PATH for their hooks; nothing of the daemon's environment leaks."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
