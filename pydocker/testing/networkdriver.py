"""Test doubles and a test harness for network drivers.

``FakeNetworkDriver`` is an INetworkDriver that touches no kernel: it
records every call and hands out endpoints as a driver would, so the
NetworkService can be tested on a memory reactor without root.
``DriverHarness`` drives a real driver the way the NetworkService does
(records kept by the caller, addresses from an AddressBook) without a
reactor, for tests of a driver on the kernel; plugin authors can use it on
theirs.
"""

import ipaddress
import secrets
import time

from zope.interface import implementer

from pydocker.drivers.network import ipam
from pydocker.drivers.network.interfaces import INetworkDriver
from pydocker.drivers.network.model import Endpoint, Network, PortBinding
from pydocker.errdefs import Conflict
from pydocker.networking.addresses import AddressBook


@implementer(INetworkDriver)
class FakeNetworkDriver:
    """A driver of the given name. ``predefine`` names a network its setup
    predefines; ``fail_next(method, error)`` makes the next call of a method
    raise. ``calls`` lists ``(method, argument summary)`` in order."""

    def __init__(self, config=None, proxy=None, name="fake", predefine=None, subnet="10.200.0.0/24"):
        self.name = name
        self._predefine = predefine
        self._subnet = subnet
        self._failures = {}
        self.calls = []

    def fail_next(self, method, error):
        self._failures[method] = error

    def _call(self, method, *summary):
        self.calls.append((method, *summary))
        error = self._failures.pop(method, None)
        if error is not None:
            raise error

    def setup(self, networks, stale_endpoints=()):
        self._call("setup", sorted(n.name for n in networks), sorted(e.endpoint_id for e in stale_endpoints))
        if self._predefine is None:
            return []
        found = next((n for n in networks if n.default and n.name == self._predefine), None)
        return [found or Network(id=secrets.token_hex(32), name=self._predefine, driver=self.name,
                                 created=time.time_ns(), subnet=self._subnet or "",
                                 gateway=ipam_gateway(self._subnet) if self._subnet else "", default=True)]

    def teardown(self, networks):
        self._call("teardown", sorted(n.name for n in networks))

    def create_network(self, network, existing):
        self._call("create_network", network.name)
        if any(n.subnet and n.subnet == network.subnet for n in existing):
            raise Conflict(f"subnet {network.subnet} is taken")
        if network.subnet and not network.gateway:
            network.gateway = ipam_gateway(network.subnet)
        network.data = {"made by": self.name}
        return network

    def delete_network(self, network):
        self._call("delete_network", network.name)

    def connect(self, network, endpoint, netns, ports=()):
        self._call("connect", network.name, endpoint.ip_address, netns)
        endpoint.gateway = network.gateway
        endpoint.mac_address = endpoint.mac_address or (ipam.mac_for(endpoint.ip_address)
                                                        if endpoint.ip_address else "")
        endpoint.ports = [PortBinding(p.container_port, p.proto, p.host_ip or "0.0.0.0", p.host_port or 40000)
                          for p in ports]
        return endpoint

    def disconnect(self, network, endpoint):
        self._call("disconnect", network.name, endpoint.ip_address)


def ipam_gateway(subnet):
    """The first host address of a subnet."""
    return str(next(ipaddress.IPv4Network(subnet).hosts()))


class DriverHarness:
    """One driver, set up, with the networks and endpoints a NetworkService
    would keep for it."""

    def __init__(self, driver, stored=(), stale=()):
        self.driver = driver
        self._networks = {n.id: n for n in stored}
        self._endpoints = {}
        self._addresses = AddressBook()
        for network in driver.setup(list(stored), list(stale)):
            self._networks[network.id] = network

    @property
    def default_network_id(self):
        return next(n.id for n in self._networks.values() if n.default)

    def networks(self):
        return list(self._networks.values())

    def create_network(self, network_id, name, subnet="", gateway="", ip_range="", internal=False,
                       options=None, labels=None):
        draft = Network(id=network_id, name=name, driver=self.driver.name, subnet=subnet, gateway=gateway,
                        ip_range=ip_range, internal=internal, options=dict(options or {}),
                        labels=dict(labels or {}))
        network = self.driver.create_network(draft, list(self._networks.values()))
        self._networks[network.id] = network
        return network

    def delete_network(self, network_id):
        self.driver.delete_network(self._networks.pop(network_id))
        self._addresses.forget(network_id)

    def connect(self, network_id, endpoint_id, netns, requested_ip="", mac="", aliases=(), ports=()):
        network = self._networks[network_id]
        endpoint = Endpoint(endpoint_id=endpoint_id, network_id=network_id, mac_address=mac,
                            aliases=list(aliases))
        if network.subnet:
            endpoint.ip_address = self._addresses.take(network, endpoint_id, requested_ip)
            endpoint.prefix_len = network.prefix_len
        try:
            endpoint = self.driver.connect(network, endpoint, netns, list(ports))
        except Exception:
            self._addresses.give_back(network_id, endpoint.ip_address)
            raise
        self._endpoints[endpoint_id] = endpoint
        return endpoint

    def disconnect(self, endpoint):
        self.driver.disconnect(self._networks[endpoint.network_id], endpoint)
        del self._endpoints[endpoint.endpoint_id]
        self._addresses.give_back(endpoint.network_id, endpoint.ip_address)

    def endpoints(self):
        return list(self._endpoints.values())

    def taken(self, network_id):
        return self._addresses.taken(network_id)

    def teardown(self):
        for endpoint in self.endpoints():
            self.disconnect(endpoint)
        self.driver.teardown(self.networks())
