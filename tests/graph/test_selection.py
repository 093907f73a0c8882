"""Driver discovery (entry points), plugin checks, selection and the data root's memory of its driver."""

import os
import shutil

import pytest

from pydocker.drivers.graph.btrfs import BtrfsDriver
from pydocker.drivers.graph.devmapper import DeviceMapperConfig, DeviceMapperDriver
from pydocker.drivers.graph.mount import mount, unmount
from pydocker.drivers.graph.overlay import OverlayDriver
from pydocker.drivers.graph.selection import load_driver_class, new_driver, previous_driver
from pydocker.drivers.graph.vfs import VFSDriver
from pydocker.errdefs import InvalidParameter, PrerequisiteMissing, SystemError_


def install_plugin(site, name, target):
    """A real (if tiny) installed distribution declaring one graph driver entry point."""
    dist = site / f"plugin_{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: plugin-{name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[pydocker.graphdrivers]\n{name} = {target}\n")


def test_builtins_and_alias():
    assert load_driver_class("vfs") is VFSDriver
    assert load_driver_class("overlay2") is OverlayDriver
    assert load_driver_class("overlay") is OverlayDriver
    assert load_driver_class("btrfs") is BtrfsDriver
    assert load_driver_class("devicemapper") is DeviceMapperDriver
    with pytest.raises(InvalidParameter, match="unknown storage driver 'zfs'"):
        load_driver_class("zfs")


def test_broken_plugins_are_reported_by_name(tmp_path, monkeypatch):
    site = tmp_path / "site"
    install_plugin(site, "ghost", "no_such_module_anywhere:Driver")
    install_plugin(site, "hollow", "pydocker.drivers.graph.refcount:RefCounts")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(SystemError_, match="plugin 'ghost'.*is broken"):
        load_driver_class("ghost")
    with pytest.raises(SystemError_, match="plugin 'hollow'.*is broken"):
        load_driver_class("hollow")
    assert load_driver_class("vfs") is VFSDriver  # one broken plugin does not spoil the others


def test_auto_selection_prefers_overlay_and_remembers(tmp_path):
    root = str(tmp_path / "data")
    assert previous_driver(root) is None
    driver = new_driver(root)
    assert driver.name == "overlay2"
    assert os.path.isdir(os.path.join(root, "image", "overlay2"))
    assert previous_driver(root) == "overlay2"
    with pytest.raises(InvalidParameter, match="pass -s overlay2"):
        new_driver(root, "vfs")
    assert new_driver(root).name == "overlay2"
    assert new_driver(root, "overlay").name == "overlay2"


def test_auto_selection_on_btrfs(btrfs_mount):
    root = os.path.join(btrfs_mount, "auto-select")
    try:
        assert new_driver(root).name == "btrfs"
    finally:
        shutil.rmtree(root)


def test_falls_back_to_vfs_on_overlayfs(tmp_path):
    """A data root on overlayfs (Docker in Docker) can hold neither btrfs nor overlay2 layers."""
    for part in ("lower", "upper", "work", "merged"):
        (tmp_path / part).mkdir()
    merged = str(tmp_path / "merged")
    mount("overlay", merged, "overlay",
          data=f"lowerdir={tmp_path}/lower,upperdir={tmp_path}/upper,workdir={tmp_path}/work")
    try:
        with pytest.raises(PrerequisiteMissing, match="overlayfs"):
            OverlayDriver(os.path.join(merged, "overlay2"), {})
        with pytest.raises(PrerequisiteMissing, match="not on a btrfs"):
            BtrfsDriver(os.path.join(merged, "btrfs"), {})
        assert new_driver(os.path.join(merged, "data")).name == "vfs"
    finally:
        unmount(merged)


def test_options_are_checked(tmp_path):
    with pytest.raises(InvalidParameter, match="overlay2.size"):
        new_driver(str(tmp_path / "a"), "vfs", {"overlay2.size": "10G"})
    with pytest.raises(InvalidParameter, match="vfs.nonsense"):
        new_driver(str(tmp_path / "b"), "vfs", {"vfs.nonsense": "1"})
    assert previous_driver(str(tmp_path / "b")) is None  # a refused start records nothing


def test_devicemapper_options():
    config = DeviceMapperConfig({"dm.basesize": "20G", "dm.fs": "xfs", "dm.blocksize": "512K",
                                 "dm.mkfsarg": "-m crc=0", "dm.blkdiscard": "false"})
    assert (config.base_size, config.fs, config.block_size) == (20 << 30, "xfs", 512 << 10)
    assert config.mkfs_args == ["-m", "crc=0"] and config.blkdiscard is False
    for bad in ({"dm.fs": "zfs"}, {"dm.blocksize": "100K"}, {"dm.basesize": "lots"}, {"dm.datadev": "/dev/sdb"},
                {"dm.blkdiscard": "maybe"}, {"dm.unknown": "1"}):
        with pytest.raises(InvalidParameter):
            DeviceMapperConfig(bad)


def test_devicemapper_needs_the_kernel_feature(tmp_path):
    if os.path.exists("/sys/module/dm_mod") or os.path.exists("/dev/mapper/control"):
        pytest.skip("this kernel has device-mapper; the conformance suite covers the driver")
    with pytest.raises(PrerequisiteMissing, match="device-mapper is not available in this kernel"):
        new_driver(str(tmp_path / "data"), "devicemapper")
    with pytest.raises(InvalidParameter):  # bad options are still reported first
        new_driver(str(tmp_path / "data"), "devicemapper", {"dm.fs": "zfs"})
