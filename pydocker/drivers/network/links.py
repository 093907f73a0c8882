"""Bridges and veth pairs over netlink (pyroute2), no ``ip`` subprocesses."""

import ipaddress
import itertools

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pydocker.engine.errors import Conflict, InvalidParameter, SystemError_
from . import netns

ENODEV = 19
EEXIST = 17


class Links:
    """Netlink operations on the host namespace. Not thread-safe: the driver
    serialises calls."""

    def __init__(self):
        self._ipr = IPRoute()

    @property
    def ipr(self):
        return self._ipr

    def close(self):
        self._ipr.close()

    def index(self, ifname):
        found = self._ipr.link_lookup(ifname=ifname)
        return found[0] if found else None

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
        index = self.index(ifname)
        if index is None:
            return
        try:
            self._ipr.link("del", index=index)
        except NetlinkError as e:
            if e.code != ENODEV:
                raise

    def ports(self, bridge):
        """Names of the links enslaved to ``bridge``."""
        index = self.index(bridge)
        if index is None:
            return []
        return [link.get_attr("IFLA_IFNAME") for link in self._ipr.get_links()
                if link.get_attr("IFLA_MASTER") == index]

    def add_endpoint(self, bridge, host_ifname, netns_fd, address, prefix_len, mac,
                     mtu, gateway, hairpin):
        """Create a veth pair whose peer is born inside the namespace with the
        next free ``ethN`` name, address it, and route through ``gateway``
        unless the namespace already has a default route. Returns the name of
        the container's interface."""
        with netns.entered(netns_fd):
            inner = IPRoute()
        try:
            existing = {link.get_attr("IFLA_IFNAME"): link["index"] for link in inner.get_links()}
            ifname = next(f"eth{i}" for i in itertools.count() if f"eth{i}" not in existing)
            try:
                self._ipr.link("add", ifname=host_ifname, kind="veth", mtu=mtu,
                               master=self.index(bridge), state="up",
                               peer={"ifname": ifname, "net_ns_fd": netns_fd,
                                     "address": mac, "mtu": mtu})
            except NetlinkError as e:
                if e.code == EEXIST:
                    raise Conflict(f"interface {host_ifname} already exists") from None
                raise SystemError_(f"creating veth {host_ifname}: {e}") from None
            try:
                if hairpin:
                    self._ipr.brport("set", index=self.index(host_ifname), mode=1)
                # With nothing but lo before us there can be no default route yet.
                first = set(existing) <= {"lo"}
                self._configure_inside(inner, ifname, existing.get("lo"), address, prefix_len,
                                       gateway, check_default=not first)
            except Exception:
                self.delete(host_ifname)
                raise
            return ifname
        finally:
            inner.close()

    @staticmethod
    def _configure_inside(inner, ifname, loopback, address, prefix_len, gateway, check_default):
        index = inner.link_lookup(ifname=ifname)[0]
        inner.addr("add", index=index, address=address, prefixlen=prefix_len)
        inner.link("set", index=index, state="up")
        if loopback is not None:
            inner.link("set", index=loopback, state="up")
        if gateway and not (check_default and inner.get_default_routes(family=2)):
            inner.route("add", dst="default", gateway=gateway)
