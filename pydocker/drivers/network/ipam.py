"""IP address choice in a network's subnet. The NetworkService keeps the
taken addresses (``addresses.AddressBook``) and stores each with its endpoint;
these are the pure rules."""

import ipaddress

from pydocker.errdefs import Conflict, InvalidParameter, Unavailable


def reserved_addresses(record):
    """Addresses of the subnet no container may get."""
    subnet = ipaddress.IPv4Network(record.subnet)
    reserved = {subnet.network_address, subnet.broadcast_address}
    reserved.update(ipaddress.IPv4Address(a) for a in (record.gateway, *record.reserved) if a)
    return {str(a) for a in reserved}


def choose(record, taken, requested=None):
    """``requested`` (checked) or the lowest address of the pool that is not in
    ``taken`` (a set of addresses as text)."""
    subnet = ipaddress.IPv4Network(record.subnet)
    reserved = reserved_addresses(record)
    if requested:
        try:
            address = ipaddress.IPv4Address(requested)
        except ValueError as e:
            raise InvalidParameter(f"invalid IPv4 address {requested!r}: {e}") from None
        if address not in subnet:
            raise InvalidParameter(f"address {requested} is not in the network's subnet {subnet}")
        if str(address) in reserved:
            raise Conflict(f"address {requested} is reserved on network {record.name}")
        if str(address) in taken:
            raise Conflict(f"address {requested} is already in use on network {record.name}")
        return str(address)
    pool = ipaddress.IPv4Network(record.ip_range or record.subnet)
    unavailable = set(taken) | reserved
    for address in pool.hosts() if pool.prefixlen < 31 else pool:
        text = str(address)
        if text not in unavailable:
            return text
    raise Unavailable(f"no available IPv4 address in network {record.name} ({pool})")


def mac_for(ip):
    """Docker's MAC: 02:42 followed by the four bytes of the IPv4 address."""
    packed = ipaddress.IPv4Address(ip).packed
    return "02:42:" + ":".join(f"{b:02x}" for b in packed)
