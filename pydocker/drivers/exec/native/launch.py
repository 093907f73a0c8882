"""One container process (a run or an exec) started through the spawner: its
stdio made here, its launcher driven over the control socket (see ``init``),
its exit status from the spawner's report (see ``spawner``)."""

import marshal
import os
import socket

from twisted.internet import defer, protocol
from twisted.python import failure

from pydocker.drivers.exec import errors
from pydocker.drivers.exec.common import StdioProcess
from pydocker.drivers.exec.native.spawner_client import SpawnerGone
from pydocker.drivers.exec.stdio import PipeTransport
from pydocker.errdefs import SystemError_


class Launch(StdioProcess):
    """``on_pid(pid)`` may return a Deferred; the process continues once it
    fires. ``on_lost(pid)`` is called when its exit can no longer be known (the
    spawner, or the launcher before it confirmed the start, died): it must kill
    the process. ``result`` fires with the exit
    report (a dict) or errbacks with the start failure."""

    def __init__(self, config, io, on_pid, on_lost, reactor):
        super().__init__(io, config["tty"], config["open_stdin"], reactor)
        self._config = config
        self._on_pid = on_pid
        self._on_lost = on_lost
        self._spawner = None
        self._control = None
        self._started = False
        self._error = None
        self._exit = None
        self._waiting |= {"control", "pipes"}
        self.pid = None
        self.result = defer.Deferred()
        self._console = None

    def start(self, current_spawner):
        """Hand the child's ends of stdio and of a control socket to the spawner
        (``current_spawner()``), which forks the launcher; ours are closed right
        after. A spawner found dead is replaced once."""
        child_stdio = self._open_stdio()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fds = child_stdio + [theirs.fileno()]
        try:
            try:
                spawner = current_spawner()
                spawner.launch(fds)
            except SpawnerGone:
                spawner = current_spawner()
                spawner.launch(fds)
        except Exception:
            ours.close()
            self.transport.loseConnection()
            self._close_console()
            raise
        finally:
            theirs.close()
            for fd in set(child_stdio):
                os.close(fd)
        self._spawner = spawner
        self.transport.closed.addCallback(lambda _: self._finished("pipes"))
        self._reactor.adoptStreamConnection(ours.fileno(), socket.AF_UNIX, _ControlFactory(self))
        ours.close()

    def _open_stdio(self):
        """The stdio of a process the daemon does not spawn: returns the child's ends
        of fds 0-2 for the caller to hand on and close. With a TTY they are the child's
        end of a console socket (``self._console`` is ours): the process makes its terminal
        in its own devpts and sends the master back (``_receive_terminal``)."""
        if self._tty:
            self._console, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self._console.setblocking(False)
            self.makeConnection(PipeTransport(self, self._reactor))
            return [theirs.detach()] * 3
        transport, child_ends = PipeTransport.open(self, self._reactor)
        self.makeConnection(transport)
        return child_ends

    def _receive_terminal(self):
        """Once the process runs (so it has sent it), take its pty master from the console
        socket and read it; False if none came."""
        console, self._console = self._console, None
        if console is None:
            return False
        try:
            _, fds, _, _ = socket.recv_fds(console, 1, 1)
        except BlockingIOError:
            fds = []
        finally:
            console.close()
        for extra in fds[1:]:
            os.close(extra)
        if fds:
            self._watch_pty(fds[0])
        return bool(fds)

    def _close_console(self):
        if self._console is not None:
            self._console.close()
            self._console = None

    # --- the control socket -----------------------------------------------------------

    def _control_made(self, control):
        self._control = control
        control.send(self._config)

    def _message(self, message):
        if "pid" in message:
            self.pid = message["pid"]
            self._spawner.watch(self.pid, self._exited)
            d = defer.maybeDeferred(self._on_pid, self.pid)
            d.addCallbacks(self._go, self._abort)
        elif "started" in message:
            self._started = True
            if self._tty and not self._receive_terminal():
                self._error = SystemError_("the container process sent no terminal")
                self._on_lost(self.pid)
                return
            self._io.started(self.pid, self.stdin)
        elif "error" in message:
            self._error = errors.from_helper(message["error"])

    def _go(self, _):
        self._control.send("go")

    def _abort(self, reason):
        # A setup error the launcher reports later explains more and wins.
        self._error = reason
        self._control.send("abort")

    def _control_lost(self):
        """The launcher has exited. With no process made there is no exit to wait
        for; killed before it said how the start went, its process is killed too,
        and its exit may have been reported before its pid reached us."""
        self._finished("control")
        if self.pid is None:
            self._finished("process")
        elif not self._started and self._error is None and self._exit is None:
            self._spawner.unwatch(self.pid)
            self._lose("the container's launcher died before the start was confirmed")

    # --- the end ----------------------------------------------------------------------

    def _exited(self, report):
        if report is None:
            self._lose("the native driver's spawner died")
            return
        self._exit = {"exit_code": report["exit_code"], "signal": report["signal"]}
        self.processExited(None)
        self._finished("process")

    def _lose(self, why):
        """The exit cannot be known: kill the process, and fail."""
        self._error = self._error or SystemError_(why + ": the process was killed")
        self._on_lost(self.pid)
        self.processExited(None)
        self._finished("process")

    def _ended(self):
        self._close_console()
        if self._error is not None:
            self.result.errback(self._error if isinstance(self._error, failure.Failure)
                                else failure.Failure(self._error))
        elif not self._started or self._exit is None:
            self.result.errback(SystemError_("the container's launcher died unexpectedly"))
        else:
            self.result.callback(self._exit)


class _Control(protocol.Protocol):
    """The daemon's end of a launcher's control socket: frames of a 4-byte
    big-endian length and a ``marshal``-encoded value, both ways."""

    def __init__(self, launch):
        self._launch = launch
        self._buffer = b""

    def connectionMade(self):
        self._launch._control_made(self)

    def send(self, value):
        data = marshal.dumps(value)
        self.transport.write(len(data).to_bytes(4, "big") + data)

    def dataReceived(self, data):
        self._buffer += data
        while len(self._buffer) >= 4:
            size = int.from_bytes(self._buffer[:4], "big")
            if len(self._buffer) < 4 + size:
                break
            frame, self._buffer = self._buffer[4:4 + size], self._buffer[4 + size:]
            self._launch._message(marshal.loads(frame))

    def connectionLost(self, reason):
        self._launch._control_lost()


class _ControlFactory(protocol.Factory):
    def __init__(self, launch):
        self._launch = launch

    def buildProtocol(self, addr):
        return _Control(self._launch)
