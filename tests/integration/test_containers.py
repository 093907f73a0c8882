"""Container lifecycle end to end: the docker CLI 28, docker-py and pydocker's client against a
real daemon on the real kernel."""

import json
import os
import time

import pytest

from pydocker.testing.cli import docker

pytestmark = pytest.mark.kernel


def test_run_rm_prints_output_and_is_removed(busybox_daemon, docker_cli):
    out = docker(docker_cli, busybox_daemon, "run", "--rm", "busybox", "echo", "hello").stdout
    assert out == "hello\n"
    assert docker(docker_cli, busybox_daemon, "ps", "-aq").stdout.strip() == ""


@pytest.mark.parametrize("command, code", [
    ("exit 0", 0), ("exit 1", 1), ("exit 255", 255),
    # PID 1 ignores signals it sent itself (as under Docker), so a child takes them:
    ("sh -c 'kill -KILL $$'; exit $?", 137), ("sh -c 'kill -TERM $$'; exit $?", 143),
])
def test_exit_codes(busybox_daemon, docker_cli, command, code):
    proc = docker(docker_cli, busybox_daemon, "run", "--rm", "busybox", "sh", "-c", command, check=False)
    assert proc.returncode == code, proc.stderr


def test_missing_binary_is_127_and_not_executable_126(busybox_daemon, docker_cli):
    proc = docker(docker_cli, busybox_daemon, "run", "--rm", "busybox", "/no/such/binary", check=False)
    assert proc.returncode == 127, proc.stderr
    assert "no such file or directory" in proc.stderr.lower() or "not found" in proc.stderr
    proc = docker(docker_cli, busybox_daemon, "run", "--rm", "busybox", "/etc/passwd", check=False)
    assert proc.returncode == 126, proc.stderr


def test_stdin_pipe(busybox_daemon, docker_cli):
    out = docker(docker_cli, busybox_daemon, "run", "-i", "--rm", "busybox", "cat", input="hi\n").stdout
    assert out == "hi\n"


