"""The few rtnetlink requests of a container's connect and disconnect, packed
by hand on a raw netlink socket.

pyroute2 spends about half a millisecond of Python per request (message
classes, an event loop per call) and a connect needs about ten, on the path
of every container start. Here a request is a ``struct.pack`` and requests
that do not depend on each other's answers go to the kernel in one
``send``. pyroute2 keeps everything that runs once (bridges, routes at
start-up).
"""

import errno
import itertools
import os
import socket
import struct

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_NEWROUTE, RTM_GETROUTE = 20, 24, 26
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 0x200, 0x400, 0x300
NLA_F_NESTED = 0x8000

AF_BRIDGE = 7
IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER = 1, 3, 4, 10
IFLA_PROTINFO, IFLA_LINKINFO, IFLA_NET_NS_FD = 12, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFLA_BRPORT_MODE = 4  # hairpin
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_GATEWAY, RTA_TABLE = 5, 15
RT_TABLE_MAIN, RTPROT_BOOT, RTN_UNICAST = 254, 3, 1

_HEADER = struct.Struct("=LHHLL")      # nlmsghdr
_IFINFO = struct.Struct("=BxHiII")     # ifinfomsg
_IFADDR = struct.Struct("=BBBBI")      # ifaddrmsg
_RTMSG = struct.Struct("=BBBBBBBBI")   # rtmsg
_ATTR = struct.Struct("=HH")


class NetlinkError(OSError):
    """The kernel refused a request (``errno`` is set)."""


def attr(kind, payload):
    """One rtattr, padded to four bytes; ``payload`` is bytes."""
    length = _ATTR.size + len(payload)
    return _ATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def nested(kind, *attrs):
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def string(kind, text):
    return attr(kind, text.encode() + b"\0")


def u32(kind, value):
    return attr(kind, struct.pack("=I", value))


def ifinfo(family=socket.AF_UNSPEC, index=0, flags=0, change=0):
    return _IFINFO.pack(family, 0, index, flags, change)


def mac_bytes(mac):
    return bytes(int(part, 16) for part in mac.split(":"))


def parse_attrs(data, offset=0):
    """``{type: payload}`` of the rtattrs in ``data`` from ``offset``."""
    found = {}
    while offset + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        found[kind & ~NLA_F_NESTED] = data[offset + _ATTR.size:offset + length]
        offset += (length + 3) & ~3
    return found


def _link_up(index):
    return RTM_NEWLINK, 0, ifinfo(index=index, flags=IFF_UP, change=IFF_UP)


class Link:
    """What a link dump tells us about one interface."""

    def __init__(self, index, flags, name):
        self.index, self.flags, self.name = index, flags, name

    @classmethod
    def parse(cls, body):
        _family, _type, index, flags, _change = _IFINFO.unpack_from(body)
        name = parse_attrs(body, _IFINFO.size).get(IFLA_IFNAME, b"").rstrip(b"\0").decode()
        return cls(index, flags, name)


