"""The daemon-side ends of a container's stdio: pipes (a writer to its stdin, readers of its
output), or its pty master."""

import fcntl
import os
import struct
import termios

from twisted.internet import abstract, defer, fdesc, main, process
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from pydocker.drivers.exec.interfaces import IContainerStdin
from pydocker.errdefs import Conflict

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_SIZE = 1024 * 1024  # Linux's default fs.pipe-max-size


@implementer(IContainerStdin)
class PipeStdin:
    """Stdin as the process's fd 0 pipe (non-TTY containers), through its transport
    (``spawnProcess``'s or a ``PipeTransport``)."""

    master_fd = None

    def __init__(self, transport):
        self._transport = transport

    def write(self, data):
        self._transport.writeToChild(0, data)

    def close(self):
        self._transport.closeChildFD(0)

    def resize(self, height, width):
        raise Conflict("the process has no TTY")


@implementer(IPushProducer)
class OutputReaders:
    """The reading of a container's output (its stdout and stderr pipes, or its pty master),
    as the ``IPushProducer`` handed to ``IContainerIO.output_producer``.

    ``readers()`` lists the FileDescriptors still open. Once the process has exited
    (``exited()``) pausing stops: what is left is at most a pipe's or pty's buffer, and a
    stalled client must not hold up the exit (the process ends when its pipes close)."""

    def __init__(self, readers):
        self._readers = readers
        self._exited = False

    def pauseProducing(self):
        if not self._exited:
            for reader in self._readers():
                reader.stopReading()

    def resumeProducing(self):
        for reader in self._readers():
            reader.startReading()

    def stopProducing(self):
        pass

    def exited(self):
        self._exited = True
        self.resumeProducing()


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


class OutputPipeReader(process.ProcessReader):
    """A reader of a container's stdout or stderr pipe taking all the pipe holds per read
    (Twisted's reads 8 KiB): fewer, larger chunks through the log and the attach streams.
    The pipe is grown to ``PIPE_SIZE`` so the container can write on while the daemon
    handles the previous chunk."""

    def __init__(self, reactor, proc, name, fileno):
        super().__init__(reactor, proc, name, fileno)
        try:
            fcntl.fcntl(fileno, F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass  # above fs.pipe-max-size: the default size works, only slower

    def doRead(self):
        try:
            data = os.read(self.fd, PIPE_SIZE)
        except BlockingIOError:
            return None
        except OSError:
            return main.CONNECTION_LOST
        if not data:
            return main.CONNECTION_DONE
        self.dataReceived(data)


class PipeTransport:
    """What ``spawnProcess`` gives a ProcessProtocol, for a process the daemon does
    not spawn itself (the native driver's spawner forks it): the daemon's ends of
    its stdio pipes, a Twisted writer for fd 0 and readers for fds 1 and 2, in
    ``pipes`` keyed by the child's fd. ``closed`` fires once every pipe is closed:
    the output has all been read and nothing holds the stdin pipe any more."""

    def __init__(self, proto, reactor, fds=None):
        """``fds``: {child fd: the daemon's end}; none for a process on a pty."""
        self.proto = proto
        self.closed = defer.Deferred()
        self.pipes = {}
        for child_fd, fd in (fds or {}).items():
            kind = process.ProcessWriter if child_fd == 0 else OutputPipeReader
            self.pipes[child_fd] = kind(reactor, self, child_fd, fd)
        if not self.pipes:
            self.closed.callback(None)

    @classmethod
    def open(cls, proto, reactor):
        """New pipes for fds 0-2: the transport, and the child's ends for the caller to
        hand on and close."""
        stdin, stdout, stderr = os.pipe(), os.pipe(), os.pipe()
        transport = cls(proto, reactor, {0: stdin[1], 1: stdout[0], 2: stderr[0]})
        return transport, [stdin[0], stdout[1], stderr[1]]

    def writeToChild(self, child_fd, data):
        self.pipes[child_fd].write(data)

    def closeChildFD(self, child_fd):
        if child_fd in self.pipes:
            self.pipes[child_fd].loseConnection()

    def loseConnection(self):
        for child_fd in list(self.pipes):
            self.closeChildFD(child_fd)

    # --- called by the readers and the writer --------------------------------------

    def childDataReceived(self, child_fd, data):
        self.proto.childDataReceived(child_fd, data)

    def childConnectionLost(self, child_fd, reason):
        os.close(self.pipes.pop(child_fd).fileno())
        self.proto.childConnectionLost(child_fd)
        if not self.pipes:
            self.closed.callback(None)
