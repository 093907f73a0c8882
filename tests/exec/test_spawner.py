"""The native driver's process tree: one spawner per daemon as the parent of every
container process, no helper left per container, and what happens when the
spawner or the daemon dies."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from twisted.internet import reactor
from twisted.python.failure import Failure

from conftest import Recorder
from exec_reactor import spin, wait
from pydocker.drivers.exec.native.driver import NativeDriver
from pydocker.drivers.exec.spec import ExecSpec, Namespaces
from pydocker.errdefs import SystemError_

pytestmark = [pytest.mark.kernel, pytest.mark.parametrize("driver", ["native"], indirect=True)]


def stat_of(pid):
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):     # gone before, or between open and read
        return None
    return fields[0], int(fields[1])


def children(pid):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = stat_of(int(name))
            if info is not None and info[1] == pid:
                found.append(int(name))
    return found


def spawners():
    """Our children running the spawner (the test process plays the daemon)."""
    found = []
    for pid in children(os.getpid()):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"native.spawner" in f.read():
                    found.append(pid)
        except FileNotFoundError:
            pass
    return found


def the_spawner():
    (pid,) = spawners()
    return pid


def gone(pid):
    info = stat_of(pid)
    return info is None or info[0] in "ZX"


def zombies_under(pid):
    return [child for child in children(pid) if (stat_of(child) or ("",))[0] == "Z"]


def test_the_container_is_a_child_of_the_spawner_and_no_helper_remains(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    spawner = the_spawner()
    spin(lambda: children(spawner) == [io.pid])     # the launcher exits after "started"
    assert stat_of(io.pid)[1] == spawner
    with open("/proc/%d/status" % spawner) as f:
        assert "NSpid:\t%d\n" % spawner in f.read()     # in the daemon's pid namespace


def test_fifty_containers_one_spawner(driver, start):
    pids = [start(["sleep", "60"])[1].pid for _ in range(50)]
    spawner = the_spawner()
    spin(lambda: sorted(children(spawner)) == sorted(pids))
    assert {stat_of(pid)[1] for pid in pids} == {spawner}


def test_exits_and_execs_are_reaped_by_the_spawner_with_their_status(driver, start, run):
    spec, io, outcome = start(["sleep", "60"])
    spawner = the_spawner()
    out = Recorder()
    d = driver.exec(spec.id, ExecSpec(args=["sh", "-c", "read x; exit 7"], open_stdin=True), out)
    spin(lambda: out.pid is not None)
    spin(lambda: stat_of(out.pid)[1] == spawner)     # once its launcher has exited
    out.stdin.close()
    status = wait(d)
    assert (status.exit_code, status.signal) == (7, None)
    status, _ = run(["sh", "-c", "kill -TERM $$"], namespaces=Namespaces(pid="host"))
    assert (status.exit_code, status.signal) == (143, signal.SIGTERM)
    spin(lambda: children(spawner) == [io.pid])     # launchers reaped: no zombie stays
    assert zombies_under(os.getpid()) == []


def test_no_fds_leak_in_the_spawner(driver, run, start):
    run(["true"])
    spawner = the_spawner()
    before = sorted(os.listdir("/proc/%d/fd" % spawner))
    for tty in (False, True):
        run(["sh", "-c", "echo x"], tty=tty)
    with pytest.raises(Exception):
        run(["missing"])
    spec, io, outcome = start(["sleep", "60"], open_stdin=True)
    wait(driver.exec(spec.id, ExecSpec(args=["true"], tty=True), Recorder()))
    assert sorted(os.listdir("/proc/%d/fd" % spawner)) == before


def test_a_launcher_failing_before_the_pid_leaks_nothing(driver, make_spec, tmp_path):
    wait(driver.run(make_spec(["true"]), Recorder()))      # warm up: the reactor's own fds
    fds = len(os.listdir("/proc/self/fd"))
    not_a_namespace = tmp_path / "plain-file"
    not_a_namespace.write_text("")
    io = Recorder()
    with pytest.raises(SystemError_, match="setns"):
        wait(driver.run(make_spec(["true"], namespaces=Namespaces(network=str(not_a_namespace))),
                        io))
    assert io.pid is None
    assert len(os.listdir("/proc/self/fd")) == fds
    spin(lambda: children(the_spawner()) == [])
    assert wait(driver.run(make_spec(["true"]), Recorder())).exit_code == 0


def test_a_killed_spawner_takes_its_containers_and_the_next_start_gets_a_new_one(driver, start,
                                                                                 run):
    spec1, io1, out1 = start(["sleep", "60"])
    spec2, io2, out2 = start(["sleep", "60"], tty=True, open_stdin=True)
    old = the_spawner()
    os.kill(old, signal.SIGKILL)
    spin(lambda: out1 and out2)
    for outcome in (out1, out2):
        assert isinstance(outcome[0], Failure)
        assert "spawner died" in outcome[0].getErrorMessage()
    spin(lambda: gone(io1.pid) and gone(io2.pid))
    status, io = run(["echo", "again"])
    assert (status.exit_code, io.text) == (0, "again\n")
    assert the_spawner() != old


def test_shutdown_stops_the_spawner(driver, run):
    run(["true"])
    spawner = the_spawner()
    wait(driver.shutdown())
    assert spawners() == [] and gone(spawner)
    status, io = run(["echo", "restarted"])       # a later start brings one back
    assert io.text == "restarted\n" and len(spawners()) == 1


DAEMON = """
import os, sys
sys.path.insert(0, {tests!r})
from exec_reactor import spin
from conftest import Recorder
from twisted.internet import reactor
from pydocker.drivers.exec.spec import ContainerSpec
from pydocker.drivers.exec.native.driver import NativeDriver
driver = NativeDriver({home!r}, {{}}, reactor)
io = Recorder()
driver.run(ContainerSpec(id={id!r}, rootfs={rootfs!r}, args=["sleep", "60"], env=["PATH=/bin"],
                         cgroup_parent={parent!r}), io)
