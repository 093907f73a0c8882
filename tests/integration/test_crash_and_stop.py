"""Crash and stop hygiene: what a daemon killed with SIGKILL leaves behind is cleaned at
the next start (mounted root filesystems of containers in any state, partial downloads),
and a SIGTERM stops the daemon within --shutdown-timeout plus a short grace even when
containers ignore SIGTERM or a thread is stuck."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from pydocker.testing.cli import docker
from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.registry import REGISTRY_BINARY, SlowProxy, layer_tar, push_test_image

pytestmark = pytest.mark.kernel

HANG_DETECTOR = 30  # seconds past --shutdown-timeout after which a stop counts as hung


def wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def mount_points_naming(root, name):
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p.startswith(root) and name in p.split("/")]


def stalled_export(d, container):
    """An export whose client reads its headers and then nothing: the daemon keeps the
    container's rootfs mounted while the stream waits for the reader."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.socket)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(f"GET /containers/{container}/export HTTP/1.1\r\nHost: d\r\n\r\n".encode())
    assert b" 200 " in s.recv(64)
    return s


def test_a_rootfs_a_crash_left_mounted_is_unmounted_at_start(busybox_daemon, docker_cli):
    d = busybox_daemon
    created = docker(docker_cli, d, "create", "busybox", "true").stdout.strip()
    client = stalled_export(d, created)
    try:
        wait_for(lambda: mount_points_naming(d.root, created), "the export to mount the rootfs")
        d.kill()
    finally:
        client.close()
    assert mount_points_naming(d.root, created), "the crash should have left the rootfs mounted"
    d.start()
    assert mount_points_naming(d.root, created) == []
    state = docker(docker_cli, d, "inspect", "-f", "{{.State.Status}}", created).stdout.strip()
    assert state == "created"
    docker(docker_cli, d, "rm", created)


def pull_spools(d):
    scratch = os.path.join(d.root, "tmp")
    return [name for name in os.listdir(scratch) if name.startswith("pydocker-pull-")] \
        if os.path.isdir(scratch) else []


@pytest.mark.skipif(REGISTRY_BINARY is None, reason="Debian's docker-registry is not installed")
def test_a_pull_killed_midway_leaves_no_partial_download(make_daemon, make_registry):
    docker_py = pytest.importorskip("docker")
    registry = make_registry()
    push_test_image(f"{registry.host}/big/app:1", [layer_tar({"blob": os.urandom(8 << 20)})])
    proxy = SlowProxy(registry.host, rate=1 << 20).start()
    d = make_daemon()
    api = docker_py.APIClient(base_url=d.host, version="1.44", timeout=120)
    try:
        for message in api.pull(f"{proxy.host}/big/app", tag="1", stream=True, decode=True):
            if message.get("status") == "Downloading" and pull_spools(d):
                d.kill()
                break
    except docker_py.errors.DockerException:
        pass  # the daemon went away mid-stream
    finally:
        api.close()
        proxy.stop()
    assert pull_spools(d), "the kill should have left the download spool"
    staged = os.path.join(d.root, "image", "tarsplit", "staging-leftover")
    with open(staged, "w") as f:
        f.write("a tar-split record a crash left half-written")
    d.start()
    assert pull_spools(d) == []
    assert not os.path.exists(staged)


def test_sigterm_stops_containers_that_ignore_it_within_the_timeout(tmp_path, docker_cli):
    timeout = 2
    d = DaemonProcess(tmp_path / "d", extra_args=["--shutdown-timeout", str(timeout)]).start()
    d.import_busybox()
    for name in ("first", "second"):  # sleep as PID 1 has no handler: SIGTERM is ignored
        docker(docker_cli, d, "run", "-d", "--name", name, "busybox", "sleep", "1000")
    # a job that only ends with its container, as an attached `docker run` has
    waiting = subprocess.Popen([docker_cli, "-H", d.host, "wait", "first"], stdout=subprocess.PIPE)
    wait_for(lambda: "+job container.wait" in d.log(), "the wait job")
    began = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(timeout + HANG_DETECTOR) == 0, d.log()
    assert time.monotonic() - began < timeout + HANG_DETECTOR
    waiting.wait(30)
    log = d.log()
    assert log.count(f"did not stop within {timeout}s: killing it") == 2, log
    assert log.index("killing it") < log.index("daemon stopped")
    d.start()
    codes = docker(docker_cli, d, "inspect", "-f", "{{.State.ExitCode}}", "first", "second").stdout.split()
    assert codes == ["137", "137"]
    assert d.stop() == 0, d.log()


def test_a_stuck_thread_cannot_keep_the_daemon_alive(tmp_path):
    """A pull from a registry that accepts connections and never answers holds a worker
    thread for the registry client's whole timeout (a minute or more)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted: connects complete, requests get no answer
    timeout = 1
    d = DaemonProcess(tmp_path / "d", extra_args=["--shutdown-timeout", str(timeout)]).start()
    host = f"127.0.0.1:{silent.getsockname()[1]}"
    pulling = subprocess.Popen([sys.executable, "-m", "pydocker", "-H", d.host, "pull", f"{host}/x/y:1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: "+job image.create" in d.log(), "the pull job")
        began = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        code = d.proc.wait(timeout + HANG_DETECTOR)
        assert time.monotonic() - began < timeout + HANG_DETECTOR
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
        pulling.kill()
        pulling.wait()
        silent.close()
    assert code != 0 and "a thread is stuck" in d.log(), d.log()
    assert not os.path.exists(d.socket) and not os.path.exists(d.pidfile)
