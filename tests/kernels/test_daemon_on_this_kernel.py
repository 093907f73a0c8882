"""What a daemon needs from the kernel it runs on, checked through the docker CLI: limits
and their OOM kill, ``docker update``, stats, pause, the cgroup namespace, and a daemon on
the devicemapper driver. ``make test-kernels`` runs this on other kernels and on a
cgroup-v2-only guest (see scripts/kernels/); it runs on any host that has what it needs.

Every wait is generous: under software emulation the guest is 10-25 times slower."""

import io
import json
import os
import subprocess
import tarfile

import pytest

from pydocker.drivers.exec import cgroups
from pydocker.drivers.graph.dmsetup import kernel_has_device_mapper, udev_running
from pydocker.testing.daemon import DaemonProcess

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("docker_cli")]
SLOW = 600      # seconds for any one step: a daemon start, a docker command


def start_daemon(base, *extra_args):
    d = DaemonProcess(base, extra_args=list(extra_args)).start(timeout=SLOW)
    d.import_busybox()
    return d


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_daemon(tmp_path_factory.mktemp("kernel") / "daemon")
    yield d
    assert d.stop(timeout=SLOW) == 0, d.log()[-3000:]


def docker(d, *args, check=True, text=True):
    proc = subprocess.run(["docker", "-H", d.host, *args], capture_output=True, text=text,
                          timeout=SLOW)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (%d): %s\n%s"
                             % (" ".join(args), proc.returncode, proc.stderr, d.log()[-3000:]))
    return proc


def inspect(d, name):
    return json.loads(docker(d, "inspect", name).stdout)[0]


def test_run_prints_and_exits_with_the_commands_status(daemon):
    proc = docker(daemon, "run", "--rm", "busybox", "sh", "-c", "echo hello; exit 3", check=False)
    assert (proc.returncode, proc.stdout) == (3, "hello\n")


def test_a_memory_limit_oom_kills_with_137(daemon):
    proc = docker(daemon, "run", "--name", "oom", "-m", "32m", "--memory-swap", "32m", "busybox",
                  "sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' x); echo survived",
                  check=False)
    state = inspect(daemon, "oom")["State"]
    docker(daemon, "rm", "oom")
    assert proc.returncode == 137, proc.stdout + proc.stderr
    assert (state["ExitCode"], state["OOMKilled"]) == (137, True)


def test_a_pids_limit_stops_forks(daemon):
    script = "for i in $(seq 40); do sleep 30 & done; kill $(jobs -p)"
    limited = docker(daemon, "run", "--rm", "--pids-limit", "20", "busybox", "sh", "-c", script,
                     check=False)
    free = docker(daemon, "run", "--rm", "busybox", "sh", "-c", script)
    assert limited.returncode != 0 and "can't fork" in limited.stderr
    assert "can't fork" not in free.stderr


def test_a_device_cgroup_rule_allows_a_node_made_inside(daemon):
    # /dev/loop-control (c 10:237) is not one of Docker's default devices.
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control on this host")
    script = "mknod /dev/lc c 10 237 && exec 3</dev/lc && echo opened"
    allowed = docker(daemon, "run", "--rm", "--device-cgroup-rule", "c 10:237 r", "busybox", "sh", "-c", script,
                     check=False)
    refused = docker(daemon, "run", "--rm", "busybox", "sh", "-c", script, check=False)
    assert (allowed.returncode, allowed.stdout) == (0, "opened\n"), allowed.stderr
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr


def test_update_stats_and_pause(daemon):
    docker(daemon, "run", "-d", "--name", "live", "-m", "32m", "--pids-limit", "20", "busybox",
           "sleep", "3600")
    try:
        assert docker(daemon, "stats", "--no-stream", "--format", "{{.MemUsage}}",
                      "live").stdout.strip().endswith("/ 32MiB")
        docker(daemon, "update", "-m", "64m", "--memory-swap", "128m", "--pids-limit", "30",
               "--cpus", "0.5", "live")
        host_config = inspect(daemon, "live")["HostConfig"]
        assert (host_config["Memory"], host_config["MemorySwap"], host_config["PidsLimit"],
                host_config["NanoCpus"]) == (64 << 20, 128 << 20, 30, 500_000_000)
        stats = json.loads(docker(daemon, "stats", "--no-stream", "--format", "{{json .}}",
                                  "live").stdout)
        assert stats["MemUsage"].endswith("/ 64MiB") and stats["PIDs"] == "1"
        docker(daemon, "pause", "live")
        assert inspect(daemon, "live")["State"]["Status"] == "paused"
        refused = docker(daemon, "exec", "live", "true", check=False)
        assert refused.returncode != 0 and "paused" in refused.stderr
        docker(daemon, "unpause", "live")
        assert inspect(daemon, "live")["State"]["Status"] == "running"
        assert docker(daemon, "exec", "live", "echo", "back").stdout == "back\n"
    finally:
        docker(daemon, "rm", "-f", "live")


def test_the_cgroup_namespace_follows_the_cgroup_version(daemon):
    proc = docker(daemon, "run", "--rm", "busybox", "cat", "/proc/self/cgroup")
    if cgroups.version() == 2:
        assert proc.stdout == "0::/\n"          # private by default, as dockerd on v2
    else:
        assert all(not line.endswith(":/") for line in proc.stdout.splitlines()
                   if ":memory:" in line)        # host by default, as dockerd on v1


@pytest.fixture
def devicemapper_daemon(tmp_path):
    if not kernel_has_device_mapper():
        pytest.skip("this kernel has no device-mapper (no dm_mod module, no /dev/mapper/control)")
    options = ["--storage-opt", "dm.loopdatasize=2G", "--storage-opt", "dm.basesize=1G"]
    if not udev_running():
        options += ["--storage-opt", "dm.override_udev_sync_check=true"]
    d = start_daemon(tmp_path / "dm", "-s", "devicemapper", *options)
    yield d
    assert d.stop(timeout=SLOW) == 0, d.log()[-3000:]


def test_a_devicemapper_daemon_runs_commits_and_saves(devicemapper_daemon):
    d = devicemapper_daemon
    assert json.loads(docker(d, "info", "--format", "{{json .Driver}}").stdout) == "devicemapper"
    docker(d, "run", "--name", "writer", "busybox", "sh", "-c", "echo thin > /made-here")
    docker(d, "commit", "writer", "written:1")
    docker(d, "rm", "writer")
    assert docker(d, "run", "--rm", "written:1", "cat", "/made-here").stdout == "thin\n"
    saved = docker(d, "save", "written:1", text=False).stdout
    with tarfile.open(fileobj=io.BytesIO(saved)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        layers = [tarfile.open(fileobj=archive.extractfile(name)) for name in manifest[0]["Layers"]]
    assert manifest[0]["RepoTags"] == ["written:1"]
    assert any("made-here" in layer.getnames() for layer in layers)
    docker(d, "rmi", "written:1")
