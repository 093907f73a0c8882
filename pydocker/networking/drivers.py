"""The network drivers of a daemon, by name: each network names its driver
(``docker network create -d NAME``), found in the ``pydocker.networkdrivers``
entry points (the built-in ``bridge``, ``host`` and ``null`` too), checked
with ``verifyClass`` when loaded and constructed once.

Loading imports code: ``load`` runs on a worker thread; ``get`` hands out a
loaded driver on the reactor.
"""

import threading

from pydocker.drivers import plugins
from pydocker.drivers.network.config import NetworkConfig
from pydocker.drivers.network.interfaces import INetworkDriver
from pydocker.errdefs import NotFound

GROUP = "pydocker.networkdrivers"


def driver_config(config):
    """What drivers get of the daemon's options (``-b``, ``--bip``, ``--mtu`` ...)."""
    def text(value):
        return str(value) if value else ""
    return NetworkConfig(
        bridge=text(config.bridge), bip=text(config.bip), fixed_cidr=text(config.fixed_cidr),
        default_gateway=text(config.default_gateway), ip=text(config.ip) or "0.0.0.0",
        ip_forward=config.ip_forward, ip_masq=config.ip_masq, iptables=config.iptables,
        icc=config.icc, mtu=config.mtu, userland_proxy=config.userland_proxy)


class NetworkDrivers:
    """Constructed with the drivers' NetworkConfig and the userland proxy;
    ``loaded`` are drivers already constructed (test doubles)."""

    def __init__(self, config, proxy, loaded=()):
        self._config = config
        self._proxy = proxy
        self._loaded = {driver.name: driver for driver in loaded}
        self._installed = []
        self._lock = threading.Lock()  # two creates may load one driver at once

    def load(self, name):
        """BLOCKING: the driver ``name``, loaded and constructed on first use.
        An unknown name is NotFound (``plugin "NAME" not found``, as dockerd
        says); a broken plugin is a SystemError_ that names it."""
        with self._lock:
            if name not in self._loaded:
                available = plugins.available(GROUP)
                self._installed = sorted(available)
                if name not in available:
                    raise NotFound(f'plugin "{name}" not found')
                cls = plugins.load(GROUP, name, INetworkDriver, "network driver")
                self._loaded[name] = cls(self._config, self._proxy)
            return self._loaded[name]

    def get(self, name):
        """A driver already loaded (every network's is, from start on)."""
        try:
            return self._loaded[name]
        except KeyError:
            raise NotFound(f'plugin "{name}" not found') from None

    def loaded(self):
        """``{name: driver}`` of the drivers in use."""
        return dict(self._loaded)

    def names(self):
        """Every installed driver's name (``docker info``'s network plugins), as
        found when a driver was last loaded."""
        return sorted(set(self._installed) | set(self._loaded))
