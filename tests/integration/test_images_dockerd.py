"""Interoperability with Docker's own dockerd (Debian's docker.io): tarballs saved by one load
into the other, and the images run there.

dockerd runs inside the test's namespaces on a temporary data root with its own socket, no
bridge and no iptables; it starts the containerd it needs itself (Debian's dockerd supervises
a containerd when none is given with --containerd).
"""

import json

import pytest

from pydocker.testing.cli import docker_at as cli

pytestmark = [pytest.mark.kernel, pytest.mark.dockerd]


def test_pydocker_save_loads_and_runs_in_dockerd(busybox_daemon, dockerd, tmp_path):
    ours = busybox_daemon.host
    cli(ours, "run", "--name", "maker", "busybox", "sh", "-c", "echo from-pydocker > /origin")
    committed = cli(ours, "commit", "-c", 'CMD ["cat", "/origin"]', "maker", "made:1").stdout.strip()
    saved = str(tmp_path / "ours.tar")
    cli(ours, "save", "-o", saved, "made:1", "busybox:latest")
    out = cli(dockerd.host, "load", "-i", saved).stdout
    assert "Loaded image: made:1" in out and "Loaded image: busybox:latest" in out
    assert cli(dockerd.host, "image", "inspect", "made:1", "--format", "{{.Id}}").stdout.strip() == committed
    assert cli(dockerd.host, "run", "--rm", "--network", "none", "made:1").stdout == "from-pydocker\n"


def test_dockerd_save_loads_and_runs_in_pydocker(busybox_daemon, dockerd, tmp_path):
    from pydocker.testing.images import make_rootfs_tar
    rootfs = make_rootfs_tar(str(tmp_path / "rootfs.tar"))
    theirs = dockerd.host
    cli(theirs, "import", "-c", 'CMD ["/bin/sh"]', rootfs, "dbase:1")
    cli(theirs, "run", "--name", "maker", "--network", "none", "dbase:1", "sh", "-c", "echo from-dockerd > /origin")
    image_id = cli(theirs, "commit", "maker", "dmade:2").stdout.strip()
    saved = str(tmp_path / "theirs.tar")
    cli(theirs, "save", "-o", saved, "dmade:2")
    ours = busybox_daemon.host
    out = cli(ours, "load", "-i", saved).stdout
    assert out.strip().endswith("Loaded image: dmade:2")
    doc = json.loads(cli(ours, "image", "inspect", "dmade:2").stdout)[0]
    assert doc["Id"] == image_id and len(doc["RootFS"]["Layers"]) == 2
    assert cli(ours, "run", "--rm", "dmade:2", "cat", "/origin").stdout == "from-dockerd\n"
    # And back: our save of what dockerd made loads into dockerd again under the same ID.
    cli(theirs, "rm", "maker")
    cli(theirs, "rmi", "dmade:2", "dbase:1")
    again = str(tmp_path / "again.tar")
    cli(ours, "save", "-o", again, "dmade:2")
    cli(theirs, "load", "-i", again)
    assert cli(theirs, "image", "inspect", "dmade:2", "--format", "{{.Id}}").stdout.strip() == image_id


def test_a_deduplicated_dockerd_save_loads_in_pydocker(busybox_daemon, dockerd, tmp_path):
    """Two images with one identical layer: dockerd's save writes it once and makes the other
    layer.tar a symlink to it."""
    import tarfile
    from pydocker.testing.images import make_rootfs_tar
    rootfs = make_rootfs_tar(str(tmp_path / "rootfs.tar"))
    theirs, ours = dockerd.host, busybox_daemon.host
    cli(theirs, "import", "-c", 'CMD ["echo", "one"]', rootfs, "dup:1")
    cli(theirs, "import", "-c", 'CMD ["echo", "two"]', rootfs, "dup:2")
    saved = str(tmp_path / "dup.tar")
    cli(theirs, "save", "-o", saved, "dup:1", "dup:2")
    with tarfile.open(saved) as tar:
        assert [m for m in tar if m.name.endswith("layer.tar") and m.issym()], "dockerd wrote no link"
    out = cli(ours, "load", "-i", saved).stdout
    assert "Loaded image: dup:1" in out and "Loaded image: dup:2" in out
    assert cli(ours, "run", "--rm", "dup:1").stdout == "one\n"
    assert cli(ours, "run", "--rm", "dup:2").stdout == "two\n"
