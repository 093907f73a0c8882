"""Fixtures for graph driver tests: root check and loop-mounted filesystems."""

import contextlib
import os
import shutil
import subprocess

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/graph/" in str(item.fspath):
            item.add_marker(pytest.mark.kernel)


@pytest.fixture(autouse=True)
def _needs_root():
    if os.geteuid() != 0:
        pytest.skip("graph driver tests need root (owners, device nodes, mounts)")


@contextlib.contextmanager
def loop_filesystem(workdir, mkfs, size_mb=256):
    """A fresh filesystem made by ``mkfs`` (argv list) on a loop device, mounted; cleaned up after."""
    image = os.path.join(workdir, "fs.img")
    mountpoint = os.path.join(workdir, "mnt")
    os.makedirs(mountpoint, exist_ok=True)
    with open(image, "wb") as f:
        f.truncate(size_mb << 20)
    subprocess.run([*mkfs, image], check=True, capture_output=True)
    device = subprocess.run(["losetup", "--find", "--show", image], check=True, capture_output=True,
                            text=True).stdout.strip()
    try:
        subprocess.run(["mount", device, mountpoint], check=True, capture_output=True)
        try:
            yield mountpoint
        finally:
            subprocess.run(["umount", "-l", mountpoint], check=False)
    finally:
        subprocess.run(["losetup", "-d", device], check=False)
        os.unlink(image)


@pytest.fixture(scope="session")
def btrfs_mount(tmp_path_factory):
    """A btrfs filesystem on a loop device for the whole session."""
    if os.geteuid() != 0:
        pytest.skip("btrfs tests need root")
    if not shutil.which("mkfs.btrfs"):
        pytest.skip("mkfs.btrfs (btrfs-progs) is not installed")
    with loop_filesystem(str(tmp_path_factory.mktemp("btrfs")), ["mkfs.btrfs", "-q"]) as mountpoint:
        yield mountpoint
