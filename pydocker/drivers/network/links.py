"""Bridges and veth pairs over netlink (pyroute2 for bridges, ``rtnl`` for the
veths of each connect), no ``ip`` subprocesses."""

import ipaddress
import itertools

from pyroute2 import IPRoute

from pydocker.errdefs import Conflict, InvalidParameter, SystemError_
from . import netns, rtnl

EEXIST = 17


class Links:
    """Netlink operations on the host namespace. Not thread-safe: the driver
    serialises calls."""

    def __init__(self):
        self._ipr = IPRoute()  # what runs once: bridges, addresses, routes
        self._rtnl = rtnl.RtnlSocket()  # a container's connect and disconnect

    @property
    def ipr(self):
        return self._ipr

    def close(self):
        self._ipr.close()
        self._rtnl.close()

    def index(self, ifname):
        link = self._rtnl.link(ifname)
        return link.index if link else None

    def exists(self, ifname):
        return self.index(ifname) is not None

    def ensure_bridge(self, name, mtu):
        """Create the bridge unless it exists; returns True when created here."""
        index = self.index(name)
        if index is not None:
            link = self._ipr.get_links(index)[0]
            if link.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") != "bridge":
                raise InvalidParameter(f"{name} exists and is not a bridge")
            return False
        self._ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
        return True

    def bridge_addresses(self, name):
        """The IPv4 interfaces (address/prefix) set on a link."""
        index = self.index(name)
        return [ipaddress.IPv4Interface(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
                for a in self._ipr.get_addr(family=2, index=index)]

    def configure_bridge(self, name, interface):
        """Give the bridge its gateway address and bring it up."""
        index = self.index(name)
        if interface not in self.bridge_addresses(name):
            self._ipr.addr("add", index=index, address=str(interface.ip),
                           prefixlen=interface.network.prefixlen)
        self._ipr.link("set", index=index, state="up")

    def delete(self, ifname):
        """Delete a link; no error when it is already gone."""
        self._rtnl.delete(ifname)

    def ports(self, bridge):
        """Names of the links enslaved to ``bridge``."""
        index = self.index(bridge)
        if index is None:
            return []
        return [link.get_attr("IFLA_IFNAME") for link in self._ipr.get_links()
                if link.get_attr("IFLA_MASTER") == index]

    def add_endpoint(self, bridge, host_ifname, netns_fd, address, prefix_len, mac,
                     mtu, gateway, hairpin):
        """Create a veth pair whose peer is born inside the namespace, up, with
        the next free ``ethN`` name and its MAC; address it, bring ``lo`` up and
        route through ``gateway`` unless the namespace already has a default
        route. Returns the name of the container's interface."""
        with netns.entered(netns_fd):
            inner = rtnl.RtnlSocket()
        with inner:
            existing = {link.name: link for link in inner.links()}
            ifname = next(f"eth{i}" for i in itertools.count() if f"eth{i}" not in existing)
            master = self._rtnl.link(bridge)
            if master is None:
                raise SystemError_(f"bridge {bridge} does not exist")
            try:
                self._rtnl.add_veth(host_ifname, master.index, mtu, ifname, netns_fd, mac)
            except rtnl.NetlinkError as e:
                if e.errno == EEXIST:
                    raise Conflict(f"interface {host_ifname} already exists") from None
                raise SystemError_(f"creating veth {host_ifname}: {e}") from None
            try:
                if hairpin:
                    self._rtnl.set_hairpin(self._rtnl.link(host_ifname).index)
                loopback = existing.get("lo")
                # With nothing but lo before us there can be no default route yet.
                first = set(existing) <= {"lo"}
                route = gateway and (first or not inner.has_default_route())
                inner.configure(inner.link(ifname).index, address, prefix_len,
                                gateway if route else None,
                                loopback.index if loopback and not loopback.flags & rtnl.IFF_UP else None)
            except Exception:
                self.delete(host_ifname)
                raise
            return ifname
