"""The cgroup v2 code on this host's cgroup2 mount. The host is v1 for its
controllers, so only the core v2 files (procs, freeze, kill) can be checked."""

import os
import subprocess

import pytest

from pydocker.drivers.exec.cgroups import fs, v2

pytestmark = pytest.mark.kernel


def cgroup2_mount():
    for mountpoint, fstype, _ in fs.mountinfo():
        if fstype == "cgroup2":
            return mountpoint
    return None


@pytest.fixture
def unified():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    root = cgroup2_mount()
    if root is None:
        pytest.skip("no cgroup2 mount on this host")
    if not os.path.exists(os.path.join(root, "cgroup.procs")):
        pytest.skip("the cgroup2 mount has no core files")
    return root


def test_v2_cgroup_lifecycle(unified):
    cgroup = v2.for_container("pydocker-test-v2", "c%d" % os.getpid(), unified)
    cgroup.create()
    path = cgroup.paths["unified"]
    child = subprocess.Popen(["sleep", "60"])
    try:
        cgroup.apply(child.pid)
        assert cgroup.pids() == [child.pid]
        if os.path.exists(os.path.join(path, "cgroup.freeze")):
            cgroup.freeze()
            assert fs.read_keyed(path, "cgroup.events")["frozen"] == 1
            cgroup.thaw()
            assert fs.read_keyed(path, "cgroup.events")["frozen"] == 0
    finally:
        cgroup.destroy()
        assert child.wait(timeout=10) == -9
    assert not os.path.exists(path)
    os.rmdir(os.path.dirname(path))
