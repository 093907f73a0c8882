"""A container's terminal, made in the container's own devpts instance as runc makes it:
the container process opens the instance's ``ptmx``, takes the slave as its stdio and
controlling terminal, and sends the master to the driver over the console socket it was
given as stdio (``SCM_RIGHTS``). So ``tty`` in the container prints ``/dev/pts/0`` and the
host's pty numbers are neither used nor visible.

Imported by the launcher (``init``): small C modules only."""

import fcntl
import os
import sys

import _socket

_TIOCGPTN = 0x80045430
_TIOCSPTLCK = 0x40045431
_TIOCSCTTY = 0x540E


def open_pty(pts_dir):
    """A new pty of the devpts instance mounted at ``pts_dir``: (master fd, slave fd, slave path)."""
    master = os.open(os.path.join(pts_dir, "ptmx"), os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, _TIOCSPTLCK, b"\0\0\0\0")
        number = int.from_bytes(fcntl.ioctl(master, _TIOCGPTN, b"\0\0\0\0"), sys.byteorder)
        path = os.path.join(pts_dir, str(number))
        slave = os.open(path, os.O_RDWR | os.O_NOCTTY)
    except BaseException:
        os.close(master)
        raise
    return master, slave, path


def take(master, slave, console_fd=0):
    """Send the master over the console socket ``console_fd``, then make the slave our stdio
    and controlling terminal (we lead our session already)."""
    console = _socket.socket(fileno=console_fd)
    try:
        console.sendmsg([b"t"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, master.to_bytes(4, sys.byteorder))])
    finally:
        console.detach()
    os.close(master)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    fcntl.ioctl(0, _TIOCSCTTY, 0)
