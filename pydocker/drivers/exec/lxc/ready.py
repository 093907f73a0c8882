"""When a container LXC starts is running: its command runs and signals reach it.

LXC calls the start-host hook before the container's init runs. A signal sent in that gap
is lost or worse: the process LXC forked for the container still carries the monitor's
handlers, so a SIGTERM goes nowhere, and a SIGKILL to it has left ``lxc-execute`` waiting
for good. That process then executes LXC's init (its command line becomes ``init``), which
installs its handlers (blocking signals meanwhile) before it forks the command. So the
start is over once init no longer has the monitor's command line and a child of it runs
another executable than init's. The driver polls /proc for that after the hook; the child
leading its own session is the command, which the driver then watches (``mainexit``). An
exec's command is likewise the child of ``lxc-attach`` that has executed it
(``attached_command``).
"""

import os


def running_command(init_pid, monitor_pid):
    """None until the command runs under ``init_pid``; then the command's pid, or 0 once
    it, init or the monitor is gone (then there is nothing left to wait for: the exit path
    reports what happened). A child gone meanwhile proves nothing: an orphan may end
    while the command runs on."""
    try:
        if _read("/proc/%d/cmdline" % init_pid) == _read("/proc/%d/cmdline" % monitor_pid):
            return None         # still LXC's own process, before init
        init_exe = os.stat("/proc/%d/exe" % init_pid)
        children = _read("/proc/%d/task/%d/children" % (init_pid, init_pid)).split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for child in children:
        executed = _has_executed(child.decode(), init_exe)
        if executed is None:
            continue            # ended meanwhile: an orphan, or the command (the next look tells)
        if executed:
            return _command(children)
    return None


def attached_command(attach_pid):
    """None until the process ``lxc-attach`` forks for an exec has executed its command;
    then its pid, or 0 once ``lxc-attach`` is gone. (The go-between ``lxc-attach`` forks
    first, which forks that process and exits, is passed over.)"""
    try:
        attach_exe = os.stat("/proc/%d/exe" % attach_pid)
        children = _read("/proc/%d/task/%d/children" % (attach_pid, attach_pid)).split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for child in children:
        if _has_executed(child.decode(), attach_exe):
            return int(child)
    return None


def _has_executed(pid, parent_exe):
    """Whether ``pid`` runs another executable than ``parent_exe``; None once it is gone
    (or has exited: a zombie has no executable)."""
    try:
        exe = os.stat("/proc/%s/exe" % pid)
        # An exec in progress has its new executable but no arguments yet.
        execed = _read("/proc/%s/cmdline" % pid) != b""
    except (FileNotFoundError, ProcessLookupError):
        return None
    return execed and (exe.st_dev, exe.st_ino) != (parent_exe.st_dev, parent_exe.st_ino)


def _command(children):
    """Init's children are its command and the orphans it inherits; the command is the
    one that leads its own session (init calls setsid for it; its descendants are in that
    session, unless one made its own: if the command is gone already, such an orphan is
    taken for it and the container ends with that one). 0: none, the command is gone."""
    for child in children:
        try:
            fields = _read("/proc/%s/stat" % child.decode()).rsplit(b")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[3] == child:      # state, ppid, pgrp, session
            return int(child)
    return 0


def _read(path):
    with open(path, "rb") as f:
        return f.read()
