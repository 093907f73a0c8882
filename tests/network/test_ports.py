"""Published ports: iptables DNAT (host address, 127.0.0.1 without the
userland proxy, hairpin from the container itself), the Twisted userland
proxy for TCP and UDP, ephemeral ports and conflicts."""

import socket
import subprocess

import pytest

from pydocker.drivers.network.bridge import veth_name
from pydocker.drivers.network.ports import ephemeral_range, parse_publish
from pydocker.drivers.network.proxy import UserlandProxy
from pydocker.errdefs import Conflict

from nethelpers import require_private_netns, tcp_echo, tcp_echo_from, udp_echo

pytestmark = pytest.mark.kernel

HOST_ADDRESS = "198.51.100.1"  # an address of the test's namespace, like a host's eth0


@pytest.fixture
def host_address():
    require_private_netns()
    subprocess.run(["ip", "link", "add", "hostnet0", "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", f"{HOST_ADDRESS}/24", "dev", "hostnet0"], check=True)
    subprocess.run(["ip", "link", "set", "hostnet0", "up"], check=True)
    yield HOST_ADDRESS
    subprocess.run(["ip", "link", "del", "hostnet0"])


def test_dnat_without_userland_proxy(make_driver, make_container, echo_server, host_address):
    driver = make_driver(bip="10.92.0.1/24", userland_proxy=False)
    pid = make_container()
    echo_server(pid, 80)
    endpoint = driver.connect(driver.default_network_id, "web", pid, ports=parse_publish("18081:80"))
    assert [(b.host_ip, b.host_port, b.container_port) for b in endpoint.ports] == [("0.0.0.0", 18081, 80)]
    assert tcp_echo(host_address, 18081) == b"hello pydocker"
    assert tcp_echo("127.0.0.1", 18081) == b"hello pydocker"  # route_localnet + OUTPUT DNAT
    assert tcp_echo_from(pid, host_address, 18081) == b"hello from inside"  # hairpin NAT
    assert "hairpin on" in subprocess.run(["ip", "-d", "link", "show", veth_name(endpoint.endpoint_id)],
                                          capture_output=True, text=True).stdout
    driver.disconnect(endpoint)
    with pytest.raises(OSError):
        tcp_echo(host_address, 18081, timeout=1)


def test_userland_proxy_tcp_and_udp(make_driver, make_container, echo_server, host_address, reactor):
    driver = make_driver(bip="10.93.0.1/24", proxy=UserlandProxy(reactor))
    pid = make_container()
    echo_server(pid, 80)
    echo_server(pid, 53, "udp")
    endpoint = driver.connect(driver.default_network_id, "web", pid,
                              ports=parse_publish("18082:80") + parse_publish("18083:53/udp"))
    assert tcp_echo("127.0.0.1", 18082) == b"hello pydocker"
    big = bytes(range(256)) * 4096  # 1 MiB through the proxy, with flow control
    assert tcp_echo("127.0.0.1", 18082, big) == big
    assert tcp_echo(host_address, 18082) == b"hello pydocker"
    assert udp_echo("127.0.0.1", 18083) == b"hello pydocker"
    driver.disconnect(endpoint)
    with pytest.raises(ConnectionRefusedError):
        tcp_echo("127.0.0.1", 18082, timeout=1)


def test_ephemeral_host_port(make_driver, make_container, echo_server):
    driver = make_driver(bip="10.94.0.1/24", userland_proxy=False)
    pid = make_container()
    echo_server(pid, 8080)
    endpoint = driver.connect(driver.default_network_id, "web", pid,
                              ports=parse_publish("127.0.0.1::8080"))
    (binding,) = endpoint.ports
    low, high = ephemeral_range()
    assert low <= binding.host_port <= high and binding.host_ip == "127.0.0.1"
    assert tcp_echo("127.0.0.1", binding.host_port) == b"hello pydocker"


def test_taken_port_is_a_conflict_and_sets_nothing_up(make_driver, make_container, reactor):
    driver = make_driver(bip="10.95.0.1/24", proxy=UserlandProxy(reactor))
    holder = socket.socket()
    holder.bind(("0.0.0.0", 18090))
    holder.listen(1)
    try:
        with pytest.raises(Conflict, match="18090"):
            driver.connect(driver.default_network_id, "web", make_container(),
                           ports=parse_publish("18091:81") + parse_publish("18090:80"))
    finally:
        holder.close()
    assert driver.endpoints() == []
    assert driver.taken(driver.default_network_id) == {}
    assert "veth" not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert "--dport 18091" not in rules and "--dport 18090" not in rules
    # Nothing half set up: the same ports work now, and a second taker conflicts.
    first = driver.connect(driver.default_network_id, "web", make_container(),
                           ports=parse_publish("18090:80"))
    assert first.ports[0].host_port == 18090
    with pytest.raises(Conflict, match="already allocated"):
        driver.connect(driver.default_network_id, "other", make_container(),
                       ports=parse_publish("127.0.0.1:18090:80"))

