"""The docker CLI 28 against ``pydocker -d -e lxc``: the engine's container
lifecycle on the lxc exec driver, end to end."""

import glob
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from pydocker.testing.daemon import DaemonProcess

pytestmark = pytest.mark.kernel


def lxc_processes(name):
    """lxc-execute and hook processes naming ``name`` on their command line (no zombies)."""
    out = subprocess.run(["pgrep", "-f", "-r", "DRSTU", name], capture_output=True, text=True)
    return out.stdout.split()


@pytest.fixture(scope="module")
def lxc_daemon(tmp_path_factory):
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    if shutil.which("lxc-execute") is None:
        pytest.skip("LXC is not installed")
    parent = "pydocker-lxc-" + os.urandom(4).hex()      # tells our cgroups from other tests'
    d = DaemonProcess(tmp_path_factory.mktemp("lxc") / "daemon",
                      extra_args=["-e", "lxc", "--exec-opt", "lxc.prlimit.nproc=4000:5000",
                                  "--cgroup-parent", parent])
    d.start()
    d.import_busybox()
    yield d
    assert d.stop() == 0, d.log()[-3000:]
    # The host as it was: no cgroup, LXC process or mount of this daemon's left.
    assert glob.glob("/sys/fs/cgroup/*/" + parent) == []
    assert lxc_processes(d.base) == []
    with open("/proc/self/mountinfo") as f:
        assert [line for line in f if d.base in line] == []


def docker(d, *args, check=True, input=None, timeout=60):
    proc = subprocess.run(["docker", "-H", d.host, *args], capture_output=True, text=True,
                          timeout=timeout, input=input)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (%d): %s\n%s"
                             % (" ".join(args), proc.returncode, proc.stderr, d.log()[-3000:]))
    return proc