class RtnlSocket:
    """A NETLINK_ROUTE socket in the namespace the calling thread is in when
    it is made (a socket stays in its namespace). Not thread-safe."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                   NETLINK_ROUTE)
        self._sock.bind((0, 0))
        self._sock.connect((0, 0))  # the kernel
        self._seq = itertools.count(1)

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transport ------------------------------------------------------------

    def _message(self, kind, flags, body):
        seq = next(self._seq)
        return seq, _HEADER.pack(_HEADER.size + len(body), kind, flags | NLM_F_REQUEST, seq, 0) + body

    def request(self, *messages):
        """Send ``(type, flags, body)`` messages in one write, each acknowledged;
        returns the reply bodies of each (for a GET or a dump). The first
        refusal is raised once every answer is read."""
        seqs, chunks = [], []
        for kind, flags, body in messages:
            seq, data = self._message(kind, flags | NLM_F_ACK, body)
            seqs.append(seq)
            chunks.append(data)
        self._sock.send(b"".join(chunks))
        replies = {seq: [] for seq in seqs}
        pending, error = set(seqs), None
        while pending:
            data = self._sock.recv(1 << 16)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, _flags, seq, _pid = _HEADER.unpack_from(data, offset)
                body = data[offset + _HEADER.size:offset + length]
                offset += (length + 3) & ~3
                if seq not in pending:
                    continue
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body)[0]
                    if code and error is None:
                        error = NetlinkError(code, os.strerror(code))
                    pending.discard(seq)
                elif kind == NLMSG_DONE:
                    pending.discard(seq)
                else:  # a GET's answer (its ack follows) or a dump's part
                    replies[seq].append(body)
        if error is not None:
            raise error
        return [replies[seq] for seq in seqs]

    # -- requests -------------------------------------------------------------

    def links(self):
        """Every link of the namespace."""
        (bodies,) = self.request((RTM_GETLINK, NLM_F_DUMP, ifinfo()))
        return [Link.parse(body) for body in bodies]

    def link(self, ifname):
        """The link called ``ifname``, or None."""
        try:
            (bodies,) = self.request((RTM_GETLINK, 0, ifinfo() + string(IFLA_IFNAME, ifname)))
        except NetlinkError as e:
            if e.errno == errno.ENODEV:
                return None
            raise
        return Link.parse(bodies[0])

    def add_veth(self, name, master, mtu, peer_name, peer_netns_fd, peer_mac):
        """A veth pair: ``name`` here, up and enslaved to the bridge of index
        ``master``; the peer born in the namespace of ``peer_netns_fd`` under
        its final name and MAC, down (a veth cannot open before its pair
        exists: ENOTCONN)."""
        peer = (ifinfo() + string(IFLA_IFNAME, peer_name)
                + attr(IFLA_ADDRESS, mac_bytes(peer_mac)) + u32(IFLA_MTU, mtu)
                + u32(IFLA_NET_NS_FD, peer_netns_fd))
        body = (ifinfo(flags=IFF_UP, change=IFF_UP) + string(IFLA_IFNAME, name) + u32(IFLA_MTU, mtu)
                + u32(IFLA_MASTER, master)
                + nested(IFLA_LINKINFO, string(IFLA_INFO_KIND, "veth"),
                         nested(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))))
        self.request((RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body))

    def set_hairpin(self, index):
        body = (ifinfo(family=AF_BRIDGE, index=index)
                + nested(IFLA_PROTINFO, attr(IFLA_BRPORT_MODE, b"\1")))
        self.request((RTM_SETLINK, 0, body))

    def set_up(self, index):
        self.request(_link_up(index))

    def delete(self, ifname):
        """Delete a link by name; False when there was none."""
        try:
            self.request((RTM_DELLINK, 0, ifinfo() + string(IFLA_IFNAME, ifname)))
        except NetlinkError as e:
            if e.errno == errno.ENODEV:
                return False
            raise
        return True

    def has_default_route(self):
        (bodies,) = self.request((RTM_GETROUTE, NLM_F_DUMP, _RTMSG.pack(socket.AF_INET, *[0] * 8)))
        for body in bodies:
            family, dst_len, _src, _tos, table, _proto, _scope, _type, _flags = _RTMSG.unpack_from(body)
            table = struct.unpack("=I", parse_attrs(body, _RTMSG.size).get(RTA_TABLE, struct.pack("=I", table)))[0]
            if dst_len == 0 and table == RT_TABLE_MAIN:
                return True
        return False

    def configure(self, index, address, prefix_len, gateway=None, loopback=None):
        """In one write: link ``index`` up with its address, ``lo`` up when its
        index is given, and the default route through ``gateway``."""
        packed = socket.inet_aton(address)
        messages = [_link_up(index),
                    (RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                     _IFADDR.pack(socket.AF_INET, prefix_len, 0, 0, index)
                     + attr(IFA_LOCAL, packed) + attr(IFA_ADDRESS, packed))]
        if loopback is not None:
            messages.append(_link_up(loopback))
        if gateway:
            messages.append((RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
                             _RTMSG.pack(socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, 0,
                                         RTN_UNICAST, 0)
                             + attr(RTA_GATEWAY, socket.inet_aton(gateway))))
        self.request(*messages)
