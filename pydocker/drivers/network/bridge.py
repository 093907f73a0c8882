"""The bridge network driver: Linux bridges, a veth pair per endpoint, IP
allocation through the store, iptables NAT/filtering and published ports.

Blocking code: the daemon calls it from worker threads. One lock serialises
the kernel work (the netlink socket is not thread-safe and connect must be
all-or-nothing). Networks, endpoints and taken addresses are kept in memory,
loaded from the store at setup and written through: a connect reads nothing
from the store and writes its endpoint in one transaction.
"""

import contextlib
import hashlib
import ipaddress
import logging
import os
import secrets
import threading

from zope.interface import implementer

from pydocker.errdefs import (
    Conflict, Forbidden, InvalidParameter, NotFound, PrerequisiteMissing)
from . import ipam, netns, rules, subnets, sysctl
from .config import NetworkConfig
from .interfaces import INetworkDriver
from .iptables import IPTables
from .links import Links
from .model import Endpoint, NetworkRecord
from .ports import PortAllocator

log = logging.getLogger(__name__)

DEFAULT_NETWORK_NAME = "bridge"
OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
OPT_HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"
OPT_MTU = "com.docker.network.driver.mtu"


def veth_name(endpoint_id):
    """The host end of an endpoint's veth: derived from the endpoint id so a
    restarted daemon can tell its veths from strays (15 characters max)."""
    return "veth" + hashlib.sha256(endpoint_id.encode()).hexdigest()[:11]


def _truthy(value):
    return str(value).lower() in ("1", "true", "yes", "on")


