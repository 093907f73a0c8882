"""Taking over an HTTP connection for attach and exec (``Upgrade: tcp``).

twisted.web has no public way to upgrade a connection, so this module is the
one place that does it, in four steps:

1. stop the HTTP channel from producing and timing out;
2. collect what the client sent after the request (stdin may already be on its way);
3. point the transport at a ``HijackedStream`` protocol, which then receives every
   byte, the half-close (the client's end of stdin) and the loss of the connection;
4. write ``101 UPGRADED`` (or ``200 OK`` for a client that did not ask to upgrade)
   and hand the stream to the job.

Twisted's own websocket support swaps the channel's protocol in a similar way.
"""

from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol
from zope.interface import implementer

from pydocker.daemon.http.flow import UpgradedStream, WriteFlow


@implementer(IHalfCloseableProtocol)
class HijackedStream(Protocol, UpgradedStream):
    """The raw two-way stream a hijacking job reads from and writes to."""

    def __init__(self):
        super().__init__(WriteFlow(lambda producer: self.transport.registerProducer(producer, True),
                                   lambda: self.transport.unregisterProducer()))
        self._on_data = None
        self._on_eof = None
        self._early = []
        self._eof_early = False

    # -- the job's side ---------------------------------------------------------------------
    def read(self, on_data, on_eof):
        """Deliver client bytes to ``on_data(bytes)`` and its half-close to ``on_eof()``."""
        self._on_data, self._on_eof = on_data, on_eof
        early, self._early = self._early, []
        for data in early:
            on_data(data)
        if self._eof_early:
            on_eof()

    def write(self, data):
        if not self.closed and data:
            self.transport.write(data)

    def close(self):
        """Flush what was written, then close the connection."""
        if not self.closed:
            self._flow.finish()
            self.transport.loseConnection()

    # -- the transport's side ----------------------------------------------------------------
    def dataReceived(self, data):
        if self._on_data is None:
            self._early.append(data)
        else:
            self._on_data(data)

    def readConnectionLost(self):
        if self._on_eof is None:
            self._eof_early = True
        else:
            self._on_eof()

    def writeConnectionLost(self):
        self.transport.loseConnection()

    def connectionLost(self, reason=None):
        self._connection_gone()


def hijack(request, content_type):
    """Take the connection of ``request`` over; returns the ``HijackedStream``."""
    channel = request.channel
    transport = channel.transport
    upgrade = (request.getHeader(b"upgrade") or b"").lower() == b"tcp"
    transport.unregisterProducer()
    channel.setTimeout(None)
    pending = b"".join(getattr(channel, "_dataBuffer", []))
    channel._dataBuffer = []
    stream = HijackedStream()
    if hasattr(transport, "wrappedProtocol"):  # TLS: the TLS protocol wraps the HTTP channel
        transport.wrappedProtocol = stream
    else:
        transport.protocol = stream
    stream.makeConnection(transport)
    transport.resumeProducing()
    status = b"HTTP/1.1 101 UPGRADED\r\n" if upgrade else b"HTTP/1.1 200 OK\r\n"
    headers = b"Content-Type: " + content_type + b"\r\n"
    if upgrade:
        headers += b"Connection: Upgrade\r\nUpgrade: tcp\r\n"
    transport.write(status + headers + b"\r\n")
    if pending:
        stream.dataReceived(pending)
    return stream
