"""Published ports: parsing ``-p``/``-P``/API bindings into PortSpecs, and
reserving host ports (a bind test, so a port some other program holds is a
clear Conflict before anything is set up)."""

import errno
import ipaddress
import socket
import threading

from pydocker.errdefs import Conflict, InvalidParameter
from .model import PortBinding, PortSpec

PROTOCOLS = ("tcp", "udp")
PORT_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"


def _port_range(text, what):
    """``"80"`` -> (80, 80); ``"80-90"`` -> (80, 90)."""
    low, _, high = text.partition("-")
    try:
        start, end = int(low), int(high or low)
    except ValueError:
        raise InvalidParameter(f"invalid {what} port {text!r}") from None
    if not (1 <= start <= end <= 65535):
        raise InvalidParameter(f"invalid {what} port range {text!r}")
    return start, end


def _host_ip(text):
    if not text:
        return ""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidParameter(f"invalid host address {text!r} in port mapping") from None
    if address.version != 4:
        raise InvalidParameter(f"IPv6 host address {text} is not supported")
    return str(address)


def _split_mapping(body, spec):
    """``ip:host:container`` into its (one to three) parts; ``[v6]:`` kept whole."""
    if body.startswith("["):
        ip_text, sep, rest = body[1:].partition("]:")
        parts = [ip_text, *rest.split(":")] if sep else []
    else:
        parts = body.split(":")
    if not 1 <= len(parts) <= 3:
        raise InvalidParameter(f"invalid port mapping {spec!r}")
    return parts


def parse_publish(spec):
    """One ``-p [hostip:][hostport[-end]:]cport[-end][/proto]`` as PortSpecs."""
    body, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOCOLS:
        raise InvalidParameter(f"invalid protocol {proto!r} in {spec!r}")
    parts = _split_mapping(body, spec)
    host_ip = _host_ip(parts[0]) if len(parts) == 3 else ""
    host_text = parts[-2] if len(parts) >= 2 else ""
    cstart, cend = _port_range(parts[-1], "container")
    if not host_text:
        return [PortSpec(p, proto, host_ip) for p in range(cstart, cend + 1)]
    hstart, hend = _port_range(host_text, "host")
    if cstart == cend:
        return [PortSpec(cstart, proto, host_ip, hstart, hend if hend != hstart else 0)]
    if hend - hstart != cend - cstart:
        raise InvalidParameter(f"port ranges of {spec!r} differ in length")
    return [PortSpec(c, proto, host_ip, h) for c, h in zip(range(cstart, cend + 1),
                                                           range(hstart, hend + 1))]


def parse_api_bindings(port_bindings):
    """The API's ``HostConfig.PortBindings`` (``{"80/tcp": [{"HostIp", "HostPort"}]}``)."""
    specs = []
    for key, entries in (port_bindings or {}).items():
        for entry in entries or [{}]:
            host = entry.get("HostPort") or ""
            ip = entry.get("HostIp") or ""
            text = f"{ip}:{host}:{key}" if ip else (f"{host}:{key}" if host else key)
            specs.extend(parse_publish(text))
    return specs


def publish_all(exposed_ports):
    """``-P``: every exposed port (``{"80/tcp": {}}``) on an ephemeral host port."""
    specs = []
    for key in exposed_ports or {}:
        specs.extend(parse_publish(key))
    return specs


def ephemeral_range(path=PORT_RANGE_FILE):
    try:
        with open(path) as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 49153, 65535


def bind_test(proto, host_ip, port):
    """True when ``host_ip:port`` can be bound now."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        if proto == "tcp":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host_ip or "0.0.0.0", port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            if e.errno == errno.EADDRNOTAVAIL:
                raise InvalidParameter(f"host address {host_ip} is not an address of this host") from None
            raise
    return True


class PortAllocator:
    """Host ports handed out by this daemon, so two containers never get the
    same one even when the first is not listening yet."""

    def __init__(self, ephemeral=None):
        self._lock = threading.Lock()
        self._ephemeral = ephemeral or ephemeral_range()
        self._next = self._ephemeral[0]
        self._taken = {}  # (proto, port) -> set of host ips

    def _clashes(self, proto, host_ip, port):
        ips = self._taken.get((proto, port), ())
        return any(ip == host_ip or "0.0.0.0" in (ip, host_ip) for ip in ips)

    def _candidates(self, spec):
        if spec.host_port:
            return range(spec.host_port, (spec.host_port_end or spec.host_port) + 1)
        low, high = self._ephemeral
        start = self._next
        return [*range(start, high + 1), *range(low, start)]

    def reserve(self, spec, default_host_ip):
        """A PortBinding for ``spec``; Conflict when no candidate host port is free."""
        host_ip = spec.host_ip or default_host_ip or "0.0.0.0"
        with self._lock:
            for port in self._candidates(spec):
                if self._clashes(spec.proto, host_ip, port) or not bind_test(spec.proto, host_ip, port):
                    continue
                self._taken.setdefault((spec.proto, port), set()).add(host_ip)
                if not spec.host_port:
                    self._next = port + 1 if port < self._ephemeral[1] else self._ephemeral[0]
                return PortBinding(spec.container_port, spec.proto, host_ip, port)
        wanted = spec.host_port if spec.host_port else "an ephemeral port"
        if spec.host_port_end:
            wanted = f"{spec.host_port}-{spec.host_port_end}"
        raise Conflict(f"Bind for {host_ip}:{wanted} failed: port is already allocated")

    def adopt(self, binding):
        """Re-record a binding that survived a daemon restart."""
        with self._lock:
            self._taken.setdefault((binding.proto, binding.host_port), set()).add(binding.host_ip)

    def release(self, binding):
        with self._lock:
            ips = self._taken.get((binding.proto, binding.host_port), set())
            ips.discard(binding.host_ip)
            if not ips:
                self._taken.pop((binding.proto, binding.host_port), None)
