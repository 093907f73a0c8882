"""Pure functions of the network driver: parsing, subnet choice, allocation,
rules, file contents. No kernel needed."""

import ipaddress

import pytest

from pydocker.drivers.network import ipam, rules, subnets
from pydocker.drivers.network.config import NetworkConfig
from pydocker.drivers.network.bridgenets import BridgeRecord
from pydocker.drivers.network.model import Endpoint, Network, PortBinding, PortSpec, ports_settings
from pydocker.drivers.network.ports import PortAllocator, parse_api_bindings, parse_publish, publish_all
from pydocker.errdefs import Conflict, InvalidParameter, Unavailable
from pydocker.networking.hosts import hosts_file, parse_extra_host
from pydocker.networking.linkenv import link_env
from pydocker.networking.resolvconf import container_resolv_conf


def net(subnet="172.18.0.0/16", gateway="172.18.0.1", **kw):
    return Network(id="n1", name="n1", driver="bridge", subnet=subnet, gateway=gateway, **kw)


def bridge_net(**kw):
    return BridgeRecord(id="n1", name="n1", bridge="br-n1", subnet="172.18.0.0/16", gateway="172.18.0.1", **kw)


class TestPublishParsing:
    def test_forms(self):
        assert parse_publish("80") == [PortSpec(80, "tcp")]
        assert parse_publish("8080:80/udp") == [PortSpec(80, "udp", "", 8080)]
        assert parse_publish("127.0.0.1::53/udp") == [PortSpec(53, "udp", "127.0.0.1", 0)]
        assert parse_publish("8000-8001:80-81") == [PortSpec(80, "tcp", "", 8000), PortSpec(81, "tcp", "", 8001)]
        assert parse_publish("8000-8010:80") == [PortSpec(80, "tcp", "", 8000, 8010)]

    @pytest.mark.parametrize("bad", ["", "x", "80/sctp", "70000", "1:2:3:4", "8000-8002:80-81",
                                     "999.1.1.1:80:80", "[::1]:80:80", "90-80"])
    def test_bad_specs_are_invalid(self, bad):
        with pytest.raises(InvalidParameter):
            parse_publish(bad)

    def test_api_bindings_and_publish_all(self):
        specs = parse_api_bindings({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                                    "53/udp": [{"HostIp": "", "HostPort": ""}]})
        assert specs == [PortSpec(80, "tcp", "127.0.0.1", 8080), PortSpec(53, "udp")]
        assert publish_all({"80/tcp": {}, "53/udp": {}}) == [PortSpec(80, "tcp"), PortSpec(53, "udp")]

    def test_settings_shape(self):
        assert ports_settings([PortBinding(80, "tcp", "0.0.0.0", 8080)]) == {
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}


class TestPortAllocator:
    def test_ephemeral_ports_are_distinct_and_in_range(self):
        allocator = PortAllocator(ephemeral=(25000, 25010))
        a = allocator.reserve(PortSpec(80), "0.0.0.0")
        b = allocator.reserve(PortSpec(80), "0.0.0.0")
        assert a.host_port != b.host_port
        assert 25000 <= a.host_port <= 25010 and 25000 <= b.host_port <= 25010

    def test_same_port_twice_is_a_conflict_until_released(self):
        allocator = PortAllocator(ephemeral=(25000, 25010))
        first = allocator.reserve(PortSpec(80, host_port=25500), "0.0.0.0")
        with pytest.raises(Conflict, match="already allocated"):
            allocator.reserve(PortSpec(81, host_port=25500), "127.0.0.1")
        allocator.release(first)
        assert allocator.reserve(PortSpec(81, host_port=25500), "127.0.0.1").host_port == 25500