def test_info_names_the_lxc_driver(lxc_daemon):
    out = subprocess.run(["curl", "-s", "--unix-socket", lxc_daemon.socket, "http://d/info"],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["ExecutionDriver"] == "lxc"


def test_run_rm_prints_output_and_is_removed(lxc_daemon):
    out = docker(lxc_daemon, "run", "--rm", "busybox", "sh", "-c",
                 "echo hello; hostname; ulimit -u").stdout.split()
    assert out[0] == "hello" and len(out[1]) == 12
    assert out[2] == "4000"            # the raw lxc.* line from --exec-opt applies
    assert docker(lxc_daemon, "ps", "-aq").stdout.strip() == ""


@pytest.mark.parametrize("command, code", [
    ("exit 0", 0), ("exit 3", 3),
    ("sh -c 'kill -KILL $$'; exit $?", 137), ("sh -c 'kill -TERM $$'; exit $?", 143),
])
def test_exit_codes(lxc_daemon, command, code):
    proc = docker(lxc_daemon, "run", "--rm", "busybox", "sh", "-c", command, check=False)
    assert proc.returncode == code, proc.stderr


def test_missing_binary_is_127(lxc_daemon):
    proc = docker(lxc_daemon, "run", "--rm", "busybox", "nosuchcommand", check=False)
    assert proc.returncode == 127
    assert "executable file not found" in proc.stderr


def test_an_exec_that_cannot_start_says_why(lxc_daemon):
    """The lxc driver refuses these before lxc-attach runs; the refusal came after the
    stream's upgrade and was lost (exit 0, nothing said)."""
    cid = docker(lxc_daemon, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    try:
        for args, code, text in ((["-u", "nouser", cid, "whoami"], 126, "unable to find user nouser"),
                                 ([cid, "nosuchcmd"], 127, "executable file not found")):
            result = docker(lxc_daemon, "exec", *args, check=False)
            assert (result.returncode, text in result.stdout) == (code, True), result
    finally:
        docker(lxc_daemon, "rm", "-f", cid)


def test_run_it_has_a_tty(lxc_daemon):
    """``run -it`` under a pty made by script(1), as a terminal user would. The
    CLI sends its window size just after the start (the engine does not apply
    HostConfig.ConsoleSize yet), hence the pause before ``stty size``."""
    command = ("docker -H %s run -it --rm busybox sh -c "
               "'test -t 0 && echo IS-A-TTY; sleep 1; stty size'" % lxc_daemon.host)
    proc = subprocess.run(["script", "-qec", "stty rows 21 cols 77; " + command, "/dev/null"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "IS-A-TTY" in proc.stdout and "21 77" in proc.stdout


def test_stdin_pipe(lxc_daemon):
    out = docker(lxc_daemon, "run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z",
                 input="piped\n").stdout
    assert out == "PIPED\n"


def test_detached_logs_exec_stats_stop_rm(lxc_daemon):
    d = lxc_daemon
    cid = docker(d, "run", "-d", "--name", "lxcweb", "-e", "GREETING=hi", "-m", "64m",
                 "busybox", "sh", "-c",
                 "trap 'echo bye; exit 0' TERM; echo started; while true; do sleep 0.1; done"
                 ).stdout.strip()
    try:
        deadline = time.monotonic() + 10
        while "started" not in docker(d, "logs", cid).stdout:
            assert time.monotonic() < deadline, "no output in the logs"
            time.sleep(0.1)
        out = docker(d, "exec", "-u", "daemon", "-w", "/tmp", "-e", "EXTRA=1", cid, "sh", "-c",
                     "echo $GREETING$EXTRA; id -u; pwd").stdout.split()
        assert out == ["hi1", "1", "/tmp"]
        assert docker(d, "exec", cid, "sh", "-c", "exit 7", check=False).returncode == 7
        stats = json.loads(docker(d, "stats", "--no-stream", "--format", "{{json .}}",
                                  cid).stdout)
        assert stats["Name"] == "lxcweb" and "64MiB" in stats["MemUsage"]
        top = docker(d, "top", cid).stdout
        assert "sleep" in top or "sh -c" in top
        docker(d, "pause", cid)
        assert docker(d, "inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == "paused"
        docker(d, "unpause", cid)
        docker(d, "stop", "-t", "10", cid)
        state = json.loads(docker(d, "inspect", cid).stdout)[0]["State"]
        assert state["Status"] == "exited" and state["ExitCode"] == 0
        assert docker(d, "logs", cid).stdout.split() == ["started", "bye"]
    finally:
        docker(d, "rm", "-f", cid, check=False)
    assert docker(d, "ps", "-aq").stdout.strip() == ""


def test_container_is_on_the_bridge(lxc_daemon):
    """The network hook runs from LXC's start-host hook: eth0 has its address
    before the command runs."""
    out = docker(lxc_daemon, "run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show",
                 "eth0").stdout
    assert " inet " in out


def test_refused_features_say_why(lxc_daemon):
    proc = docker(lxc_daemon, "run", "--rm", "--group-add", "daemon", "busybox", "true",
                  check=False)
    assert proc.returncode != 0 and "supplementary groups" in proc.stderr
    assert docker(lxc_daemon, "ps", "-aq").stdout.strip() == ""


def test_no_lxc_state_is_left_behind(lxc_daemon):
    docker(lxc_daemon, "run", "--rm", "busybox", "true")
    home = os.path.join(lxc_daemon.exec_root, "execdriver", "lxc")
    assert sorted(os.listdir(home)) == ["hook.sh", "lxc-execute", "rootfs-mount"]


def test_daemon_stop_removes_the_parents_lxc_made(tmp_path):
    """LXC places cgroups from each hierarchy's root, not under the daemon's own cgroup."""
    parent = "pydocker-lxc-" + os.urandom(4).hex()
    # --bridge=none: this second daemon must not take over (and at its stop remove) the
    # pydocker0 bridge and iptables chains of the module's daemon in the same namespace.
    d = DaemonProcess(tmp_path / "d", extra_args=["-e", "lxc", "--cgroup-parent", parent,
                                                  "--bridge=none"]).start()
    d.import_busybox()
    docker(d, "run", "--rm", "--net", "none", "busybox", "true")
    made = glob.glob("/sys/fs/cgroup/*/" + parent)
    assert made, "LXC placed no cgroup under the parent"
    assert d.stop() == 0
    assert [path for path in made if os.path.exists(path)] == []


def test_containers_of_a_crashed_daemon_are_cleaned_at_its_next_start(tmp_path):
    parent = "pydocker-lxc-" + os.urandom(4).hex()      # tells our cgroups from other tests'
    d = DaemonProcess(tmp_path / "d", extra_args=["-e", "lxc", "--cgroup-parent", parent,
                                                  "--bridge=none"]).start()  # as above
    try:
        d.import_busybox()
        cid = docker(d, "run", "-d", "--name", "survivor", "busybox", "sleep", "60").stdout.strip()
        pid = int(docker(d, "inspect", "-f", "{{.State.Pid}}", "survivor").stdout)
        d.kill()
        assert os.path.exists("/proc/%d" % pid)     # LXC's container outlives the daemon
        # ... and when it exits, LXC's monitor waits in its stop hook for the dead daemon.
        os.kill(pid, signal.SIGKILL)
        d.start()           # which cleans up before it serves
        assert lxc_processes(cid) == []
        assert glob.glob("/sys/fs/cgroup/*/%s/*/" % parent) == []
        state = docker(d, "inspect", "-f", "{{.State.Status}}", "survivor").stdout.strip()
        assert state == "exited"
        docker(d, "rm", "survivor")
        assert docker(d, "run", "--rm", "busybox", "echo", "again").stdout == "again\n"
    finally:
        assert d.stop() == 0, d.log()[-3000:]
    assert glob.glob("/sys/fs/cgroup/*/" + parent) == []


def test_volumes_tmpfs_and_read_only_root(lxc_daemon):
    d = lxc_daemon
    docker(d, "run", "--rm", "-v", "lxcdata:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    out = docker(d, "run", "--rm", "--read-only", "--tmpfs", "/scratch", "-v", "lxcdata:/data:ro",
                 "busybox", "sh", "-c",
                 "cat /data/f; touch /x 2>/dev/null || echo RO; touch /scratch/y && echo TMP; "
                 "touch /data/g 2>/dev/null || echo VOLRO").stdout.split()
    assert out == ["kept", "RO", "TMP", "VOLRO"]
    docker(d, "volume", "rm", "lxcdata")


def test_restart_policy_restarts(lxc_daemon):
    d = lxc_daemon
    cid = docker(d, "run", "-d", "--restart", "on-failure:2", "busybox", "sh", "-c",
                 "exit 3").stdout.strip()
    try:
        deadline = time.monotonic() + 20
        while True:
            state = json.loads(docker(d, "inspect", cid).stdout)[0]
            if state["RestartCount"] == 2 and state["State"]["Status"] == "exited":
                break
            assert time.monotonic() < deadline, state["State"]
            time.sleep(0.2)
        assert state["State"]["ExitCode"] == 3
    finally:
        docker(d, "rm", "-f", cid, check=False)


def test_oom_is_reported(lxc_daemon):
    d = lxc_daemon
    cid = docker(d, "run", "-d", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                 "x=a; while true; do x=$x$x; done").stdout.strip()
    try:
        assert docker(d, "wait", cid, timeout=60).stdout.strip() == "137"
        state = json.loads(docker(d, "inspect", cid).stdout)[0]["State"]
        assert state["OOMKilled"] is True
    finally:
        docker(d, "rm", "-f", cid, check=False)
