"""Network jobs: create, list, inspect, remove, connect, disconnect, prune,
in the Engine API's shapes. The work is done by the NetworkService; these handlers validate and shape."""

import ipaddress
import re
import time
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.errdefs import InvalidParameter, NotFound
from pydocker.fields import STR_MAP, check
from pydocker.jobs.system import parse_timestamp
from pydocker.timeutil import parse_go_duration, rfc3339

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")
PRUNE_FILTERS = ("until", "label", "label!")
CREATE_TYPES = {
    "Name": str, "CheckDuplicate": bool, "Driver": str, "Scope": str, "Internal": bool,
    "Attachable": bool, "Ingress": bool, "ConfigOnly": bool, "ConfigFrom": dict, "IPAM": dict,
    "EnableIPv6": bool, "EnableIPv4": bool, "Options": STR_MAP, "Labels": STR_MAP,
}


class NetworkJobs:
    """The network API on the network service. Reactor thread."""

    def __init__(self, engine, network, containers):
        self.engine = engine
        self.network = network
        self.containers = containers

    def jobs(self):
        return {"network.create": create_network, "network.list": list_networks,
                "network.inspect": inspect_network, "network.remove": remove_network,
                "network.connect": connect_container, "network.disconnect": disconnect_container,
                "network.prune": prune_networks}



@dataclass
class CreateRequest:
    body: dict


@dataclass
class ListRequest:
    filters: dict = field(default_factory=dict)


@dataclass
class NetworkRequest:
    name: str


@dataclass
class ConnectRequest:
    network: str
    body: dict


@dataclass
class PruneRequest:
    filters: dict = field(default_factory=dict)


# -- documents ------------------------------------------------------------------------

def _ipam(network):
    if not network.subnet:
        return {"Driver": "default", "Options": None, "Config": []}
    config = {"Subnet": network.subnet, "Gateway": network.gateway}
    if network.ip_range:
        config["IPRange"] = network.ip_range
    return {"Driver": "default", "Options": None if network.default else {}, "Config": [config]}


def network_document(network, containers=None):
    """One network as list (no containers) or inspect (``containers`` given) shows it."""
    return {
        "Name": network.name,
        "Id": network.id,
        "Created": rfc3339(network.created),
        "Scope": "local",
        "Driver": network.driver,
        "EnableIPv6": False,
        "EnableIPv4": True,
        "IPAM": _ipam(network),
        "Internal": network.internal,
        "Attachable": False,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {} if containers is None else containers,
        "Options": dict(network.options),
        "Labels": dict(network.labels),
    }


def containers_document(network, row):
    return {
        container.id: {
            "Name": container.name,
            "EndpointID": endpoint.endpoint_id,
            "MacAddress": endpoint.mac_address,
            "IPv4Address": f"{endpoint.ip_address}/{endpoint.prefix_len}" if endpoint.ip_address else "",
            "IPv6Address": "",
        }
        for container, endpoint in network.containers_of(row.id)
    }


# -- create ---------------------------------------------------------------------------

def create_options(body):
    """``POST /networks/create``'s body as the NetworkService's options (the
    driver's name among them); refuses what a local network cannot be."""
    check(body, CREATE_TYPES, "")
    name = (body.get("Name") or "").strip()
    if not name:
        raise InvalidParameter("network name is required (Name)")
    if body.get("Scope") not in (None, "", "local"):
        raise InvalidParameter(f"scope {body['Scope']!r} is not supported: networks are local (Scope)")
    for key in ("Ingress", "ConfigOnly", "EnableIPv6"):
        if body.get(key):
            raise InvalidParameter(f"{key} networks are not supported")
    if (body.get("ConfigFrom") or {}).get("Network"):
        raise InvalidParameter("ConfigFrom networks are not supported")
    options = {"driver": body.get("Driver") or "bridge", "internal": bool(body.get("Internal")), "labels": body.get("Labels") or {},
               "options": body.get("Options") or {}}
    options.update(_ipam_options(body.get("IPAM")))
    return name, options


def _ipam_options(ipam):
    ipam = check(ipam or {}, {"Driver": str, "Config": list, "Options": STR_MAP}, "IPAM")
    if ipam.get("Driver") not in (None, "", "default"):
        raise NotFound(f'plugin "{ipam["Driver"]}" not found')
    configs = ipam.get("Config") or []
    for i, pool in enumerate(configs):
        where = f"IPAM.Config[{i}]"
        check(pool, {"Subnet": str, "IPRange": str, "Gateway": str, "AuxiliaryAddresses": STR_MAP}, where)
        for key, parse in (("Subnet", ipaddress.ip_network), ("IPRange", ipaddress.ip_network),
                           ("Gateway", ipaddress.ip_address)):
            if pool.get(key):
                try:
                    parse(pool[key])
                except ValueError as e:
                    raise InvalidParameter(f"invalid {key.lower()} {pool[key]!r} ({where}.{key}): {e}") from None
        if ":" in (pool.get("Subnet") or ""):
            raise InvalidParameter(f"IPv6 subnets are not supported: networks are IPv4 only ({where}.Subnet)")
        if pool.get("AuxiliaryAddresses"):
            raise InvalidParameter(f"auxiliary addresses are not supported ({where}.AuxiliaryAddresses)")
    if len(configs) > 1:
        raise InvalidParameter("only one IPv4 pool (IPAM.Config entry) is supported per network")
    pool = configs[0] if configs else {}
    if (pool.get("IPRange") or pool.get("Gateway")) and not pool.get("Subnet"):
        raise InvalidParameter("an IP range or gateway needs a subnet (IPAM.Config[0].Subnet)")
    return {"subnet": pool.get("Subnet") or "", "gateway": pool.get("Gateway") or "",
            "ip_range": pool.get("IPRange") or ""}


