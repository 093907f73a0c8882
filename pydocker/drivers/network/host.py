"""The ``host`` network driver: a container on the ``host`` network shares the
daemon's network namespace, so there is nothing to make."""

from .predefined import PredefinedNetworkDriver


class HostDriver(PredefinedNetworkDriver):
    name = "host"
    network_name = "host"
