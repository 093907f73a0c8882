"""Removing the cgroups LXC made for one container, in every hierarchy.

LXC run by root places them relative to init's cgroup (not the daemon's) in
every mounted hierarchy, the named systemd one and the v2 one included: the
container's, its monitor's and the monitor's pivot (see ``config.cgroup_dirs``).
After a normal exit LXC has removed the first two and the monitor, which is
``lxc-execute`` itself, is gone: only the pivot is left. After a daemon crash
the monitor may still run (waiting in the stop hook for a daemon that is
gone): it is killed, as is anything still in those cgroups.
"""

import os
import time

from pydocker.drivers.exec.cgroups import fs
from pydocker.drivers.exec.lxc.config import CGROUP_KEYS

PIVOT = "lxc.pivot"   # LXC's name for the cgroup it makes in the pivot dir


def remove(dirs, timeout=5.0):
    """Kill and remove the cgroups named by ``dirs`` (``config.cgroup_dirs``): children
    before parents, each monitor cgroup before the pivot its monitor moves into."""
    container, monitor, pivot = (dirs.get(key) for key in CGROUP_KEYS)
    relatives = [container, monitor, pivot and os.path.join(pivot, PIVOT), pivot]
    deadline = time.monotonic() + timeout
    for relative in filter(None, relatives):
        for path in in_every_hierarchy(relative):
            fs.remove(path, timeout=max(0.0, deadline - time.monotonic()), kill=True)


def in_every_hierarchy(relative):
    """``relative`` below init's cgroup in each mounted hierarchy."""
    init = fs.own_cgroups(pid=1)
    paths = []
    for mountpoint, fstype, options in fs.mountinfo():
        keys = [o.replace("name=", "") for o in options] if fstype == "cgroup" else [""]
        base = next((init[k] for k in keys if k in init), "/")
        paths.append(os.path.join(mountpoint, base.lstrip("/"), relative.strip("/")))
    return paths
