"""Unit tests (no root, no kernel features) for the pieces of the native driver
that are pure logic: capability sets, user lookup, seccomp rules, paths."""

import os

import pytest

from pydocker.drivers.exec import spec as specs
from pydocker.drivers.exec.cgroups import fs as cgroupfs, v1, v2
from pydocker.drivers.exec import capabilities, users
from pydocker.drivers.exec.native import linux, rootfs
from pydocker.drivers.exec.seccomp import default as seccomp_default, profile as seccomp
from pydocker.drivers.exec.sealed import SealedCopy


def test_capabilities_follow_dockers_rules():
    default = capabilities.resolve()
    assert sorted(default) == sorted(c for c in capabilities.DOCKER_DEFAULT
                                     if c in capabilities.held())
    assert "CHOWN" not in capabilities.resolve(cap_drop=["chown"])
    assert capabilities.resolve(cap_drop=["ALL"], cap_add=["CAP_KILL"]) == ["KILL"]
    assert capabilities.resolve(cap_add=["ALL"], cap_drop=["MKNOD"]) == [
        c for c in capabilities.held() if c != "MKNOD"]
    with pytest.raises(ValueError, match="unknown capability"):
        capabilities.resolve(cap_add=["FLY"])


def test_device_cgroup_rules_follow_the_defaults_and_devices():
    from pydocker.drivers.exec.cgroups import devicerules
    rules = devicerules.rules_for([], ["c 1:3 mr", "a *:* rwm"])
    assert rules[-2:] == ["c 1:3 mr", "a *:* rwm"]
    assert rules[:-2] == list(devicerules.DEFAULT_RULES)
    assert devicerules.parse("b *:7 rw") == ("b", None, 7, "rw")
    for bad in ("c 1:3", "x 1:3 r", "c 1:3 rx", "c a:3 r", " c 1:3 r", "c 1:3 rwmr", "c 1:3  r"):
        with pytest.raises(ValueError, match="invalid device cgroup rule format"):
            devicerules.rules_for([], [bad])


def test_capability_mask():
    assert capabilities.mask(capabilities.DOCKER_DEFAULT) == 0xA80425FB


@pytest.fixture
def etc(tmp_path):
    (tmp_path / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:www:/var/www:/bin/false\n")
    (tmp_path / "group").write_text("root:x:0:\nweb:x:33:\nstaff:x:50:web,other\n")
    return lambda user, group_add=(): users.resolve(user, group_add, str(tmp_path / "passwd"),
                                                    str(tmp_path / "group"))


def test_users_by_name_number_and_group(etc):
    assert etc("") == (0, 0, [0], "/root")
    assert etc("web") == (33, 33, [33, 50], "/var/www")
    assert etc("33") == (33, 33, [33, 50], "/var/www")
    assert etc("1000") == (1000, 0, [0], "/")
    assert etc("web:staff") == (33, 50, [50], "/var/www")
    assert etc("1000:1000", ["staff", "77"]) == (1000, 1000, [1000, 50, 77], "/")


def test_unknown_users_and_groups(etc):
    with pytest.raises(users.UserError, match="unable to find user bob"):
        etc("bob")
    with pytest.raises(users.UserError, match="unable to find group nogrp"):
        etc("web:nogrp")
    with pytest.raises(users.UserError, match="unable to find group x"):
        etc("web", ["x"])


def test_default_seccomp_rules_depend_on_capabilities():
    plain = seccomp_default.rules(capabilities.DOCKER_DEFAULT)
    admin = seccomp_default.rules(list(capabilities.DOCKER_DEFAULT) + ["SYS_ADMIN"])
    allowed = set(plain[0][0])
    assert "read" in allowed and "mount" not in allowed and "unshare" not in allowed
    assert "chroot" in allowed      # SYS_CHROOT is in Docker's default set
    assert {"mount", "unshare", "setns"} <= set(admin[0][0])
    assert (["clone3"], "errno", 38, []) in plain and (["clone3"], "errno", 38, []) not in admin


def test_docker_json_profiles_are_translated():
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_PTRACE"]}},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["s390only"], "action": "SCMP_ACT_ALLOW",
             "includes": {"arches": ["s390x"]}},
        ]}
    default, errno, rules = seccomp.from_docker_json(profile, ["CHOWN"])
    assert (default, errno) == ("errno", 1)
    assert rules == [(["read"], "allow", 1, []), (["personality"], "allow", 1, [(0, "eq", 8, 0)])]
    with pytest.raises(seccomp.ProfileError):
        seccomp.from_docker_json({"syscalls": []}, [])