spin(lambda: io.pid is not None)
print(io.pid, driver._spawner.pid, flush=True)
os._exit(0)
"""


def test_when_the_daemon_dies_the_spawner_exits_and_the_next_daemon_cleans_up(
        driver, rootfs, cgroup_parent, tmp_path):
    home, container_id = str(tmp_path / "crashed"), "c" + uuid.uuid4().hex[:12]
    script = DAEMON.format(tests=os.path.dirname(__file__), home=home, id=container_id,
                           rootfs=rootfs, parent=cgroup_parent)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    container, spawner = map(int, out.split())
    spin(lambda: gone(spawner))
    assert not gone(container)          # left running, like dockerd's containers without it
    restarted = NativeDriver(home, {}, reactor)
    restarted.clean(container_id)       # what restore does at the next start
    wait(restarted.shutdown())
    spin(lambda: gone(container))


def test_a_launcher_killed_after_the_pid_fails_the_start_and_leaves_nothing(driver, make_spec):
    def kill_the_launcher(pid):
        os.kill(stat_of(pid)[1], signal.SIGKILL)
    io = Recorder()
    with pytest.raises(SystemError_, match="launcher died"):
        wait(driver.run(make_spec(["sleep", "60"], network_hook=kill_the_launcher), io))
    assert io.pid is None
    spin(lambda: children(the_spawner()) == [])


def test_the_container_and_its_execs_hold_only_their_stdio(driver, start, run):
    for tty in (False, True):
        status, io = run(["ls", "/proc/self/fd"], tty=tty)
        assert io.text.split() == ["0", "1", "2", "3"]      # 3: the directory ls reads
    spec, io, outcome = start(["sleep", "60"])
    out = Recorder()
    wait(driver.exec(spec.id, ExecSpec(args=["ls", "/proc/self/fd"]), out))
    assert out.text.split() == ["0", "1", "2", "3"]
    assert sorted(os.listdir("/proc/%d/fd" % io.pid)) == ["0", "1", "2"]


def test_a_start_right_after_the_spawner_died_gets_a_new_one(driver, start):
    spec, io, outcome = start(["true"])
    spin(lambda: outcome)
    fds = len(os.listdir("/proc/self/fd"))
    spawner = the_spawner()
    os.kill(spawner, signal.SIGKILL)
    while stat_of(spawner)[0] != "Z":       # dead, and the reactor has not been told yet
        pass
    spec, io, outcome = start(["sh", "-c", "echo next"], tty=True)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 0 and io.text == "next\r\n"
    assert the_spawner() != spawner
    assert len(os.listdir("/proc/self/fd")) == fds      # the new spawner's as many as the old's
