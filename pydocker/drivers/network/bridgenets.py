"""The bridge driver's networks: what its kernel work needs of each
(``BridgeRecord``, kept in ``Network.data``) and how a network is made from
the daemon's options (the default ``bridge`` network) or from ``network
create``'s (a chosen subnet, gateway and bridge name)."""

import ipaddress
import secrets
import time
from dataclasses import asdict, dataclass

from pydocker.errdefs import Conflict, InvalidParameter
from . import subnets
from .model import Network

DEFAULT_NETWORK_NAME = "bridge"
OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
OPT_HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"
OPT_MTU = "com.docker.network.driver.mtu"
OPT_DEFAULT_BRIDGE = "com.docker.network.bridge.default_bridge"


@dataclass
class BridgeData:
    """The bridge driver's ``Network.data``."""

    bridge: str
    icc: bool = True
    ip_masquerade: bool = True
    mtu: int = 1500
    host_binding_ipv4: str = "0.0.0.0"
    created_bridge: bool = True    # False when adopted with -b: never deleted
    container_gateway: str = ""    # --default-gateway, else the bridge address


@dataclass
class BridgeRecord(BridgeData):
    """A network as the bridge's rules and links see it: the generic fields
    the kernel work needs beside the driver's own."""

    id: str = ""
    name: str = ""
    subnet: str = ""
    gateway: str = ""
    internal: bool = False
    default: bool = False

    @classmethod
    def of(cls, network):
        return cls(id=network.id, name=network.name, subnet=network.subnet, gateway=network.gateway,
                   internal=network.internal, default=network.default, **network.data)

    @property
    def prefix_len(self):
        return int(self.subnet.split("/")[1])


def _data(**values):
    return asdict(BridgeData(**values))


def _truthy(value):
    return str(value).lower() in ("1", "true", "yes", "on")


def default_network(config, links, stored):
    """The daemon's ``bridge`` network from the options and what a previous
    run stored (``stored``, or None): its id and, without --bip, its subnet."""
    name = config.bridge_name
    if config.bridge:
        if not links.exists(name):
            raise InvalidParameter(f"bridge {name} given with -b does not exist")
        addresses = links.bridge_addresses(name)
        if not addresses:
            raise InvalidParameter(f"bridge {name} given with -b has no IPv4 address")
        interface, created = addresses[0], False
    else:
        # The default bridge's name is ours: one left by a crashed run is
        # taken back, and removed at teardown like one made now.
        created = True
        interface = _default_interface(config, links, stored, name)
    data = _data(bridge=name, icc=config.icc, ip_masquerade=config.ip_masq, mtu=config.mtu,
                 host_binding_ipv4=config.ip, created_bridge=created,
                 container_gateway=config.default_gateway)
    options = {
        OPT_DEFAULT_BRIDGE: "true",
        OPT_ICC: str(config.icc).lower(),
        OPT_MASQUERADE: str(config.ip_masq).lower(),
        OPT_HOST_BINDING: config.ip,
        OPT_BRIDGE_NAME: name,
        OPT_MTU: str(config.mtu),
    }
    return Network(
        id=stored.id if stored else secrets.token_hex(32), name=DEFAULT_NETWORK_NAME, driver="bridge",
        created=stored.created if stored else time.time_ns(), subnet=str(interface.network), gateway=str(interface.ip),
        ip_range=config.fixed_cidr, reserved=[config.default_gateway] if config.default_gateway else [],
        options=options, default=True, data=data)


def _default_interface(config, links, stored, name):
    if config.bip:
        return ipaddress.IPv4Interface(config.bip)
    if stored and stored.data.get("bridge") == name:
        return ipaddress.IPv4Interface(f"{stored.gateway}/{stored.prefix_len}")
    existing = links.bridge_addresses(name) if links.exists(name) else []
    if existing:
        return existing[0]
    pool = free_pool(config, links, [])
    return ipaddress.IPv4Interface(f"{next(pool.hosts())}/{pool.prefixlen}")


def free_pool(config, links, networks):
    """A subnet that overlaps no route, nameserver or network of ours."""
    try:
        with open(config.resolv_conf) as f:
            servers = subnets.nameservers(f.read())
    except OSError:
        servers = []
    taken = [ipaddress.IPv4Network(n.subnet) for n in networks]
    return subnets.choose_subnet(subnets.host_routes(links.ipr), servers, taken)


def user_network(config, links, network, existing):
    """``network`` as ``network create`` asked, completed: its subnet (a free
    pool when none was given), gateway, range, bridge name and settings."""
    driver_opts = dict(network.options)
    bridge = driver_opts.get(OPT_BRIDGE_NAME) or f"br-{network.id[:12]}"
    if len(bridge) > 15:
        raise InvalidParameter(f"bridge name {bridge!r} is longer than 15 characters")
    if any(n.data.get("bridge") == bridge for n in existing):
        raise Conflict(f"bridge {bridge} is already used by another network")
    subnet = _user_subnet(config, links, network.subnet, existing)
    network.subnet = str(subnet)
    network.gateway = _user_gateway(network.gateway, subnet)
    network.ip_range = _user_ip_range(network.ip_range, subnet)
    network.data = _data(
        bridge=bridge, icc=_truthy(driver_opts.get(OPT_ICC, True)),
        ip_masquerade=config.ip_masq and _truthy(driver_opts.get(OPT_MASQUERADE, True)),
        mtu=int(driver_opts.get(OPT_MTU, config.mtu)),
        host_binding_ipv4=driver_opts.get(OPT_HOST_BINDING, config.ip),
        created_bridge=not links.exists(bridge))
    return network


def _user_subnet(config, links, text, existing):
    if not text:
        return free_pool(config, links, existing)
    try:
        subnet = ipaddress.IPv4Network(text)
    except ValueError as e:
        raise InvalidParameter(f"invalid subnet {text!r}: {e}") from None
    for n in existing:
        if subnet.overlaps(ipaddress.IPv4Network(n.subnet)):
            raise Conflict(f"subnet {subnet} overlaps network {n.name} ({n.subnet})")
    return subnet


def _user_gateway(text, subnet):
    if not text:
        return str(next(subnet.hosts()))
    try:
        gateway = ipaddress.IPv4Address(text)
    except ValueError as e:
        raise InvalidParameter(f"invalid gateway {text!r}: {e}") from None
    if gateway not in subnet or gateway in (subnet.network_address, subnet.broadcast_address):
        raise InvalidParameter(f"gateway {gateway} is not a host address of {subnet}")
    return str(gateway)


def _user_ip_range(text, subnet):
    if not text:
        return ""
    try:
        ip_range = ipaddress.IPv4Network(text)
    except ValueError as e:
        raise InvalidParameter(f"invalid ip range {text!r}: {e}") from None
    if not ip_range.subnet_of(subnet):
        raise InvalidParameter(f"ip range {ip_range} is not inside subnet {subnet}")
    return str(ip_range)
