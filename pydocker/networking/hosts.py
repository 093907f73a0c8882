"""A container's /etc/hosts and /etc/hostname contents."""

import ipaddress

from pydocker.errdefs import InvalidParameter

DEFAULT_ENTRIES = (
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
)
HOST_GATEWAY = "host-gateway"


def parse_extra_host(text, host_gateway=""):
    """``--add-host name:ip`` (or ``name=ip``) as (name, ip); the special ip
    ``host-gateway`` is the address the host has on the container's bridge."""
    name, sep, ip = text.partition("=") if "=" in text else text.partition(":")
    ip = ip.strip("[]")
    if not sep or not name or not ip:
        raise InvalidParameter(f"invalid extra host {text!r}: expected NAME:IP")
    if ip == HOST_GATEWAY:
        if not host_gateway:
            raise InvalidParameter("host-gateway is not known for this container")
        ip = host_gateway
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidParameter(f"invalid IP address {ip!r} in extra host {text!r}") from None
    return name, ip


def hosts_file(hostname, ips=(), domainname="", extra_hosts=(), links=()):
    """The file's content: the container's name on each of its addresses
    (one per connected network, in connection order, as Docker writes them).

    ``extra_hosts`` are (name, ip) pairs; ``links`` are (ip, [names]) for
    legacy ``--link`` (alias, container name, short id)."""
    lines = [f"{addr}\t{names}" for addr, names in DEFAULT_ENTRIES]
    lines += [f"{addr}\t{name}" for name, addr in extra_hosts]
    lines += [f"{addr}\t{' '.join(names)}" for addr, names in links]
    fqdn = f"{hostname}.{domainname}" if domainname else hostname
    short = fqdn.split(".", 1)[0]
    lines += [f"{ip}\t{fqdn} {short}" if short != fqdn else f"{ip}\t{fqdn}" for ip in ips]
    return "\n".join(lines) + "\n"


def hostname_file(hostname):
    return hostname + "\n"
