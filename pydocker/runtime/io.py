"""A running container's stdio as the daemon sees it.

The exec driver calls ``stdout``/``stderr`` with output and ``started`` with
the stdin handle; this fans output out to the log writer and to every attached
client, and lets attached clients write to stdin.

Back-pressure works as under dockerd, where the copy from the container blocks on a
slow attached writer: while any attached client's connection is over its high-water
mark, the driver's reader of the container's output is paused, so the pipe (or pty)
fills and the container's writes block. The log writer loses nothing; it sees the
output when reading resumes. A log writer that falls behind (``runtime/logwriter.py``)
pauses the output the same way.
"""

from twisted.internet import defer
from zope.interface import implementer

from pydocker.drivers.exec.interfaces import IContainerIO


class Outputs:
    """The consumers of a container's output (attached clients) and the pause they ask for.

    A consumer is a callable ``(stream, data)``. After writing, it calls ``hold(consumer,
    writable)`` with its connection's ``when_writable()`` Deferred: until that fires the
    output is paused. It outlives one run of the container (``docker run`` attaches before
    the start; a restarted container gets a new reader, paused at once if a client is full).
    """

    def __init__(self):
        self._consumers = set()
        self._holding = set()
        self._producer = None

    def add(self, consumer):
        self._consumers.add(consumer)

    def discard(self, consumer):
        """A consumer that leaves releases its hold."""
        self._consumers.discard(consumer)
        self._release(consumer)

    def __bool__(self):
        return bool(self._consumers)

    def deliver(self, stream, data):
        for consumer in list(self._consumers):
            consumer(stream, data)

    def drive(self, producer):
        """The reader of the container's output now running (an ``IPushProducer``)."""
        self._producer = producer
        if self._holding:
            producer.pauseProducing()

    def hold(self, consumer, writable):
        """Pause the output until ``writable`` fires, unless it already has."""
        if consumer in self._consumers:
            self._hold(consumer, writable)

    def hold_for_log(self, writable):
        """Pause the output until the log writer's backlog is low again (``writable``)."""
        self._hold(self._LOG, writable)

    _LOG = object()  # the log writer's key among the holders

    def _hold(self, consumer, writable):
        if writable.called or consumer in self._holding:
            return
        self._holding.add(consumer)
        if len(self._holding) == 1 and self._producer is not None:
            self._producer.pauseProducing()
        writable.addBoth(lambda result: self._release(consumer) or result)

    def _release(self, consumer):
        if consumer not in self._holding:
            return
        self._holding.discard(consumer)
        if not self._holding and self._producer is not None:
            self._producer.resumeProducing()


@implementer(IContainerIO)
class ContainerIO:
    def __init__(self, log_writer=None, outputs=None):
        self.log_writer = log_writer
        self.outputs = outputs if outputs is not None else Outputs()
        self.stdin = None
        self.pid = None
        self.started_d = defer.Deferred()

    def started(self, pid, stdin):
        self.pid = pid
        self.stdin = stdin
        if not self.started_d.called:
            self.started_d.callback(pid)

    def output_producer(self, producer):
        self.outputs.drive(producer)

    def stdout(self, data):
        self._deliver("stdout", data)

    def stderr(self, data):
        self._deliver("stderr", data)

    def _deliver(self, stream, data):
        if self.log_writer is not None:
            writable = self.log_writer.write(stream, data)
            if writable is not None:
                self.outputs.hold_for_log(writable)
        self.outputs.deliver(stream, data)

    def close(self):
        if self.log_writer is not None:
            self.log_writer.close()
            self.log_writer = None


class Attachments:
    """The clients attached to one container, whether its process runs yet or not:
    ``docker run`` attaches before it starts the container."""

    def __init__(self):
        self.outputs = Outputs()
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
