"""Every built-in graph driver against the shared conformance suite (real kernel)."""

import os
import shutil

import pytest

from pydocker.drivers.graph.btrfs import BtrfsDriver
from pydocker.drivers.graph.devmapper import DeviceMapperDriver
from pydocker.drivers.graph.dmsetup import udev_running
from pydocker.drivers.graph.mount import fs_name, mount, unmount
from pydocker.drivers.graph.overlay import MAX_LOWERS, OverlayDriver
from pydocker.drivers.graph.vfs import VFSDriver
from pydocker.errdefs import PrerequisiteMissing
from pydocker.testing.graphtest import GraphDriverConformance


class TestVFS(GraphDriverConformance):
    @pytest.fixture
    def driver(self, tmp_path):
        d = VFSDriver(str(tmp_path / "vfs"), {})
        yield d
        d.cleanup()


class TestOverlay(GraphDriverConformance):
    deep_chain = MAX_LOWERS + 1  # a base and 128 lowers under the top: options must use short relative paths

    @pytest.fixture
    def driver(self, tmp_path):
        home = tmp_path / "overlay2"
        tmpfs = None
        if fs_name(str(tmp_path)) in ("overlayfs", "aufs", "zfs", "ecryptfs", "nfs", "fuse"):
            tmpfs = str(tmp_path / "tmpfs")  # the test dir cannot back an overlay: use a tmpfs
            os.mkdir(tmpfs)
            mount("tmpfs", tmpfs, "tmpfs")
            home = os.path.join(tmpfs, "overlay2")
        d = OverlayDriver(str(home), {})
        yield d
        d.cleanup()
        shutil.rmtree(home, ignore_errors=True)
        if tmpfs:
            unmount(tmpfs)


class TestBtrfs(GraphDriverConformance):
    @pytest.fixture
    def driver(self, btrfs_mount, request):
        home = os.path.join(btrfs_mount, request.node.name)
        d = BtrfsDriver(home, {})
        yield d
        d.cleanup()
        for id in os.listdir(os.path.join(home, "subvolumes")):
            d.remove(id)


def _devmapper_or_skip(tmp_path):
    """With udevd the driver syncs with it; without, it runs as dockerd does with dm.override_udev_sync_check."""
    options = {"dm.loopdatasize": "2G", "dm.basesize": "1G"}
    if not udev_running():
        options["dm.override_udev_sync_check"] = "true"
    try:
        return DeviceMapperDriver(str(tmp_path / "devicemapper"), options)
    except PrerequisiteMissing as e:
        pytest.skip(str(e))


class TestDeviceMapper(GraphDriverConformance):
    @pytest.fixture
    def driver(self, tmp_path):
        d = _devmapper_or_skip(tmp_path)
        yield d
        d.cleanup()
