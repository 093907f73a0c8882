"""Plain records of networks and endpoints.

The NetworkService owns them and stores them as JSON; drivers receive them
and return them completed. ``Network`` and ``Endpoint`` are what every driver
sees; ``data`` holds what one driver keeps of its own (the bridge driver's is
a ``BridgeRecord``'s fields), which nothing else reads.
"""

import dataclasses
from dataclasses import dataclass, field


class _Record:
    """JSON round-trip shared by every record."""

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Network(_Record):
    """A network of any driver, as stored and as ``network inspect`` shows it."""

    id: str
    name: str
    driver: str
    created: int = 0       # ns since the epoch
    subnet: str = ""       # "172.18.0.0/16"; "" for a network without addresses (host, none)
    gateway: str = ""      # "172.18.0.1"
    ip_range: str = ""     # allocation pool inside subnet ("" = whole subnet)
    reserved: list = field(default_factory=list)  # other addresses no container may get
    internal: bool = False
    labels: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)   # driver options (``-o``), as inspect shows them
    default: bool = False  # made by a driver at start (bridge, host, none), never removed
    data: dict = field(default_factory=dict)      # the driver's own

    @property
    def prefix_len(self):
        return int(self.subnet.split("/")[1]) if self.subnet else 0


@dataclass(frozen=True)
class PortSpec(_Record):
    """One requested publication: ``-p [hostip:][hostport[-end]:]cport/proto``.

    ``host_port == 0`` asks for an ephemeral port; ``host_port_end`` bounds a
    range the host port is chosen from.
    """

    container_port: int
    proto: str = "tcp"
    host_ip: str = ""
    host_port: int = 0
    host_port_end: int = 0


@dataclass(frozen=True)
class PortBinding(_Record):
    """A publication that is in force."""

    container_port: int
    proto: str
    host_ip: str
    host_port: int


@dataclass
class Endpoint(_Record):
    """A container's attachment to a network. The service fills the address
    part (it allocates addresses); the driver the rest."""

    endpoint_id: str
    network_id: str
    ip_address: str = ""
    prefix_len: int = 0
    gateway: str = ""
    mac_address: str = ""
    aliases: list = field(default_factory=list)
    ports: list = field(default_factory=list)  # of PortBinding
    data: dict = field(default_factory=dict)   # the driver's own

    @classmethod
    def from_dict(cls, data):
        endpoint = super().from_dict(data)
        endpoint.ports = [p if isinstance(p, PortBinding) else PortBinding.from_dict(p)
                          for p in endpoint.ports]
        return endpoint

    def settings(self):
        """The per-network part of inspect's ``NetworkSettings.Networks``."""
        return {
            "NetworkID": self.network_id,
            "EndpointID": self.endpoint_id,
            "Gateway": self.gateway,
            "IPAddress": self.ip_address,
            "IPPrefixLen": self.prefix_len,
            "MacAddress": self.mac_address,
            "Aliases": list(self.aliases) or None,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
        }


def ports_settings(bindings):
    """``NetworkSettings.Ports`` for a list of PortBinding."""
    result = {}
    for b in bindings:
        result.setdefault(f"{b.container_port}/{b.proto}", []).append(
            {"HostIp": b.host_ip, "HostPort": str(b.host_port)})
    return result

