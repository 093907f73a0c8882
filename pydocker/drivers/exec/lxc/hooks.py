"""The start-host and stop hooks: how LXC hands the daemon control twice.

LXC runs one small shell script (``HOOK_SCRIPT``) as ``lxc.hook.start-host``
(the container's namespaces exist, its init has not run yet) and as
``lxc.hook.stop`` (the container is gone, its cgroups not yet). The script
writes "<hook> <pid>" into the container's ``hook.fifo`` and waits for a
line on ``reply.fifo``: "ok" lets LXC go on, anything else fails the hook
(at start-host that aborts the start). Meanwhile the daemon joins cgroups,
runs the network hook, or reads the OOM counter.

Both FIFOs are opened read-write by the daemon, so neither side's open ever
blocks and neither reader sees end-of-file while the container lives. The
``timeout`` keeps an orphaned container from hanging on a dead daemon.
"""

import os

from twisted.internet import abstract, fdesc

HOOK_TIMEOUT = 30
HOOK_SCRIPT = """#!/bin/sh
# pydocker lxc hook: $1 = container name, $3 = hook type (start-host, stop).
dir=$(dirname "$LXC_CONFIG_FILE")
[ -p "$dir/hook.fifo" ] || exit 1
printf '%s %s\\n' "$3" "${LXC_PID:-0}" > "$dir/hook.fifo" || exit 1
read -r reply < "$dir/reply.fifo" || exit 1
[ "$reply" = ok ]
"""


def install_script(home):
    """Write the hook script once per driver; returns the command for the config."""
    path = os.path.join(home, "hook.sh")
    with open(path + ".tmp", "w") as f:
        f.write(HOOK_SCRIPT)
    os.chmod(path + ".tmp", 0o700)
    os.replace(path + ".tmp", path)
    return "timeout %d %s" % (HOOK_TIMEOUT, path)


class HookChannel(abstract.FileDescriptor):
    """The daemon's end of one container's FIFOs. ``on_hook(kind, pid)``
    runs for each hook and returns a Deferred; its outcome is the reply."""

    def __init__(self, directory, on_hook, reactor):
        super().__init__(reactor)
        self._paths = [os.path.join(directory, name) for name in ("hook.fifo", "reply.fifo")]
        for path in self._paths:
            if not os.path.exists(path):
                os.mkfifo(path, 0o600)
        self._in = os.open(self._paths[0], os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self._out = os.open(self._paths[1], os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self._on_hook = on_hook
        self._buffer = b""
        self.connected = 1

    def fileno(self):
        return self._in

    def start(self):
        self.startReading()

    def doRead(self):
        return fdesc.readFromFD(self._in, self._received)

    def _received(self, data):
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            kind, _, pid = line.decode(errors="replace").partition(" ")
            d = self._on_hook(kind, int(pid) if pid.isdigit() else 0)
            d.addCallbacks(lambda _: self._reply(b"ok\n"), lambda _: self._reply(b"abort\n"))

    def _reply(self, line):
        if self._out is not None:
            os.write(self._out, line)

    def close(self):
        """Stop listening and close both FIFOs (the files stay with the state dir)."""
        if self._out is None:
            return
        self.stopReading()
        os.close(self._in)
        os.close(self._out)
        self._out = None
        self.connected = 0