def test_secure_join_keeps_symlinks_inside(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/etc", root / "abs")
    os.symlink("../../../../../tmp", root / "up")
    assert rootfs.secure_join(str(root), "/abs/x") == str(root / "etc" / "x")
    assert rootfs.secure_join(str(root), "/up/y") == str(root / "tmp" / "y")
    assert rootfs.secure_join(str(root), "/../../z") == str(root / "z")


def test_cpu_figures():
    assert v1.cpu_quota(specs.Resources(nano_cpus=1_500_000_000)) == (100000, 150000)
    assert v1.cpu_quota(specs.Resources(cpu_period=50000, cpu_quota=20000)) == (50000, 20000)
    assert v2.shares_to_weight(1024) == 39 and v2.shares_to_weight(2) == 1
    assert v2.shares_to_weight(262144) == 10000


def test_cgroup_placement_relative_to_the_daemon():
    assert cgroupfs.container_path("/system/daemon", "pydocker", "c1") == \
        "/system/daemon/pydocker/c1"
    assert cgroupfs.container_path("/system/daemon", "/docker", "c1") == "/docker/c1"


def test_cgroup_levels_made_by_a_concurrent_start_are_no_error(tmp_path, monkeypatch):
    """Simulated race (no cgroupfs needed): another start makes each level just
    before this one does, as two builds starting at once did on the shared
    upper levels (pydocker/, then its child)."""
    real_mkdir = os.mkdir

    def the_other_start_wins(path, *args):
        real_mkdir(path)
        real_mkdir(path, *args)
    monkeypatch.setattr(os, "mkdir", the_other_start_wins)
    parents = []
    levels = cgroupfs.makedirs(str(tmp_path), "pydocker/c1", before_level=parents.append)
    assert levels == [str(tmp_path / "pydocker"), str(tmp_path / "pydocker" / "c1")]
    assert parents == [str(tmp_path), str(tmp_path / "pydocker")]
    assert os.path.isdir(levels[-1])


def test_cgroup_level_removed_by_a_stopping_daemon_is_made_again(tmp_path, monkeypatch):
    """Simulated race (no cgroupfs needed): another daemon's stop finds the shared
    pydocker/ level empty and removes it between this start making it and making
    the container's level in it."""
    real_mkdir, removed = os.mkdir, []

    def the_other_daemon_stops_between(path, *args):
        if path.endswith("c1") and not removed:
            removed.append(os.path.dirname(path))
            os.rmdir(os.path.dirname(path))
        real_mkdir(path, *args)
    monkeypatch.setattr(os, "mkdir", the_other_daemon_stops_between)
    levels = cgroupfs.makedirs(str(tmp_path), "pydocker/c1")
    assert removed == [str(tmp_path / "pydocker")]
    assert levels == [str(tmp_path / "pydocker"), str(tmp_path / "pydocker" / "c1")]
    assert os.path.isdir(levels[-1])


def test_helper_config_defaults_masks_and_drops_the_hook():
    spec = specs.ContainerSpec(id="c", rootfs="/r", args=["sh"], network_hook=lambda pid: None)
    config = spec.helper_config()
    assert "network_hook" not in config and config["mode"] == "run"
    assert "/proc/keys" in config["masked_paths"] and "/proc/sys" in config["readonly_paths"]
    privileged = specs.ContainerSpec(id="c", rootfs="/r", args=["sh"], privileged=True)
    assert privileged.helper_config()["masked_paths"] == []


def test_exec_config_inherits_the_container():
    container = specs.ContainerSpec(id="c", rootfs="/r", args=["sh"], env=["A=1", "B=2"],
                                    user="web", cwd="/srv", cap_drop=["KILL"])
    config = specs.ExecSpec(args=["ls"], env=["B=3"]).helper_config(container, 42)
    assert config["env"] == ["A=1", "B=3"]
    assert (config["user"], config["cwd"], config["target_pid"]) == ("web", "/srv", 42)
    assert config["cap_drop"] == ["KILL"] and config["mode"] == "exec"


def test_native_driver_is_registered_and_provides_the_interface():
    from importlib.metadata import entry_points
    from zope.interface.verify import verifyClass
    from pydocker.drivers.exec.interfaces import IExecDriver
    (entry,) = [e for e in entry_points(group="pydocker.execdrivers") if e.name == "native"]
    assert verifyClass(IExecDriver, entry.load())


def test_driver_options_are_checked(tmp_path):
    from pydocker.drivers.exec.native.driver import NativeDriver
    from pydocker.errdefs import InvalidParameter
    from twisted.internet.testing import MemoryReactorClock
    reactor = MemoryReactorClock()
    with pytest.raises(InvalidParameter, match="unknown exec-opt"):
        NativeDriver(str(tmp_path), {"native.bogus": "1"}, reactor)
    with pytest.raises(InvalidParameter, match="not supported"):
        NativeDriver(str(tmp_path), {"native.cgroupdriver": "systemd"}, reactor)
    driver = NativeDriver(str(tmp_path), {"native.cgroupdriver": "cgroupfs"}, reactor)
    assert ("Cgroup Driver", "cgroupfs") in driver.info()


def test_fds_from_a_number_up_are_marked_close_on_exec():
    low, high = os.pipe()
    try:
        for fd in (low, high):
            os.set_inheritable(fd, True)
        linux.set_cloexec_from(high)
        assert (os.get_inheritable(low), os.get_inheritable(high)) == (True, False)
    finally:
        os.close(low)
        os.close(high)


def test_a_sealed_copy_runs_but_cannot_be_changed(tmp_path):
    source = tmp_path / "tool"
    source.write_text("#!/bin/sh\necho sealed $0\n")
    copy = SealedCopy(str(source), str(tmp_path / "tool-link"))
    try:
        assert os.popen(copy.path).read() == "sealed %s\n" % copy.path
        for flags in (os.O_WRONLY, os.O_RDWR | os.O_TRUNC):
            try:
                fd = os.open(copy.path, flags)
            except OSError:
                continue    # refused outright is as good
            try:
                with pytest.raises(PermissionError):
                    os.write(fd, b"x")
            finally:
                os.close(fd)
    finally:
        copy.close()
    assert not os.path.lexists(copy.path)
