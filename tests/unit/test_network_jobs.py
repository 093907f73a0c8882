"""Unit tests of the daemon side of networking that need no kernel: the
NetworkSettings documents, request checks and the network jobs' filters."""

import dataclasses
import time
from types import SimpleNamespace

import pytest

from pydocker.drivers.network.model import Endpoint, Network, PortBinding
from pydocker.errdefs import InvalidParameter, NotFound
from pydocker.jobs import networks as jobs
from pydocker.networking import settings
from pydocker.networking.sandbox import Sandboxes


def endpoint(ip="172.18.0.2", mac=None, ports=()):
    return Endpoint(endpoint_id="e" * 64, network_id="n" * 64, ip_address=ip, prefix_len=16,
                    gateway="172.18.0.1", mac_address=mac or settings.ipam.mac_for(ip), ports=list(ports))


def bridge_row(name="mynet", default=False, labels=None, created=None):
    return Network(id=name * 4, name=name, driver="bridge", created=created or time.time_ns(),
                   subnet="172.18.0.0/16", gateway="172.18.0.1", default=default, labels=labels or {})


# -- settings ------------------------------------------------------------------------------

def test_endpoint_config_checks_types_addresses_and_macs():
    assert settings.check_endpoint_config("n", {"IPAMConfig": {"IPv4Address": "10.0.0.5"},
                                                "MacAddress": "02-42-AA-00-00-01"}) == ("10.0.0.5", "02:42:aa:00:00:01")
    with pytest.raises(InvalidParameter, match="EndpointsConfig.n.Aliases"):
        settings.check_endpoint_config("n", {"Aliases": "web"})
    with pytest.raises(InvalidParameter, match="invalid IPv4 address: 10.0.0"):
        settings.check_endpoint_config("n", {"IPAMConfig": {"IPv4Address": "10.0.0"}})
    with pytest.raises(InvalidParameter, match="invalid MAC address"):
        settings.check_endpoint_config("n", {"MacAddress": "02:42"})


def test_connect_then_release_keeps_the_network_and_a_chosen_mac_only():
    generated = settings.connected(settings.endpoint_settings("n1", {}), endpoint())
    assert generated["IPAddress"] == "172.18.0.2" and generated["MacAddress"] == "02:42:ac:12:00:02"
    settings.disconnected(generated)
    assert (generated["IPAddress"], generated["MacAddress"], generated["NetworkID"]) == ("", "", "n" * 64)
    chosen = settings.connected(settings.endpoint_settings("n1", {"MacAddress": "02:00:00:00:00:07"}),
                                endpoint(mac="02:00:00:00:00:07"), ["web"])
    assert chosen["DNSNames"] == ["web"]
    settings.disconnected(chosen)
    assert chosen["MacAddress"] == "02:00:00:00:00:07" and chosen["DNSNames"] is None


def test_port_specs_publish_bindings_and_with_p_every_exposed_port():
    config = {"ExposedPorts": {"80/tcp": {}, "53/udp": {}, "443/tcp": {}}}
    hc = {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, "PublishAllPorts": True}
    specs = settings.port_specs(config, hc)
    assert [(s.container_port, s.proto, s.host_port) for s in specs] == [
        (80, "tcp", 8080), (53, "udp", 0), (443, "tcp", 0)]
    with pytest.raises(InvalidParameter):
        settings.port_specs({"ExposedPorts": {"http/tcp": {}}}, {})
    with pytest.raises(InvalidParameter):
        settings.port_specs({}, {"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}})


def test_ports_document_shows_unpublished_exposed_ports_as_null():
    document = settings.ports_document({"ExposedPorts": {"443/tcp": {}}}, {"PortBindings": {"80": None}},
                                       [PortBinding(80, "tcp", "0.0.0.0", 8080)])
    assert document == {"443/tcp": None, "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}


# -- network jobs ------------------------------------------------------------------------------

def test_create_options_from_the_api_body():
    name, options = jobs.create_options({
        "Name": "n1", "Driver": "bridge", "Internal": True, "Labels": {"a": "b"},
        "Options": {"com.docker.network.bridge.name": "br9"},
        "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.254"}]}})
    assert name == "n1"
    assert options == {"driver": "bridge", "internal": True, "labels": {"a": "b"}, "options": {"com.docker.network.bridge.name": "br9"},
                       "subnet": "10.9.0.0/24", "gateway": "10.9.0.254", "ip_range": ""}


@pytest.mark.parametrize("body, error, message", [
    ({}, InvalidParameter, "name is required"),
    ({"Name": "x", "IPAM": {"Driver": "other"}}, NotFound, 'plugin "other" not found'),
    ({"Name": "x", "EnableIPv6": True}, InvalidParameter, "EnableIPv6"),
    ({"Name": "x", "Labels": {"a": 1}}, InvalidParameter, "field Labels"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "fd00::/64"}]}}, InvalidParameter, "IPv6"),
    ({"Name": "x", "IPAM": {"Config": [{"Gateway": "10.0.0.1"}]}}, InvalidParameter, "needs a subnet"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.2.0.0/24"}]}},
     InvalidParameter, "only one IPv4 pool"),
])
def test_create_options_refuse_what_a_local_bridge_cannot_be(body, error, message):
    with pytest.raises(error, match=message):
        jobs.create_options(body)


