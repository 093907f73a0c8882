"""A running container's stdio as the daemon sees it.

The exec driver calls ``stdout``/``stderr`` with output and ``started`` with
the stdin handle; this fans output out to the log writer and to every attached
client, and lets attached clients write to stdin.
"""

from twisted.internet import defer
from zope.interface import implementer

from pydocker.drivers.exec.interfaces import IContainerIO


@implementer(IContainerIO)
class ContainerIO:
    def __init__(self, log_writer=None, listeners=None):
        self.log_writer = log_writer
        self._listeners = listeners if listeners is not None else set()
        self.stdin = None
        self.pid = None
        self.producer = None
        self.started_d = defer.Deferred()

    def started(self, pid, stdin):
        self.pid = pid
        self.stdin = stdin
        if not self.started_d.called:
            self.started_d.callback(pid)

    def output_producer(self, producer):
        self.producer = producer

    def stdout(self, data):
        self._deliver("stdout", data)

    def stderr(self, data):
        self._deliver("stderr", data)

    def _deliver(self, stream, data):
        if self.log_writer is not None:
            self.log_writer.write(stream, data)
        for listener in list(self._listeners):
            listener(stream, data)

    def listen(self, callback):
        """``callback(stream, data)`` for every output chunk; returns the unsubscribe function."""
        self._listeners.add(callback)
        return lambda: self._listeners.discard(callback)

    def close(self):
        if self.log_writer is not None:
            self.log_writer.close()
            self.log_writer = None


class Attachments:
    """The clients attached to one container, whether its process runs yet or not:
    ``docker run`` attaches before it starts the container."""

    def __init__(self):
        self.outputs = set()  # callables(stream, data)
        self.on_start = set()  # callables(ContainerIO)
        self.on_exit = set()  # callables(exit_code)

    def started(self, io):
        for callback in list(self.on_start):
            callback(io)

    def exited(self, exit_code):
        for callback in list(self.on_exit):
            callback(exit_code)

    def __bool__(self):
        return bool(self.outputs or self.on_start or self.on_exit)
