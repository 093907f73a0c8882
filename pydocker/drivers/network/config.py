"""The daemon's network options (``-b``, ``--bip``, ``--iptables`` ...), validated
once so the driver can trust them."""

import ipaddress
from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter

DEFAULT_BRIDGE = "pydocker0"


@dataclass
class NetworkConfig:
    bridge: str = ""            # -b: adopt this existing bridge
    bip: str = ""               # --bip 172.17.42.1/16: bridge address and subnet
    fixed_cidr: str = ""        # --fixed-cidr: allocate container IPs from here
    default_gateway: str = ""   # --default-gateway: containers' default route
    ip: str = "0.0.0.0"         # --ip: default host address of published ports
    ip_forward: bool = True     # --ip-forward
    ip_masq: bool = True        # --ip-masq
    iptables: bool = True       # --iptables
    icc: bool = True            # --icc
    mtu: int = 1500             # --mtu
    userland_proxy: bool = True  # --userland-proxy
    resolv_conf: str = "/etc/resolv.conf"  # host file consulted for subnet choice

    def __post_init__(self):
        if self.bridge and self.bip:
            raise InvalidParameter("the -b and --bip options are mutually exclusive")
        if self.bridge and len(self.bridge) > 15:
            raise InvalidParameter(f"bridge name {self.bridge!r} is longer than 15 characters")
        if self.bip:
            iface = _interface(self.bip, "--bip")
            if iface.ip == iface.network.network_address:
                raise InvalidParameter(f"--bip {self.bip}: give the bridge's address, not the network's")
        if self.fixed_cidr:
            _network(self.fixed_cidr, "--fixed-cidr")
        for name, value in (("--default-gateway", self.default_gateway), ("--ip", self.ip)):
            if value:
                _address(value, name)
        if not 68 <= int(self.mtu) <= 65535:
            raise InvalidParameter(f"--mtu {self.mtu} is out of range (68-65535)")
        if not self.iptables and self.ip_masq:
            # Docker's rule: masquerading is an iptables rule.
            self.ip_masq = False
        if self.bip and self.fixed_cidr:
            if not _network(self.fixed_cidr, "--fixed-cidr").subnet_of(_interface(self.bip, "--bip").network):
                raise InvalidParameter(f"--fixed-cidr {self.fixed_cidr} is not inside --bip {self.bip}")

    @property
    def bridge_name(self):
        return self.bridge or DEFAULT_BRIDGE

    @classmethod
    def from_options(cls, options):
        """Build from a daemon.json-style dict (keys with dashes or underscores)."""
        known = set(cls.__dataclass_fields__)
        values = {}
        for key, value in (options or {}).items():
            name = key.replace("-", "_")
            if name not in known:
                raise InvalidParameter(f"unknown network option {key!r}")
            values[name] = value
        return cls(**values)


def _interface(text, option):
    try:
        return ipaddress.IPv4Interface(text)
    except ValueError as e:
        raise InvalidParameter(f"{option} {text!r}: {e}") from None


def _network(text, option):
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError as e:
        raise InvalidParameter(f"{option} {text!r}: {e}") from None


def _address(text, option):
    try:
        return ipaddress.IPv4Address(text)
    except ValueError as e:
        raise InvalidParameter(f"{option} {text!r}: {e}") from None
