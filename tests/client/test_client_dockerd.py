"""Our client against Docker's own dockerd: the client is a general Engine API client.

dockerd runs in private mount and network namespaces on a temporary data root,
without a bridge or iptables, and is stopped (its cgroups removed) afterwards.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

pytestmark = [
    pytest.mark.dockerd, pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("dockerd") is None,
                       reason="Docker's dockerd is not installed (Debian package docker.io)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="dockerd needs root"),
]

CGROUP_ROOT = "/sys/fs/cgroup"


class Dockerd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pdc-", dir="/tmp")  # short: socket path limits
        self.cgroup_parent = "pydocker-client-test-" + os.path.basename(self.dir)
        self.url = f"unix://{self.dir}/d.sock"
        self.pidfile = os.path.join(self.dir, "d.pid")
        script = ('mount --make-rprivate / && ip link set lo up && exec dockerd '
                  f'--data-root {self.dir}/root --exec-root {self.dir}/x --pidfile {self.pidfile} '
                  f'-H {self.url} --bridge=none --iptables=false --ip6tables=false '
                  f'--cgroup-parent=/{self.cgroup_parent}')
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(["unshare", "--mount", "--net", "--fork", "sh", "-c", script],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            if run(self.url, "version").returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError("dockerd did not start: " + open(self.log.name).read()[-2000:])

    def stop(self):
        try:
            with open(self.pidfile) as f:
                os.kill(int(f.read()), 15)  # unshare --fork ignores SIGTERM while waiting
        except (OSError, ValueError):
            self.proc.kill()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        for controller in os.listdir(CGROUP_ROOT):
            path = os.path.join(CGROUP_ROOT, controller, self.cgroup_parent)
            if os.path.isdir(path):
                os.rmdir(path)
        shutil.rmtree(self.dir, ignore_errors=True)


def run(url, *argv, stdin=None):
    return subprocess.run([sys.executable, "-m", "pydocker", "-H", url, *argv],
                          capture_output=True, input=stdin, timeout=120)


@pytest.fixture(scope="module")
def dockerd():
    daemon = Dockerd()
    try:
        daemon.wait_ready()
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="module")
def busybox(dockerd, tmp_path_factory):
    from pydocker.testing.images import make_rootfs_tar

    tarball = str(tmp_path_factory.mktemp("rootfs") / "busybox.tar")
    make_rootfs_tar(tarball)
    result = run(dockerd.url, "import", "-c", 'CMD ["/bin/sh"]', tarball, "pdc-busybox:1")
    assert result.returncode == 0, result.stderr
    return "pdc-busybox:1"


def text(result):
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_version_negotiates_with_dockerd(dockerd):
    out = text(run(dockerd.url, "version"))
    server_api = text(run(dockerd.url, "version", "-f", "{{.Server.ApiVersion}}")).strip()
    assert out.startswith("Client:\n Version:")
    assert "\nServer:" in out and " Engine:\n" in out
    expected = server_api if tuple(map(int, server_api.split("."))) < (1, 44) else "1.44"
    assert f"API version:       {expected}" in out


def test_info_shows_the_server_section(dockerd):
    out = text(run(dockerd.url, "info"))
    assert "Server Version:" in out and "Storage Driver:" in out
    assert text(run(dockerd.url, "info", "-f", "{{.DockerRootDir}}")).strip() == \
        f"{dockerd.dir}/root"


def test_images_lists_an_imported_image(dockerd, busybox):
    out = text(run(dockerd.url, "images"))
    header, *rows = out.splitlines()
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(r.split()[:2] == ["pdc-busybox", "1"] for r in rows)
    assert text(run(dockerd.url, "image", "inspect", "-f", "{{json .Config.Cmd}}", busybox)) \
        == '["/bin/sh"]\n'


def test_ps_run_logs_and_exit_codes(dockerd, busybox):
    assert text(run(dockerd.url, "ps")).splitlines()[0].split()[:2] == ["CONTAINER", "ID"]
    echo = run(dockerd.url, "run", "--rm", busybox, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert echo.returncode == 3
    assert echo.stdout == b"out\n" and echo.stderr == b"err\n"
    assert text(run(dockerd.url, "run", "--rm", "-i", busybox, "cat", stdin=b"piped\n")) == \
        "piped\n"
    cid = text(run(dockerd.url, "run", "-d", "--name", "pdc-sleeper", "-l", "t=1", busybox,
                   "sh", "-c", "echo started; sleep 300")).strip()
    try:
        assert len(cid) == 64
        listed = text(run(dockerd.url, "ps", "--format", "{{.Names}} {{.Label \"t\"}}"))
        assert "pdc-sleeper 1\n" in listed
        deadline = time.time() + 10
        while b"started" not in run(dockerd.url, "logs", "pdc-sleeper").stdout:
            assert time.time() < deadline
            time.sleep(0.2)
        assert text(run(dockerd.url, "exec", "pdc-sleeper", "echo", "in-exec")) == "in-exec\n"
        assert text(run(dockerd.url, "inspect", "-f", "{{.State.Running}}", "pdc-sleeper")) == \
            "true\n"
    finally:
        assert text(run(dockerd.url, "rm", "-f", "pdc-sleeper")) == "pdc-sleeper\n"
    missing = run(dockerd.url, "rm", "pdc-sleeper")
    assert missing.returncode == 1
    assert missing.stderr.startswith(b"Error response from daemon: ")
