"""Plain records the driver returns and persists.

They are dataclasses with ``to_dict``/``from_dict`` so the daemon's SQLite
store can keep them as JSON and inspect can show them without knowing the
driver.
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
class NetworkRecord(_Record):
    """A bridge network as persisted: enough to rebuild it after a restart."""

    id: str
    name: str
    bridge: str
    subnet: str            # "172.18.0.0/16"
    gateway: str           # the bridge's address, "172.18.0.1"
    ip_range: str = ""     # allocation pool inside subnet ("" = whole subnet)
    internal: bool = False
    icc: bool = True
    ip_masquerade: bool = True
    mtu: int = 1500
    host_binding_ipv4: str = "0.0.0.0"
    labels: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    default: bool = False  # the daemon's "bridge" network
    created_bridge: bool = True  # False when adopted with -b: never deleted
    container_gateway: str = ""  # --default-gateway, else the bridge address

    @property
    def prefix_len(self):
        return int(self.subnet.split("/")[1])


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
    """A container's attachment to a network, as inspect shows it."""

    endpoint_id: str
    network_id: str
    ip_address: str
    prefix_len: int
    gateway: str
    mac_address: str
    host_veth: str
    container_ifname: str
    bridge: str
    netns: str
    aliases: list = field(default_factory=list)
    ports: list = field(default_factory=list)  # of PortBinding

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
