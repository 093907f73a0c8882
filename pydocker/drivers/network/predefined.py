"""Drivers of one predefined network each (``host``, ``none``): no network
of theirs can be created, and they make nothing in the kernel."""

import secrets
import time

from zope.interface import implementer

from pydocker.errdefs import Forbidden
from .interfaces import INetworkDriver
from .model import Network


@implementer(INetworkDriver)
class PredefinedNetworkDriver:
    """Subclasses name the driver and its network."""

    name = None
    network_name = None

    def __init__(self, config=None, proxy=None):
        pass

    def setup(self, networks, stale_endpoints=()):
        """The stored network (its id and creation time kept), else a new one."""
        found = next((n for n in networks if n.default and n.name == self.network_name), None)
        return [found or Network(id=secrets.token_hex(32), name=self.network_name, driver=self.name,
                                 created=time.time_ns(), default=True)]

    def teardown(self, networks):
        pass

    def create_network(self, network, existing):
        raise Forbidden(f'only one instance of "{self.name}" network is allowed')

    def delete_network(self, network):
        pass

    def connect(self, network, endpoint, netns, ports=()):
        return endpoint

    def disconnect(self, network, endpoint):
        pass
