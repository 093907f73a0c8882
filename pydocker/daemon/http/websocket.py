"""``/containers/{id}/attach/ws``: the attach stream carried in websocket messages.

Twisted's websocket server (``twisted.web.websocket``, on wsproto) does the handshake; this
module adapts a websocket connection to the stream a hijacking job writes to and reads
from, so the same attach job serves both endpoints.
"""

from twisted.internet.interfaces import IConsumer
from twisted.web.websocket import WebSocketResource

from pydocker.daemon.http.flow import UpgradedStream, WriteFlow


class WebSocketStream(UpgradedStream):
    """The job's output and stream over one websocket connection."""

    def __init__(self):
        super().__init__(WriteFlow(self._attach_producer, lambda: self._transport.detachProducer()))
        self._transport = None
        self._on_data = None
        self._on_eof = None
        self._early = []

    # JobOutput / stream, as used by hijacking jobs
    def upgrade(self):
        return self

    def write(self, data):
        if not self.closed and data:
            self._transport.sendBytesMessage(bytes(data))

    def _attach_producer(self, producer):
        """The HTTP channel is still the connection's producer after the upgrade: replace it."""
        IConsumer(self._transport.transport).unregisterProducer()
        self._transport.attachProducer(producer)

    def read(self, on_data, on_eof):
        self._on_data, self._on_eof = on_data, on_eof
        early, self._early = self._early, []
        for data in early:
            on_data(data)

    def close(self):
        if not self.closed and self._transport is not None:
            self._flow.finish()
            self._transport.loseConnection()

    finish = close

    def fail(self, failure, respond):
        self.close()

    # WebSocketProtocol
    def negotiationStarted(self, transport):
        self._transport = transport

    def negotiationFinished(self):
        pass

    def pongReceived(self, payload):
        pass

    def bytesMessageReceived(self, data):
        if self._on_data is None:
            self._early.append(bytes(data))
        else:
            self._on_data(bytes(data))

    def textMessageReceived(self, message):
        self.bytesMessageReceived(message.encode())

    def connectionLost(self, reason):
        self._connection_gone()


class _Factory:
    def __init__(self, start):
        self._start = start

    def buildProtocol(self, request):
        stream = WebSocketStream()
        original = stream.negotiationFinished

        def finished():
            original()
            self._start(stream)

        stream.negotiationFinished = finished
        return stream


def serve(request, start):
    """Answer ``request`` with the websocket handshake; ``start(stream)`` runs once it is done."""
    return WebSocketResource(_Factory(start)).render_GET(request)
