"""The image and archive features through the daemon on each graph driver this host can run
(``-s vfs``, ``-s overlay2``, ``-s btrfs`` on a loop-mounted btrfs); devicemapper needs a kernel
with device-mapper (see tests/graph for where it is skipped and why)."""

import contextlib
import json
import os
import shutil
import subprocess

import pytest

from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.loopfs import loop_filesystem

pytestmark = pytest.mark.kernel


def btrfs_on_loop(workdir):
    if shutil.which("mkfs.btrfs") is None:
        pytest.skip("mkfs.btrfs (btrfs-progs) is not installed")
    return loop_filesystem(workdir, ["mkfs.btrfs", "-q"], size_mb=512)


@pytest.fixture(params=["vfs", "overlay2", "btrfs"])
def driver_daemon(request, tmp_path):
    with contextlib.ExitStack() as stack:
        base = tmp_path / "daemon"
        if request.param == "btrfs":
            base = os.path.join(stack.enter_context(btrfs_on_loop(str(tmp_path))), "daemon")
        d = DaemonProcess(base, ["-s", request.param]).start()
        try:
            d.import_busybox()
            yield request.param, d
        finally:
            status = d.stop()
        assert status == 0, d.log()


def docker(d, *args):
    proc = subprocess.run(["docker", "-H", d.host, *args], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stderr}\n{d.log()[-3000:]}"
    return proc.stdout


def test_archive_features_on_each_driver(driver_daemon, docker_cli, tmp_path):
    name, d = driver_daemon
    assert json.loads(docker(d, "info", "--format", "{{json .Driver}}")) == name
    docker(d, "run", "--name", "work", "busybox", "sh", "-c", "mkdir /w && echo one > /w/f && rm /etc/group")
    changes = docker(d, "diff", "work").splitlines()
    assert {"A /w", "A /w/f", "D /etc/group"} <= set(changes)
    image_id = docker(d, "commit", "work", "work:1").strip()
    export = str(tmp_path / "export.tar")
    docker(d, "export", "-o", export, "work")
    listing = subprocess.run(["tar", "tf", export], capture_output=True, text=True, check=True).stdout.split()
    assert "w/f" in listing and "etc/group" not in listing
    saved = str(tmp_path / "saved.tar")
    docker(d, "save", "-o", saved, "work:1")
    docker(d, "rm", "work")
    docker(d, "rmi", "work:1")
    assert "Loaded image: work:1" in docker(d, "load", "-i", saved)
    assert docker(d, "image", "inspect", "work:1", "--format", "{{.Id}}").strip() == image_id
    assert docker(d, "run", "--rm", "work:1", "sh", "-c", "cat /w/f; test -e /etc/group || echo gone") == "one\ngone\n"
