"""The cgroup v2 code on this host's cgroup2 mount. The host is v1 for its
controllers, so only the core v2 files (procs, freeze, kill) can be checked."""

import os
import subprocess
import sys

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


# --- the eBPF device filter (works on any cgroup2 mount, controllers or not) -------------

PROBE = r'''
import os, sys
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
for path, flags in (("/dev/null", os.O_RDWR), ("/dev/loop-control", os.O_RDONLY),
                    (sys.argv[2], os.O_RDONLY), (sys.argv[2], os.O_WRONLY)):
    try:
        os.close(os.open(path, flags))
        print("ok")
    except OSError as e:
        print(e.strerror)
node = os.path.join(sys.argv[3], "made")
os.mknod(node, 0o600 | 0o060000, os.makedev(7, 0))      # mknod is allowed ("b *:* m")...
try:
    os.close(os.open(node, os.O_RDONLY))
    print("ok")
except OSError as e:
    print(e.strerror)                                      # ...using the node is not
'''


def _probe_devices(unified, tmp_path, devices, privileged):
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control to be refused")
    cgroup = v2.for_container("pydocker-test-v2", "d%d" % os.getpid(), unified)
    cgroup.create()
    try:
        cgroup.configure_devices(devices, [], privileged)
        result = subprocess.run([sys.executable, "-c", PROBE, cgroup.paths["unified"], "/dev/full",
                                 str(tmp_path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout.split("\n")[:5]
    finally:
        cgroup.destroy()
        os.rmdir(os.path.dirname(cgroup.paths["unified"]))


def test_device_filter_allows_docker_defaults_and_refuses_the_rest(unified, tmp_path):
    # /dev/full is a default device (c 1:7 rwm); loop-control and block nodes are not.
    assert _probe_devices(unified, tmp_path, [], False) == [
        "ok", "Operation not permitted", "ok", "ok", "Operation not permitted"]


def test_device_filter_adds_devices_with_their_permissions(unified, tmp_path):
    from pydocker.drivers.exec.spec import Device
    devices = [Device("/dev/loop-control", "/dev/loop-control", "r")]
    assert _probe_devices(unified, tmp_path, devices, False)[:2] == ["ok", "ok"]


def test_device_filter_read_only_rule_refuses_writes(unified, tmp_path):
    from pydocker.drivers.exec.cgroups import devicefilter, devicerules
    cgroup = v2.for_container("pydocker-test-v2", "r%d" % os.getpid(), unified)
    cgroup.create()
    try:
        rules = [r for r in devicerules.rules_for([], []) if r != "c 1:7 rwm"] + ["c 1:7 r"]
        devicefilter.attach(cgroup.paths["unified"], rules)
        result = subprocess.run([sys.executable, "-c", PROBE, cgroup.paths["unified"], "/dev/full",
                                 str(tmp_path)], capture_output=True, text=True, timeout=30)
        assert result.stdout.split("\n")[2:4] == ["ok", "Operation not permitted"]
    finally:
        cgroup.destroy()
        os.rmdir(os.path.dirname(cgroup.paths["unified"]))


def test_privileged_has_no_device_filter(unified, tmp_path):
    assert _probe_devices(unified, tmp_path, [], True)[1] == "ok"
