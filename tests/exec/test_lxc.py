"""What only the lxc driver has: its configuration text, raw lxc.* lines
(--exec-opt and LxcConf), seccomp in LXC's format, and clean-up after a crash."""

import os
import signal

import pytest
from twisted.internet import reactor

from conftest import Recorder
from exec_reactor import spin, wait
from pydocker.drivers.exec import cgroups
from pydocker.drivers.exec import spec as specs
from pydocker.drivers.exec.lxc import config, seccomp
from pydocker.drivers.exec import capabilities
from pydocker.errdefs import InvalidParameter, PrerequisiteMissing



def lxc_driver(home, options=None):
    from pydocker.drivers.exec.lxc.driver import LXCDriver
    try:
        return LXCDriver(str(home), options or {}, reactor)
    except PrerequisiteMissing as e:
        pytest.skip("lxc driver unavailable: %s" % e)


def sleeping_in_a_first_driver(home, make_spec):
    """A container running ``sleep 60`` under an LXC driver on ``home``, for tests in
    which that driver (the daemon) dies and a second one cleans up after it:
    (first driver, spec, io, outcome)."""
    first = lxc_driver(home)
    io = Recorder()
    spec = make_spec(["sleep", "60"])
    outcome = []
    first.run(spec, io).addBoth(outcome.append)
    spin(lambda: io.pid is not None)
    return first, spec, io, outcome


# --- pure text, no kernel -------------------------------------------------------------

def test_raw_lines_are_checked():
    assert config.check_raw("lxc.cap.drop", " chown ") == "lxc.cap.drop = chown"
    for key, value in (("cap.drop", "x"), ("lxc.a\nlxc.b", "x"), ("lxc.x", "1\n2"),
                       ("lxc.hook.start", "/bin/evil"), ("lxc.rootfs.path", "/"),
                       ("lxc.cgroup.dir", "elsewhere")):
        with pytest.raises(InvalidParameter):
            config.check_raw(key, value)


def test_mount_entries_are_escaped():
    assert config.escape("/a b\\c") == "/a\\040b\\134c"


def test_namespaces_keep_the_user_namespace_and_share_by_pid():
    lines = config._namespaces(specs.Namespaces(network="host", ipc="/proc/42/ns/ipc"), None)
    assert "lxc.namespace.keep = net user" in lines
    assert "lxc.namespace.share.ipc = 42" in lines
    assert "lxc.net.0.type = empty" not in lines
    with pytest.raises(InvalidParameter):
        config._namespaces(specs.Namespaces(pid="/run/netns/x"), None)


def test_a_remapped_container_gets_idmap_lines_and_shares_the_joined_user_namespace():
    userns = {"uid_map": [[0, 300000, 1000], [1000, 400000, 64536]], "gid_map": [[0, 300000, 65536]]}
    lines = config._namespaces(specs.Namespaces(ipc="host", network="/proc/42/ns/net"), userns)
    assert lines[lines.index("lxc.namespace.share.net = 42") + 1:] == [
        "lxc.idmap = u 0 300000 1000", "lxc.idmap = u 1000 400000 64536", "lxc.idmap = g 0 300000 65536",
        "lxc.namespace.share.user = 42", "lxc.namespace.keep = ipc"]


def test_seccomp_default_profile_in_lxc_format():
    text = seccomp.profile_text(None, capabilities.resolve())
    lines = text.splitlines()
    assert lines[:2] == ["2", "allowlist errno 1"]
    assert "read allow" in lines and "clone3 errno 38" in lines
    # Docker's masked comparison: value is the mask, valueTwo the expected value.
    assert "clone allow [0,0,SCMP_CMP_MASKED_EQ,2114060288]" in lines
    assert seccomp.profile_text("unconfined", []) is None


def test_seccomp_actions_lxc_lacks_are_refused():
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_LOG"}]}
    with pytest.raises(InvalidParameter, match="cannot apply the seccomp action 'log'"):
        seccomp.profile_text(profile, [])


# --- on the kernel --------------------------------------------------------------------

kernel = pytest.mark.kernel


@kernel
def test_exec_opt_and_lxc_conf_lines_apply(tmp_path, make_spec):
    driver = lxc_driver(tmp_path / "lxc", {"lxc.prlimit.nproc": "300:400"})
    io = Recorder()
    spec = make_spec(["sh", "-c", "ulimit -u; echo $FROM_LXC_CONF"],
                     lxc_conf=[("lxc.environment", "FROM_LXC_CONF=yes")])
    assert wait(driver.run(spec, io)).exit_code == 0
    assert io.text.split() == ["300", "yes"]


