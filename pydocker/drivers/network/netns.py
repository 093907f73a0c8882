"""Entering a network namespace from one thread.

setns(2) changes only the calling thread, so a worker thread can step into a
container's namespace, open a netlink or listening socket there (a socket stays
bound to the namespace it was made in) and step back. Python 3.11 has no
``os.setns``, hence ctypes.
"""

import contextlib
import ctypes
import os

from pydocker.errdefs import NotFound
from . import rtnl

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def netns_path(netns):
    """A namespace given as a pid or a path, as a path."""
    if isinstance(netns, int) or (isinstance(netns, str) and netns.isdigit()):
        return f"/proc/{int(netns)}/ns/net"
    return str(netns)


def open_netns(netns):
    try:
        return os.open(netns_path(netns), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound(f"network namespace {netns} does not exist") from None


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def entered(netns_fd):
    """Run the block in the namespace of ``netns_fd`` (this thread only)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(netns_fd)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def loopback_up(netns):
    """Bring up ``lo`` in a namespace that gets no other interface (``--net=none``)."""
    fd = open_netns(netns)
    try:
        with entered(fd):
            loopback_up_here()
    finally:
        os.close(fd)


def loopback_up_here():
    """Bring up ``lo`` in the namespace of the calling thread."""
    with rtnl.RtnlSocket() as sock:
        sock.set_up(sock.link("lo").index)
