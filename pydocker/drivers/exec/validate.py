"""Checks done before anything is started, so bad input fails with a clear
InvalidParameter and leaves nothing behind."""

import os

from pydocker.drivers.exec import capabilities
from pydocker.errdefs import InvalidParameter

MIN_MEMORY = 6 * 1024 * 1024
RLIMIT_NAMES = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


def container_caps(cap_add, cap_drop, privileged):
    try:
        return capabilities.resolve(cap_add, cap_drop, privileged)
    except ValueError as e:
        raise InvalidParameter(str(e)) from None


def resources(r):
    if r.memory and r.memory < MIN_MEMORY:
        raise InvalidParameter("Minimum memory limit allowed is 6MB")
    if r.memory_swap and r.memory_swap != -1:
        if not r.memory:
            raise InvalidParameter("You should always set the Memory limit when using "
                                   "Memoryswap limit, see usage")
        if r.memory_swap < r.memory:
            raise InvalidParameter("Minimum memoryswap limit should be larger than memory "
                                   "limit, see usage")
    if r.nano_cpus and (r.cpu_period or r.cpu_quota):
        raise InvalidParameter("Conflicting options: Nano CPUs and CPU Period/Quota cannot "
                               "both be set")
    cpus = os.cpu_count() or 1
    if r.nano_cpus and not 10_000_000 <= r.nano_cpus <= cpus * 1_000_000_000:
        raise InvalidParameter("Range of CPUs is from 0.01 to %d.00, as there are only %d "
                               "CPUs available" % (cpus, cpus))
    if r.cpu_period and not 1000 <= r.cpu_period <= 1_000_000:
        raise InvalidParameter("CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
                               "than 1s (i.e. 1000000)")
    if r.cpu_quota and r.cpu_quota > 0 and r.cpu_quota < 1000:
        raise InvalidParameter("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if r.blkio_weight and not 10 <= r.blkio_weight <= 1000:
        raise InvalidParameter("Range of blkio weight is from 10 to 1000")
    for attr in ("blkio_read_bps", "blkio_write_bps", "blkio_read_iops", "blkio_write_iops"):
        for throttle in getattr(r, attr):
            if not os.path.exists(throttle.path):
                raise InvalidParameter("no such device: %s" % throttle.path)


def container(spec):
    """Check a ContainerSpec; returns its capability names, resolved."""
    if not spec.id or "/" in spec.id:
        raise InvalidParameter("invalid container id %r" % spec.id)
    if not spec.args:
        raise InvalidParameter("no command specified")
    if not os.path.isdir(spec.rootfs):
        raise InvalidParameter("container rootfs %s is not a directory" % spec.rootfs)
    resources(spec.resources)
    for limit in spec.rlimits:
        if limit.name not in RLIMIT_NAMES:
            raise InvalidParameter("invalid ulimit type: %s" % limit.name)
        if limit.soft > limit.hard and limit.hard >= 0:
            raise InvalidParameter("ulimit soft limit must be less than or equal to hard "
                                   "limit: %d > %d" % (limit.soft, limit.hard))
    for device in spec.devices:
        if not os.path.exists(device.path_on_host):
            raise InvalidParameter("error gathering device information while adding custom device %r: "
                                   "no such file or directory" % device.path_on_host)
    for m in spec.mounts:
        if m.type not in ("bind", "volume", "tmpfs"):
            raise InvalidParameter("unsupported mount type %r" % m.type)
        if not m.destination.startswith("/"):
            raise InvalidParameter("invalid mount destination %r: not an absolute path"
                                   % m.destination)
        if m.type != "tmpfs" and not os.path.exists(m.source):
            raise InvalidParameter("bind source path does not exist: %s" % m.source)
    if spec.seccomp is not None and spec.seccomp != "unconfined" and not isinstance(
            spec.seccomp, dict):
        raise InvalidParameter("seccomp profile must be 'unconfined' or a JSON object")
    return container_caps(spec.cap_add, spec.cap_drop, spec.privileged)
