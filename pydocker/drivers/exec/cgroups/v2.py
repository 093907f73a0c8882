"""cgroup v2: one unified hierarchy, limits as <controller>.<knob> files."""

import os
import signal as signals
import time

from zope.interface import implementer

from pydocker.drivers.exec.cgroups import devicefilter, devicerules, fs
from pydocker.drivers.exec.cgroups.interfaces import ICgroup
from pydocker.drivers.exec.cgroups.v1 import cpu_quota
from pydocker.errdefs import InvalidParameter

WANTED_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "pids")


def for_container(parent, name, root="/sys/fs/cgroup"):
    """Unlike v1, a relative parent starts at the root: under v2 the daemon's
    own cgroup is usually a leaf holding processes, which may not delegate
    controllers to children (the "no internal processes" rule)."""
    return CgroupV2({"unified": os.path.join(root, fs.container_path("/", parent, name)
                                             .lstrip("/"))}, root)


def shares_to_weight(shares):
    """Map v1 cpu.shares (2..262144) onto v2 cpu.weight (1..10000)."""
    return 1 + ((shares - 2) * 9999) // 262142


@implementer(ICgroup)
class CgroupV2:
    def __init__(self, paths, root="/sys/fs/cgroup"):
        self.paths = dict(paths)
        self._root = root
        self._path = self.paths["unified"]

    def create(self):
        fs.makedirs(self._root, os.path.relpath(self._path, self._root), before_level=_enable_controllers)

    def container_view(self):
        return [("", self._path)]

    def configure_devices(self, devices, rules, privileged):
        """Docker's default devices plus ``devices`` and ``rules``, enforced by an eBPF program
        (all devices when privileged: no program)."""
        if not privileged:
            devicefilter.attach(self._path, devicerules.rules_for(devices, rules))

    def set(self, r):
        p = self._path
        try:
            if r.memory:
                fs.write(p, "memory.max", r.memory)
                if os.path.exists(os.path.join(p, "memory.swap.max")):
                    swap = r.memory_swap or 2 * r.memory
                    fs.write(p, "memory.swap.max", "max" if swap == -1 else swap - r.memory)
            if r.memory_reservation:
                fs.write(p, "memory.low", r.memory_reservation)
            if r.cpu_shares:
                fs.write(p, "cpu.weight", shares_to_weight(r.cpu_shares))
            period, quota = cpu_quota(r)
            if quota or period:
                fs.write(p, "cpu.max", "%s %d" % (quota or "max", period or 100000))
            if r.cpuset_cpus:
                fs.write(p, "cpuset.cpus", r.cpuset_cpus)
            if r.cpuset_mems:
                fs.write(p, "cpuset.mems", r.cpuset_mems)
            if r.pids_limit is not None:
                fs.write(p, "pids.max", r.pids_limit if r.pids_limit > 0 else "max")
            if r.blkio_weight and os.path.exists(os.path.join(p, "io.weight")):
                fs.write(p, "io.weight", "default %d" % r.blkio_weight)
            for attr, key in (("blkio_read_bps", "rbps"), ("blkio_write_bps", "wbps"),
                              ("blkio_read_iops", "riops"), ("blkio_write_iops", "wiops")):
                for throttle in getattr(r, attr):
                    fs.write(p, "io.max", "%s %s=%d" % (fs.device_numbers(throttle.path), key,
                                                        throttle.rate))
        except OSError as e:
            raise InvalidParameter("cannot apply resource limits: %s" % e) from None

    def apply(self, pid):
        fs.write(self._path, "cgroup.procs", pid)

    def pids(self):
        return fs.read_pids(self._path)

    def _freeze_state(self, frozen):
        fs.write(self._path, "cgroup.freeze", int(frozen))
        deadline = time.monotonic() + 5
        while fs.read_keyed(self._path, "cgroup.events").get("frozen", 0) != int(frozen):
            if time.monotonic() > deadline:
                raise OSError("cgroup did not reach frozen=%d" % frozen)
            time.sleep(0.001)

    def freeze(self):
        self._freeze_state(True)

    def thaw(self):
        self._freeze_state(False)

    def kill_all(self, signal=signals.SIGKILL):
        if signal == signals.SIGKILL and os.path.exists(os.path.join(self._path, "cgroup.kill")):
            fs.write(self._path, "cgroup.kill", 1)
            return
        for pid in self.pids():
            try:
                os.kill(pid, signal)
            except ProcessLookupError:
                pass
        if os.path.isdir(self._path):
            self.thaw()

    def oom_killed(self):
        return bool(fs.read_keyed(self._path, "memory.events").get("oom_kill"))

    def stats(self):
        p = self._path
        cpu = fs.read_keyed(p, "cpu.stat")
        return {
            "memory_stats": {
                "usage": fs.read_int(p, "memory.current"),
                "max_usage": fs.read_int(p, "memory.peak"),
                "limit": fs.read_int(p, "memory.max"),
                "stats": fs.read_keyed(p, "memory.stat"),
            },
            "cpu_stats": {
                "cpu_usage": {
                    "total_usage": cpu.get("usage_usec", 0) * 1000,
                    "percpu_usage": [],
                    "usage_in_usermode": cpu.get("user_usec", 0) * 1000,
                    "usage_in_kernelmode": cpu.get("system_usec", 0) * 1000,
                },
                "system_cpu_usage": fs.system_cpu_usage(),
                "online_cpus": fs.online_cpus(),
                "throttling_data": {
                    "periods": cpu.get("nr_periods", 0),
                    "throttled_periods": cpu.get("nr_throttled", 0),
                    "throttled_time": cpu.get("throttled_usec", 0) * 1000,
                },
            },
            "pids_stats": {"current": fs.read_int(p, "pids.current"),
                           "limit": fs.read_int(p, "pids.max")},
            "blkio_stats": {"io_service_bytes_recursive": _io_entries(p)},
        }

    def destroy(self):
        if os.path.isdir(self._path):
            self.kill_all()
        fs.remove(self._path)


def _enable_controllers(directory):
    """Delegate the controllers we use from ``directory`` to its children."""
    try:
        available = fs.read(directory, "cgroup.controllers").split()
        enabled = fs.read(directory, "cgroup.subtree_control").split()
    except OSError:
        return
    wanted = [c for c in WANTED_CONTROLLERS if c in available and c not in enabled]
    if wanted:
        try:
            fs.write(directory, "cgroup.subtree_control", " ".join("+" + c for c in wanted))
        except OSError:
            pass    # a populated non-root cgroup cannot delegate; limits then fail loudly


def _io_entries(path):
    entries = []
    try:
        text = fs.read(path, "io.stat")
    except OSError:
        return entries
    for line in text.splitlines():
        device, *pairs = line.split()
        major, minor = device.split(":")
        values = dict(pair.split("=", 1) for pair in pairs)
        for op, key in (("Read", "rbytes"), ("Write", "wbytes")):
            entries.append({"major": int(major), "minor": int(minor), "op": op,
                            "value": int(values.get(key, 0))})
    return entries