@implementer(INetworkDriver)
class BridgeDriver:
    name = "bridge"

    def __init__(self, config, store, proxy=None):
        if not isinstance(config, NetworkConfig):
            config = NetworkConfig.from_options(config)
        self._config = config
        self._store = store
        self._proxy = proxy if config.userland_proxy else None
        self._lock = threading.RLock()
        self._links = None
        self._iptables = IPTables() if config.iptables else None
        self._ports = PortAllocator()
        self._networks = {}   # network id -> NetworkRecord
        self._endpoints = {}  # endpoint id -> Endpoint
        self._taken = {}      # network id -> {address: owner}

    # -- life cycle ------------------------------------------------------

    def setup(self):
        if os.geteuid() != 0:
            raise PrerequisiteMissing("the bridge driver needs root")
        with self._lock:
            if self._links is None:
                self._links = Links()
            if self._config.ip_forward:
                sysctl.enable_ip_forward()
            default = self._default_network()
            self._store.save_network(default)
            self._load()
            networks = list(self._networks.values())
            for record in networks:
                self._bring_up_bridge(record)
            if self._iptables:
                if not sysctl.enable_bridge_netfilter():
                    log.warning("br_netfilter is not loaded: --icc=false cannot isolate containers")
                self._install_chains()
                self._iptables.append([r for n in networks for r in self._network_rules(n)])
            for endpoint in self._endpoints.values():
                self._restore_ports(endpoint)

    def _load(self):
        self._networks = {r.id: r for r in self._store.list_networks()}
        self._endpoints = {e.endpoint_id: e for e in self._store.list_endpoints()}
        self._taken = {network_id: self._store.allocations(network_id) for network_id in self._networks}

    def teardown(self):
        with self._lock:
            for endpoint in list(self._endpoints.values()):
                self.disconnect(endpoint)
            if self._proxy:
                self._proxy.stop_all()
            if self._iptables:
                self._remove_chains()
            if self._links is not None:
                for record in self._networks.values():
                    if record.created_bridge:
                        self._links.delete(record.bridge)
                self._links.close()
                self._links = None

    @property
    def default_network_id(self):
        return next(r.id for r in self._networks.values() if r.default)

    def networks(self):
        return list(self._networks.values())

    # -- networks --------------------------------------------------------

    def create_network(self, network_id, name, options=None):
        options = dict(options or {})
        driver_opts = dict(options.get("options") or {})
        with self._lock:
            self._require_setup()
            existing = list(self._networks.values())
            if any(r.id == network_id or r.name == name for r in existing):
                raise Conflict(f"network with name {name} already exists")
            bridge = driver_opts.get(OPT_BRIDGE_NAME) or f"br-{network_id[:12]}"
            if len(bridge) > 15:
                raise InvalidParameter(f"bridge name {bridge!r} is longer than 15 characters")
            if any(r.bridge == bridge for r in existing):
                raise Conflict(f"bridge {bridge} is already used by another network")
            subnet = self._user_subnet(options.get("subnet"), existing)
            record = NetworkRecord(
                id=network_id, name=name, bridge=bridge, subnet=str(subnet),
                gateway=self._user_gateway(options.get("gateway"), subnet),
                ip_range=self._user_ip_range(options.get("ip_range"), subnet),
                internal=bool(options.get("internal")),
                icc=_truthy(driver_opts.get(OPT_ICC, True)),
                ip_masquerade=self._config.ip_masq and _truthy(driver_opts.get(OPT_MASQUERADE, True)),
                mtu=int(driver_opts.get(OPT_MTU, self._config.mtu)),
                host_binding_ipv4=driver_opts.get(OPT_HOST_BINDING, self._config.ip),
                labels=dict(options.get("labels") or {}), options=driver_opts)
            record.created_bridge = not self._links.exists(bridge)
            with contextlib.ExitStack() as undo:
                self._bring_up_bridge(record)
                if record.created_bridge:
                    undo.callback(self._links.delete, bridge)
                if self._iptables:
                    self._iptables.append(self._network_rules(record))
                self._store.save_network(record)
                undo.pop_all()
            self._networks[record.id] = record
            self._taken[record.id] = {}
            return record

    def delete_network(self, network_id):
        with self._lock:
            self._require_setup()
            record = self._network(network_id)
            if record.default:
                raise Forbidden(f"{record.name} is a pre-defined network and cannot be removed")
            if any(e.network_id == record.id for e in self._endpoints.values()):
                raise Conflict(f"network {record.name} has active endpoints")
            if self._iptables:
                self._iptables.remove(self._network_rules(record))
            if record.created_bridge:
                self._links.delete(record.bridge)
            self._store.delete_network(record.id)
            del self._networks[record.id]
            self._taken.pop(record.id, None)

    # -- endpoints -------------------------------------------------------

    def connect(self, network_id, endpoint_id, netns_ref, requested_ip=None, mac=None,
                aliases=(), ports=()):
        with self._lock:
            self._require_setup()
            record = self._network(network_id)
            if endpoint_id in self._endpoints:
                raise Conflict(f"endpoint {endpoint_id} already exists")
            ns_fd = netns.open_netns(netns_ref)
            try:
                return self._connect(record, endpoint_id, ns_fd, netns.netns_path(netns_ref),
                                     requested_ip, mac, list(aliases), list(ports))
            finally:
                os.close(ns_fd)

    def _connect(self, record, endpoint_id, ns_fd, ns_path, requested_ip, mac, aliases, specs):
        with contextlib.ExitStack() as undo:
            taken = self._taken.setdefault(record.id, {})
            ip = ipam.choose(record, taken, requested_ip)
            bindings = []
            for spec in ([] if record.internal else specs):
                binding = self._ports.reserve(spec, record.host_binding_ipv4)
                undo.callback(self._ports.release, binding)
                bindings.append(binding)
            host_veth = veth_name(endpoint_id)
            gateway = "" if record.internal else (record.container_gateway or record.gateway)
            ifname = self._links.add_endpoint(
                record.bridge, host_veth, ns_fd, ip, record.prefix_len,
                mac or ipam.mac_for(ip), record.mtu, gateway,
                hairpin=not self._config.userland_proxy)
            undo.callback(self._links.delete, host_veth)
            endpoint = Endpoint(
                endpoint_id=endpoint_id, network_id=record.id, ip_address=ip,
                prefix_len=record.prefix_len, gateway=gateway,
                mac_address=mac or ipam.mac_for(ip), host_veth=host_veth,
                container_ifname=ifname, bridge=record.bridge, netns=ns_path,
                aliases=aliases, ports=bindings)
            self._publish(record, endpoint, undo)
            self._store.add_endpoint(endpoint)
            undo.pop_all()
        taken[ip] = endpoint_id
        self._endpoints[endpoint_id] = endpoint
        return endpoint

    def _publish(self, record, endpoint, undo):
        """Rules and proxies of the endpoint's ports, undone by ``undo`` on failure."""
        port_rules = self._port_rules(record, endpoint)
        if self._iptables and port_rules:
            self._iptables.append(port_rules)
            undo.callback(self._iptables.remove, port_rules)
        if self._proxy:
            for binding in endpoint.ports:
                self._proxy.start(binding, endpoint.ip_address)
                undo.callback(self._proxy.stop, binding)

    def _unpublish(self, endpoint):
        """Stop the endpoint's proxies, remove its port rules, free its host ports."""
        record = self._network_or_none(endpoint.network_id)
        if self._proxy:
            for binding in endpoint.ports:
                self._proxy.stop(binding)
        if self._iptables and record:
            self._iptables.remove(self._port_rules(record, endpoint))
        for binding in endpoint.ports:
            self._ports.release(binding)

    def disconnect(self, endpoint):
        with self._lock:
            endpoint = self._endpoint(endpoint)
            self._unpublish(endpoint)
            if self._links is not None:
                self._links.delete(endpoint.host_veth)
            self._store.remove_endpoint(endpoint)
            del self._endpoints[endpoint.endpoint_id]
            self._taken.get(endpoint.network_id, {}).pop(endpoint.ip_address, None)

    def _endpoint(self, endpoint):
        """Our Endpoint for an Endpoint or an endpoint id (the lock held)."""
        endpoint_id = getattr(endpoint, "endpoint_id", endpoint)
        found = self._endpoints.get(endpoint_id)
        if found is None:
            raise NotFound(f"endpoint {endpoint_id} not found")
        return found

    def endpoints(self):
        return list(self._endpoints.values())

    def cleanup_stale(self, live_endpoint_ids):
        """Returns the ids of the endpoints removed."""
        live = set(live_endpoint_ids)
        with self._lock:
            self._require_setup()
            removed = []
            for endpoint in list(self._endpoints.values()):
                if endpoint.endpoint_id not in live:
                    self.disconnect(endpoint)
                    removed.append(endpoint.endpoint_id)
            kept = {e.host_veth for e in self._endpoints.values()}
            for record in self._networks.values():
                taken = self._taken.setdefault(record.id, {})
                for ip, owner in list(taken.items()):
                    if owner not in live:
                        self._store.release(record.id, ip)
                        del taken[ip]
                for port in self._links.ports(record.bridge):
                    if port.startswith("veth") and port not in kept:
                        self._links.delete(port)
            return removed

    # -- helpers ---------------------------------------------------------

    def _require_setup(self):
        if self._links is None:
            raise Conflict("the bridge driver is not set up")

    def _network_or_none(self, network_id):
        return next((r for r in self._networks.values()
                     if r.id == network_id or r.name == network_id), None)

    def _network(self, network_id):
        record = self._network_or_none(network_id)
        if record is None:
            raise NotFound(f"network {network_id} not found")
        return record

    def _default_network(self):
        """The record of the daemon's ``bridge`` network, from the options and
        what a previous run stored."""
        cfg = self._config
        stored = next((r for r in self._store.list_networks() if r.default), None)
        name = cfg.bridge_name
        if cfg.bridge:
            if not self._links.exists(name):
                raise InvalidParameter(f"bridge {name} given with -b does not exist")
            addresses = self._links.bridge_addresses(name)
            if not addresses:
                raise InvalidParameter(f"bridge {name} given with -b has no IPv4 address")
            interface, created = addresses[0], False
        else:
            # The default bridge's name is ours: one left by a crashed run is
            # taken back, and removed at teardown like one made now.
            created = True
            interface = self._default_interface(stored, name)
        return NetworkRecord(
            id=stored.id if stored else secrets.token_hex(32), name=DEFAULT_NETWORK_NAME,
            bridge=name, subnet=str(interface.network), gateway=str(interface.ip),
            ip_range=cfg.fixed_cidr, icc=cfg.icc, ip_masquerade=cfg.ip_masq, mtu=cfg.mtu,
            host_binding_ipv4=cfg.ip, default=True, created_bridge=created,
            container_gateway=cfg.default_gateway,
            options={OPT_BRIDGE_NAME: name})

    def _default_interface(self, stored, name):
        if self._config.bip:
            return ipaddress.IPv4Interface(self._config.bip)
        if stored and stored.bridge == name:
            return ipaddress.IPv4Interface(f"{stored.gateway}/{stored.prefix_len}")
        existing = self._links.bridge_addresses(name) if self._links.exists(name) else []
        if existing:
            return existing[0]
        pool = self._free_pool([])
        return ipaddress.IPv4Interface(f"{next(pool.hosts())}/{pool.prefixlen}")

    def _free_pool(self, networks):
        try:
            with open(self._config.resolv_conf) as f:
                servers = subnets.nameservers(f.read())
        except OSError:
            servers = []
        taken = [ipaddress.IPv4Network(r.subnet) for r in networks]
        return subnets.choose_subnet(subnets.host_routes(self._links.ipr), servers, taken)

    def _user_subnet(self, text, existing):
        if not text:
            return self._free_pool(existing)
        try:
            subnet = ipaddress.IPv4Network(text)
        except ValueError as e:
            raise InvalidParameter(f"invalid subnet {text!r}: {e}") from None
        for r in existing:
            if subnet.overlaps(ipaddress.IPv4Network(r.subnet)):
                raise Conflict(f"subnet {subnet} overlaps network {r.name} ({r.subnet})")
        return subnet

    @staticmethod
    def _user_gateway(text, subnet):
        if not text:
            return str(next(subnet.hosts()))
        try:
            gateway = ipaddress.IPv4Address(text)
        except ValueError as e:
            raise InvalidParameter(f"invalid gateway {text!r}: {e}") from None
        if gateway not in subnet or gateway in (subnet.network_address, subnet.broadcast_address):
            raise InvalidParameter(f"gateway {gateway} is not a host address of {subnet}")
        return str(gateway)

    @staticmethod
    def _user_ip_range(text, subnet):
        if not text:
            return ""
        try:
            ip_range = ipaddress.IPv4Network(text)
        except ValueError as e:
            raise InvalidParameter(f"invalid ip range {text!r}: {e}") from None
        if not ip_range.subnet_of(subnet):
            raise InvalidParameter(f"ip range {ip_range} is not inside subnet {subnet}")
        return str(ip_range)

    def _bring_up_bridge(self, record):
        if record.created_bridge:
            self._links.ensure_bridge(record.bridge, record.mtu)
        elif not self._links.exists(record.bridge):
            raise InvalidParameter(f"bridge {record.bridge} does not exist")
        interface = ipaddress.IPv4Interface(f"{record.gateway}/{record.prefix_len}")
        self._links.configure_bridge(record.bridge, interface)
        if not self._config.userland_proxy:
            sysctl.enable_route_localnet(record.bridge)

    def _network_rules(self, record):
        return rules.network_rules(record, self._config.userland_proxy)

    def _port_rules(self, record, endpoint):
        return [r for b in endpoint.ports
                for r in rules.port_rules(record, endpoint.ip_address, b, self._config.userland_proxy)]

    def _install_chains(self):
        """Our chains, emptied, with the jumps into them and the base rules."""
        for table, chains in rules.CHAINS.items():
            for chain in chains:
                self._iptables.ensure_chain(table, chain)
                self._iptables.flush_chain(table, chain)
        for stale in rules.jumps(not self._config.userland_proxy):
            self._iptables.delete(stale)  # a previous run with the other proxy mode
        for jump in rules.jumps(self._config.userland_proxy):
            self._iptables.ensure_first(jump)
        self._iptables.append(rules.base_rules())

    def _remove_chains(self):
        for proxy_mode in (True, False):
            for jump in rules.jumps(proxy_mode):
                self._iptables.delete(jump)
        for table, chains in rules.CHAINS.items():
            for chain in chains:
                self._iptables.flush_chain(table, chain)
            for chain in chains:
                self._iptables.delete_chain(table, chain)

    def _restore_ports(self, endpoint):
        """After a restart: re-reserve an endpoint's host ports, rules and proxies."""
        record = self._network_or_none(endpoint.network_id)
        if record is None:
            return
        for binding in endpoint.ports:
            self._ports.adopt(binding)
        if self._iptables:
            self._iptables.append(self._port_rules(record, endpoint))
        if self._proxy:
            for binding in endpoint.ports:
                try:
                    self._proxy.start(binding, endpoint.ip_address)
                except Conflict as e:
                    log.warning("endpoint %s: %s", endpoint.endpoint_id[:12], e)
