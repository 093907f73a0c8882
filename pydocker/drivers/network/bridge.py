"""The bridge network driver: Linux bridges, a veth pair per endpoint,
iptables NAT/filtering and published ports.

Blocking code: the NetworkService calls it from worker threads. One lock
serialises the kernel work (the netlink socket is not thread-safe and connect
must be all-or-nothing). It keeps no records: each call receives the network
(its ``data`` is a ``bridgenets.BridgeData``) and the endpoint. What it holds
is what it made in the kernel and the sockets of published ports: the
netlink sockets, the host ports it reserved and the proxy's listeners.
"""

import contextlib
import hashlib
import ipaddress
import os
import threading

from twisted.logger import Logger
from zope.interface import implementer

from pydocker.errdefs import Conflict, InvalidParameter, PrerequisiteMissing
from . import bridgenets, ipam, netns, rules, sysctl
from .bridgenets import BridgeRecord
from .config import NetworkConfig
from .interfaces import INetworkDriver
from .iptables import IPTables
from .links import Links
from .ports import PortAllocator


def veth_name(endpoint_id):
    """The host end of an endpoint's veth: derived from the endpoint id so a
    restarted daemon can tell its veths from strays (15 characters max)."""
    return "veth" + hashlib.sha256(endpoint_id.encode()).hexdigest()[:11]


@implementer(INetworkDriver)
class BridgeDriver:
    name = "bridge"
    log = Logger()

    def __init__(self, config, proxy=None):
        if not isinstance(config, NetworkConfig):
            config = NetworkConfig.from_options(config)
        self._config = config
        self._proxy = proxy if config.userland_proxy else None
        self._lock = threading.RLock()
        self._links = None
        self._iptables = IPTables() if config.iptables else None
        self._ports = PortAllocator()

    # -- life cycle ------------------------------------------------------

    def setup(self, networks, stale_endpoints=()):
        if os.geteuid() != 0:
            raise PrerequisiteMissing("the bridge driver needs root")
        with self._lock:
            if self._links is None:
                self._links = Links()
            if self._config.ip_forward:
                sysctl.enable_ip_forward()
            stored = next((n for n in networks if n.default), None)
            default = bridgenets.default_network(self._config, self._links, stored)
            records = [BridgeRecord.of(n) for n in [default, *(n for n in networks if not n.default)]]
            for record in records:
                self._bring_up_bridge(record)
            if self._iptables:
                if not sysctl.enable_bridge_netfilter():
                    self.log.warn("br_netfilter is not loaded: --icc=false cannot isolate containers")
                self._install_chains()
                self._iptables.append([r for record in records for r in self._network_rules(record)])
            # Nothing runs yet: every veth on our bridges is a leftover.
            for endpoint in stale_endpoints:
                self._links.delete(veth_name(endpoint.endpoint_id))
            for record in records:
                for port in self._links.ports(record.bridge):
                    if port.startswith("veth"):
                        self._links.delete(port)
            return [default]

    def teardown(self, networks):
        with self._lock:
            if self._proxy:
                self._proxy.stop_all()
            if self._iptables:
                self._remove_chains()
            if self._links is not None:
                for network in networks:
                    record = BridgeRecord.of(network)
                    if record.created_bridge:
                        self._links.delete(record.bridge)
                self._links.close()
                self._links = None

    # -- networks --------------------------------------------------------

    def create_network(self, network, existing):
        with self._lock:
            self._require_setup()
            network = bridgenets.user_network(self._config, self._links, network, existing)
            record = BridgeRecord.of(network)
            with contextlib.ExitStack() as undo:
                self._bring_up_bridge(record)
                if record.created_bridge:
                    undo.callback(self._links.delete, record.bridge)
                if self._iptables:
                    self._iptables.append(self._network_rules(record))
                undo.pop_all()
            return network

    def delete_network(self, network):
        with self._lock:
            self._require_setup()
            record = BridgeRecord.of(network)
            if self._iptables:
                self._iptables.remove(self._network_rules(record))
            if record.created_bridge:
                self._links.delete(record.bridge)

    # -- endpoints -------------------------------------------------------

    def connect(self, network, endpoint, netns_ref, ports=()):
        with self._lock:
            self._require_setup()
            record = BridgeRecord.of(network)
            ns_fd = netns.open_netns(netns_ref)
            try:
                return self._connect(record, endpoint, ns_fd, list(ports))
            finally:
                os.close(ns_fd)

    def _connect(self, record, endpoint, ns_fd, specs):
        with contextlib.ExitStack() as undo:
            bindings = []
            for spec in ([] if record.internal else specs):
                binding = self._ports.reserve(spec, record.host_binding_ipv4)
                undo.callback(self._ports.release, binding)
                bindings.append(binding)
            host_veth = veth_name(endpoint.endpoint_id)
            endpoint.gateway = "" if record.internal else (record.container_gateway or record.gateway)
            endpoint.mac_address = endpoint.mac_address or ipam.mac_for(endpoint.ip_address)
            self._links.add_endpoint(
                record.bridge, host_veth, ns_fd, endpoint.ip_address, record.prefix_len,
                endpoint.mac_address, record.mtu, endpoint.gateway,
                hairpin=not self._config.userland_proxy)
            undo.callback(self._links.delete, host_veth)
            endpoint.ports = bindings
            self._publish(record, endpoint, undo)
            undo.pop_all()
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

    def disconnect(self, network, endpoint):
        with self._lock:
            record = BridgeRecord.of(network)
            if self._proxy:
                for binding in endpoint.ports:
                    self._proxy.stop(binding)
            if self._iptables:
                self._iptables.remove(self._port_rules(record, endpoint))
            for binding in endpoint.ports:
                self._ports.release(binding)
            if self._links is not None:
                self._links.delete(veth_name(endpoint.endpoint_id))

    # -- helpers ---------------------------------------------------------

    def _require_setup(self):
        if self._links is None:
            raise Conflict("the bridge driver is not set up")

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
