"""Fixtures for graph driver tests: root check and loop-mounted filesystems."""

import os
import shutil

import pytest

from pydocker.testing.loopfs import loop_filesystem


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/graph/" in str(item.fspath):
            item.add_marker(pytest.mark.kernel)


@pytest.fixture(autouse=True)
def _needs_root():
    if os.geteuid() != 0:
        pytest.skip("graph driver tests need root (owners, device nodes, mounts)")


@pytest.fixture(scope="session")
def btrfs_mount(tmp_path_factory):
    """A btrfs filesystem on a loop device for the whole session."""
    if os.geteuid() != 0:
        pytest.skip("btrfs tests need root")
    if not shutil.which("mkfs.btrfs"):
        pytest.skip("mkfs.btrfs (btrfs-progs) is not installed")
    with loop_filesystem(str(tmp_path_factory.mktemp("btrfs")), ["mkfs.btrfs", "-q"]) as mountpoint:
        yield mountpoint
