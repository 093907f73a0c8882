"""The bridge driver on the real kernel, inside the test's private network
namespace: bridges, veths, routes, isolation, allocation persistence and the
exact iptables rules."""

import ipaddress
import json
import os
import subprocess

import pytest
from pyroute2 import IPRoute

from pydocker.drivers.network.bridge import BridgeDriver, veth_name
from pydocker.drivers.network.config import NetworkConfig
from pydocker.drivers.network.model import Endpoint, Network
from pydocker.drivers.network.ports import parse_publish
from pydocker.errdefs import Conflict, InvalidParameter, NotFound

from nethelpers import in_netns

pytestmark = pytest.mark.kernel


def links():
    with IPRoute() as ipr:
        return {l.get_attr("IFLA_IFNAME"): l for l in ipr.get_links()}


def addresses(ifname, pid=None):
    argv = ["ip", "-j", "addr", "show", "dev", ifname]
    out = in_netns(pid, *argv).stdout if pid else subprocess.run(argv, capture_output=True, text=True).stdout
    return [f"{a['local']}/{a['prefixlen']}" for entry in json.loads(out)
            for a in entry["addr_info"] if a["family"] == "inet"]


def ping(pid, address):
    return in_netns(pid, "busybox", "ping", "-c", "1", "-W", "2", address).returncode == 0


