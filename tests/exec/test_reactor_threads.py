"""The exec drivers keep the reactor free: making, limiting, reading, killing and removing
a container's cgroups (kernel waits, retry loops) happen in threads, never on the
reactor's thread (these tests iterate the reactor on the test's own thread)."""

import threading

import pytest

from pydocker.drivers.exec.cgroups import fs as cgroupfs
from pydocker.drivers.exec.spec import Resources

pytestmark = pytest.mark.kernel


@pytest.fixture
def cgroup_calls(monkeypatch):
    """(function name, thread ident) of every cgroup file operation from now on."""
    calls = []
    for name in ("makedirs", "write", "remove", "read", "read_int", "read_keyed", "read_pids"):
        original = getattr(cgroupfs, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append((_name, threading.get_ident()))
            return _original(*args, **kwargs)
        monkeypatch.setattr(cgroupfs, name, spy)
    return calls


def test_cgroup_work_of_a_run_stays_off_the_reactor(driver, run, cgroup_calls):
    status, _ = run(["true"], resources=Resources(memory=64 << 20, pids_limit=50))
    assert status.exit_code == 0
    # The native driver makes its cgroup levels with fs.makedirs (v1 and v2); LXC makes them itself.
    makes = driver.name == "native"
    made = {"write", "remove"} | ({"makedirs"} if makes else set())
    assert made <= {name for name, _ in cgroup_calls}
    assert "read_keyed" in {name for name, _ in cgroup_calls}    # the exit's OOM check
    on_reactor = [name for name, thread in cgroup_calls if thread == threading.get_ident()]
    assert on_reactor == []


def test_the_lxc_start_watch_reads_proc_off_the_reactor(driver, run, monkeypatch):
    """Until the command runs, the lxc driver watches /proc (``lxc/ready.py``): a process in
    the middle of an exec holds up a reader of its /proc files."""
    if driver.name != "lxc":
        pytest.skip("only the lxc driver watches /proc for its start")
    from pydocker.drivers.exec.lxc import ready
    checks = []
    original = ready.running_command

    def spy(*args):
        checks.append(threading.get_ident())
        return original(*args)
    monkeypatch.setattr(ready, "running_command", spy)
    status, _ = run(["true"])
    assert status.exit_code == 0 and checks
    assert threading.get_ident() not in checks
