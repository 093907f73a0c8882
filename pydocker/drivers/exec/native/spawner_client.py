"""The daemon's side of the spawner (see ``spawner``): starting it, handing it
the fds of each launch, and routing its exit reports to whoever watches a pid.

The spawner runs a sealed in-memory copy of the interpreter (``sealed``), made
at its start: every launcher it forks, and so every process entering a
container, has that copy, never the host's file, as ``/proc/self/exe``."""

import marshal
import os
import socket
import sys

from twisted.internet import abstract, defer, error, main, protocol
from twisted.logger import Logger
from twisted.python import failure

import pydocker
from pydocker.drivers.exec.sealed import SealedCopy
from pydocker.errdefs import SystemError_

SPAWNER_MODULE = "pydocker.drivers.exec.native.spawner"
INTERPRETER = os.path.realpath(sys.executable)
# -S -E: no site-packages or environment processing; the spawner needs only the
# stdlib and this package, found from its working directory.
SPAWNER_OPTIONS = ["-S", "-E", "-m", SPAWNER_MODULE]
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(pydocker.__file__)))
_REPORT_SIZE = 4096


class SpawnerGone(SystemError_):
    """The spawner has died: a new one can take the launch."""


class SpawnerProcess(protocol.ProcessProtocol):
    """One spawner process. ``ended`` fires once it has exited; by then every
    watcher has been called, with None for a pid whose exit it never reported.
    It runs its sealed interpreter through a link in the driver's ``home``."""

    log = Logger()

    def __init__(self, reactor, home):
        self._reactor = reactor
        self._home = home
        self._channel = None
        self._interpreter = None
        self._watchers = {}
        self._stopping = False
        self.alive = False
        self.ended = defer.Deferred()

    def start(self):
        # Kept open while the spawner lives: it is executed through our fd.
        self._interpreter = SealedCopy(
            INTERPRETER, os.path.join(self._home, os.path.basename(INTERPRETER)))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # argv[0] is the interpreter's real path: Python finds its stdlib from it.
            self._reactor.spawnProcess(self, self._interpreter.path,
                                       [INTERPRETER] + SPAWNER_OPTIONS, env={},
                                       path=PACKAGE_PARENT,
                                       childFDs={0: "w", 1: "r", 2: "r", 3: theirs.fileno()})
        except Exception:
            ours.close()
            self._interpreter.close()
            raise
        finally:
            theirs.close()
        self._channel = _Channel(ours, self._report, self._reactor)
        self.alive = True
        return self

    @property
    def pid(self):
        return self.transport.pid if self.transport else None

    def launch(self, fds):
        """Have the spawner fork a launcher with ``fds`` as its fds 0-3."""
        if not self.alive:
            raise SpawnerGone("the native driver's spawner is not running")
        try:
            self._channel.send(b"launch", fds)
        except BlockingIOError:
            raise SystemError_("the native driver's spawner is not keeping up") from None
        except OSError as e:
            self.alive = False      # it has died; its processEnded is still to come
            raise SpawnerGone("cannot reach the native driver's spawner: %s" % e) from None

    def watch(self, pid, callback):
        """``callback(report)`` once ``pid`` has exited: a dict with ``exit_code``
        and ``signal``, or None when the spawner died before reporting it."""
        if self.alive:
            self._watchers[pid] = callback
        else:
            callback(None)

    def unwatch(self, pid):
        self._watchers.pop(pid, None)

    def stop(self):
        """Close the channel: the spawner exits. Returns ``ended``."""
        self._stopping = True
        if self._channel is not None:
            self._channel.close()
        return self.ended

    def _report(self, message):
        callback = self._watchers.pop(message["exit"], None)
        if callback is not None:
            callback(message)

    # --- the process -----------------------------------------------------------------

    def connectionMade(self):
        self.transport.closeChildFD(0)

    def childDataReceived(self, fd, data):
        for line in data.decode(errors="replace").splitlines():
            self.log.warn("spawner: {line}", line=line)

    def processEnded(self, reason):
        self.alive = False
        self._interpreter.close()
        if self._channel is not None:
            self._channel.drain()       # exits reported before it ended
            self._channel.close()
        if not self._stopping:
            self.log.error("the native driver's spawner died ({why}): its containers are killed",
                           why=reason.getErrorMessage())
        watchers, self._watchers = self._watchers, {}
        for callback in watchers.values():
            callback(None)
        self.ended.callback(None)


class _Channel(abstract.FileDescriptor):
    """The daemon's end of the spawner's ``SOCK_SEQPACKET`` channel: one
    ``marshal`` report per message in, fds out."""

    def __init__(self, sock, on_report, reactor):
        super().__init__(reactor)
        sock.setblocking(False)
        self._socket = sock
        self._on_report = on_report
        self.connected = 1
        self.startReading()

    def fileno(self):
        return self._socket.fileno()

    def send(self, data, fds):
        socket.send_fds(self._socket, [data], fds)

    def doRead(self):
        while True:
            try:
                data = self._socket.recv(_REPORT_SIZE)
            except BlockingIOError:
                return None
            except OSError:
                return main.CONNECTION_LOST
            if not data:
                return main.CONNECTION_DONE
            self._on_report(marshal.loads(data))

    def drain(self):
        """Read every report already sent."""
        if self.connected:
            self.doRead()

    def close(self):
        if self.connected:
            self.connectionLost(failure.Failure(error.ConnectionDone()))

    def connectionLost(self, reason):
        super().connectionLost(reason)
        self._socket.close()
