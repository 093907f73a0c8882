"""The userland proxy: Twisted TCP and UDP forwarders from a host port to a
container, run on the daemon's reactor. They make published ports reachable
where iptables DNAT cannot (connections to 127.0.0.1 from the host).

``UserlandProxy`` is the IPortProxy the bridge driver calls from worker
threads; it hops onto the reactor for every change.
"""

from twisted.internet import protocol
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.threads import blockingCallFromThread
from zope.interface import implementer

from pydocker.errdefs import Conflict
from .interfaces import IPortProxy

UDP_IDLE_TIMEOUT = 90.0  # seconds a UDP client's return path is kept


@implementer(IHalfCloseableProtocol)
class _Relay(protocol.Protocol):
    """One side of a proxied TCP connection: passes bytes to its peer, with
    flow control (each transport produces for the other) and half-close."""

    peer = None

    def __init__(self):
        self._read_closed = self._write_closed = False

    def pair(self, peer):
        self.peer, peer.peer = peer, self
        self.transport.registerProducer(peer.transport, True)
        peer.transport.registerProducer(self.transport, True)

    def dataReceived(self, data):
        self.peer.transport.write(data)

    def readConnectionLost(self):
        self._read_closed = True
        if self.peer is not None:
            self.peer.shut_write()
        self._close_when_done()

    def shut_write(self):
        self._write_closed = True
        self.transport.loseWriteConnection()
        self._close_when_done()

    def writeConnectionLost(self):
        self._write_closed = True
        self._close_when_done()

    def _close_when_done(self):
        if self._read_closed and self._write_closed:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        if self.peer is not None:
            self.peer.transport.loseConnection()
            self.peer = None


class _Inbound(_Relay):
    """A connection accepted on the host port; dials the container."""

    def connectionMade(self):
        self.factory.active.add(self)
        self.transport.pauseProducing()
        dial = protocol.ClientCreator(self.factory.reactor, _Relay)
        d = dial.connectTCP(*self.factory.target)
        d.addCallbacks(self._dialled, lambda _failure: self.transport.loseConnection())

    def _dialled(self, outbound):
        if not self.transport.connected:
            outbound.transport.loseConnection()
            return
        self.pair(outbound)
        self.transport.resumeProducing()

    def connectionLost(self, reason):
        self.factory.active.discard(self)
        super().connectionLost(reason)


class _TCPForwarder(protocol.ServerFactory):
    protocol = _Inbound

    def __init__(self, reactor, target):
        self.reactor = reactor
        self.target = target
        self.active = set()

    def close_all(self):
        for relay in list(self.active):
            relay.transport.abortConnection()


class _UDPReturn(protocol.DatagramProtocol):
    """The socket a UDP client's datagrams leave from; replies go back to it."""

    def __init__(self, forwarder, client):
        self._forwarder, self._client = forwarder, client

    def datagramReceived(self, data, addr):
        self._forwarder.transport.write(data, self._client)
        self._forwarder.touch(self._client)


class _UDPForwarder(protocol.DatagramProtocol):
    def __init__(self, reactor, target):
        self._reactor = reactor
        self._target = target
        self._clients = {}  # client address -> (listening port, idle timer)

    def datagramReceived(self, data, addr):
        if addr not in self._clients:
            port = self._reactor.listenUDP(0, _UDPReturn(self, addr))
            timer = self._reactor.callLater(UDP_IDLE_TIMEOUT, self._expire, addr)
            self._clients[addr] = (port, timer)
        port, _ = self._clients[addr]
        port.write(data, self._target)
        self.touch(addr)

    def touch(self, addr):
        entry = self._clients.get(addr)
        if entry:
            entry[1].reset(UDP_IDLE_TIMEOUT)

    def _expire(self, addr):
        port, _ = self._clients.pop(addr)
        port.stopListening()

    def close_all(self):
        for port, timer in self._clients.values():
            timer.cancel()
            port.stopListening()
        self._clients.clear()


@implementer(IPortProxy)
class UserlandProxy:
    """Forwarders keyed by (proto, host ip, host port)."""

    def __init__(self, reactor):
        self._reactor = reactor
        self._running = {}  # key -> (listening port, forwarder)

    def start(self, binding, container_ip):
        blockingCallFromThread(self._reactor, self.start_now, binding, container_ip)

    def stop(self, binding):
        blockingCallFromThread(self._reactor, self.stop_now, binding)

    def stop_all(self):
        blockingCallFromThread(self._reactor, self.stop_all_now)

    # The *_now methods run on the reactor thread.

    def start_now(self, binding, container_ip):
        key = (binding.proto, binding.host_ip, binding.host_port)
        if key in self._running:
            raise Conflict(f"a proxy already listens on {binding.host_ip}:{binding.host_port}/{binding.proto}")
        target = (container_ip, binding.container_port)
        interface = "" if binding.host_ip in ("", "0.0.0.0") else binding.host_ip
        try:
            if binding.proto == "tcp":
                forwarder = _TCPForwarder(self._reactor, target)
                port = self._reactor.listenTCP(binding.host_port, forwarder, interface=interface)
            else:
                forwarder = _UDPForwarder(self._reactor, target)
                port = self._reactor.listenUDP(binding.host_port, forwarder, interface=interface)
        except CannotListenError as e:
            raise Conflict(f"Bind for {binding.host_ip}:{binding.host_port} failed: {e.socketError}") from None
        self._running[key] = (port, forwarder)

    def stop_now(self, binding):
        entry = self._running.pop((binding.proto, binding.host_ip, binding.host_port), None)
        if entry is None:
            return None
        port, forwarder = entry
        forwarder.close_all()
        return port.stopListening()

    def stop_all_now(self):
        for port, forwarder in self._running.values():
            forwarder.close_all()
            port.stopListening()
        self._running.clear()
