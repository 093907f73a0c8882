"""``docker exec`` through each exec driver: joining a running container."""

import os

import pytest

from conftest import Recorder
from exec_reactor import spin, wait
from pydocker.drivers.exec.errors import ContainerStartError
from pydocker.drivers.exec import cgroups
from pydocker.drivers.exec.cgroups import fs
from pydocker.drivers.exec.spec import ExecSpec, Namespaces
from pydocker.errdefs import Conflict

pytestmark = pytest.mark.kernel
NAMESPACES = ("pid", "net", "mnt", "uts", "ipc")


def exec_in(driver, container_id, args, **kwargs):
    io = Recorder()
    status = wait(driver.exec(container_id, ExecSpec(args=args, **kwargs), io))
    return status, io


def container_cgroup(text):
    """The path of the container's cgroup in a /proc/PID/cgroup text: the memory
    controller's under v1, the unified one under v2."""
    return fs.parse_proc_cgroup(text)["" if cgroups.version() == 2 else "memory"]


def exec_cgroup(text):
    """``container_cgroup`` of an exec'd process: lxc-attach puts it in a ``.lxc`` leaf
    below the container's cgroup on the unified hierarchy (no processes in inner nodes)."""
    path = container_cgroup(text)
    return os.path.dirname(path) if os.path.basename(path) == ".lxc" else path


def cgroup_seen_inside(driver, start, namespaces):
    """(the container's cgroup as an exec in it sees it, the same seen by its PID 1)."""
    spec, io, outcome = start(["sleep", "60"], namespaces=namespaces)
    assert not outcome, outcome         # the start failed: say why
    status, out = exec_in(driver, spec.id, ["sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup"])
    own, init = out.text.split("--\n")
    return spec, exec_cgroup(own), container_cgroup(init)


def test_exec_joins_every_namespace_and_the_cgroup(driver, start):
    spec, io, outcome = start(["sleep", "60"], hostname="joined")
    script = "hostname; cat /proc/1/cmdline; echo; " + \
        "".join("readlink /proc/self/ns/%s; " % ns for ns in NAMESPACES + ("cgroup",)) + \
        "echo --; cat /proc/self/cgroup; echo --; cat /proc/1/cgroup"
    status, out = exec_in(driver, spec.id, ["sh", "-c", script])
    head, own, init = out.text.split("--\n")
    lines = head.splitlines()
    assert status.exit_code == 0
    assert lines[0] == "joined"
    with open("/proc/%d/cmdline" % io.pid) as f:     # the container's PID 1, seen from the host
        assert lines[1].split("\0")[0] == f.read().split("\0")[0]
    assert lines[2:] == [os.readlink("/proc/%d/ns/%s" % (io.pid, ns)) for ns in NAMESPACES + ("cgroup",)]
    assert exec_cgroup(own) == container_cgroup(init)     # in the cgroup of the container's PID 1


def test_a_private_cgroup_namespace_is_rooted_at_the_containers_cgroup(driver, start):
    spec, own, init = cgroup_seen_inside(driver, start, Namespaces(cgroup="private"))
    assert own == init == "/"


def test_the_host_cgroup_namespace_shows_the_host_paths(driver, start):
    if driver.name == "lxc" and cgroups.version() == 2:
        pytest.skip("LXC keeps no host cgroup namespace on cgroup v2 (test_lxc checks the refusal)")
    spec, own, init = cgroup_seen_inside(driver, start, Namespaces(cgroup="host"))
    assert own == init
    assert own.endswith("/" + spec.id)


def test_exec_exit_code_env_user_and_cwd(driver, start):
    spec, io, outcome = start(["sleep", "60"], env=["PATH=/bin", "A=1", "B=2"])
    status, out = exec_in(driver, spec.id, ["sh", "-c", "echo $A$B; id -u; pwd; exit 3"],
                          env=["B=x"], user="daemon", cwd="/tmp")
    assert status.exit_code == 3
    assert out.text.split() == ["1x", "1", "/tmp"]


def test_exec_has_the_containers_privileges(driver, start):
    spec, io, outcome = start(["sleep", "60"], cap_drop=["NET_RAW"])
    status, out = exec_in(driver, spec.id, ["grep", "-E", "CapEff|Seccomp:", "/proc/self/status"])
    fields = dict(line.split(":\t") for line in out.text.splitlines())
    assert int(fields["CapEff"], 16) == 0xA80425FB & ~(1 << 13)
    assert fields["Seccomp"] == "2"


def test_exec_missing_binary_is_127(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    with pytest.raises(ContainerStartError) as info:
        exec_in(driver, spec.id, ["nope"])
    assert info.value.exit_code == 127


def test_exec_with_a_tty(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    status, out = exec_in(driver, spec.id, ["sh", "-c", "test -t 0 && echo TTY"], tty=True)
    assert "TTY" in out.text and status.exit_code == 0


@pytest.mark.parametrize("run_tty,pts", [(False, "/dev/pts/0"), (True, "/dev/pts/1")])
def test_an_exec_tty_is_the_next_pty_of_the_containers_devpts(driver, start, run_tty, pts):
    """The exec's terminal comes from the container's devpts too: after its console (pts 0)
    when it has one."""
    spec, io, outcome = start(["sleep", "60"], tty=run_tty)
    status, out = exec_in(driver, spec.id, ["sh", "-c", "tty; printf 'a\\nb'"], tty=True)
    assert (status.exit_code, out.out) == (0, pts.encode() + b"\r\na\r\nb")


def test_exec_into_a_stopped_container_is_a_conflict(driver):
    with pytest.raises(Conflict):
        driver.exec("not-running", ExecSpec(args=["true"]), Recorder())


def test_exec_tty_is_resized_through_its_stdin_handle(driver, start):
    spec, io, outcome = start(["sleep", "60"])
    out = Recorder()
    d = driver.exec(spec.id, ExecSpec(args=["sh", "-c", "read x; stty size"], tty=True,
                                      open_stdin=True), out)
    spin(lambda: out.stdin is not None)
    out.stdin.resize(12, 34)
    out.stdin.write(b"\n")
    assert wait(d).exit_code == 0
    assert "12 34" in out.text


def test_an_exec_pty_has_devpts_mode_group_tty(driver, start):
    """0620, group tty (5), as runc leaves it (lxc-attach chmods it to 0700 before the command:
    the lxc driver undoes that before the exec's start is reported)."""
    spec, io, outcome = start(["sleep", "60"])
    out = Recorder()
    d = driver.exec(spec.id, ExecSpec(args=["sh", "-c", "read x; stat -c '%a %g' $(tty)"], tty=True,
                                      open_stdin=True), out)
    spin(lambda: out.stdin is not None)
    out.stdin.write(b"\n")
    assert wait(d).exit_code == 0
    assert out.text.split("\r\n")[-2:] == ["620 5", ""], out.out


def test_privileged_exec_has_every_capability(driver, start):
    from pydocker.drivers.exec import capabilities
    spec, io, outcome = start(["sleep", "60"])
    status, out = exec_in(driver, spec.id, ["grep", "CapEff", "/proc/self/status"],
                          privileged=True)
    assert int(out.text.split()[1], 16) == capabilities.mask(capabilities.held())
