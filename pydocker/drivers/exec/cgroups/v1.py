"""cgroup v1: one directory per controller hierarchy."""

import functools
import os
import signal as signals
import threading
import time

from zope.interface import implementer

from pydocker.drivers.exec.cgroups import devicerules, fs
from pydocker.drivers.exec.cgroups.interfaces import ICgroup
from pydocker.errdefs import InvalidParameter

CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices")


def hierarchies():
    """controller -> mount point of its v1 hierarchy."""
    found = {}
    for mountpoint, fstype, options in fs.mountinfo():
        if fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options:
                    found.setdefault(controller, mountpoint)
    return found


@functools.lru_cache(maxsize=None)
def kernel_memory_enforced():
    """Whether this kernel still applies memory.kmem.limit_in_bytes: recent ones
    keep the file but ignore what is written to it (checked once, in a scratch cgroup)."""
    memory = hierarchies().get("memory")
    if memory is None or not os.path.exists(os.path.join(memory, "memory.kmem.limit_in_bytes")):
        return False
    # One per thread: two first calls at once (info and update) would share a probe.
    probe = os.path.join(memory, "pydocker-kmem-probe-%d-%d" % (os.getpid(), threading.get_ident()))
    try:
        os.mkdir(probe)
    except OSError:
        return False
    try:
        fs.write(probe, "memory.kmem.limit_in_bytes", 64 << 20)
        return fs.read_int(probe, "memory.kmem.limit_in_bytes") == 64 << 20
    except OSError:
        return False
    finally:
        os.rmdir(probe)


def for_container(parent, name):
    own = fs.own_cgroups()
    return CgroupV1({controller: os.path.join(root, fs.container_path(
        own.get(controller, "/"), parent, name).lstrip("/"))
        for controller, root in hierarchies().items()})


