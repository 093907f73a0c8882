"""Container cgroups: pick v1 or v2 for this host and place a container's cgroup,
or find the cgroup another runtime (LXC) placed a process in."""

import os

from pydocker.drivers.exec.cgroups import fs, v1, v2
from pydocker.errdefs import PrerequisiteMissing

UNIFIED_ROOT = "/sys/fs/cgroup"
REQUIRED_V1 = ("devices", "memory", "cpu", "pids", "freezer")  # what every container start writes


def version():
    """2 when /sys/fs/cgroup is the unified hierarchy, else 1 (hybrid hosts use v1)."""
    return 2 if os.path.exists(os.path.join(UNIFIED_ROOT, "cgroup.controllers")) else 1


def check_host():
    """Refuse to run without the cgroup hierarchies every container start needs, each
    reachable where /proc/self/mountinfo lists it (something mounted over /sys/fs/cgroup
    hides them): otherwise the daemon would start and fail every container start."""
    if version() == 2:
        mounts = {"cgroup2": UNIFIED_ROOT}
    else:
        mounts = v1.hierarchies()
        missing = [c for c in REQUIRED_V1 if c not in mounts]
        if missing:
            raise PrerequisiteMissing(
                f"no cgroup hierarchy for {', '.join(missing)}: mount the cgroup v1 controllers "
                f"(or cgroup v2 at {UNIFIED_ROOT}) before starting the daemon")
    for name, path in sorted(mounts.items()):
        if not os.path.exists(os.path.join(path, "cgroup.procs")):
            raise PrerequisiteMissing(
                f"the {name} cgroup hierarchy listed at {path} in /proc/self/mountinfo cannot be "
                f"reached (hidden by another mount over it?): containers cannot be confined")


def default_namespace_mode():
    """dockerd's default cgroup namespace mode: private on a cgroup v2 host, host on v1."""
    return "private" if version() == 2 else "host"


def kernel_memory_enforced():
    """Whether --kernel-memory can be honoured here (never under cgroup v2)."""
    return version() == 1 and v1.kernel_memory_enforced()


def for_container(parent, name):
    """The ``ICgroup`` for container ``name`` under ``parent`` (not created yet)."""
    if version() == 2:
        return v2.for_container(parent, name, UNIFIED_ROOT)
    return v1.for_container(parent, name)


def from_paths(paths):
    """Rebuild an ``ICgroup`` from its saved ``paths`` (for cleaning up after a crash)."""
    if "unified" in paths:
        return v2.CgroupV2(paths, UNIFIED_ROOT)
    return v1.CgroupV1(paths)


def of_process(pid):
    """The ``ICgroup`` process ``pid`` lives in, read from /proc/PID/cgroup:
    how a driver whose runtime makes the cgroups (LXC) reuses this code."""
    with open("/proc/%d/cgroup" % pid) as f:
        placed = {}
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            for name in names.split(",") if names else [""]:
                placed[name] = path
    if version() == 2:
        return v2.CgroupV2({"unified": os.path.join(UNIFIED_ROOT, placed[""].lstrip("/"))},
                           UNIFIED_ROOT)
    return v1.CgroupV1({controller: os.path.join(root, placed[controller].lstrip("/"))
                        for controller, root in v1.hierarchies().items() if controller in placed})


def remove_parent(parent):
    """Daemon stop: remove the empty ``parent`` cgroup (and the empty levels between it and
    the hierarchy root that containers made) in every hierarchy; busy ones are kept."""
    own = fs.own_cgroups()
    for mountpoint, fstype, options in fs.mountinfo():
        keys = [o.replace("name=", "") for o in options] if fstype == "cgroup" else [""]
        base = next((own[k] for k in keys if k in own), "/")
        relative = fs.container_path(base, parent, "").rstrip("/")
        stop = "" if parent.startswith("/") else (base or "/").rstrip("/")
        while relative and relative != stop:
            if not _remove_level(os.path.join(mountpoint, relative.lstrip("/"))):
                break
            relative = os.path.dirname(relative).rstrip("/")


def _remove_level(path):
    """rmdir one level of the parent unless another cgroup still lives in it. A
    level whose last child was just removed may refuse (EBUSY) until the kernel
    has taken that child offline, which the memory controller does late."""
    try:
        if any(entry.is_dir() for entry in os.scandir(path)):
            return False    # another daemon's containers, or a busy level
        fs.remove(path, timeout=2.0)
    except OSError:
        return False
    return True
