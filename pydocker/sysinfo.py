"""Facts about the host that /info and /version report. Blocking reads of /proc and /sys."""

import functools
import os
import platform


def kernel_version():
    return platform.release()


def operating_system():
    """PRETTY_NAME from os-release, as dockerd reports it."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path) as f:
                fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        except OSError:
            continue
        return fields.get("PRETTY_NAME", "Linux").strip('"'), fields.get("VERSION_ID", "").strip('"')
    return "Linux", ""


@functools.lru_cache(maxsize=1)
def mem_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def cgroup_version():
    """"2" when /sys/fs/cgroup is the unified hierarchy, else "1"."""
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


def cgroup_namespaces():
    """Whether this kernel has cgroup namespaces (Linux 4.6 on), for ``--cgroupns private``."""
    return os.path.exists("/proc/self/ns/cgroup")


def cgroup_v1_has(controller, filename):
    return os.path.exists(os.path.join("/sys/fs/cgroup", controller, filename))


def ip_forwarding():
    return _read("/proc/sys/net/ipv4/ip_forward") == "1"


def bridge_nf(name):
    return _read(f"/proc/sys/net/bridge/bridge-nf-call-{name}") == "1"


def apparmor_enabled():
    """Whether the kernel runs AppArmor (LXC then confines its tools, lxc-attach included)."""
    return _read("/sys/module/apparmor/parameters/enabled") == "Y"


def architecture():
    return platform.machine()


def go_arch():
    """The architecture in Go's names (amd64, arm64), which Docker's clients expect."""
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(
        platform.machine(), platform.machine())


def open_fds():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def cpus_online():
    """The CPUs a container may be given (``0-3``), as the kernel lists them."""
    return _read_list("/sys/devices/system/cpu/online")


def mems_online():
    """The memory nodes a container may be given; ``0`` on a kernel without NUMA."""
    return _read_list("/sys/devices/system/node/online")


def _read_list(path):
    return _read(path) or "0"


def _read(path):
    """A one-line kernel file's text, stripped; "" where the kernel has no such file."""
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def parse_id_list(text):
    """A kernel list of ids (``0-2,5``, as cpuset.cpus) -> the set of ids; ValueError
    naming the whole text when it is not one."""
    ids = set()
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or dash and not high.isdigit() or dash and int(high) < int(low):
            raise ValueError(f"invalid format: {text}")
        ids.update(range(int(low), int(high if dash else low) + 1))
    return ids
