"""A new container's network mode and requested endpoints, checked and
turned into its first ``NetworkSettings`` (the ``container create`` side of
networking; ``view`` is the NetworkService's read side: ``find`` and
``default_network``)."""

import ipaddress
import socket

from pydocker.containers.links import parse_link
from pydocker.errdefs import InvalidParameter
from pydocker.fields import naming
from pydocker.networking import hosts, settings
from pydocker.networking.sandbox import network_mode

PREDEFINED = ("host", "none")  # networks that are a mode of their own: nothing beside them
DEFAULT_MODES = ("", "default", "bridge")


def container_settings(view, containers, container, networking_config, enabled):
    """The container's NetworkSettings; raises InvalidParameter on a request
    that cannot be met. ``enabled`` is False with ``--bridge=none``."""
    config, hc = container.config, container.host_config
    requested = check_endpoints((networking_config or {}).get("EndpointsConfig"))
    mode = network_mode(container)
    for i, text in enumerate(hc.get("ExtraHosts") or []):
        with naming(f"HostConfig.ExtraHosts[{i}]"):
            hosts.parse_extra_host(text, host_gateway="0.0.0.0")
    settings.port_specs(config, hc)
    for text in hc.get("Links") or []:
        containers.get(parse_link(text)[0])
    if mode.startswith("container:"):
        _check_shared(containers, container, mode)
        networks = {}
    elif mode in PREDEFINED or not enabled or config.get("NetworkDisabled"):
        name = "host" if mode == "host" else "none"
        _only(requested, (name, mode))
        networks = {name: settings.endpoint_settings(view.find(name).id, requested.get(name, {}))}
        if name == "host" and not config.get("Hostname"):
            config["Hostname"] = socket.gethostname()
    else:
        networks = _endpoints(view, mode, requested, config)
    return settings.container_settings(networks)


def check_endpoints(endpoints_config):
    """``NetworkingConfig.EndpointsConfig`` as a dict of dicts."""
    if endpoints_config is None:
        return {}
    if not isinstance(endpoints_config, dict) or not all(isinstance(v, (dict, type(None)))
                                                         for v in endpoints_config.values()):
        raise InvalidParameter("invalid type for field NetworkingConfig.EndpointsConfig: "
                               "expected an object of endpoint settings")
    return {k: v or {} for k, v in endpoints_config.items()}


def check_endpoint(network, endpoint_config):
    """One network's requested settings, against what the network allows."""
    address, _ = settings.check_endpoint_config(network.name, endpoint_config)
    if network.default and address:
        raise InvalidParameter("user specified IP address is supported on user defined networks only")
    if network.default and endpoint_config.get("Aliases"):
        raise InvalidParameter("network-scoped alias is supported only for containers in user defined networks")
    if address and network.subnet and ipaddress.IPv4Address(address) not in ipaddress.IPv4Network(network.subnet):
        raise InvalidParameter(f"invalid address {address}: it does not belong to any of network "
                               f"{network.name}'s subnets ({network.subnet})")


def _only(requested, allowed):
    """Refuse endpoints besides the mode's own (host, none, or the mode as given)."""
    others = sorted(k for k in requested if k not in allowed)
    if others:
        raise InvalidParameter(f"container cannot be connected to network endpoints: "
                               f"{allowed[0]}, {', '.join(others)}")


def _check_shared(containers, container, mode):
    """``container:X`` shares X's namespace: nothing of its own may be set."""
    config, hc = container.config, container.host_config
    other = containers.get(mode.split(":", 1)[1])
    if other.id == container.id:
        raise InvalidParameter("cannot join own network namespace")
    if config.get("Hostname"):
        raise InvalidParameter("conflicting options: hostname and the network mode")
    if hc.get("PortBindings") or hc.get("PublishAllPorts") or config.get("ExposedPorts"):
        raise InvalidParameter("conflicting options: port publishing and the container type network mode")
    if hc.get("Dns") or hc.get("ExtraHosts") or config.get("MacAddress"):
        raise InvalidParameter("conflicting options: dns, extra hosts or mac address and the network mode")
    config["Hostname"] = other.config.get("Hostname") or other.id[:12]
    config["Domainname"] = other.config.get("Domainname") or ""


def _endpoints(view, mode, requested, config):
    """``{name: settings}``: the network of the mode first, then the others requested."""
    primary = view.default_network() if mode in DEFAULT_MODES else view.find(mode)
    if primary is None or primary.name in PREDEFINED:
        raise InvalidParameter(f"network {mode} cannot be used as a container's network mode")
    chosen = [(primary, requested.get(mode) or requested.get(primary.name) or {})]
    for key, endpoint_config in requested.items():
        if key == mode:
            continue
        network = view.find(key)
        if network.id == primary.id:
            continue
        if network.name in PREDEFINED:
            raise InvalidParameter(f"container cannot be connected to network endpoints: "
                                   f"{primary.name}, {network.name}")
        chosen.append((network, endpoint_config))
    networks = {}
    for index, (network, endpoint_config) in enumerate(chosen):
        endpoint_config = dict(endpoint_config)
        if index == 0 and config.get("MacAddress") and not endpoint_config.get("MacAddress"):
            endpoint_config["MacAddress"] = config["MacAddress"]  # the deprecated Config field
        check_endpoint(network, endpoint_config)
        networks[network.name] = settings.endpoint_settings(network.id, endpoint_config)
    return networks