class TestSubnets:
    def test_candidates_follow_dockers_pools(self):
        pools = list(subnets.candidate_pools())
        assert pools[0] == ipaddress.IPv4Network("172.17.0.0/16")
        assert pools[14] == ipaddress.IPv4Network("172.31.0.0/16")
        assert pools[15] == ipaddress.IPv4Network("192.168.0.0/20")
        assert pools[-1] == ipaddress.IPv4Network("192.168.240.0/20")

    def test_skips_routes_nameservers_and_taken(self):
        routes = [ipaddress.IPv4Network("172.17.3.0/24")]
        servers = subnets.nameservers("nameserver 172.18.0.53\nnameserver ::1\n")
        taken = [ipaddress.IPv4Network("172.19.0.0/16")]
        assert subnets.choose_subnet(routes, servers, taken) == ipaddress.IPv4Network("172.20.0.0/16")

    def test_exhaustion(self):
        with pytest.raises(Unavailable):
            subnets.choose_subnet([ipaddress.IPv4Network("128.0.0.0/1")], [], [])


class TestIpam:
    def test_lowest_free_skipping_gateway_and_taken(self):
        record = net()
        assert ipam.choose(record, set()) == "172.18.0.2"
        assert ipam.choose(record, {"172.18.0.2"}) == "172.18.0.3"

    def test_ip_range_and_requested(self):
        record = net(ip_range="172.18.5.0/24")
        assert ipam.choose(record, set()) == "172.18.5.1"
        assert ipam.choose(record, {"172.18.5.1"}, requested="172.18.9.9") == "172.18.9.9"
        with pytest.raises(Conflict, match="already in use"):
            ipam.choose(record, {"172.18.9.9"}, requested="172.18.9.9")
        with pytest.raises(InvalidParameter):
            ipam.choose(record, set(), requested="10.0.0.1")
        with pytest.raises(Conflict, match="reserved"):
            ipam.choose(record, set(), requested="172.18.0.1")

    def test_reserved_addresses_are_skipped(self):
        record = net(reserved=["172.18.0.2"])  # --default-gateway's
        assert ipam.choose(record, set()) == "172.18.0.3"
        with pytest.raises(Conflict, match="reserved"):
            ipam.choose(record, set(), requested="172.18.0.2")

    def test_exhaustion(self):
        record = net("10.9.0.0/30", "10.9.0.1")
        assert ipam.choose(record, set()) == "10.9.0.2"
        with pytest.raises(Unavailable):
            ipam.choose(record, {"10.9.0.2"})

    def test_mac_from_ip(self):
        assert ipam.mac_for("172.17.0.2") == "02:42:ac:11:00:02"


class TestRules:
    def test_port_rules_with_and_without_proxy(self):
        binding = PortBinding(80, "tcp", "0.0.0.0", 8080)
        with_proxy = [rules.render(r) for r in rules.port_rules(bridge_net(), "172.18.0.2", binding, True)]
        assert with_proxy[0] == ("-A PYDOCKER ! -i br-n1 -p tcp -m tcp --dport 8080 -j DNAT "
                                 "--to-destination 172.18.0.2:80")
        bound = PortBinding(80, "tcp", "127.0.0.1", 8080)
        without = rules.render(rules.port_rules(bridge_net(), "172.18.0.2", bound, False)[0])
        assert without.startswith("-A PYDOCKER -d 127.0.0.1/32 -p tcp")

    def test_internal_network_has_no_masquerade(self):
        rendered = [rules.render(r) for r in rules.network_rules(bridge_net(internal=True), True)]
        assert not any("MASQUERADE" in line for line in rendered)
        assert "-A PYDOCKER-ISOLATION-STAGE-1 ! -d 172.18.0.0/16 -i br-n1 -j DROP" in rendered


class TestConfig:
    @pytest.mark.parametrize("options", [
        {"bridge": "br0", "bip": "10.1.0.1/24"}, {"bip": "10.1.0.0/24"}, {"bip": "nonsense"},
        {"mtu": 10}, {"ip": "1.2.3"}, {"bip": "10.1.0.1/24", "fixed_cidr": "10.2.0.0/24"},
    ])
    def test_bad_options(self, options):
        with pytest.raises(InvalidParameter):
            NetworkConfig(**options)

    def test_unknown_key(self):
        with pytest.raises(InvalidParameter, match="unknown"):
            NetworkConfig.from_options({"no-such": 1})
        assert NetworkConfig.from_options({"userland-proxy": False}).userland_proxy is False


