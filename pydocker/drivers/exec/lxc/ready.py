"""When a container LXC starts is running: its command runs and signals reach it.

LXC calls the start-host hook before the container's init runs. A signal sent in that gap
is lost or worse: the process LXC forked for the container still carries the monitor's
handlers, so a SIGTERM goes nowhere, and a SIGKILL to it has left ``lxc-execute`` waiting
for good. That process then executes LXC's init (its command line becomes ``init``), which
installs its handlers (blocking signals meanwhile) before it forks the command. So the
start is over once init no longer has the monitor's command line and a child of it runs
another executable than init's. The driver polls /proc for that after the hook.
"""

import os


def command_running(init_pid, monitor_pid):
    """True once the command runs under ``init_pid``, or once init or the monitor is gone
    (then there is nothing left to wait for: the exit path reports what happened)."""
    try:
        if _read("/proc/%d/cmdline" % init_pid) == _read("/proc/%d/cmdline" % monitor_pid):
            return False        # still LXC's own process, before init
        init_exe = os.stat("/proc/%d/exe" % init_pid)
        children = _read("/proc/%d/task/%d/children" % (init_pid, init_pid)).split()
    except (FileNotFoundError, ProcessLookupError):
        return True
    for child in children:
        try:
            exe = os.stat("/proc/%s/exe" % child)
            # An exec in progress has its new executable but no arguments yet.
            execed = _read("/proc/%s/cmdline" % child) != b""
        except (FileNotFoundError, ProcessLookupError):
            return True         # the command ran and has exited already
        if execed and (exe.st_dev, exe.st_ino) != (init_exe.st_dev, init_exe.st_ino):
            return True
    return False


def _read(path):
    with open(path, "rb") as f:
        return f.read()
