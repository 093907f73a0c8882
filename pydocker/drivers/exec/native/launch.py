"""One run of the init helper: the ProcessProtocol speaking its fd 3/4
frame protocol (see ``init``), relaying stdio to an ``IContainerIO``."""

import marshal
import os
import sys

from twisted.internet import defer
from twisted.python import failure

import pydocker
from pydocker.drivers.exec import errors
from pydocker.drivers.exec.common import StdioProcess
from pydocker.engine.errors import SystemError_

HELPER_MODULE = "pydocker.drivers.exec.native.init"
# -S -E: no site-packages or environment processing; the helper needs only the
# stdlib and this package, found from its working directory.
HELPER_ARGV = [sys.executable, "-S", "-E", "-m", HELPER_MODULE]
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(pydocker.__file__)))


class HelperProtocol(StdioProcess):
    """Drives one helper. ``on_pid(pid)`` may return a Deferred; the process
    continues once it fires. ``result`` fires with the helper's exit report
    (a dict) or errbacks with the start failure."""

    def __init__(self, config, io, on_pid, reactor):
        super().__init__(io, config["tty"], config["open_stdin"], reactor)
        self._config = config
        self._on_pid = on_pid
        self._frames = b""
        self._error = None
        self._exit = None
        self.pid = None
        self.result = defer.Deferred()

    def spawn(self):
        """Start the helper; with a TTY its stdio is a new pty's slave."""
        self._spawn(HELPER_ARGV, {}, PACKAGE_PARENT, {3: "w", 4: "r"})

    def connectionMade(self):
        self._send(self._config)
        super().connectionMade()

    def childDataReceived(self, fd, data):
        if fd in (1, 2):
            super().childDataReceived(fd, data)
        elif fd == 4:
            self._frames += data
            while len(self._frames) >= 4:
                size = int.from_bytes(self._frames[:4], "big")
                if len(self._frames) < 4 + size:
                    break
                frame, self._frames = self._frames[4:4 + size], self._frames[4 + size:]
                self._message(marshal.loads(frame))

    def _send(self, value):
        """A frame for the helper (see ``init``: length, then marshal data)."""
        data = marshal.dumps(value)
        self.transport.writeToChild(3, len(data).to_bytes(4, "big") + data)

    def _message(self, message):
        if "pid" in message:
            self.pid = message["pid"]
            d = defer.maybeDeferred(self._on_pid, self.pid)
            d.addCallbacks(self._go, self._abort)
        elif "started" in message:
            self._io.started(self.pid, self.stdin)
        elif "error" in message:
            self._error = errors.from_helper(message["error"])
        elif "exit" in message:
            self._exit = message["exit"]

    def _go(self, _):
        self._send("go")

    def _abort(self, reason):
        # A setup error the helper reports later explains more and wins.
        self._error = reason
        self._send("abort")

    def processEnded(self, reason):
        self._finished("process")

    def _ended(self):
        if self._error is not None:
            self.result.errback(self._error if isinstance(self._error, failure.Failure)
                                else failure.Failure(self._error))
        elif self._exit is None:
            self.result.errback(SystemError_("the container's init helper died unexpectedly"))
        else:
            self.result.callback(self._exit)
