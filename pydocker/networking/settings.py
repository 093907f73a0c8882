"""A container's ``NetworkSettings`` in the Engine API's shape, and the
checks of what a client asks for (``EndpointsConfig``, published ports).

Plain data in, plain data out: the daemon's container record keeps these
documents, and inspect shows them as they are.
"""

import ipaddress
import re

from pydocker.drivers.network import ipam, ports
from pydocker.drivers.network.model import ports_settings
from pydocker.fields import STR_LIST, STR_MAP, check, naming
from pydocker.errdefs import InvalidParameter

ENDPOINT_CONFIG_TYPES = {
    "IPAMConfig": dict, "Links": STR_LIST, "Aliases": STR_LIST, "MacAddress": str,
    "DriverOpts": STR_MAP, "NetworkID": str, "EndpointID": str, "DNSNames": STR_LIST,
}
MAC_RE = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")

# What an endpoint shows while it is not connected (and what release resets).
EMPTY_ADDRESSES = {
    "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
    "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
}
EMPTY_TOP_LEVEL = dict(EMPTY_ADDRESSES, MacAddress="", Bridge="", SandboxID="", SandboxKey="",
                       HairpinMode=False, LinkLocalIPv6Address="", LinkLocalIPv6PrefixLen=0,
                       SecondaryIPAddresses=None, SecondaryIPv6Addresses=None)


def check_endpoint_config(network_name, config):
    """The requested settings of one network, type-checked; returns the
    requested IPv4 address ("" for none) and MAC ("" for none)."""
    where = f"NetworkingConfig.EndpointsConfig.{network_name}"
    check(config, ENDPOINT_CONFIG_TYPES, where)
    ipam_config = check(config.get("IPAMConfig") or {}, {"IPv4Address": str, "IPv6Address": str}, f"{where}.IPAMConfig")
    address = ipam_config.get("IPv4Address") or ""
    if address:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise InvalidParameter(f"invalid IPv4 address: {address}") from None
    if ipam_config.get("IPv6Address"):
        raise InvalidParameter("IPv6 addresses are not supported: container networking is IPv4 only")
    mac = config.get("MacAddress") or ""
    if mac and not MAC_RE.match(mac):
        raise InvalidParameter(f"invalid MAC address: {mac}")
    return address, mac.lower().replace("-", ":")


def endpoint_settings(network_id, config):
    """``Networks[name]`` for a container not yet connected."""
    return {
        "IPAMConfig": config.get("IPAMConfig") or None,
        "Links": config.get("Links") or None,
        "Aliases": config.get("Aliases") or None,
        "MacAddress": (config.get("MacAddress") or "").lower().replace("-", ":"),
        "DriverOpts": config.get("DriverOpts") or None,
        "NetworkID": network_id,
        **EMPTY_ADDRESSES,
        "DNSNames": None,
    }


def container_settings(networks):
    """The whole ``NetworkSettings`` of a created container; ``networks`` is
    ``{name: endpoint settings}`` in connection order."""
    return dict(EMPTY_TOP_LEVEL, Ports={}, Networks=dict(networks))


def connected(settings, endpoint, dns_names=None):
    """``settings`` (one network's) updated with a connected Endpoint."""
    settings.update(endpoint.settings())
    settings["DNSNames"] = list(dns_names) if dns_names else None
    return settings


def disconnected(settings):
    """``settings`` with its addresses cleared; a MAC the user chose is kept
    (a generated one is derived from the address, so it goes with it)."""
    generated = settings.get("IPAddress") and settings.get("MacAddress") == ipam.mac_for(settings["IPAddress"])
    settings.update(EMPTY_ADDRESSES, DNSNames=None)
    if generated:
        settings["MacAddress"] = ""
    return settings


def forget_addresses(network_settings):
    """A container's settings with every address cleared and its networks kept
    (as Docker shows a stopped container)."""
    if network_settings:
        for endpoint_settings in (network_settings.get("Networks") or {}).values():
            disconnected(endpoint_settings)
        network_settings.update(EMPTY_TOP_LEVEL, Ports={})


def top_level(settings, endpoint, bridge):
    """The legacy top-level addresses (they describe the default bridge only)."""
    settings.update(EndpointID=endpoint.endpoint_id, Gateway=endpoint.gateway,
                    IPAddress=endpoint.ip_address, IPPrefixLen=endpoint.prefix_len,
                    MacAddress=endpoint.mac_address, Bridge=bridge)


def port_specs(config, host_config):
    """The PortSpecs to publish: ``PortBindings``, and with ``PublishAllPorts``
    every other exposed port on an ephemeral host port. Raises
    InvalidParameter on a malformed port."""
    bindings = host_config.get("PortBindings") or {}
    check_exposed(config.get("ExposedPorts"))
    specs = ports.parse_api_bindings(bindings)
    if host_config.get("PublishAllPorts"):
        bound = {_port_key(key) for key in bindings}
        specs += ports.publish_all([k for k in config.get("ExposedPorts") or {} if _port_key(k) not in bound])
    return specs


def check_exposed(exposed):
    if exposed is None:
        return
    if not isinstance(exposed, dict):
        raise InvalidParameter("invalid type for field ExposedPorts: expected an object")
    for key in exposed:
        with naming("ExposedPorts"):
            ports.parse_publish(key)


def ports_document(config, host_config, bindings):
    """``NetworkSettings.Ports`` of a running container: published ports with
    their bindings, exposed ones with null."""
    document = {_port_key(k): None for k in (config.get("ExposedPorts") or {})}
    document.update({_port_key(k): None for k in (host_config.get("PortBindings") or {})})
    document.update(ports_settings(bindings))
    return document


def _port_key(key):
    """``"80"`` → ``"80/tcp"``."""
    return key if "/" in key else f"{key}/tcp"
