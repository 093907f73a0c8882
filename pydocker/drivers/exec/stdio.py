"""The daemon-side ends of a container's stdio: a pipe to its stdin, or its pty master."""

import fcntl
import os
import struct
import termios

from twisted.internet import abstract, defer, fdesc
from zope.interface import implementer

from pydocker.drivers.exec.interfaces import IContainerStdin
from pydocker.engine.errors import Conflict


@implementer(IContainerStdin)
class PipeStdin:
    """Stdin as the helper process's fd 0 pipe (non-TTY containers)."""

    master_fd = None

    def __init__(self, transport):
        self._transport = transport

    def write(self, data):
        self._transport.writeToChild(0, data)

    def close(self):
        self._transport.closeChildFD(0)

    def resize(self, height, width):
        raise Conflict("the process has no TTY")


@implementer(IContainerStdin)
class PtyConnection(abstract.FileDescriptor):
    """The pty master: output goes to ``on_output``; writes are buffered by
    Twisted. ``closed`` fires once the last slave is gone (read gives EIO)."""

    def __init__(self, master_fd, on_output, reactor):
        super().__init__(reactor)
        fdesc.setNonBlocking(master_fd)
        self.master_fd = master_fd
        self._on_output = on_output
        self.closed = defer.Deferred()
        self.connected = 1

    def fileno(self):
        return self.master_fd

    def start(self):
        self.startReading()

    def doRead(self):
        return fdesc.readFromFD(self.master_fd, self._on_output)

    def writeSomeData(self, data):
        return fdesc.writeToFD(self.master_fd, data)

    def close(self):
        """A TTY has no separate stdin to close: send end-of-file (^D) instead."""
        self.write(b"\x04")

    def resize(self, height, width):
        if not 0 < height < 65536 or not 0 < width < 65536:
            raise ValueError("bad TTY size %sx%s" % (height, width))
        fcntl.ioctl(self.master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def connectionLost(self, reason):
        super().connectionLost(reason)
        os.close(self.master_fd)
        self.closed.callback(None)