@defer.inlineCallbacks
def create_network(svc, job):
    name, options = create_options(job.request.body)
    row = yield svc.network.create(name, options)
    return {"Id": row.id, "Warning": ""}


# -- list, inspect ----------------------------------------------------------------------

def _check_filters(filters, known):
    for key in filters:
        if key not in known:
            raise InvalidParameter(f"invalid filter '{key}'")


def _labels_match(labels, specs, negate=False):
    def one(spec):
        key, eq, value = spec.partition("=")
        return key in labels and (not eq or labels[key] == value)
    if negate:
        return not any(one(s) for s in specs)
    return all(one(s) for s in specs)


def _regex_any(patterns, text):
    try:
        return any(re.search(p, text) for p in patterns)
    except re.error as e:
        raise InvalidParameter(f"invalid filter value {patterns!r}: {e}") from None


def _bool_filter(values, key):
    value = values[-1].lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise InvalidParameter(f"invalid filter '{key}={values[-1]}'")


def matches(row, filters, in_use):
    """Docker's network filters; several values of one key are OR-ed."""
    builtin = row.default
    if "driver" in filters and row.driver not in filters["driver"]:
        return False
    if "id" in filters and not _regex_any(filters["id"], row.id):
        return False
    if "name" in filters and not _regex_any(filters["name"], row.name):
        return False
    if "scope" in filters and "local" not in filters["scope"]:
        return False
    if "label" in filters and not _labels_match(row.labels, filters["label"]):
        return False
    if "type" in filters:
        for value in filters["type"]:
            if value not in ("custom", "builtin"):
                raise InvalidParameter(f"invalid filter: 'type'='{value}'")
        if ("builtin" if builtin else "custom") not in filters["type"]:
            return False
    if "dangling" in filters:
        dangling = not builtin and not in_use
        if dangling != _bool_filter(filters["dangling"], "dangling"):
            return False
    return True


def list_networks(svc, job):
    network, filters = svc.network, job.request.filters
    _check_filters(filters, LIST_FILTERS)
    return [network_document(row) for row in network.networks()
            if matches(row, filters, bool(network.containers_of(row.id)))]


def inspect_network(svc, job):
    network = svc.network
    row = network.find(job.request.name)
    return network_document(row, containers_document(network, row))


# -- remove, prune ------------------------------------------------------------------------

def remove_network(svc, job):
    return svc.network.remove(job.request.name).addCallback(lambda _: None)


def parse_until(text):
    """``until``: a timestamp, or a Go duration before now (``24h``, ``1h30m``)."""
    try:
        return time.time_ns() - int(parse_go_duration(text) * 1e9)
    except ValueError:
        return parse_timestamp(text, "until")


@defer.inlineCallbacks
def prune_networks(svc, job):
    network, filters = svc.network, job.request.filters
    _check_filters(filters, PRUNE_FILTERS)
    until = parse_until(filters["until"][-1]) if filters.get("until") else None
    deleted = []
    for row in network.networks():
        labels = row.labels
        if row.default:
            continue
        if network.containers_of(row.id) or (until is not None and row.created > until):
            continue
        if not _labels_match(labels, filters.get("label", [])):
            continue
        if filters.get("label!") and not _labels_match(labels, filters["label!"], negate=True):
            continue
        yield network.remove(row.id)
        deleted.append(row.name)
    return {"NetworksDeleted": deleted or None}  # null when none, as dockerd's nil slice


# -- connect, disconnect --------------------------------------------------------------------

def _container_of(svc, body, verb):
    ref = body.get("Container")
    if not isinstance(ref, str) or not ref:
        raise InvalidParameter(f"{verb}: the Container field is required")
    return svc.containers.get(ref)


def connect_container(svc, job):
    req = job.request
    body = check(req.body, {"Container": str, "EndpointConfig": dict}, "")
    svc.network.find(req.network)  # a missing network is reported before a missing container
    container = _container_of(svc, body, "connect")
    return svc.network.connect(container, req.network, body.get("EndpointConfig") or {}).addCallback(
        lambda _: None)


def disconnect_container(svc, job):
    req = job.request
    body = check(req.body, {"Container": str, "Force": bool}, "")
    svc.network.find(req.network)
    container = _container_of(svc, body, "disconnect")
    return svc.network.disconnect(container, req.network).addCallback(lambda _: None)
