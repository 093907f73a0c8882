"""Privileges inside containers of each exec driver: capabilities, no_new_privs,
seccomp, and switching to the image's users."""

import os
import stat

import pytest

from conftest import Recorder, skip_on
from pydocker.drivers.exec.errors import ContainerStartError
from pydocker.drivers.exec import capabilities
from pydocker.errdefs import InvalidParameter

pytestmark = pytest.mark.kernel

DOCKER_DEFAULT_CAPS = 0xA80425FB    # what `docker run busybox grep CapEff /proc/self/status` shows


def status_fields(text):
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def proc_status(run, **kwargs):
    status, io = run(["cat", "/proc/self/status"], **kwargs)
    assert status.exit_code == 0, io.err
    return status_fields(io.text)


def test_default_capabilities_are_dockers(run):
    fields = proc_status(run)
    assert int(fields["CapEff"], 16) == DOCKER_DEFAULT_CAPS
    assert int(fields["CapBnd"], 16) == DOCKER_DEFAULT_CAPS
    assert int(fields["CapInh"], 16) == 0 and int(fields["CapAmb"], 16) == 0


def test_cap_add_and_cap_drop(run):
    fields = proc_status(run, cap_add=["NET_ADMIN"], cap_drop=["cap_chown", "MKNOD"])
    expected = (DOCKER_DEFAULT_CAPS | 1 << 12) & ~(1 << 0) & ~(1 << 27)
    assert int(fields["CapEff"], 16) == expected


def test_cap_drop_all_then_add_one(run):
    fields = proc_status(run, cap_drop=["ALL"], cap_add=["KILL"])
    assert int(fields["CapEff"], 16) == 1 << 5


def test_privileged_gets_every_capability_and_no_seccomp(run):
    fields = proc_status(run, privileged=True)
    assert int(fields["CapEff"], 16) == capabilities.mask(capabilities.held())
    assert fields["Seccomp"] == "0"


def test_no_new_privileges(run):
    assert proc_status(run)["NoNewPrivs"] == "0"
    assert proc_status(run, no_new_privileges=True)["NoNewPrivs"] == "1"


def test_default_seccomp_blocks_unshare_with_eperm(run):
    assert proc_status(run)["Seccomp"] == "2"
    # Even with CAP_SYS_ADMIN's siblings, unshare(2) needs SYS_ADMIN in the profile.
    status, io = run(["unshare", "-u", "true"], cap_add=["SYS_CHROOT"])
    assert status.exit_code != 0
    assert "Operation not permitted" in io.err.decode()


def test_unconfined_seccomp(run):
    assert proc_status(run, seccomp="unconfined")["Seccomp"] == "0"


def test_custom_seccomp_profile(run):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                             "errnoRet": 13}]}
    status, io = run(["sh", "-c", "mkdir /tmp/d || echo DENIED; touch /tmp/f && echo TOUCHED"],
                     seccomp=profile)
    assert io.text.split() == ["DENIED", "TOUCHED"]
    assert "Permission denied" in io.err.decode()


def test_bad_seccomp_profile_is_rejected_before_the_start(run):
    for profile in ({"syscalls": []}, {"defaultAction": "SCMP_ACT_DANCE"},
                    {"defaultAction": "SCMP_ACT_ERRNO",
                     "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                   "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}):
        with pytest.raises(InvalidParameter, match="seccomp"):
            run(["true"], seccomp=profile)


def test_mount_needs_cap_sys_admin(run):
    status, io = run(["sh", "-c", "mkdir -p /mnt/t; mount -t tmpfs t /mnt/t && echo MOUNTED"])
    assert "MOUNTED" not in io.text
    assert "denied" in io.err.decode() or "not permitted" in io.err.decode()


def test_user_by_name(driver, run):
    skip_on(driver, "lxc", "LXC cannot set supplementary groups (id shows no groups=)")
    status, io = run(["sh", "-c", "id; echo $HOME"], user="daemon")
    assert io.text.splitlines() == ["uid=1(daemon) gid=1(daemon) groups=1(daemon)", "/usr/sbin"]


def test_user_by_number_and_group(driver, run):
    skip_on(driver, "lxc", "LXC cannot set supplementary groups (--group-add is refused)")
    status, io = run(["id"], user="1000:65534", group_add=["daemon"])
    assert io.text.strip() == "uid=1000 gid=65534(nogroup) groups=1(daemon),65534(nogroup)"


def test_non_root_user_has_no_effective_capabilities(run):
    fields = proc_status(run, user="nobody")
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0
    assert int(fields["CapBnd"], 16) == DOCKER_DEFAULT_CAPS
    assert fields["Uid"].split() == ["65534"] * 4


def test_adding_a_capability_the_daemon_lacks_is_invalid(run):
    missing = [c for c in capabilities.NAMES[:capabilities.last_cap() + 1]
               if c not in capabilities.held()]
    if not missing:
        pytest.skip("the daemon holds every capability here")
    with pytest.raises(InvalidParameter, match=missing[0]):
        run(["true"], cap_add=[missing[0]])


def test_unknown_user_fails_the_start(run):
    with pytest.raises(ContainerStartError) as info:
        run(["true"], user="nosuchuser")
    assert str(info.value) == ("unable to find user nosuchuser: no matching entries in "
                               "passwd file")


def test_unknown_group_fails_the_start(run):
    with pytest.raises(ContainerStartError, match="unable to find group nosuchgroup"):
        run(["true"], user="daemon:nosuchgroup")


def test_device_cgroup_denies_devices_outside_the_default_list(run):
    status, io = run(["sh", "-c", "rm -f /tmp/mem; mknod /tmp/mem c 1 1 && echo MADE; "
                      "head -c 1 /tmp/mem; head -c 1 /dev/zero | wc -c"])
    assert io.text.split() == ["MADE", "1"]
    assert "Operation not permitted" in io.err.decode()


def test_extra_device_is_created_and_allowed(run):
    from pydocker.drivers.exec.spec import Device
    status, io = run(["sh", "-c", "ls -l /dev/mynull; echo hi > /dev/mynull && echo OK"],
                     devices=[Device("/dev/null", "/dev/mynull")])
    assert io.text.startswith("crw") and "OK" in io.text


def test_a_missing_device_is_a_clear_error(driver, make_spec):
    from pydocker.drivers.exec.spec import Device
    with pytest.raises(InvalidParameter, match="adding custom device '/dev/nosuch': no such file"):
        driver.run(make_spec(["true"], devices=[Device("/dev/nosuch", "/dev/nosuch")]), Recorder())


def test_privileged_sees_the_host_devices(run):
    status, io = run(["ls", "/dev"], privileged=True)
    host_nodes = {name for name in os.listdir("/dev")
                  if stat.S_ISCHR(os.lstat("/dev/" + name).st_mode) and name != "console"}
    assert host_nodes <= set(io.text.split())
