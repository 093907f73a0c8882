"""Our client against Docker's own dockerd: the client is a general Engine API client.

dockerd (``pydocker.testing.dockerd``) runs inside the test's namespaces on a temporary data
root, without a bridge or iptables, and is stopped (its cgroups removed) afterwards.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from pydocker.testing import dockerd as docker_daemon

pytestmark = [
    pytest.mark.dockerd, pytest.mark.kernel,
    pytest.mark.skipif(os.geteuid() != 0, reason="dockerd needs root"),
]


def run(url, *argv, stdin=None):
    return subprocess.run([sys.executable, "-m", "pydocker", "-H", url, *argv],
                          capture_output=True, input=stdin, timeout=120)


@pytest.fixture(scope="module")
def dockerd():
    missing = docker_daemon.available()
    if missing:
        pytest.skip(missing)
    base = tempfile.mkdtemp(prefix="pdc-", dir="/tmp")  # short: socket path limits
    daemon = docker_daemon.Dockerd(base).start()
    try:
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def busybox(dockerd, tmp_path_factory):
    from pydocker.testing.images import make_rootfs_tar

    tarball = str(tmp_path_factory.mktemp("rootfs") / "busybox.tar")
    make_rootfs_tar(tarball)
    result = run(dockerd.host, "import", "-c", 'CMD ["/bin/sh"]', tarball, "pdc-busybox:1")
    assert result.returncode == 0, result.stderr
    return "pdc-busybox:1"


def text(result):
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_version_negotiates_with_dockerd(dockerd):
    out = text(run(dockerd.host, "version"))
    server_api = text(run(dockerd.host, "version", "-f", "{{.Server.ApiVersion}}")).strip()
    assert out.startswith("Client:\n Version:")
    assert "\nServer:" in out and " Engine:\n" in out
    expected = server_api if tuple(map(int, server_api.split("."))) < (1, 44) else "1.44"
    assert f"API version:       {expected}" in out


def test_info_shows_the_server_section(dockerd):
    out = text(run(dockerd.host, "info"))
    assert "Server Version:" in out and "Storage Driver:" in out
    assert text(run(dockerd.host, "info", "-f", "{{.DockerRootDir}}")).strip() == \
        f"{dockerd.base}/root"


def test_images_lists_an_imported_image(dockerd, busybox):
    out = text(run(dockerd.host, "images"))
    header, *rows = out.splitlines()
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(r.split()[:2] == ["pdc-busybox", "1"] for r in rows)
    assert text(run(dockerd.host, "image", "inspect", "-f", "{{json .Config.Cmd}}", busybox)) \
        == '["/bin/sh"]\n'


def test_ps_run_logs_and_exit_codes(dockerd, busybox):
    assert text(run(dockerd.host, "ps")).splitlines()[0].split()[:2] == ["CONTAINER", "ID"]
    echo = run(dockerd.host, "run", "--rm", busybox, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert echo.returncode == 3
    assert echo.stdout == b"out\n" and echo.stderr == b"err\n"
    assert text(run(dockerd.host, "run", "--rm", "-i", busybox, "cat", stdin=b"piped\n")) == \
        "piped\n"
    cid = text(run(dockerd.host, "run", "-d", "--name", "pdc-sleeper", "-l", "t=1", busybox,
                   "sh", "-c", "echo started; sleep 300")).strip()
    try:
        assert len(cid) == 64
        listed = text(run(dockerd.host, "ps", "--format", "{{.Names}} {{.Label \"t\"}}"))
        assert "pdc-sleeper 1\n" in listed
        deadline = time.time() + 10
        while b"started" not in run(dockerd.host, "logs", "pdc-sleeper").stdout:
            assert time.time() < deadline
            time.sleep(0.2)
        assert text(run(dockerd.host, "exec", "pdc-sleeper", "echo", "in-exec")) == "in-exec\n"
        assert text(run(dockerd.host, "inspect", "-f", "{{.State.Running}}", "pdc-sleeper")) == \
            "true\n"
    finally:
        assert text(run(dockerd.host, "rm", "-f", "pdc-sleeper")) == "pdc-sleeper\n"
    missing = run(dockerd.host, "rm", "pdc-sleeper")
    assert missing.returncode == 1
    assert missing.stderr.startswith(b"Error response from daemon: ")
