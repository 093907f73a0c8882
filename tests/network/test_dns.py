"""The embedded DNS inside a container's namespace: names of the user network
from the lookup callback, other names forwarded upstream. The upstream is a
stand-in DNS server on the test's own loopback, never a real resolver."""

import socket
import struct

import pytest
from twisted.internet.threads import blockingCallFromThread
from twisted.names import dns, server

from pydocker.drivers.network.dns import ContainerNames, EmbeddedDNS, open_listeners

from nethelpers import in_netns, require_private_netns, socket_in

pytestmark = pytest.mark.kernel


@pytest.fixture
def upstream(reactor):
    """A loopback DNS server that knows one outside name."""
    require_private_netns()
    names = {"outside.example": ["192.0.2.99"]}
    factory = server.DNSServerFactory(clients=[ContainerNames(names.get)])

    def listen():
        return reactor.listenUDP(0, dns.DNSDatagramProtocol(factory), interface="127.0.0.1")

    port = blockingCallFromThread(reactor, listen)
    yield ("127.0.0.1", port.getHost().port)
    blockingCallFromThread(reactor, port.stopListening)


@pytest.fixture
def embedded(reactor, upstream, make_driver, make_container):
    driver = make_driver(bip="10.96.0.1/24")
    network = driver.create_network("d" * 64, "appnet", subnet="10.97.0.0/24")
    pid = make_container()
    web = driver.connect(network.id, "web-ep", pid, aliases=["www"])
    names = {"web": [web.ip_address], "www": [web.ip_address]}
    reverse = {web.ip_address: "web.appnet"}
    service = EmbeddedDNS(reactor, names.get, [upstream], reverse.get)
    udp, tcp = open_listeners(pid)  # from this (worker) thread, as the daemon would
    blockingCallFromThread(reactor, service.serve, udp, tcp)
    udp.close()
    tcp.close()
    yield pid, web
    blockingCallFromThread(reactor, service.stop)


def nslookup(pid, name):
    return in_netns(pid, "busybox", "nslookup", "-type=a", name, "127.0.0.11", timeout=20)


def test_answers_network_names_and_aliases(embedded):
    pid, web = embedded
    for name in ("web", "www"):
        result = nslookup(pid, name)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"Address: {web.ip_address}" in result.stdout


def query(pid, name, qtype):
    """One UDP query to 127.0.0.11:53 from inside the namespace; the answer."""
    message = dns.Message(id=9, recDes=True)
    message.addQuery(name.encode(), qtype)
    with socket_in(pid, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.connect(("127.0.0.11", 53))  # a connected client only takes replies from port 53
        s.send(message.toStr())
        data = s.recv(4096)
    answer = dns.Message()
    answer.fromStr(data)
    return answer


def test_ptr_of_a_container_address_is_its_name_on_the_network(embedded):
    pid, web = embedded
    reversed_name = ".".join(reversed(web.ip_address.split("."))) + ".in-addr.arpa"
    answer = query(pid, reversed_name, dns.PTR)
    assert answer.rCode == dns.OK
    assert [str(rr.payload.name) for rr in answer.answers] == ["web.appnet"]
    result = in_netns(pid, "busybox", "nslookup", web.ip_address, "127.0.0.11", timeout=20)
    assert "web.appnet" in result.stdout, result.stdout + result.stderr


def test_a_known_name_has_no_aaaa_but_exists(embedded):
    pid, _ = embedded
    answer = query(pid, "web", dns.AAAA)
    assert (answer.rCode, answer.answers) == (dns.OK, [])  # NOERROR, empty: not NXDOMAIN
    assert query(pid, "nowhere.example", dns.AAAA).rCode == dns.ENAME


def test_without_upstream_unknown_names_are_nxdomain(reactor, make_driver, make_container):
    """A container on internal networks only: nothing is forwarded."""
    driver = make_driver(bip="10.98.0.1/24")
    network = driver.create_network("e" * 64, "inside", subnet="10.99.0.0/24", internal=True)
    pid = make_container()
    web = driver.connect(network.id, "web-ep", pid)
    service = EmbeddedDNS(reactor, {"web": [web.ip_address]}.get)
    udp, tcp = open_listeners(pid)
    blockingCallFromThread(reactor, service.serve, udp, tcp)
    udp.close()
    tcp.close()
    try:
        assert query(pid, "outside.example", dns.A).rCode == dns.ENAME
        assert [rr.payload.dottedQuad() for rr in query(pid, "web", dns.A).answers] == [web.ip_address]
    finally:
        blockingCallFromThread(reactor, service.stop)


def test_forwards_other_names_upstream(embedded):
    pid, _ = embedded
    result = nslookup(pid, "outside.example")
    assert "Address: 192.0.2.99" in result.stdout, result.stdout + result.stderr
    unknown = nslookup(pid, "nowhere.example")
    assert unknown.returncode != 0 and "192.0.2" not in unknown.stdout


def test_tcp_queries_reach_the_listener(embedded):
    pid, web = embedded
    query = dns.Message(id=7, recDes=True)
    query.addQuery(b"web", dns.A)
    wire = query.toStr()
    with socket_in(pid) as s:
        s.settimeout(5)
        s.connect(("127.0.0.11", 53))
        s.sendall(struct.pack("!H", len(wire)) + wire)
        length = struct.unpack("!H", s.recv(2))[0]
        data = b""
        while len(data) < length:
            data += s.recv(length - len(data))
    answer = dns.Message()
    answer.fromStr(data)
    assert answer.id == 7
    assert [rr.payload.dottedQuad() for rr in answer.answers] == [web.ip_address]


def test_the_container_keeps_port_53_for_itself(embedded):
    pid, _ = embedded
    with socket_in(pid, socket.SOCK_DGRAM) as own:
        own.bind(("0.0.0.0", 53))  # the listeners are on other ports
        assert own.getsockname()[1] == 53
