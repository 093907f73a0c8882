"""Volumes end to end with the docker CLI: named, anonymous, read-only, binds, --volumes-from,
tmpfs, filled from the image, kept after container removal unless -v."""

import json
import os
import time

import pytest

from pydocker.testing.cli import docker

pytestmark = pytest.mark.kernel


def test_named_volume_persists_and_is_protected(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "volume", "create", "--label", "team=a", "data")
    docker(docker_cli, d, "run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert docker(docker_cli, d, "run", "--rm", "-v", "data:/data:ro", "busybox", "cat", "/data/f").stdout == "kept\n"
    proc = docker(docker_cli, d, "run", "--rm", "-v", "data:/data:ro", "busybox", "touch", "/data/g", check=False)
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr
    assert docker(docker_cli, d, "volume", "ls", "--filter", "label=team=a", "-q").stdout.split() == ["data"]
    docker(docker_cli, d, "create", "--name", "user", "-v", "data:/data", "busybox", "true")
    proc = docker(docker_cli, d, "volume", "rm", "data", check=False)
    assert proc.returncode != 0 and "volume is in use" in proc.stderr
    docker(docker_cli, d, "rm", "user")
    docker(docker_cli, d, "volume", "rm", "data")
    assert docker(docker_cli, d, "volume", "ls", "-q").stdout.strip() == ""


def test_new_volume_is_filled_from_the_image(busybox_daemon, docker_cli):
    out = docker(docker_cli, busybox_daemon, "run", "--rm", "-v", "etcvol:/etc", "busybox", "cat", "/etc/passwd").stdout
    assert out.startswith("root:x:0:0")


def test_anonymous_volume_removed_with_rm_v_and_shared_with_volumes_from(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "--name", "anon", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/y")
    assert docker(docker_cli, d, "run", "--rm", "--volumes-from", "anon:ro", "busybox", "cat", "/scratch/y").stdout == "x\n"
    assert len(docker(docker_cli, d, "volume", "ls", "-q").stdout.split()) == 1
    docker(docker_cli, d, "rm", "-v", "anon")
    assert docker(docker_cli, d, "volume", "ls", "-q").stdout.strip() == ""


def test_bind_mount_and_tmpfs(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    (tmp_path / "h").write_text("from host\n")
    assert docker(docker_cli, d, "run", "--rm", "-v", f"{tmp_path}:/h", "busybox", "cat", "/h/h").stdout == "from host\n"
    docker(docker_cli, d, "run", "--rm", "-v", f"{tmp_path}:/h", "busybox", "sh", "-c", "echo back > /h/out")
    assert (tmp_path / "out").read_text() == "back\n"
    out = docker(docker_cli, d, "run", "--rm", "--tmpfs", "/t:size=1m", "busybox", "sh", "-c", "mount | grep ' /t '").stdout
    assert "tmpfs" in out and "size=1024k" in out


def test_prune_removes_unused_volumes(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "volume", "create", "named")
    docker(docker_cli, d, "run", "-v", "/anon", "--rm", "busybox", "true")
    docker(docker_cli, d, "volume", "prune", "-f")  # anonymous ones only (API >= 1.42)
    assert docker(docker_cli, d, "volume", "ls", "-q").stdout.split() == ["named"]
    docker(docker_cli, d, "volume", "prune", "-f", "-a")
    assert docker(docker_cli, d, "volume", "ls", "-q").stdout.strip() == ""


def test_cp_sees_volumes_binds_and_tmpfs_like_the_container(busybox_daemon, docker_cli, tmp_path):
    """docker cp reads and writes the container's view: volumes and binds running or
    stopped, tmpfs while running; read-only mounts and root refuse writes with dockerd's errors."""
    d = busybox_daemon
    bind = tmp_path / "bind"
    bind.mkdir()
    (bind / "from-host").write_text("host\n")
    (tmp_path / "in.txt").write_text("copied in\n")
    name = "cpvol"
    docker(docker_cli, d, "run", "-d", "--name", name, "--read-only", "-v", "cpdata:/data",
           "-v", f"{bind}:/bind:ro", "--tmpfs", "/scratch", "busybox", "sh", "-c",
           "echo in-volume > /data/v; echo in-tmpfs > /scratch/t; exec sleep 60")
    try:
        def cat_out(path):
            target = tmp_path / ("out-" + path.strip("/").replace("/", "_"))
            docker(docker_cli, d, "cp", f"{name}:{path}", str(target))
            return target.read_text()

        docker(docker_cli, d, "exec", name, "sh", "-c", "while [ ! -e /scratch/t ]; do sleep 0.1; done")
        assert cat_out("/data/v") == "in-volume\n"
        assert cat_out("/bind/from-host") == "host\n"
        assert cat_out("/scratch/t") == "in-tmpfs\n"
        docker(docker_cli, d, "cp", str(tmp_path / "in.txt"), f"{name}:/data/")
        assert docker(docker_cli, d, "exec", name, "cat", "/data/in.txt").stdout == "copied in\n"
        refused = docker(docker_cli, d, "cp", str(tmp_path / "in.txt"), f"{name}:/bind/", check=False)
        assert refused.returncode != 0 and "mounted volume is marked read-only" in refused.stderr
        refused = docker(docker_cli, d, "cp", str(tmp_path / "in.txt"), f"{name}:/etc/", check=False)
        assert refused.returncode != 0 and "container rootfs is marked read-only" in refused.stderr

        docker(docker_cli, d, "stop", "-t", "0", name)
        assert cat_out("/data/in.txt") == "copied in\n"
        (tmp_path / "in.txt").write_text("while stopped\n")
        docker(docker_cli, d, "cp", str(tmp_path / "in.txt"), f"{name}:/data/")
        docker(docker_cli, d, "start", name)
        assert docker(docker_cli, d, "exec", name, "cat", "/data/in.txt").stdout == "while stopped\n"
    finally:
        docker(docker_cli, d, "rm", "-f", name)
        docker(docker_cli, d, "volume", "rm", "cpdata")


def test_bind_propagation_rshared_reaches_the_host(busybox_daemon, docker_cli, tmp_path):
    """-v src:dst:rshared: a mount made in the container appears on the host, as with
    dockerd; a source on a private mount is refused at start, naming the mount."""
    import subprocess
    shared = tmp_path / "shared"
    shared.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(shared)], check=True)
    subprocess.run(["mount", "--make-shared", str(shared)], check=True)
    d, name = busybox_daemon, "propagate"
    try:
        docker(docker_cli, d, "run", "-d", "--name", name, "--privileged", "-v", f"{shared}:/mnt:rshared",
               "busybox", "sh", "-c", "mkdir /mnt/inner && mount -t tmpfs none /mnt/inner && "
               "echo made-inside > /mnt/inner/x && exec sleep 60")
        mounts = json.loads(docker(docker_cli, d, "inspect", "-f", "{{json .Mounts}}", name).stdout)
        assert mounts[0]["Propagation"] == "rshared"
        deadline = time.monotonic() + 10
        while not (shared / "inner" / "x").exists():
            assert time.monotonic() < deadline, "the container's mount never reached the host"
            time.sleep(0.1)
        assert (shared / "inner" / "x").read_text() == "made-inside\n"
        private = tmp_path / "private"
        private.mkdir()
        refused = docker(docker_cli, d, "run", "--rm", "-v", f"{private}:/mnt:rshared", "busybox", "true",
                         check=False)
        assert refused.returncode != 0 and "is not a shared mount" in refused.stderr
    finally:
        docker(docker_cli, d, "rm", "-f", name, check=False)
        subprocess.run(["umount", "-R", "-l", str(shared)])


def test_concurrent_creates_of_one_volume_all_get_it_and_it_keeps_its_data(busybox_daemon, docker_cli):
    """As compose starting services that share a volume: every create answers with the one
    volume, and none removes the directory another create made (a lost insert did)."""
    from concurrent.futures import ThreadPoolExecutor
    d = busybox_daemon
    for round_ in range(3):
        name = f"shared{round_}"
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: docker(docker_cli, d, "volume", "create", name, check=False),
                                    range(8)))
        assert [(r.returncode, r.stdout) for r in results] == [(0, f"{name}\n")] * 8, results
        out = docker(docker_cli, d, "run", "--rm", "-v", f"{name}:/v", "busybox", "sh", "-c",
                     "echo kept > /v/f && cat /v/f").stdout
        assert out == "kept\n"
        mountpoint = docker(docker_cli, d, "volume", "inspect", "-f", "{{.Mountpoint}}", name).stdout.strip()
        with open(os.path.join(mountpoint, "f")) as f:
            assert f.read() == "kept\n"
        docker(docker_cli, d, "volume", "rm", name)
