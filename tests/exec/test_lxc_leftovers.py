"""The lxc driver leaves no cgroup and no LXC process behind: checked the moment a
container's exit (or failed start) is reported, and after a daemon crash that left
LXC's monitor waiting for it."""

import os
import signal

import pytest

from conftest import Recorder
from exec_reactor import spin, wait
from pydocker.drivers.exec.cgroups import fs as cgroupfs
from pydocker.drivers.exec.lxc import config, leftovers
from test_lxc import lxc_driver, sleeping_in_a_first_driver

pytestmark = pytest.mark.kernel


@pytest.fixture
def driver(tmp_path, rootfs):
    made = lxc_driver(tmp_path / "lxc")
    yield made
    wait(made.shutdown())


def lxc_cgroups(parent, container_id):
    """Every directory LXC may make for the container, in every hierarchy."""
    relatives = list(config.cgroup_dirs(parent, container_id).values())
    relatives.append(os.path.join(relatives[-1], leftovers.PIVOT))
    return [path for relative in relatives for path in leftovers.in_every_hierarchy(relative)]


def existing(paths):
    return [path for path in paths if os.path.exists(path)]


def lxc_processes(container_id):
    """Processes whose command line names the container (its lxc-execute, hooks)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if container_id.encode() in f.read() and _state(pid) != "Z":
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _state(pid):
    with open("/proc/%s/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_the_configuration_names_a_pivot_per_container():
    dirs = config.cgroup_dirs("/a/b/", "c1")
    assert dirs == {"lxc.cgroup.dir.container": "a/b/c1",
                    "lxc.cgroup.dir.monitor": "a/b/c1.lxc-monitor",
                    "lxc.cgroup.dir.monitor.pivot": "a/b/c1.lxc-pivot"}
    text = "lxc.tty.max = 0\n" + "".join("%s = %s\n" % item for item in dirs.items())
    assert config.cgroup_dirs_in(text) == dirs


@pytest.mark.parametrize("how", ["exits", "is killed", "fails to start"])
def test_nothing_is_left_when_the_exit_is_reported(driver, make_spec, cgroup_parent, how):
    def failing_hook(pid):
        raise RuntimeError("no bridge")
    args = ["sleep", "60"] if how == "is killed" else ["true"]
    spec = make_spec(args, network_hook=failing_hook if how == "fails to start" else None)
    io = Recorder()
    outcome = []
    driver.run(spec, io).addBoth(outcome.append)
    if how == "is killed":
        spin(lambda: io.pid is not None)
        assert existing(lxc_cgroups(cgroup_parent, spec.id))
        driver.terminate(spec.id)
    spin(lambda: outcome)
    assert existing(lxc_cgroups(cgroup_parent, spec.id)) == []
    assert lxc_processes(spec.id) == []
    assert not os.path.exists(os.path.join(driver._home, spec.id))


def test_containers_exiting_together_leave_nothing(driver, make_spec, cgroup_parent):
    specs = [make_spec(["true"]) for _ in range(4)]
    outcomes = []
    for spec in specs:
        driver.run(spec, Recorder()).addBoth(outcomes.append)
    spin(lambda: len(outcomes) == len(specs))
    assert [getattr(o, "exit_code", o) for o in outcomes] == [0] * len(specs)
    for spec in specs:
        assert existing(lxc_cgroups(cgroup_parent, spec.id)) == []


def test_clean_after_a_crash_kills_the_monitor_waiting_in_its_stop_hook(
        tmp_path, make_spec, cgroup_parent, rootfs):
    first, spec, io, outcome = sleeping_in_a_first_driver(tmp_path / "lxc", make_spec)
    # The daemon dies: nobody reads the hook FIFO any more. The container then exits
    # and LXC's stop hook waits (up to its 30 s timeout) for a daemon that is gone.
    first._running[spec.id].channel.close()
    os.kill(io.pid, signal.SIGKILL)
    monitor_dirs = leftovers.in_every_hierarchy(
        config.cgroup_dirs(cgroup_parent, spec.id)["lxc.cgroup.dir.monitor"])
    spin(lambda: len(cgroupfs.read_pids(monitor_dirs[0])) >= 2)   # the monitor and its hook
    # A new daemon knows nothing but the state on disk.
    second = lxc_driver(tmp_path / "lxc")
    second.clean(spec.id)
    assert existing(lxc_cgroups(cgroup_parent, spec.id)) == []
    assert lxc_processes(spec.id) == []
    spin(lambda: outcome)
    wait(second.shutdown())
    assert existing(leftovers.in_every_hierarchy(cgroup_parent)) == []
