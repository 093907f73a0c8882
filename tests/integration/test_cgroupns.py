"""``--cgroupns host|private`` and the daemon's ``default-cgroupns-mode``, through the
docker CLI and docker-py: what the container sees in /proc/self/cgroup, what inspect says."""

import json
import subprocess
import sys

import docker
import pytest

from pydocker.drivers.exec import cgroups
from pydocker.drivers.exec.cgroups import fs

pytestmark = pytest.mark.kernel


def cli(d, *args):
    proc = subprocess.run(["docker", "-H", d.host, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + d.log()[-3000:]
    return proc.stdout


def cgroup_lines(d, *run_args):
    """(container id, its /proc/self/cgroup lines, inspect's CgroupnsMode)."""
    cid = cli(d, "create", *run_args, "busybox", "cat", "/proc/self/cgroup").strip()
    try:
        lines = cli(d, "start", "-a", cid).splitlines()
        mode = json.loads(cli(d, "inspect", cid))[0]["HostConfig"]["CgroupnsMode"]
    finally:
        cli(d, "rm", "-f", cid)
    return cid, lines, mode




def test_private_roots_every_hierarchy_at_the_container(busybox_daemon, docker_cli):
    cid, lines, mode = cgroup_lines(busybox_daemon, "--cgroupns", "private")
    assert mode == "private"
    assert lines and all(line.endswith(":/") for line in lines), lines


def test_host_shows_the_host_paths(busybox_daemon, docker_cli):
    cid, lines, mode = cgroup_lines(busybox_daemon, "--cgroupns", "host")
    assert mode == "host"
    own = fs.parse_proc_cgroup("\n".join(lines))["" if cgroups.version() == 2 else "memory"]
    assert own.endswith("/" + cid)


def test_the_default_is_dockerds_for_this_cgroup_version(busybox_daemon, docker_cli):
    cid, lines, mode = cgroup_lines(busybox_daemon)
    assert mode == ("private" if cgroups.version() == 2 else "host")
    if cgroups.version() == 2:
        assert lines == ["0::/"]


def test_the_daemon_default_applies_to_containers_naming_none(make_daemon, docker_cli):
    d = make_daemon(extra_args=["--default-cgroupns-mode", "private"])
    d.import_busybox()
    cid, lines, mode = cgroup_lines(d)
    assert mode == "private"
    assert all(line.endswith(":/") for line in lines), lines


def test_clients_before_api_1_41_get_the_host_namespace_and_a_bad_mode_is_refused(busybox_daemon):
    old = docker.APIClient(base_url=busybox_daemon.host, version="1.40")
    new = docker.APIClient(base_url=busybox_daemon.host)
    try:
        cid = old.create_container("busybox", ["true"])["Id"]
        assert old.inspect_container(cid)["HostConfig"]["CgroupnsMode"] == "host"
        old.remove_container(cid)
        with pytest.raises(docker.errors.APIError) as info:
            new.create_container("busybox", ["true"], host_config={"CgroupnsMode": "shared"})
        assert info.value.status_code == 400
        assert "invalid cgroup namespace mode: shared" in str(info.value)
    finally:
        old.close()
        new.close()


def test_a_bad_daemon_default_stops_the_start(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pydocker", "-d",
                           "--default-cgroupns-mode", "shared", "-g", str(tmp_path / "root")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "invalid default cgroup namespace mode 'shared'" in proc.stderr