def test_list_filters():
    builtin, custom = bridge_row("bridge", default=True), bridge_row("web", labels={"tier": "front"})
    host = Network("h" * 64, "host", "host", 1, default=True)

    def names(filters, in_use=False):
        return [r.name for r in (builtin, custom, host) if jobs.matches(r, filters, in_use)]

    assert names({"type": ["custom"]}) == ["web"]
    assert names({"type": ["builtin"]}) == ["bridge", "host"]
    assert names({"driver": ["host"]}) == ["host"]
    assert names({"name": ["^we"]}) == ["web"]
    assert names({"label": ["tier=front"]}) == ["web"]
    assert names({"label": ["tier=back"]}) == []
    assert names({"dangling": ["true"]}) == ["web"]
    assert names({"dangling": ["true"]}, in_use=True) == []
    assert names({"id": [custom.id[:6]]}) == ["web"]
    with pytest.raises(InvalidParameter, match="'type'='other'"):
        names({"type": ["other"]})
    with pytest.raises(InvalidParameter, match="dangling=maybe"):
        names({"dangling": ["maybe"]})


def test_until_takes_durations_and_timestamps():
    now = time.time_ns()
    assert abs(jobs.parse_until("1h30m") - (now - 5400 * 10**9)) < 5 * 10**9
    assert jobs.parse_until("1700000000") == 1700000000 * 10**9
    with pytest.raises(InvalidParameter):
        jobs.parse_until("yesterday")


# -- embedded DNS names ------------------------------------------------------------------------

class NetworksView:
    """The NetworkService's read side, as the sandbox sees it, over plain data."""

    def __init__(self, networks):
        self.by_id = {n.id: n for n in networks}
        self.endpoints = {}  # container id -> {network id: Endpoint}
        self.containers = {}

    def network(self, network_id):
        return self.by_id.get(network_id)

    def network_named(self, name):
        return next((n for n in self.by_id.values() if n.name == name), None)

    def endpoints_of(self, container_id):
        return self.endpoints.get(container_id, {})

    def containers_of(self, network_id):
        return [(self.containers[cid], endpoints[network_id]) for cid, endpoints in self.endpoints.items()
                if network_id in endpoints]


def running(view, name, network, ip, links=None):
    """``name`` running on ``network`` at ``ip`` with endpoint links there."""
    container_id = name.encode().hex().ljust(64, "0")
    container = view.containers.setdefault(
        container_id, SimpleNamespace(id=container_id, name=name, network_settings={"Networks": {}}))
    container.network_settings["Networks"][network.name] = {"Links": links}
    view.endpoints.setdefault(container_id, {})[network.id] = dataclasses.replace(endpoint(ip), network_id=network.id)
    return container


def test_endpoint_link_aliases_resolve_first_and_for_the_linking_container_only():
    apps, side = bridge_row("apps"), bridge_row("Side")
    view = NetworksView([bridge_row("bridge", default=True), apps, side])
    sandboxes = Sandboxes(reactor=None, workers=None, config=None, containers=None, view=view)
    client = running(view, "client", apps, "10.0.0.2", ["upstream:bar", "/db:/client/store", "later:soon"])
    upstream = running(view, "upstream", apps, "10.0.0.3")
    running(view, "db", apps, "10.0.0.4")
    running(view, "bar", apps, "10.0.0.5")
    assert sandboxes._lookup(client, "bar") == ["10.0.0.3"]  # the link before the container named bar
    assert sandboxes._lookup(client, "bar.apps") == ["10.0.0.3"]
    assert sandboxes._lookup(client, "store") == ["10.0.0.4"]  # the API's /name:/self/alias form
    assert sandboxes._lookup(upstream, "bar") == ["10.0.0.5"] and sandboxes._lookup(upstream, "store") == []
    assert sandboxes._lookup(client, "soon") == []
    running(view, "later", apps, "10.0.0.6")
    assert sandboxes._lookup(client, "soon") == ["10.0.0.6"]  # the target may start after the link
    # A link is scoped to its network; network suffixes match whatever the case of the network's name.
    running(view, "client", side, "10.1.0.2")
    running(view, "upstream", side, "10.1.0.3")
    assert sandboxes._lookup(client, "bar.side") == []
    assert sandboxes._lookup(client, "upstream.side") == ["10.1.0.3"]
    assert sandboxes._lookup(client, "upstream") == ["10.0.0.3", "10.1.0.3"]
    assert sandboxes._reverse(client, "10.1.0.3") == "upstream.Side"