@implementer(ICgroup)
class CgroupV1:
    def __init__(self, paths):
        self.paths = dict(paths)

    def _dir(self, controller):
        return self.paths.get(controller)

    def create(self):
        for controller, path in self.paths.items():
            root = _hierarchy_root(path)
            for level in fs.makedirs(root, os.path.relpath(path, root)):
                if controller == "cpuset":
                    _inherit_cpuset(level)

    def container_view(self):
        return [(os.path.basename(_hierarchy_root(path)), path)
                for path in sorted(set(self.paths.values()))]

    def configure_devices(self, devices, rules, privileged):
        """Allow only Docker's default devices plus ``devices`` and ``rules`` (all when
        privileged)."""
        path = self._dir("devices")
        if path is None:
            return
        if privileged:
            fs.write(path, "devices.allow", "a")
            return
        fs.write(path, "devices.deny", "a")
        for rule in devicerules.rules_for(devices, rules):
            fs.write(path, "devices.allow", rule)

    def set(self, r):
        try:
            self._set_memory(r)
            self._set_cpu(r)
            self._set_pids_blkio(r)
        except OSError as e:
            raise InvalidParameter("cannot apply resource limits: %s" % e) from None

    def _set_memory(self, r):
        path = self._dir("memory")
        if path is None:
            return
        memsw = os.path.exists(os.path.join(path, "memory.memsw.limit_in_bytes"))
        if r.memory:
            swap = r.memory_swap if r.memory_swap else 2 * r.memory
            if memsw and swap != -1 and swap < r.memory:
                raise InvalidParameter("Minimum memoryswap limit should be larger than memory "
                                       "limit, see usage")
            # The kernel wants memory <= memory+swap at every step.
            current = fs.read_int(path, "memory.memsw.limit_in_bytes") if memsw else 0
            order = [("memory.limit_in_bytes", r.memory)]
            if memsw:
                order.append(("memory.memsw.limit_in_bytes", swap))
                if swap == -1 or swap > current:
                    order.reverse()
            for name, value in order:
                fs.write(path, name, value)
        if r.memory_reservation:
            fs.write(path, "memory.soft_limit_in_bytes", r.memory_reservation)
        if r.kernel_memory:     # only set where kernel_memory_enforced(); see jobs.containers
            fs.write(path, "memory.kmem.limit_in_bytes", r.kernel_memory)
        if r.oom_kill_disable:
            fs.write(path, "memory.oom_control", 1)

    def _set_cpu(self, r):
        cpu = self._dir("cpu")
        if cpu is not None:
            if r.cpu_shares:
                fs.write(cpu, "cpu.shares", r.cpu_shares)
            period, quota = cpu_quota(r)
            if period:
                fs.write(cpu, "cpu.cfs_period_us", period)
            if quota:
                fs.write(cpu, "cpu.cfs_quota_us", quota)
        cpuset = self._dir("cpuset")
        if cpuset is not None:
            if r.cpuset_cpus:
                fs.write(cpuset, "cpuset.cpus", r.cpuset_cpus)
            if r.cpuset_mems:
                fs.write(cpuset, "cpuset.mems", r.cpuset_mems)

    def _set_pids_blkio(self, r):
        pids = self._dir("pids")
        if pids is not None and r.pids_limit is not None:
            fs.write(pids, "pids.max", r.pids_limit if r.pids_limit > 0 else "max")
        blkio = self._dir("blkio")
        if blkio is None:
            return
        if r.blkio_weight and os.path.exists(os.path.join(blkio, "blkio.weight")):
            fs.write(blkio, "blkio.weight", r.blkio_weight)
        for attr, name in (("blkio_read_bps", "read_bps_device"),
                           ("blkio_write_bps", "write_bps_device"),
                           ("blkio_read_iops", "read_iops_device"),
                           ("blkio_write_iops", "write_iops_device")):
            for throttle in getattr(r, attr):
                fs.write(blkio, "blkio.throttle." + name,
                         "%s %d" % (fs.device_numbers(throttle.path), throttle.rate))

    def apply(self, pid):
        for path in self.paths.values():
            fs.write(path, "cgroup.procs", pid)

    def pids(self):
        path = self._dir("pids") or self._dir("freezer") or next(iter(self.paths.values()))
        return fs.read_pids(path)

    def _freezer_state(self, state):
        path = self._dir("freezer")
        if path is None:
            raise InvalidParameter("the freezer cgroup controller is not available")
        fs.write(path, "freezer.state", state)
        deadline = time.monotonic() + 5
        while fs.read(path, "freezer.state") != state:
            if time.monotonic() > deadline:
                raise OSError("cgroup did not reach %s" % state)
            fs.write(path, "freezer.state", state)
            time.sleep(0.001)

    def freeze(self):
        self._freezer_state("FROZEN")

    def thaw(self):
        self._freezer_state("THAWED")

    def kill_all(self, signal=signals.SIGKILL):
        for pid in self.pids():
            try:
                os.kill(pid, signal)
            except ProcessLookupError:
                pass
        if self._dir("freezer") and os.path.isdir(self._dir("freezer")):
            self.thaw()

    def oom_killed(self):
        path = self._dir("memory")
        return bool(path and fs.read_keyed(path, "memory.oom_control").get("oom_kill"))

    def stats(self):
        memory = self._dir("memory")
        cpu = self._dir("cpu")
        cpuacct = self._dir("cpuacct")
        pids = self._dir("pids")
        blkio = self._dir("blkio")
        cpustat = fs.read_keyed(cpuacct, "cpuacct.stat") if cpuacct else {}
        throttling = fs.read_keyed(cpu, "cpu.stat") if cpu else {}
        tick = 1_000_000_000 // fs.USER_HZ
        percpu = fs.read(cpuacct, "cpuacct.usage_percpu").split() if cpuacct else []
        return {
            "memory_stats": {
                "usage": fs.read_int(memory, "memory.usage_in_bytes"),
                "max_usage": fs.read_int(memory, "memory.max_usage_in_bytes"),
                "limit": fs.read_int(memory, "memory.limit_in_bytes"),
                "failcnt": fs.read_int(memory, "memory.failcnt"),
                "stats": fs.read_keyed(memory, "memory.stat"),
            } if memory else {},
            "cpu_stats": {
                "cpu_usage": {
                    "total_usage": fs.read_int(cpuacct, "cpuacct.usage") if cpuacct else 0,
                    "percpu_usage": [int(v) for v in percpu],
                    "usage_in_usermode": cpustat.get("user", 0) * tick,
                    "usage_in_kernelmode": cpustat.get("system", 0) * tick,
                },
                "system_cpu_usage": fs.system_cpu_usage(),
                "online_cpus": fs.online_cpus(),
                "throttling_data": {
                    "periods": throttling.get("nr_periods", 0),
                    "throttled_periods": throttling.get("nr_throttled", 0),
                    "throttled_time": throttling.get("throttled_time", 0),
                },
            },
            "pids_stats": {
                "current": fs.read_int(pids, "pids.current"),
                "limit": fs.read_int(pids, "pids.max"),
            } if pids else {},
            "blkio_stats": {
                "io_service_bytes_recursive": _blkio_entries(
                    blkio, "blkio.throttle.io_service_bytes_recursive"),
                "io_serviced_recursive": _blkio_entries(
                    blkio, "blkio.throttle.io_serviced_recursive"),
            } if blkio else {},
        }

    def destroy(self):
        self.kill_all()
        for path in self.paths.values():
            fs.remove(path)


def cpu_quota(r):
    """(cfs period, cfs quota) in microseconds; ``--cpus`` becomes a quota over 100 ms."""
    if r.nano_cpus:
        period = r.cpu_period or 100000
        return period, r.nano_cpus * period // 1_000_000_000
    return r.cpu_period, r.cpu_quota


def _hierarchy_root(path):
    for mountpoint, fstype, _ in fs.mountinfo():
        if fstype == "cgroup" and (path + "/").startswith(mountpoint + "/"):
            return mountpoint
    raise OSError("%s is not inside a cgroup hierarchy" % path)


def _inherit_cpuset(path):
    """A new v1 cpuset starts empty; it must copy its parent's to accept tasks.
    Every level is checked, not only those this start made: a concurrent start
    may have made a level and not filled it yet."""
    parent = os.path.dirname(path)
    for name in ("cpuset.cpus", "cpuset.mems"):
        if not fs.read(path, name):
            fs.write(path, name, fs.read(parent, name))


def _blkio_entries(path, name):
    entries = []
    if path is None:
        return entries
    try:
        text = fs.read(path, name)
    except OSError:
        return entries
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[0]:
            major, minor = parts[0].split(":")
            entries.append({"major": int(major), "minor": int(minor), "op": parts[1],
                            "value": int(parts[2])})
    return entries
