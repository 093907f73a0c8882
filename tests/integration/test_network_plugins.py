"""Black box: a third-party network driver, installed as a distribution of
its own (a ``dist-info`` with a ``pydocker.networkdrivers`` entry point on
the daemon's PYTHONPATH), is loaded by name when ``docker network create -d``
names it, and called when a container joins and leaves its network; an
unknown driver is ``plugin "NAME" not found``, a broken one is reported by
name.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "network"))
from nethelpers import require_private_netns  # noqa: E402

pytestmark = pytest.mark.kernel

PLUGIN = os.path.join(os.path.dirname(__file__), "netplugin", "dummy_netdriver.py")


@pytest.fixture
def plugin_path(tmp_path):
    """A directory holding the example driver as an installed distribution."""
    site = tmp_path / "site"
    info = site / "dummy_netdriver-0.1.dist-info"
    info.mkdir(parents=True)
    shutil.copy(PLUGIN, site)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dummy-netdriver\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[pydocker.networkdrivers]\n"
        "dummy = dummy_netdriver:DummyDriver\n"
        "broken = dummy_netdriver:HalfADriver\n")
    return str(site)


def calls(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_a_driver_from_an_entry_point_serves_its_network(make_daemon, docker_cli, plugin_path, tmp_path):
    require_private_netns()
    env = dict(os.environ, PYTHONPATH=plugin_path)
    d = make_daemon("daemon", env=env)
    d.import_busybox()

    def docker(*args, check=True):
        proc = subprocess.run([docker_cli, "-H", d.host, *args], capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}\n{d.log()[-3000:]}")
        return proc

    assert {"bridge", "host", "null", "dummy"} <= set(json.loads(
        docker("info", "--format", "{{json .Plugins.Network}}").stdout))
    log = str(tmp_path / "dummy.log")
    docker("network", "create", "-d", "dummy", "--subnet", "10.123.0.0/24", "-o", f"dummy.log={log}", "dnet")
    assert "dnet dummy" in docker("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout
    out = docker("run", "--rm", "--network", "dnet", "busybox", "ip", "-4", "-o", "addr", "show", "plug0").stdout
    assert "inet 10.123.0.2/24" in out
    made = calls(log)
    assert made[0] == ["create_network", "dnet"]
    assert made[1][0] == "connect" and made[1][2] == "10.123.0.2"
    assert made[2] == ["disconnect", made[1][1], "10.123.0.2"]

    unknown = docker("network", "create", "-d", "nosuchdriver", "x", check=False)
    assert unknown.returncode != 0 and 'plugin "nosuchdriver" not found' in unknown.stderr
    broken = docker("network", "create", "-d", "broken", "y", check=False)
    assert broken.returncode != 0 and "network driver plugin 'broken'" in broken.stderr
    assert "x" not in docker("network", "ls", "--format", "{{.Name}}").stdout.split()

    # A restart sets the network up again through its driver; a stop tears it down.
    assert d.stop() == 0
    d.start()
    assert "dnet" in docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert calls(log)[-2:] == [["teardown", "dnet"], ["setup", "dnet"]]
    docker("network", "rm", "dnet")
    assert calls(log)[-1] == ["delete_network", "dnet"]
