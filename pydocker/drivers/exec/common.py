"""What the native and lxc exec drivers share: the calls that act on a running
container through its cgroup and its process, their state directories, and the
ProcessProtocol part that wires a child's stdio to the container's IO."""

import json
import os
import signal as signals

from twisted.internet import protocol, threads

from pydocker.drivers.exec import validate
from pydocker.drivers.exec.stdio import OutputReaders, PipeStdin, PtyConnection
from pydocker.errdefs import Conflict, InvalidParameter


class RunningContainers:
    """A mixin for an exec driver keeping ``self._home`` and ``self._reactor``.

    The driver supplies ``_live(container_id)``: its record of a running
    container, with ``pid`` (None until known), ``cgroup`` and ``stdin``, or
    ``Conflict`` when there is none.

    Threads: the table of running containers is written on the reactor only.
    pause, unpause, pids, stats and update block on cgroup files, so the daemon
    calls them from workers; there they read the table once (one dict lookup)
    and use the record's cgroup, which is set once and never changes."""

    def _live(self, container_id):
        raise NotImplementedError

    # --- controlling running containers ----------------------------------------------

    def kill(self, container_id, signal):
        pid = self._live(container_id).pid
        if pid is None:
            raise Conflict("container %s is not running" % container_id)
        if not isinstance(signal, int) or not 0 < signal < 65:
            raise InvalidParameter("invalid signal: %r" % (signal,))
        try:
            os.kill(pid, signal)
        except ProcessLookupError:
            raise Conflict("container %s is not running" % container_id) from None

    def terminate(self, container_id):
        self._live(container_id).cgroup.kill_all(signals.SIGKILL)

    def pause(self, container_id):
        self._in_cgroup(container_id, "freeze")

    def unpause(self, container_id):
        self._in_cgroup(container_id, "thaw")

    def _in_cgroup(self, container_id, action):
        """Freeze or thaw; a cgroup removed meanwhile means the container exited."""
        try:
            getattr(self._live(container_id).cgroup, action)()
        except FileNotFoundError:
            raise Conflict("container %s is not running" % container_id) from None

    def pids(self, container_id):
        return self._live(container_id).cgroup.pids()

    def stats(self, container_id):
        return self._live(container_id).cgroup.stats()

    def update(self, container_id, resources):
        validate.resources(resources)
        self._live(container_id).cgroup.set(resources)

    def resize(self, container_id, height, width):
        try:
            self._live(container_id).stdin.resize(height, width)
        except ValueError as e:
            raise InvalidParameter(str(e)) from None

    def _in_thread(self, function, *args):
        """Joining a v1 cgroup waits for an RCU grace period: keep it off the reactor."""
        return threads.deferToThreadPool(self._reactor, self._reactor.getThreadPool(),
                                         function, *args)

    # --- state kept for clean-up after a crash -----------------------------------------

    def _state_dir(self, container_id):
        return os.path.join(self._home, container_id)

    def _save_state(self, container_id, cgroup):
        """Into the container's state directory, which must exist."""
        with open(os.path.join(self._state_dir(container_id), "state.json"), "w") as f:
            json.dump({"cgroup": cgroup.paths}, f)


class StdioProcess(protocol.ProcessProtocol):
    """A process whose fds 0-2 are a container's stdio: a pipe per stream, or,
    with a TTY, a pty whose master is ``stdin``.

    Output goes to ``io``. A subclass either spawns the process as the daemon's
    child (``_spawn``: lxc's tools, on a pty of the host) or makes the stdio for a
    process started elsewhere (the native driver's ``Launch``, whose process makes
    its pty in its own devpts). It is told by ``_ended()`` once the process has
    ended and the pty (if any) is closed."""

    def __init__(self, io, tty, open_stdin, reactor):
        self._io = io
        self._tty = tty
        self._open_stdin = open_stdin
        self._reactor = reactor
        self._pty = None
        self._output = None
        self._waiting = {"process"}

    def _spawn(self, argv, env, path, extra_fds=None):
        if self._tty:
            master, slave = os.openpty()
            fds = {0: slave, 1: slave, 2: slave}
        else:
            fds = {0: "w", 1: "r", 2: "r"}
        fds.update(extra_fds or {})
        try:
            self._reactor.spawnProcess(self, argv[0], argv, env=env, path=path, childFDs=fds)
        except Exception:
            if self._tty:
                os.close(master)
            raise
        finally:
            if self._tty:
                os.close(slave)
        if self._tty:
            self._watch_pty(master)

    def _watch_pty(self, master):
        """Read the pty master; the process has ended once the last slave is closed."""
        self._pty = pty = PtyConnection(master, self._pty_output(), self._reactor)
        self._waiting.add("pty")
        pty.closed.addCallback(lambda _: self._finished("pty"))
        pty.start()
        self._hand_output(OutputReaders(lambda: [pty] if pty.connected else []))
        if "process" not in self._waiting:
            self._output.exited()       # its exit was reported before its terminal came

    def _pty_output(self):
        """Where what is read from the pty master goes."""
        return self._io.stdout

    @property
    def stdin(self):
        return self._pty if self._pty is not None else PipeStdin(self.transport)

    def connectionMade(self):
        if not self._tty:
            pipes = self.transport.pipes
            self._hand_output(OutputReaders(lambda: [pipes[fd] for fd in (1, 2) if fd in pipes]))
        if not self._tty and not self._open_stdin:
            self.transport.closeChildFD(0)

    def _hand_output(self, readers):
        """Back-pressure: the io pauses the reading of the output while a client is slow."""
        self._output = readers
        self._io.output_producer(readers)

    def processExited(self, reason):
        if self._output is not None:
            self._output.exited()

    def childDataReceived(self, fd, data):
        if fd == 1:
            self._io.stdout(data)
        elif fd == 2:
            self._io.stderr(data)

    def _finished(self, what):
        self._waiting.discard(what)
        if not self._waiting:
            self._ended()

    def _ended(self):
        raise NotImplementedError
