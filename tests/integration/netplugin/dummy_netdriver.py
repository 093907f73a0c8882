"""An example third-party network driver, installed by the test suite as a
distribution of its own (``test_network_plugins.py``): it gives each
container a ``plug0`` interface (one end of a veth pair that stays inside the
namespace) holding the address the daemon allocated,
and appends each call to the file named by the network's ``dummy.log``
option, so the test can see that the daemon called it."""

import ipaddress
import json
import os

from pyroute2 import IPRoute
from zope.interface import implementer

from pydocker.drivers.network import netns as namespaces
from pydocker.drivers.network.interfaces import INetworkDriver
from pydocker.errdefs import InvalidParameter

LOG_OPTION = "dummy.log"


def _record(network, *call):
    path = network.options.get(LOG_OPTION)
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(call) + "\n")


@implementer(INetworkDriver)
class DummyDriver:
    name = "dummy"

    def __init__(self, config, proxy=None):
        pass

    def setup(self, networks, stale_endpoints=()):
        for network in networks:
            _record(network, "setup", network.name)
        return []

    def teardown(self, networks):
        for network in networks:
            _record(network, "teardown", network.name)

    def create_network(self, network, existing):
        if not network.subnet:
            raise InvalidParameter("the dummy driver needs a subnet")
        network.gateway = network.gateway or str(next(ipaddress.IPv4Network(network.subnet).hosts()))
        _record(network, "create_network", network.name)
        return network

    def delete_network(self, network):
        _record(network, "delete_network", network.name)

    def connect(self, network, endpoint, netns, ports=()):
        fd = namespaces.open_netns(netns)
        try:
            with namespaces.entered(fd), IPRoute() as ipr:
                ipr.link("add", ifname="plug0", kind="veth", peer="plug1")
                index = ipr.link_lookup(ifname="plug0")[0]
                ipr.addr("add", index=index, address=endpoint.ip_address, prefixlen=endpoint.prefix_len)
                ipr.link("set", index=index, state="up")
        finally:
            os.close(fd)
        _record(network, "connect", endpoint.endpoint_id, endpoint.ip_address)
        return endpoint

    def disconnect(self, network, endpoint):
        _record(network, "disconnect", endpoint.endpoint_id, endpoint.ip_address)


class HalfADriver:
    """Registered as ``broken``: it lacks most of INetworkDriver."""

    name = "broken"

    def setup(self, networks, stale_endpoints=()):
        return []