def our_rules():
    """Lines of iptables-save that belong to us (our chains or our bridges)."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return {line for line in out.splitlines()
            if line.startswith(("-A", ":")) and ("PYDOCKER" in line or "pydocker0" in line)}


def test_setup_creates_bridge_on_first_free_pool(make_driver):
    subprocess.run(["ip", "link", "add", "route9", "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "172.17.5.1/24", "dev", "route9"], check=True)
        subprocess.run(["ip", "link", "set", "route9", "up"], check=True)
        driver = make_driver()
    finally:
        subprocess.run(["ip", "link", "del", "route9"])
    assert "pydocker0" in links()
    assert addresses("pydocker0") == ["172.18.0.1/16"]
    default = next(n for n in driver.networks() if n.default)
    assert (default.name, default.subnet, default.data["bridge"]) == ("bridge", "172.18.0.0/16", "pydocker0")
    driver.teardown()
    assert "pydocker0" not in links()


def test_subnet_avoids_nameserver(make_driver, tmp_path):
    resolv = tmp_path / "resolv"
    resolv.write_text("nameserver 172.17.0.10\n")
    make_driver(resolv_conf=str(resolv))
    assert addresses("pydocker0") == ["172.18.0.1/16"]


def test_connect_configures_the_namespace(make_driver, make_container):
    driver = make_driver(bip="10.77.0.1/24", mtu=1400)
    pid = make_container()
    endpoint = driver.connect(driver.default_network_id, "ep-one", pid)
    assert (endpoint.ip_address, endpoint.prefix_len, endpoint.gateway) == ("10.77.0.2", 24, "10.77.0.1")
    assert endpoint.mac_address == "02:42:0a:4d:00:02"
    inside = json.loads(in_netns(pid, "ip", "-j", "link", "show").stdout)
    eth0 = next(l for l in inside if l["ifname"] == "eth0")
    assert eth0["address"] == "02:42:0a:4d:00:02" and eth0["mtu"] == 1400
    assert "UP" in eth0["flags"]
    assert "UP" in next(l for l in inside if l["ifname"] == "lo")["flags"]
    assert addresses("eth0", pid) == ["10.77.0.2/24"]
    assert "default via 10.77.0.1 dev eth0" in in_netns(pid, "ip", "route").stdout
    host = links()[veth_name(endpoint.endpoint_id)]
    assert host.get_attr("IFLA_MASTER") == links()["pydocker0"]["index"]
    driver.disconnect(endpoint)
    assert veth_name(endpoint.endpoint_id) not in links()
    assert "eth0" not in in_netns(pid, "ip", "link").stdout
    assert driver.endpoints() == []


def test_containers_reach_each_other_and_icc_false_blocks(make_driver, make_container):
    driver = make_driver(bip="10.78.0.1/24")
    a, b = make_container(), make_container()
    ea = driver.connect(driver.default_network_id, "a", a)
    eb = driver.connect(driver.default_network_id, "b", b)
    assert ping(a, eb.ip_address) and ping(b, ea.ip_address)
    driver.teardown()

    driver = make_driver(bip="10.78.0.1/24", icc=False)
    c, d = make_container(), make_container()
    driver.connect(driver.default_network_id, "c", c)
    ed = driver.connect(driver.default_network_id, "d", d)
    assert ping(c, "10.78.0.1")  # the host is still reachable
    assert not ping(c, ed.ip_address)


def test_fixed_cidr_and_default_gateway(make_driver, make_container):
    driver = make_driver(bip="10.79.0.1/16", fixed_cidr="10.79.8.0/24", default_gateway="10.79.0.254")
    pid = make_container()
    endpoint = driver.connect(driver.default_network_id, "e", pid)
    assert endpoint.ip_address == "10.79.8.1"
    assert endpoint.gateway == "10.79.0.254"
    assert "default via 10.79.0.254" in in_netns(pid, "ip", "route").stdout


def test_adopts_an_existing_bridge_and_leaves_it(make_driver, make_container):
    subprocess.run(["ip", "link", "add", "br-given", "type", "bridge"], check=True)
    try:
        with pytest.raises(InvalidParameter, match="no IPv4 address"):
            make_driver(bridge="br-given")
        subprocess.run(["ip", "addr", "add", "10.80.0.1/24", "dev", "br-given"], check=True)
        driver = make_driver(bridge="br-given")
        endpoint = driver.connect(driver.default_network_id, "e", make_container())
        assert endpoint.ip_address == "10.80.0.2"
        driver.teardown()
        assert "br-given" in links()
    finally:
        subprocess.run(["ip", "link", "del", "br-given"])


def test_a_restart_keeps_the_default_network_and_removes_what_endpoints_left(
        make_driver, make_container, host_resolv_conf):
    first = make_driver(bip="10.81.0.1/24")
    one = first.connect(first.default_network_id, "one", make_container())
    first.driver._links.close()  # the daemon dies without teardown
    subprocess.run(["ip", "link", "add", "vethstray0", "type", "veth", "peer", "name", "strayp"], check=True)
    subprocess.run(["ip", "link", "set", "vethstray0", "master", "pydocker0"], check=True)
    second = make_driver(bip="10.81.0.1/24", stored=first.networks(), stale=[one])
    assert second.default_network_id == first.default_network_id
    names = links()
    assert veth_name(one.endpoint_id) not in names and "vethstray0" not in names
    # Its address is free again: nothing holds it.
    again = second.connect(second.default_network_id, "two", make_container(), requested_ip=one.ip_address)
    assert again.ip_address == one.ip_address


def test_connect_failure_leaves_nothing(make_driver, make_container):
    driver = make_driver(bip="10.82.0.1/24")
    pid = make_container()
    with pytest.raises(NotFound):
        driver.connect(driver.default_network_id, "x", "/proc/999999999/ns/net")
    assert driver.taken(driver.default_network_id) == {}
    before = set(links())
    with pytest.raises(InvalidParameter):
        driver.connect(driver.default_network_id, "x", pid, requested_ip="10.99.0.5")
    assert driver.taken(driver.default_network_id) == {}
    assert set(links()) == before and driver.endpoints() == []
    driver.connect(driver.default_network_id, "x", pid)
    with pytest.raises(Conflict):
        driver.connect(driver.default_network_id, "x", pid)


def test_user_networks_are_isolated(make_driver, make_container):
    driver = make_driver(bip="10.83.0.1/24")
    red = driver.create_network("r" * 64, "red", subnet="10.84.0.0/24", labels={"k": "v"})
    blue = driver.create_network("b" * 64, "blue", options={"com.docker.network.bridge.name": "br-blue"})
    assert red.data["bridge"] == "br-rrrrrrrrrrrr" and red.gateway == "10.84.0.1"
    assert blue.data["bridge"] == "br-blue" and ipaddress.IPv4Network(blue.subnet).prefixlen == 16
    with pytest.raises(Conflict, match="already used"):
        driver.create_network("c" * 64, "green", options={"com.docker.network.bridge.name": "br-blue"})
    with pytest.raises(Conflict):
        driver.create_network("c" * 64, "green", subnet="10.84.0.128/25")
    with pytest.raises(InvalidParameter):
        driver.create_network("c" * 64, "green", subnet="10.85.0.0/24", gateway="10.86.0.1")
    r1, r2, b1 = make_container(), make_container(), make_container()
    er2 = driver.connect(red.id, "r2", r2)
    driver.connect(red.id, "r1", r1)
    eb1 = driver.connect(blue.id, "b1", b1)
    assert ping(r1, er2.ip_address)
    assert not ping(r1, eb1.ip_address)
    for endpoint in driver.endpoints():
        driver.disconnect(endpoint)
    driver.delete_network(red.id)
    assert "br-rrrrrrrrrrrr" not in links()
    assert not any("br-rrrrrrrrrrrr" in line for line in our_rules())


def test_internal_network_cannot_leave(make_driver, make_container):
    driver = make_driver(bip="10.87.0.1/24")
    internal = driver.create_network("i" * 64, "inside", subnet="10.88.0.0/24", internal=True)
    a, b = make_container(), make_container()
    endpoint = driver.connect(internal.id, "a", a)
    driver.connect(internal.id, "b", b)
    assert endpoint.gateway == ""
    assert "default" not in in_netns(a, "ip", "route").stdout
    assert ping(a, "10.88.0.3")
    outside = driver.connect(driver.default_network_id, "o", make_container())
    assert not ping(a, outside.ip_address)


def test_iptables_rules_exactly_and_none_after_teardown(make_driver, make_container):
    driver = make_driver(bip="10.89.0.1/24")
    endpoint = driver.connect(driver.default_network_id, "web", make_container(),
                              ports=parse_publish("127.0.0.1:18080:80"))
    ip = endpoint.ip_address
    assert our_rules() == {
        ":PYDOCKER - [0:0]", ":PYDOCKER-FORWARD - [0:0]", ":PYDOCKER-POSTROUTING - [0:0]",
        ":PYDOCKER-ISOLATION-STAGE-1 - [0:0]", ":PYDOCKER-ISOLATION-STAGE-2 - [0:0]",
        "-A FORWARD -j PYDOCKER-FORWARD",
        "-A PYDOCKER-FORWARD -j PYDOCKER-ISOLATION-STAGE-1",
        "-A PYDOCKER-FORWARD -o pydocker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A PYDOCKER-FORWARD -o pydocker0 -j PYDOCKER",
        "-A PYDOCKER-FORWARD -i pydocker0 ! -o pydocker0 -j ACCEPT",
        "-A PYDOCKER-FORWARD -i pydocker0 -o pydocker0 -j ACCEPT",
        "-A PYDOCKER-ISOLATION-STAGE-1 -i pydocker0 ! -o pydocker0 -j PYDOCKER-ISOLATION-STAGE-2",
        "-A PYDOCKER-ISOLATION-STAGE-2 -o pydocker0 -j DROP",
        f"-A PYDOCKER -d {ip}/32 ! -i pydocker0 -o pydocker0 -p tcp -m tcp --dport 80 -j ACCEPT",
        "-A PREROUTING -m addrtype --dst-type LOCAL -j PYDOCKER",
        "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j PYDOCKER",
        "-A POSTROUTING -j PYDOCKER-POSTROUTING",
        "-A PYDOCKER -i pydocker0 -j RETURN",
        "-A PYDOCKER -d 127.0.0.1/32 ! -i pydocker0 -p tcp -m tcp --dport 18080 -j DNAT --to-destination "
        f"{ip}:80",
        "-A PYDOCKER-POSTROUTING -s 10.89.0.0/24 ! -o pydocker0 -j MASQUERADE",
        f"-A PYDOCKER-POSTROUTING -s {ip}/32 -d {ip}/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
    }
    driver.disconnect(endpoint)
    assert not any(ip in line for line in our_rules())
    driver.teardown()
    assert our_rules() == set()
    assert "pydocker0" not in links()


def test_iptables_false_touches_no_rule(make_driver, make_container):
    driver = make_driver(bip="10.90.0.1/24", iptables=False)
    driver.connect(driver.default_network_id, "e", make_container())
    assert our_rules() == set()


def test_ip_forward(make_driver):
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("0\n")
    make_driver(bip="10.91.0.1/24", ip_forward=False)
    assert open("/proc/sys/net/ipv4/ip_forward").read().strip() == "0"
    make_driver(bip="10.91.0.1/24")
    assert open("/proc/sys/net/ipv4/ip_forward").read().strip() == "1"


def test_not_set_up_is_an_error(host_resolv_conf):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    driver = BridgeDriver(NetworkConfig(resolv_conf=host_resolv_conf))
    network = Network(id="n" * 64, name="bridge", driver="bridge", subnet="10.0.0.0/8", gateway="10.0.0.1",
                      data={"bridge": "pydocker0"})
    with pytest.raises(Conflict, match="not set up"):
        driver.connect(network, Endpoint("e", network.id, "10.0.0.2", 8), 1)


def test_warnings_go_to_the_daemons_log(make_driver, monkeypatch):
    """The driver logs through Twisted's logger, which the daemon's log observes."""
    from twisted.logger import formatEvent, globalLogPublisher

    from pydocker.drivers.network import sysctl
    events = []
    monkeypatch.setattr(sysctl, "enable_bridge_netfilter", lambda: False)
    globalLogPublisher.addObserver(events.append)
    try:
        make_driver(bip="10.92.0.1/24")
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert any("br_netfilter is not loaded" in formatEvent(e) and e["log_level"].name == "warn"
               and e["log_namespace"].endswith("BridgeDriver") for e in events)
