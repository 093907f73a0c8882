"""Resource limits, OOM, freezing, stats and clean-up of containers of each exec driver."""

import os
import stat
import time

import pytest

from conftest import init_processes
from exec_reactor import spin, wait
from pydocker.drivers.exec import cgroups
from pydocker.drivers.exec.spec import Mount, Resources, ThrottleDevice
from pydocker.errdefs import Conflict, InvalidParameter

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(cgroups.version() != 1, reason="these checks read v1 files")]

MB = 1024 * 1024


def cgroup_dir(pid, controller):
    """The host directory of ``pid``'s cgroup in a v1 hierarchy."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            if controller in names.split(","):
                return os.path.join("/sys/fs/cgroup", controller, path.lstrip("/"))
    raise LookupError(controller)


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def test_limits_are_written(driver, start):
    resources = Resources(memory=64 * MB, memory_reservation=32 * MB, cpu_shares=512,
                          nano_cpus=500_000_000, pids_limit=50, cpuset_cpus="0")
    spec, io, outcome = start(["sleep", "60"], resources=resources)
    memory = cgroup_dir(io.pid, "memory")
    cpu = cgroup_dir(io.pid, "cpu")
    assert memory.endswith(spec.id) and cpu.endswith(spec.id)
    assert int(read(memory, "memory.limit_in_bytes")) == 64 * MB
    assert int(read(memory, "memory.memsw.limit_in_bytes")) == 128 * MB
    assert int(read(memory, "memory.soft_limit_in_bytes")) == 32 * MB
    assert read(cpu, "cpu.shares") == "512"
    assert (read(cpu, "cpu.cfs_period_us"), read(cpu, "cpu.cfs_quota_us")) == ("100000", "50000")
    assert read(cgroup_dir(io.pid, "pids"), "pids.max") == "50"
    assert read(cgroup_dir(io.pid, "cpuset"), "cpuset.cpus") == "0"


def test_cgroups_are_removed_after_exit(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    dirs = [cgroup_dir(io.pid, c) for c in ("memory", "cpu", "pids", "freezer", "blkio")]
    assert all(os.path.isdir(d) for d in dirs)
    driver.terminate(spec.id)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 137
    assert not any(os.path.exists(d) for d in dirs)


def test_memory_limit_kills_and_reports_oom(run):
    status, io = run(["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo $x"],
                     resources=Resources(memory=16 * MB, memory_swap=16 * MB))
    assert status.oom_killed is True
    assert status.exit_code != 0


def test_no_oom_reported_without_one(run):
    status, _ = run(["true"], resources=Resources(memory=16 * MB))
    assert status.oom_killed is False


def test_pids_limit_stops_a_fork_bomb(driver, start):
    # A subshell forks children that never exit on their own, so the limit is surely met;
    # ash gives up at the refused fork, and the container's first shell then waits without
    # forking. Each step waits for its condition; the container is killed at the end.
    bomb = "(for i in $(seq 30); do sleep 1000 & done); echo bomb stopped; exec sleep 1000"
    spec, io, outcome = start(["sh", "-c", bomb], resources=Resources(pids_limit=10))
    pids = cgroup_dir(io.pid, "pids")
    spin(lambda: b"bomb stopped" in io.out or outcome)
    assert b"can't fork" in io.err or b"Resource temporarily unavailable" in io.err, io.err
    assert int(read(pids, "pids.events").split()[1]) > 0  # "max N": N forks refused
    assert int(read(pids, "pids.current")) <= 10
    driver.terminate(spec.id)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 137


def test_pause_freezes_and_unpause_thaws(driver, start, tmp_path):
    # Ticks go to a file, not a pipe: once the freezer says FROZEN no write is under way, so
    # its size is final then (a pipe may still hold what the reactor had not read yet).
    ticks = tmp_path / "ticks"
    ticks.touch()
    spec, io, outcome = start(["sh", "-c", "while true; do echo x >> /ticks/ticks; usleep 20000; done"],
                              mounts=[Mount(str(tmp_path), "/ticks")])
    spin(lambda: ticks.stat().st_size)
    driver.pause(spec.id)
    assert read(cgroup_dir(io.pid, "freezer"), "freezer.state") == "FROZEN"
    frozen_at = ticks.stat().st_size
    deadline = time.monotonic() + 0.3
    spin(lambda: time.monotonic() > deadline)
    assert ticks.stat().st_size == frozen_at
    driver.unpause(spec.id)
    spin(lambda: ticks.stat().st_size > frozen_at)
    assert read(cgroup_dir(io.pid, "freezer"), "freezer.state") == "THAWED"


def test_terminate_works_on_a_paused_container(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    driver.pause(spec.id)
    driver.terminate(spec.id)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 137


def test_pids_lists_every_process(driver, start):
    spec, io, outcome = start(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    spin(lambda: len(driver.pids(spec.id)) == 3 + init_processes(driver))
    pids = driver.pids(spec.id)
    assert io.pid in pids
    for pid in pids:
        assert os.readlink("/proc/%d/ns/pid" % pid) == os.readlink("/proc/%d/ns/pid" % io.pid)


def test_stats(driver, start):
    spec, io, outcome = start(["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                               "echo busy; sleep 60 & wait"],
                               resources=Resources(memory=64 * MB, pids_limit=20))
    count = 2 + init_processes(driver)
    spin(lambda: io.out and len(driver.pids(spec.id)) == count)
    stats = driver.stats(spec.id)
    assert 0 < stats["memory_stats"]["usage"] <= 64 * MB
    assert stats["memory_stats"]["limit"] == 64 * MB
    assert "cache" in stats["memory_stats"]["stats"] or "rss" in stats["memory_stats"]["stats"]
    usage = stats["cpu_stats"]["cpu_usage"]
    assert usage["total_usage"] > 0 and len(usage["percpu_usage"]) == os.cpu_count()
    assert stats["cpu_stats"]["system_cpu_usage"] > usage["total_usage"]
    assert stats["pids_stats"] == {"current": count, "limit": 20}


def test_update_changes_limits(driver, start):
    spec, io, outcome = start(["sleep", "60"], resources=Resources(memory=64 * MB))
    driver.update(spec.id, Resources(memory=32 * MB, memory_swap=-1, pids_limit=5))
    memory = cgroup_dir(io.pid, "memory")
    assert int(read(memory, "memory.limit_in_bytes")) == 32 * MB
    assert read(cgroup_dir(io.pid, "pids"), "pids.max") == "5"
    with pytest.raises(InvalidParameter):
        driver.update(spec.id, Resources(memory=1024))


def test_bad_signal_and_tty_requests_are_rejected(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    with pytest.raises(InvalidParameter):
        driver.kill(spec.id, 999)
    with pytest.raises(Conflict):
        driver.resize(spec.id, 10, 10)     # no TTY


def test_controlling_a_stopped_container_is_a_conflict(driver):
    for call in (lambda: driver.kill("nope", 9), lambda: driver.pause("nope"),
                 lambda: driver.stats("nope"), lambda: driver.pids("nope")):
        with pytest.raises(Conflict):
            call()


def test_invalid_limits_leave_nothing_behind(driver, make_spec):
    from conftest import Recorder
    spec = make_spec(["true"], resources=Resources(memory=1 * MB))
    with pytest.raises(InvalidParameter, match="Minimum memory limit"):
        driver.run(spec, Recorder())
    spec = make_spec(["true"], resources=Resources(nano_cpus=100 * 10**9))
    with pytest.raises(InvalidParameter, match="Range of CPUs"):
        driver.run(spec, Recorder())


def test_clean_removes_cgroups_left_by_a_crashed_daemon(tmp_path, rootfs, make_spec):
    """A first driver instance starts a container and is abandoned; a second
    one (the restarted daemon) cleans up after it."""
    from conftest import Recorder
    from pydocker.drivers.exec.native.driver import NativeDriver
    from twisted.internet import reactor
    home = str(tmp_path / "home")
    first = NativeDriver(home, {}, reactor)
    spec = make_spec(["sleep", "60"])
    io = Recorder()
    d = first.run(spec, io)
    outcome = []
    d.addBoth(outcome.append)
    spin(lambda: io.pid is not None)
    memory = cgroup_dir(io.pid, "memory")
    second = NativeDriver(home, {}, reactor)
    second.clean(spec.id)
    assert not os.path.exists(memory)
    spin(lambda: outcome)           # the abandoned driver sees its container die
    assert outcome[0].exit_code == 137
    assert not os.path.exists(os.path.join(home, spec.id))
    for driver in (first, second):
        wait(driver.shutdown())


def test_the_container_sees_its_own_cgroup_read_only(run):
    status, io = run(["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                      "cat /sys/fs/cgroup/pids/pids.max; "
                      "echo 1 > /sys/fs/cgroup/pids/pids.max || echo RO"],
                     resources=Resources(memory=48 * MB, pids_limit=7))
    assert io.text.split() == [str(48 * MB), "7", "RO"]


def first_block_device():
    for name in sorted(os.listdir("/sys/block")):
        path = "/dev/" + name
        if os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode):
            return path
    return None


def test_blkio_throttles_and_oom_kill_disable_are_written(start):
    device = first_block_device()
    if device is None:
        pytest.skip("no block device on this host")
    rdev = os.stat(device).st_rdev
    resources = Resources(memory=64 * MB, oom_kill_disable=True,
                          blkio_read_bps=[ThrottleDevice(device, 1048576)],
                          blkio_write_iops=[ThrottleDevice(device, 100)])
    spec, io, outcome = start(["sleep", "60"], resources=resources)
    blkio = cgroup_dir(io.pid, "blkio")
    expected = "%d:%d" % (os.major(rdev), os.minor(rdev))
    assert read(blkio, "blkio.throttle.read_bps_device") == expected + " 1048576"
    assert read(blkio, "blkio.throttle.write_iops_device") == expected + " 100"
    oom_control = read(cgroup_dir(io.pid, "memory"), "memory.oom_control")
    assert "oom_kill_disable 1" in oom_control
