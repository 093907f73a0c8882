"""The cgroup v2 limit files, written into a plain directory that stands in
for a container's cgroup (a unit test: this host binds every controller to v1,
so a real v2 cgroup here has no memory/cpu/pids/io files to write)."""

import os

from pydocker.drivers.exec.cgroups import v2
from pydocker.drivers.exec.spec import Resources, ThrottleDevice

MB = 1024 * 1024


def make_cgroup(tmp_path, with_swap=True):
    path = tmp_path / "pydocker" / "c1"
    path.mkdir(parents=True)
    if with_swap:
        (path / "memory.swap.max").write_text("max\n")
    (path / "io.weight").write_text("default 100\n")
    return v2.CgroupV2({"unified": str(path)}, str(tmp_path)), path


def knob(path, name):
    return (path / name).read_text()


def test_memory_cpu_pids_knobs(tmp_path):
    cgroup, path = make_cgroup(tmp_path)
    cgroup.set(Resources(memory=64 * MB, memory_swap=96 * MB, memory_reservation=32 * MB,
                         cpu_shares=1024, nano_cpus=1_500_000_000, cpuset_cpus="0",
                         pids_limit=50, blkio_weight=300))
    assert knob(path, "memory.max") == str(64 * MB)
    assert knob(path, "memory.swap.max") == str(32 * MB)       # memory-swap counts memory too
    assert knob(path, "memory.low") == str(32 * MB)
    assert knob(path, "cpu.weight") == str(1 + (1024 - 2) * 9999 // 262142)
    assert knob(path, "cpu.max") == "150000 100000"
    assert knob(path, "cpuset.cpus") == "0"
    assert knob(path, "pids.max") == "50"
    assert knob(path, "io.weight") == "default 300"


def test_swap_defaults_to_twice_memory_and_minus_one_is_unlimited(tmp_path):
    cgroup, path = make_cgroup(tmp_path)
    cgroup.set(Resources(memory=64 * MB))
    assert knob(path, "memory.swap.max") == str(64 * MB)
    cgroup.set(Resources(memory=64 * MB, memory_swap=-1))
    assert knob(path, "memory.swap.max") == "max"


def test_unlimited_pids_and_quota_without_period(tmp_path):
    cgroup, path = make_cgroup(tmp_path, with_swap=False)
    cgroup.set(Resources(pids_limit=-1, cpu_quota=50000))
    assert knob(path, "pids.max") == "max"
    assert knob(path, "cpu.max") == "50000 100000"
    assert not os.path.exists(path / "memory.swap.max")


def test_io_throttles_name_the_device(tmp_path):
    cgroup, path = make_cgroup(tmp_path)
    st = os.stat("/dev/null")
    cgroup.set(Resources(blkio_read_bps=[ThrottleDevice("/dev/null", 1 * MB)]))
    assert knob(path, "io.max") == "%d:%d rbps=%d" % (os.major(st.st_rdev), os.minor(st.st_rdev), MB)


def test_shares_map_onto_the_weight_range():
    assert v2.shares_to_weight(2) == 1
    assert v2.shares_to_weight(262144) == 10000
