"""The ``null`` network driver: a container on the ``none`` network has a
network namespace of its own with only its loopback, brought up."""

from . import netns as namespaces
from .predefined import PredefinedNetworkDriver


class NullDriver(PredefinedNetworkDriver):
    name = "null"
    network_name = "none"

    def connect(self, network, endpoint, netns, ports=()):
        namespaces.loopback_up(netns)
        return endpoint
