"""Registry interoperability with Docker's own dockerd: an image pushed by pydocker is pulled by
dockerd and runs there; an image pushed by dockerd is pulled by pydocker and runs. Both talk to
Debian's docker-registry on 127.0.0.1 (insecure by default for loopback, in both daemons)."""

import pytest

from pydocker.testing.cli import docker_at as cli

pytestmark = [pytest.mark.kernel, pytest.mark.dockerd]


def test_push_by_pydocker_pull_and_run_by_dockerd(busybox_daemon, dockerd, make_registry):
    registry = make_registry()
    ref = f"{registry.host}/interop/from-pydocker:1"
    cli(busybox_daemon.host, "tag", "busybox:latest", ref)
    cli(busybox_daemon.host, "push", ref)
    cli(dockerd.host, "pull", ref)
    ours = cli(busybox_daemon.host, "image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()
    theirs = cli(dockerd.host, "image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()
    assert ours == theirs
    out = cli(dockerd.host, "run", "--rm", "--network", "none", ref, "echo", "ran in dockerd").stdout
    assert out == "ran in dockerd\n"


def test_push_by_dockerd_pull_and_run_by_pydocker(busybox_daemon, dockerd, make_registry, tmp_path):
    from pydocker.testing.images import make_rootfs_tar
    registry = make_registry()
    ref = f"{registry.host}/interop/from-dockerd:1"
    tarball = make_rootfs_tar(str(tmp_path / "rootfs.tar"))
    cli(dockerd.host, "import", tarball, ref)
    cli(dockerd.host, "push", ref)
    cli(busybox_daemon.host, "pull", ref)
    theirs = cli(dockerd.host, "image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()
    ours = cli(busybox_daemon.host, "image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()
    assert ours == theirs
    out = cli(busybox_daemon.host, "run", "--rm", "--network", "none", ref, "echo", "ran in pydocker").stdout
    assert out == "ran in pydocker\n"
