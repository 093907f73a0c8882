"""One LXC tool run (``lxc-execute`` or ``lxc-attach``) whose stdio is the
container process's: a pipe per stream, or a pty slave with a TTY."""

import os
import termios

from twisted.internet import defer, protocol

from pydocker.drivers.exec.stdio import PipeStdin, PtyConnection


class LXCToolProcess(protocol.ProcessProtocol):
    """``exited`` fires with the tool's exit code once it and its pty are done.

    The container inherits the tool's stdio (``lxc.console.path = none``),
    so its output arrives here directly and goes to ``io``.
    """

    def __init__(self, argv, io, tty, open_stdin, reactor):
        self._argv = argv
        self._io = io
        self._tty = tty
        self._open_stdin = open_stdin
        self._reactor = reactor
        self._pty = None
        self._waiting = {"process"}
        self._code = None
        self.exited = defer.Deferred()

    def spawn(self):
        if self._tty:
            master, slave = os.openpty()
            self._pty = PtyConnection(master, self._io.stdout, self._reactor)
            self._waiting.add("pty")
            self._pty.closed.addCallback(lambda _: self._finished("pty"))
            fds = {0: slave, 1: slave, 2: slave}
        else:
            fds = {0: "w", 1: "r", 2: "r"}
        try:
            self._reactor.spawnProcess(self, self._argv[0], self._argv, env=_tool_env(),
                                       path="/", childFDs=fds)
        except Exception:
            if self._pty is not None:
                os.close(master)
            raise
        finally:
            if self._pty is not None:
                os.close(slave)
        if self._pty is not None:
            self._pty.start()

    def terminal_ready(self, timeout=2.0):
        """A Deferred firing once the tool has switched our pty to raw mode.

        ``lxc-attach`` proxies a TTY through a pty of its own and sets ours
        raw with TCSAFLUSH, which drops input typed before: the caller waits
        for this before it hands out stdin. Fires anyway after ``timeout``."""
        ready = defer.Deferred()
        deadline = self._reactor.seconds() + timeout

        def check():
            try:
                canonical = termios.tcgetattr(self._pty.master_fd)[3] & termios.ICANON
            except (OSError, termios.error):
                canonical = False       # the tool is gone: nothing to wait for
            if canonical and self._reactor.seconds() < deadline:
                self._reactor.callLater(0.005, check)
            else:
                ready.callback(None)
        check()
        return ready

    @property
    def pid(self):
        return self.transport.pid if self.transport else None

    @property
    def stdin(self):
        return self._pty if self._pty is not None else PipeStdin(self.transport)

    def connectionMade(self):
        if not self._tty and not self._open_stdin:
            self.transport.closeChildFD(0)

    def childDataReceived(self, fd, data):
        if fd == 1:
            self._io.stdout(data)
        elif fd == 2:
            self._io.stderr(data)

    def processEnded(self, reason):
        self._code = getattr(reason.value, "exitCode", None)
        if self._code is None:
            self._code = 128 + (getattr(reason.value, "signal", None) or 9)
        self._finished("process")

    def _finished(self, what):
        self._waiting.discard(what)
        if not self._waiting:
            self.exited.callback(self._code)


def _tool_env():
    """The LXC tools need a PATH for their hooks; nothing of the daemon's environment leaks."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