def test_stdout_and_stderr_kept_apart(busybox_daemon, docker_cli):
    proc = docker(docker_cli, busybox_daemon, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert proc.stdout == "out\n" and proc.stderr == "err\n"


def test_detached_lifecycle_logs_stop_inspect(busybox_daemon, docker_cli):
    d = busybox_daemon
    cid = docker(docker_cli, d, "run", "-d", "--name", "web", "busybox", "sh", "-c",
                 "trap 'echo bye; exit 0' TERM; echo started; while true; do sleep 0.1; done").stdout.strip()
    assert len(cid) == 64
    state = json.loads(docker(docker_cli, d, "inspect", "-f", "{{json .State}}", "web").stdout)
    assert state["Running"] is True and state["Pid"] > 0
    ps = docker(docker_cli, d, "ps", "--filter", "status=running", "--format", "{{.Names}}").stdout.split()
    assert ps == ["web"]
    deadline = time.time() + 10
    while "started" not in docker(docker_cli, d, "logs", "web").stdout and time.time() < deadline:
        time.sleep(0.1)
    docker(docker_cli, d, "stop", "web")
    assert docker(docker_cli, d, "logs", "web").stdout == "started\nbye\n"
    assert docker(docker_cli, d, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web").stdout.strip() == "exited 0"
    assert docker(docker_cli, d, "ps", "-a", "--filter", "exited=0", "--format", "{{.ID}}").stdout.strip() == cid[:12]
    docker(docker_cli, d, "rm", "web")
    assert docker(docker_cli, d, "ps", "-aq").stdout.strip() == ""


def test_stop_timeout_then_kill(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "stubborn", "busybox", "sleep", "60")
    started = time.monotonic()
    docker(docker_cli, d, "stop", "-t", "1", "stubborn")
    assert time.monotonic() - started >= 1.0
    assert docker(docker_cli, d, "inspect", "-f", "{{.State.ExitCode}}", "stubborn").stdout.strip() == "137"


def test_kill_signal_and_rm_force(busybox_daemon, docker_cli):
    d = busybox_daemon
    # --init: our init is PID 1 and forwards signals, so sleep dies of SIGTERM (PID 1 itself would ignore it)
    docker(docker_cli, d, "run", "-d", "--init", "--name", "kk", "busybox", "sleep", "60")
    proc = docker(docker_cli, d, "rm", "kk", check=False)
    assert proc.returncode != 0 and "cannot remove a running container" in proc.stderr
    docker(docker_cli, d, "kill", "-s", "TERM", "kk")
    docker(docker_cli, d, "wait", "kk")
    assert docker(docker_cli, d, "inspect", "-f", "{{.State.ExitCode}}", "kk").stdout.strip() == "143"
    docker(docker_cli, d, "start", "kk")
    docker(docker_cli, d, "kill", "kk")
    docker(docker_cli, d, "wait", "kk")
    assert docker(docker_cli, d, "inspect", "-f", "{{.State.ExitCode}}", "kk").stdout.strip() == "137"
    docker(docker_cli, d, "start", "kk")
    docker(docker_cli, d, "rm", "-f", "kk")
    assert docker(docker_cli, d, "ps", "-aq").stdout.strip() == ""


def test_name_conflict_and_unknown_image(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "create", "--name", "taken", "busybox", "true")
    proc = docker(docker_cli, d, "create", "--name", "taken", "busybox", "true", check=False)
    assert proc.returncode != 0 and "is already in use" in proc.stderr
    proc = docker(docker_cli, d, "create", "no-such-image:here", "true", check=False)
    assert proc.returncode != 0


def test_isolation_seen_from_inside(busybox_daemon, docker_cli):
    out = docker(docker_cli, busybox_daemon, "run", "--rm", "--hostname", "boxy", "busybox", "sh", "-c",
                 "hostname; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'; test -e /work && echo host-visible; "
                 "grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status").stdout.split("\n")
    assert out[0] == "boxy"
    assert out[1] == "sh"
    assert int(out[2]) <= 3  # only the container's own processes
    assert "host-visible" not in out
    assert "Seccomp:\t2" in out


def test_pause_unpause(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "pz", "busybox", "sleep", "60")
    docker(docker_cli, d, "pause", "pz")
    assert docker(docker_cli, d, "inspect", "-f", "{{.State.Status}}", "pz").stdout.strip() == "paused"
    docker(docker_cli, d, "unpause", "pz")
    assert docker(docker_cli, d, "inspect", "-f", "{{.State.Status}}", "pz").stdout.strip() == "running"
    docker(docker_cli, d, "rm", "-f", "pz")


def test_restart_policy_restarts(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3")
    deadline = time.time() + 20
    while time.time() < deadline:
        info = docker(docker_cli, d, "inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky").stdout.split()
        if info == ["2", "exited"]:
            break
        time.sleep(0.2)
    assert info == ["2", "exited"]


def test_rename(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "create", "--name", "old", "busybox", "true")
    docker(docker_cli, d, "rename", "old", "new")
    assert docker(docker_cli, d, "ps", "-a", "--format", "{{.Names}}").stdout.split() == ["new"]


def test_docker_py_lifecycle(busybox_daemon):
    docker_py = pytest.importorskip("docker")
    client = docker_py.DockerClient(base_url=busybox_daemon.host, version="auto")
    try:
        assert client.containers.run("busybox", ["echo", "py"], remove=True) == b"py\n"
        c = client.containers.create("busybox", ["sh", "-c", "echo a; exit 4"], name="pyc")
        c.start()
        assert c.wait()["StatusCode"] == 4
        assert c.logs() == b"a\n"
        c.reload()
        assert c.status == "exited"
        c.remove()
        assert client.containers.list(all=True) == []
    finally:
        client.close()


def test_our_client_run_and_ps(busybox_daemon):
    d = busybox_daemon
    assert d.client("run", "--rm", "busybox", "echo", "ours").stdout == "ours\n"
    proc = d.client("run", "--rm", "busybox", "sh", "-c", "exit 5", check=False)
    assert proc.returncode == 5
    d.client("run", "-d", "--name", "bg", "busybox", "sleep", "60")
    assert "bg" in d.client("ps").stdout
    d.client("rm", "-f", "bg")


def test_containers_marked_exited_after_daemon_crash(tmp_path, docker_cli):
    from pydocker.testing.daemon import DaemonProcess
    d = DaemonProcess(tmp_path / "d").start()
    try:
        d.import_busybox()
        docker(docker_cli, d, "run", "-d", "--name", "survivor", "busybox", "sleep", "60")
        pid = int(docker(docker_cli, d, "inspect", "-f", "{{.State.Pid}}", "survivor").stdout)
        root = str(tmp_path / "d")

        def mounts_under_root():
            with open("/proc/self/mountinfo") as f:
                return [line.split()[4] for line in f if line.split()[4].startswith(root)]
        assert mounts_under_root(), "the running container's rootfs should be mounted"
        d.kill()
        d.start()
        # what the crashed daemon left mounted is gone once the new one serves
        assert mounts_under_root() == []
        # the processes of containers that outlived the crashed daemon are killed at its next start
        deadline = time.time() + 10
        while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(f"/proc/{pid}")
        state = docker(docker_cli, d, "inspect", "-f", "{{.State.Status}} {{.State.Running}}", "survivor").stdout.split()
        assert state == ["exited", "false"]
        docker(docker_cli, d, "rm", "survivor")
    finally:
        assert d.stop() == 0


def test_daemon_stop_removes_its_cgroup_parent(tmp_path, docker_cli):
    from pydocker.drivers.exec.cgroups import fs as cgroupfs
    from pydocker.testing.daemon import DaemonProcess
    parent = "pydocker-t-" + os.urandom(4).hex()
    d = DaemonProcess(tmp_path / "d", extra_args=["--cgroup-parent", parent]).start()
    d.import_busybox()
    docker(docker_cli, d, "run", "-d", "--name", "held", "busybox", "sleep", "60")
    own = cgroupfs.own_cgroups()
    memory = next(m for m, fstype, opts in cgroupfs.mountinfo() if fstype == "cgroup" and "memory" in opts)
    parent_dir = os.path.join(memory, cgroupfs.container_path(own.get("memory", "/"), parent, "").strip("/"))
    assert os.path.isdir(parent_dir)
    assert d.stop() == 0
    assert not os.path.exists(parent_dir), "the daemon left its parent cgroup behind"


def test_kernel_memory_is_ignored_or_discarded_like_dockerd(busybox_daemon):
    """API >= 1.42 ignores KernelMemory; older clients get dockerd's warning where
    the kernel does not enforce it (this one keeps the file but ignores writes)."""
    import docker as dockerpy
    from pydocker.drivers.exec import cgroups
    old = dockerpy.APIClient(base_url="unix://" + busybox_daemon.socket, version="1.41")
    new = dockerpy.APIClient(base_url="unix://" + busybox_daemon.socket, version="1.44")
    made = []
    try:
        body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"KernelMemory": 64 << 20}}
        created = new.post(new._url("/containers/create"), json=body).json()
        made.append(created["Id"])
        assert created["Warnings"] in ([], None)
        assert new.inspect_container(created["Id"])["HostConfig"]["KernelMemory"] == 0
        legacy = old.post(old._url("/containers/create"), json=body).json()
        made.append(legacy["Id"])
        enforced = cgroups.kernel_memory_enforced()
        kept = old.inspect_container(legacy["Id"])["HostConfig"]["KernelMemory"]
        assert kept == (64 << 20 if enforced else 0)
        assert bool(legacy["Warnings"]) is not enforced
        assert new.info()["KernelMemory"] is enforced
        updated = old.post(old._url("/containers/%s/update" % created["Id"]),
                           json={"KernelMemory": 32 << 20}).json()
        assert bool(updated["Warnings"]) is not enforced
    finally:
        for cid in made:
            new.remove_container(cid, force=True)
        old.close()
        new.close()


def test_sigkill_answers_once_the_container_is_gone(busybox_daemon):
    """As dockerd: inspect right after `kill` (SIGKILL) sees the exit; other signals don't wait."""
    import docker as dockerpy
    client = dockerpy.APIClient(base_url=busybox_daemon.host)
    made = []
    try:
        for _ in range(3):
            cid = client.create_container("busybox", ["sleep", "60"])["Id"]
            made.append(cid)
            client.start(cid)
            client.kill(cid)
            state = client.inspect_container(cid)["State"]
            assert (state["Running"], state["ExitCode"]) == (False, 137)
        trap = client.create_container("busybox", ["sh", "-c", "trap 'exit 3' USR1; echo trapped; sleep 60 & wait"])["Id"]
        made.append(trap)
        client.start(trap)
        deadline = time.monotonic() + 30  # PID 1 ignores USR1 until its trap is set
        while b"trapped" not in client.logs(trap):
            assert time.monotonic() < deadline, "the trap was never set"
            time.sleep(0.05)
        client.kill(trap, "USR1")
        assert client.wait(trap, timeout=30)["StatusCode"] == 3
    finally:
        for cid in made:
            client.remove_container(cid, force=True)
        client.close()


def test_exec_that_cannot_start_says_why_like_dockerd(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "execfail", "busybox", "sleep", "60")
    try:
        for args, code, text in ((["-u", "nouser", "execfail", "whoami"], 126, "unable to find user nouser"),
                                 (["-w", "/no/such", "execfail", "pwd"], 126, "/no/such"),
                                 (["execfail", "nosuchcmd"], 127, "executable file not found")):
            result = docker(docker_cli, d, "exec", *args, check=False)
            assert (result.returncode, text in result.stdout) == (code, True), result
    finally:
        docker(docker_cli, d, "rm", "-f", "execfail")
