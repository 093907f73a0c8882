"""A container ends with its command, as Docker's do, not with the last of its processes.

LXC's init (``init.lxc``) keeps its command's exit status and then waits for every other
process of the container: a background child or an orphan the command left keeps the
container up for as long as it runs (``sh -c 'sleep 1000 & exit'`` ran 1000 s). Under
Docker the command is the pid namespace's init, and the kernel kills the rest when it
exits. So once the command runs the driver watches it through a pidfd (readable once it
has exited) and then kills every process of the container's cgroup but LXC's init, which
reaps them and exits with the command's status.
"""

import os
import signal
import time

from twisted.internet.interfaces import IReadDescriptor
from zope.interface import implementer


def kill_all_but_init(cgroup, init_pid, timeout=5.0):
    """SIGKILL every process in ``cgroup`` except ``init_pid``, again until none is left
    (one may be forking meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        others = [pid for pid in cgroup.pids() if pid != init_pid]
        if not others:
            return
        if time.monotonic() > deadline:
            raise OSError("processes %s of the container outlived SIGKILL" % others)
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.001)


@implementer(IReadDescriptor)
class CommandWatch:
    """Calls ``on_exit`` on the reactor once the pidfd ``fd`` reports its process's exit;
    ``close`` ends the watch (the container's end)."""

    def __init__(self, reactor, fd, on_exit):
        self._reactor = reactor
        self._fd = fd
        self._on_exit = on_exit
        reactor.addReader(self)

    def fileno(self):
        return self._fd

    def logPrefix(self):
        return "lxc-command"

    def doRead(self):
        self.close()
        self._on_exit()

    def connectionLost(self, reason):
        self.close()

    def close(self):
        if self._fd >= 0:
            self._reactor.removeReader(self)
            os.close(self._fd)
            self._fd = -1
