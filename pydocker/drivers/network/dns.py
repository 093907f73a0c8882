"""The embedded DNS server containers on user-defined networks query at
127.0.0.11:53.

Names the daemon knows (container names and aliases on the container's
networks) are answered from a lookup callback, as Docker answers them: A
records, an empty NOERROR for other types (no IPv6), and PTR for their
addresses (``name.network``, from a reverse callback); everything else is
forwarded to upstream resolvers, or is NXDOMAIN when there are none (a
container on internal networks only). The listening sockets live inside the container's network
namespace (opened by ``open_listeners`` from a worker thread, adopted by the
reactor with ``EmbeddedDNS.serve``); forwarded queries leave from the daemon's
own namespace, so the host's resolvers, loopback ones included, are usable.
"""

import ipaddress
import os
import socket

from twisted.internet import defer
from twisted.names import client, common, dns, error, server

from . import netns
from .iptables import IPTables
from .rules import EMBEDDED_DNS, dns_redirect_rules

DEFAULT_TTL = 600
REVERSE_SUFFIX = ".in-addr.arpa"


class ContainerNames(common.ResolverBase):
    """Answers A queries from ``lookup(name) -> [ipv4, ...]`` and PTR queries
    from ``reverse(ipv4) -> name or None``; a name it does not know fails
    with DomainError, which sends the query upstream."""

    def __init__(self, lookup, reverse=lambda ip: None, ttl=DEFAULT_TTL):
        super().__init__()
        self._lookup_names = lookup
        self._reverse = reverse
        self._ttl = ttl

    def _lookup(self, name, cls, type, timeout):
        text = name.decode("ascii", "replace").rstrip(".").lower()
        if cls == dns.IN and text.endswith(REVERSE_SUFFIX):
            return self._lookup_reverse(name, text, type)
        addresses = self._lookup_names(text) if cls == dns.IN else None
        if not addresses:
            return defer.fail(error.DomainError(name))
        if type not in (dns.A, dns.ALL_RECORDS):
            return defer.succeed(([], [], []))  # the name exists, without such records
        answers = [dns.RRHeader(name, dns.A, dns.IN, self._ttl, dns.Record_A(ip, self._ttl))
                   for ip in addresses]
        return defer.succeed((answers, [], []))

    def _lookup_reverse(self, name, text, type):
        octets = text[:-len(REVERSE_SUFFIX)].split(".")
        try:
            ip = str(ipaddress.IPv4Address(".".join(reversed(octets))))
        except ValueError:
            return defer.fail(error.DomainError(name))
        target = self._reverse(ip)
        if not target:
            return defer.fail(error.DomainError(name))
        if type not in (dns.PTR, dns.ALL_RECORDS):
            return defer.succeed(([], [], []))
        record = dns.Record_PTR(target, self._ttl)
        return defer.succeed(([dns.RRHeader(name, dns.PTR, dns.IN, self._ttl, record)], [], []))


class EmbeddedDNS:
    """One DNS service: a lookup callback, upstream ``[(ip, port), ...]`` and
    the listeners it serves on (reactor thread only)."""

    def __init__(self, reactor, lookup, upstream=(), reverse=lambda ip: None):
        self._reactor = reactor
        resolvers = [ContainerNames(lookup, reverse)]
        if upstream:
            resolvers.append(client.Resolver(servers=list(upstream), reactor=reactor))
        self.factory = server.DNSServerFactory(clients=resolvers)
        self._ports = []

    def serve(self, udp_sock, tcp_sock):
        """Adopt sockets from ``open_listeners``; the caller may close its copies."""
        self._ports.append(self._reactor.adoptDatagramPort(
            udp_sock.fileno(), socket.AF_INET, dns.DNSDatagramProtocol(self.factory)))
        self._ports.append(self._reactor.adoptStreamPort(
            tcp_sock.fileno(), socket.AF_INET, self.factory))

    def stop(self):
        ports, self._ports = self._ports, []
        return defer.gatherResults([defer.maybeDeferred(p.stopListening) for p in ports])


def open_listeners(netns_ref):
    """Blocking (worker thread): UDP and TCP sockets on 127.0.0.11 inside the
    namespace, and the DNAT that sends the container's port 53 to them
    (iptables-restore started from this thread while it is in the namespace
    runs there: a child takes its namespaces from the thread that forks it)."""
    fd = netns.open_netns(netns_ref)
    try:
        with netns.entered(fd):
            # lo first: with lo still down when the DNAT went in, replies came
            # back untranslated here (iptables-nft), and a connected client drops them.
            netns.loopback_up_here()
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                # 127.0.0.11 is on the namespace's loopback (127/8), so binding
                # works though the address is not configured explicitly.
                udp.bind((EMBEDDED_DNS, 0))
                tcp.bind((EMBEDDED_DNS, 0))
                tcp.listen(64)
                udp.setblocking(False)
                tcp.setblocking(False)
                IPTables().append(dns_redirect_rules(udp.getsockname()[1], tcp.getsockname()[1]))
            except Exception:
                udp.close()
                tcp.close()
                raise
    finally:
        os.close(fd)
    return udp, tcp
