"""btrfs specifics: layers are subvolumes and snapshots, removed with what containers nested in them."""

import os
import shutil

import pytest

from pydocker.drivers.graph.btrfs import BtrfsDriver, subvolume_create
from pydocker.testing.graphtest import LayerTar

SUBVOLUME_ROOT_INODE = 256


@pytest.fixture
def driver(btrfs_mount, request):
    home = os.path.join(btrfs_mount, "specific-" + request.node.name)
    d = BtrfsDriver(home, {})
    yield d
    for id in os.listdir(os.path.join(home, "subvolumes")):
        d.remove(id)
    shutil.rmtree(home)


def test_layers_are_snapshots(driver):
    driver.create("base")
    driver.apply_diff("base", None, LayerTar().file("data", b"x" * 100000).stream())
    driver.create("child", "base")
    base, child = driver.get("base"), driver.get("child")
    try:
        assert os.stat(base).st_ino == os.stat(child).st_ino == SUBVOLUME_ROOT_INODE
        assert os.stat(base).st_dev != os.stat(child).st_dev  # separate subvolumes
        with open(os.path.join(child, "data"), "rb") as f:
            assert f.read() == b"x" * 100000
    finally:
        driver.put("base"), driver.put("child")
    assert dict(driver.status())["Build Version"].startswith("btrfs-progs")


def test_remove_deletes_nested_subvolumes(driver):
    driver.create("container")
    root = driver.get("container")
    subvolume_create(root, "nested")
    subvolume_create(os.path.join(root, "nested"), "deeper")
    driver.put("container")
    driver.remove("container")
    assert not driver.exists("container")
    assert os.listdir(os.path.join(driver.home, "subvolumes")) == []