@kernel
def test_a_raw_line_lxc_rejects_is_invalid_input(tmp_path, make_spec):
    driver = lxc_driver(tmp_path / "lxc")
    spec = make_spec(["true"], lxc_conf=[("lxc.cap.drop", "chown")])   # with our cap.keep
    with pytest.raises(InvalidParameter, match="Keeping and dropping capabilities"):
        wait(driver.run(spec, Recorder()))
    assert not os.path.exists(tmp_path / "lxc" / spec.id)


@kernel
def test_bad_exec_opts_and_lxc_conf_are_refused(tmp_path, make_spec):
    with pytest.raises(InvalidParameter):
        lxc_driver(tmp_path / "a", {"native.cgroupdriver": "cgroupfs"})
    driver = lxc_driver(tmp_path / "b")
    with pytest.raises(InvalidParameter, match="managed by the lxc exec driver"):
        driver.run(make_spec(["true"], lxc_conf=[("lxc.hook.start", "/x")]), Recorder())
    assert sorted(os.listdir(tmp_path / "b")) == ["hook.sh", "lxc-execute", "rootfs-mount"]


@kernel
def test_custom_seccomp_profile_is_enforced(tmp_path, make_spec):
    driver = lxc_driver(tmp_path / "lxc")
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                             "errnoRet": 13}]}
    io = Recorder()
    spec = make_spec(["sh", "-c", "mkdir /tmp/x-$$ || echo DENIED"], seccomp=profile)
    wait(driver.run(spec, io))
    assert "DENIED" in io.text and "Permission denied" in io.err.decode()


@kernel
def test_the_host_cgroup_namespace_is_refused_on_cgroup_v2(tmp_path, make_spec):
    if cgroups.version() != 2:
        pytest.skip("this host has cgroup v1, where LXC keeps the host's cgroup namespace")
    driver = lxc_driver(tmp_path / "lxc")
    with pytest.raises(InvalidParameter, match="cannot keep the host's cgroup namespace"):
        driver.run(make_spec(["true"], namespaces=specs.Namespaces(cgroup="host")), Recorder())


class StartWitness(Recorder):
    """Records the commands running under the container's init when the start is reported."""

    def started(self, pid, stdin):
        super().started(pid, stdin)
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            children = f.read().split()
        self.commands_at_start = [open("/proc/%s/cmdline" % child).read().split("\0")[0]
                                  for child in children]


@kernel
def test_started_means_the_command_runs_and_signals_reach_it(tmp_path, make_spec, monkeypatch):
    """The gap after LXC's start-host hook, held open by a start hook that sleeps (a
    test-only config line: the driver refuses lxc.hook.* from users)."""
    driver = lxc_driver(tmp_path / "lxc")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "slow").write_text("#!/bin/sh\nsleep 1\n")
    (hooks / "slow").chmod(0o755)
    prepare = driver._prepare

    def prepare_a_slow_start(spec):
        path = prepare(spec)
        with open(path, "a") as f:
            f.write("lxc.hook.start = /hooks/slow\n")
        return path
    monkeypatch.setattr(driver, "_prepare", prepare_a_slow_start)
    io = StartWitness()
    spec = make_spec(["sleep", "60"], mounts=[specs.Mount(str(hooks), "/hooks")])
    outcome = []
    driver.run(spec, io).addBoth(outcome.append)
    spin(lambda: io.pid is not None or outcome)
    assert not outcome, outcome
    assert io.commands_at_start == ["sleep"]
    driver.kill(spec.id, signal.SIGTERM)
    spin(lambda: outcome)
    assert outcome[0].exit_code == 143


@kernel
def test_clean_after_a_daemon_crash_kills_the_container_and_removes_cgroups(tmp_path,
                                                                             make_spec):
    home = tmp_path / "lxc"
    first, spec, io, outcome = sleeping_in_a_first_driver(home, make_spec)
    placed = cgroups.of_process(io.pid).paths.values()    # v1: one per controller; v2: one
    # A new daemon knows nothing but the state on disk.
    second = lxc_driver(home)
    second.clean(spec.id)
    spin(lambda: outcome)
    assert not os.path.exists("/proc/%d" % io.pid) or open(
        "/proc/%d/stat" % io.pid).read().split()[2] == "Z"
    assert not [path for path in placed if os.path.exists(path)]
    assert not os.path.exists(home / spec.id)