class TestResolvConf:
    HOST = "# host\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch corp.example\noptions edns0\n"

    def test_loopback_dropped(self):
        result = container_resolv_conf(self.HOST)
        assert "nameserver 10.0.0.2\n" in result.content
        assert "127.0.0.53" not in result.content and "::1" not in result.content
        assert "search corp.example\n" in result.content and "options edns0\n" in result.content

    def test_fallback_when_only_loopback(self):
        content = container_resolv_conf("nameserver 127.0.0.1\n").content
        assert content.endswith("nameserver 8.8.8.8\nnameserver 8.8.4.4\n")

    def test_overrides(self):
        content = container_resolv_conf(self.HOST, dns=["1.1.1.1"], dns_search=["."],
                                        dns_options=["ndots:2"]).content
        assert "nameserver 1.1.1.1\n" in content and "search" not in content
        assert "options ndots:2\n" in content and "10.0.0.2" not in content

    def test_embedded_dns(self):
        result = container_resolv_conf(self.HOST, embedded_dns=True)
        assert "nameserver 127.0.0.11\n" in result.content
        assert "options edns0 ndots:0\n" in result.content
        assert result.upstream == ["127.0.0.53", "10.0.0.2", "::1"]


class TestHosts:
    def test_layout(self):
        content = hosts_file("web", ["172.17.0.2"], domainname="example.org",
                             extra_hosts=[parse_extra_host("db:10.0.0.5"),
                                          parse_extra_host("gw:host-gateway", "172.17.0.1")],
                             links=[("172.17.0.3", ["cache", "redis", "abc123"])])
        lines = content.splitlines()
        assert lines[0] == "127.0.0.1\tlocalhost"
        assert lines[1] == "::1\tlocalhost ip6-localhost ip6-loopback"
        assert "10.0.0.5\tdb" in lines and "172.17.0.1\tgw" in lines
        assert "172.17.0.3\tcache redis abc123" in lines
        assert lines[-1] == "172.17.0.2\tweb.example.org web"

    def test_one_line_per_address_in_connection_order(self):
        lines = hosts_file("web", ["172.17.0.2", "10.5.0.3"]).splitlines()
        assert lines[-2:] == ["172.17.0.2\tweb", "10.5.0.3\tweb"]
        assert not any("web" in line for line in hosts_file("web").splitlines())

    @pytest.mark.parametrize("bad", ["nohost", "x:notanip", ":1.2.3.4", "gw:host-gateway"])
    def test_bad_extra_host(self, bad):
        with pytest.raises(InvalidParameter):
            parse_extra_host(bad)


def test_endpoint_round_trip():
    endpoint = Endpoint("e", "n", "172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02", ["a"],
                        [PortBinding(80, "tcp", "0.0.0.0", 8080)], {"driver": "data"})
    again = Endpoint.from_dict(endpoint.to_dict())
    assert again == endpoint
    assert again.settings()["IPAddress"] == "172.17.0.2"


def test_link_env_in_docker_s_format():
    env = link_env("my-db", "web", "172.17.0.2", ["5432/tcp", "53/udp", "53/tcp"],
                   ["PATH=/bin", "PGUSER=app", "EMPTY="])
    assert env == [
        "MY_DB_PORT=tcp://172.17.0.2:53",
        "MY_DB_PORT_53_TCP=tcp://172.17.0.2:53", "MY_DB_PORT_53_TCP_ADDR=172.17.0.2",
        "MY_DB_PORT_53_TCP_PORT=53", "MY_DB_PORT_53_TCP_PROTO=tcp",
        "MY_DB_PORT_53_UDP=udp://172.17.0.2:53", "MY_DB_PORT_53_UDP_ADDR=172.17.0.2",
        "MY_DB_PORT_53_UDP_PORT=53", "MY_DB_PORT_53_UDP_PROTO=udp",
        "MY_DB_PORT_5432_TCP=tcp://172.17.0.2:5432", "MY_DB_PORT_5432_TCP_ADDR=172.17.0.2",
        "MY_DB_PORT_5432_TCP_PORT=5432", "MY_DB_PORT_5432_TCP_PROTO=tcp",
        "MY_DB_NAME=/web/my-db",
        "MY_DB_ENV_PGUSER=app", "MY_DB_ENV_EMPTY=",
    ]
    assert link_env("c", "/web", "10.0.0.9", [], []) == ["C_NAME=/web/c"]
