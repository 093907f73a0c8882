"""Small helpers for cgroup filesystems: read/write control files, find
hierarchies, remove directories while their processes drain."""

import functools
import os
import signal
import time

USER_HZ = os.sysconf("SC_CLK_TCK")


def write(directory, name, value):
    with open(os.path.join(directory, name), "w") as f:
        f.write(str(value))


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def read_int(directory, name, default=0):
    try:
        value = read(directory, name)
    except OSError:
        return default
    return default if value == "max" else int(value)


def read_keyed(directory, name):
    """A "key value" per line file (memory.stat, cpu.stat...) as a dict of ints."""
    result = {}
    try:
        text = read(directory, name)
    except OSError:
        return result
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            result[parts[0]] = int(parts[1])
    return result


def read_pids(directory):
    try:
        return [int(p) for p in read(directory, "cgroup.procs").split()]
    except OSError:
        return []


@functools.lru_cache(maxsize=1)
def mountinfo():
    """(mount point, fstype, super options) of every cgroup mount. Read once: the host
    mounts its cgroup hierarchies before the daemon starts, while the rest of the
    mount table grows with every running container and costs more to parse each start."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _source, options = right.split()[:3]
            if fstype in ("cgroup", "cgroup2"):
                mounts.append((left.split()[4], fstype, tuple(options.split(","))))
    return tuple(mounts)


def own_cgroups(pid="self"):
    """This process's (or ``pid``'s) cgroup per v1 controller name, and "" for v2."""
    with open("/proc/%s/cgroup" % pid) as f:
        return parse_proc_cgroup(f.read())


def parse_proc_cgroup(text):
    """A /proc/PID/cgroup text as {v1 controller name: path, "": the unified path}."""
    result = {}
    for line in text.splitlines():
        _, names, path = line.split(":", 2)
        for name in names.split(",") if names else [""]:
            result[name.replace("name=", "")] = path
    return result


def container_path(own, parent, name):
    """Where a container's cgroup goes: an absolute ``parent`` is taken from
    the hierarchy root, a relative one from the daemon's own cgroup (as runc
    does), so a confined daemon keeps its containers inside its limits."""
    if parent.startswith("/"):
        return os.path.join(parent, name)
    return os.path.join(own or "/", parent, name)


MAKE_ATTEMPTS = 5  # each lost round needs another daemon's stop to empty the shared level again


def makedirs(root, relative, before_level=None):
    """Make ``root``/``relative`` level by level and return every level below
    ``root``, new or not. Concurrent starts share the upper levels, so a level
    another start made a moment ago is no error; a daemon stopping at the same
    time may remove an upper level it found empty before this start's next level
    is in it, so the walk starts again from the root. ``before_level`` is called
    with each parent before its child is made (cgroup v2 delegates controllers there)."""
    for attempt in range(MAKE_ATTEMPTS):
        try:
            return _make_levels(root, relative, before_level)
        except FileNotFoundError:
            if attempt == MAKE_ATTEMPTS - 1:
                raise


def _make_levels(root, relative, before_level):
    levels = []
    path = root
    for part in [p for p in relative.split("/") if p]:
        if before_level is not None:
            before_level(path)
        path = os.path.join(path, part)
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        levels.append(path)
    return levels


def remove(directory, timeout=5.0, kill=False):
    """rmdir a cgroup, retrying while killed processes are still leaving it; with
    ``kill``, whatever is in it is SIGKILLed on every round (one may be moving in)."""
    deadline = time.monotonic() + timeout
    while True:
        for pid in read_pids(directory) if kill else ():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def system_cpu_usage():
    """Host CPU time in nanoseconds, as Docker reports ``system_cpu_usage``."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                ticks = sum(int(v) for v in line.split()[1:8])
                return ticks * 1_000_000_000 // USER_HZ
    return 0


def online_cpus():
    return len(os.sched_getaffinity(0))


def device_numbers(path):
    """"major:minor" of a block device path (for blkio/io throttles)."""
    st = os.stat(path)
    return "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
