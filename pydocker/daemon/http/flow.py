"""Flow control for the streams the API writes: when can a slow reader take more?

A Twisted transport pauses its registered push producer once its write buffer passes
the high-water mark and resumes it when the buffer has drained. ``WriteFlow`` is that
producer for one stream, and turns pause/resume into ``when_writable()`` Deferreds, the
flow control every ``JobOutput`` offers (plain HTTP streams, hijacked attach/exec
streams, websockets).
"""

from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from pydocker.engine.job import JobOutput


@implementer(IPushProducer)
class WriteFlow:
    """``register(self)`` makes this the transport's streaming producer; it is called on
    the first ``when_writable()``, so a stream nobody throttles costs nothing.
    ``unregister()`` undoes it: ``finish()`` calls it before the stream is closed, since a
    transport with a registered producer waits for it before it closes the connection."""

    def __init__(self, register, unregister):
        self._register = register
        self._unregister = unregister
        self.registered = False
        self.paused = False
        self.finished = False
        self._waiters = []

    def when_writable(self):
        if self.finished:
            return defer.succeed(None)
        if not self.registered:
            self.registered = True
            self._register(self)
        if not self.paused:
            return defer.succeed(None)
        waiter = defer.Deferred()
        self._waiters.append(waiter)
        return waiter

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def stopProducing(self):
        """The connection is gone: nobody has to wait for it any more."""
        self.resumeProducing()

    def finish(self):
        """The stream is about to close: step down as its producer for good, release
        every waiter."""
        self.finished = True
        if self.registered:
            self.registered = False
            self._unregister()
        self.resumeProducing()


class UpgradedStream(JobOutput):
    """What a hijacked and a websocket stream share: throttled writes through their
    ``WriteFlow`` and the ``on_close`` callbacks, which run once, when the connection
    is gone (then the flow lets go of anyone waiting to write)."""

    def __init__(self, flow):
        self._flow = flow
        self._close_callbacks = []
        self.closed = False

    def when_writable(self):
        """Fires once the transport's buffer is below its high-water mark (or the client is gone)."""
        return defer.succeed(None) if self.closed else self._flow.when_writable()

    def on_close(self, callback):
        if self.closed:
            callback()
        else:
            self._close_callbacks.append(callback)

    def _connection_gone(self):
        self.closed = True
        self._flow.resumeProducing()
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            callback()
