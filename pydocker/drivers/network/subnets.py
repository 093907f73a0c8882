"""Choosing a bridge subnet that collides with nothing on the host.

Docker's local-scope default pools: 172.17.0.0/16 ... 172.31.0.0/16, then
192.168.0.0/16 cut into /20s. A candidate is skipped when it overlaps a route
of the host, a nameserver of the host's resolv.conf (the container could not
reach it) or a network we already made.
"""

import ipaddress

from pydocker.errdefs import Unavailable


def candidate_pools():
    for second in range(17, 32):
        yield ipaddress.IPv4Network(f"172.{second}.0.0/16")
    yield from ipaddress.IPv4Network("192.168.0.0/16").subnets(new_prefix=20)


def nameservers(resolv_conf_text):
    """The IPv4 nameserver addresses of a resolv.conf text."""
    found = []
    for line in resolv_conf_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                found.append(ipaddress.IPv4Address(fields[1]))
            except ValueError:
                continue  # IPv6 nameservers cannot collide with an IPv4 pool
    return found


def host_routes(ipr):
    """Destination networks of the host's IPv4 routes, default route excepted."""
    networks = []
    for route in ipr.get_routes(family=2):
        length = route["dst_len"]
        dst = route.get_attr("RTA_DST")
        if length == 0 or dst is None:
            continue
        networks.append(ipaddress.IPv4Network(f"{dst}/{length}", strict=False))
    return networks


def choose_subnet(routes, servers, taken):
    """The first candidate pool overlapping no route, nameserver or taken subnet."""
    busy = list(routes) + [ipaddress.IPv4Network(s) for s in servers] + list(taken)
    for pool in candidate_pools():
        if not any(pool.overlaps(b) for b in busy):
            return pool
    raise Unavailable("no free address pool for a bridge network: all candidates "
                      "overlap routes or networks of this host; pass a subnet")
