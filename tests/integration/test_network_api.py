"""Black box: the /networks API of a real daemon, driven by the docker CLI and
docker-py — create, ls and its filters, inspect, rm, prune, events, a restart,
and the daemon's --iptables=false and --bridge=none modes.

The daemon makes bridges and iptables rules, so these tests need a private
network namespace (the suite runs under ``unshare --mount --net --fork``).
"""

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "network"))
from nethelpers import require_private_netns  # noqa: E402

pytestmark = pytest.mark.kernel


@pytest.fixture
def start_daemon(make_daemon):
    """Start daemons with extra flags; each is stopped and checked afterwards."""
    require_private_netns()

    def start(*args, name="daemon"):
        return make_daemon(name, extra_args=args)

    return start


@pytest.fixture
def cli(docker_cli):
    def run(d, *args, check=True):
        proc = subprocess.run([docker_cli, "-H", d.host, *args], capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}\n{d.log()[-3000:]}")
        return proc
    return run


@pytest.fixture
def docker_py():
    docker = pytest.importorskip("docker")
    clients = []

    def connect(d):
        clients.append(docker.DockerClient(base_url=d.host, version="1.44", timeout=60))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


def our_iptables():
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "PYDOCKER" in line or "pydocker0" in line or "br-" in line]


def links():
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {link["ifname"] for link in json.loads(out)}


def test_cli_create_ls_inspect_rm(start_daemon, cli):
    d = start_daemon()
    names = cli(d, "network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}").stdout.split("\n")
    assert sorted(filter(None, names)) == ["bridge bridge local", "host host local", "none null local"]
    net_id = cli(d, "network", "create", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254",
                 "--label", "tier=front", "-o", "com.docker.network.bridge.name=br-front", "front").stdout.strip()
    assert len(net_id) == 64
    [doc] = json.loads(cli(d, "network", "inspect", "front").stdout)
    assert doc["Id"] == net_id and doc["Driver"] == "bridge" and doc["Scope"] == "local"
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.254"}]
    assert doc["Labels"] == {"tier": "front"} and doc["Containers"] == {}
    assert "br-front" in links()
    assert cli(d, "network", "ls", "-q", "--filter", "label=tier=front").stdout.split() == [net_id[:12]]
    assert cli(d, "network", "ls", "-q", "--filter", "type=custom").stdout.split() == [net_id[:12]]
    [by_prefix] = json.loads(cli(d, "network", "inspect", net_id[:8]).stdout)
    assert by_prefix["Name"] == "front"

    again = cli(d, "network", "create", "front", check=False)
    assert again.returncode != 0 and "network with name front already exists" in again.stderr
    overlap = cli(d, "network", "create", "--subnet", "10.77.0.128/25", "other", check=False)
    assert overlap.returncode != 0 and "overlaps" in overlap.stderr
    predefined = cli(d, "network", "rm", "bridge", check=False)
    assert predefined.returncode != 0 and "pre-defined network" in predefined.stderr
    missing = cli(d, "network", "inspect", "nosuchnet", check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr.lower()

    assert cli(d, "network", "rm", "front").stdout.strip() == "front"
    assert "br-front" not in links()
    assert "front" not in cli(d, "network", "ls").stdout


def test_bad_create_requests_change_nothing(start_daemon, docker_py):
    import docker
    d = start_daemon()
    client = docker_py(d)
    before = sorted(n.name for n in client.networks.list())
    for kwargs, message in [
        ({"driver": "overlay"}, 'plugin "overlay" not found'),
        ({"ipam": docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.1.0.0/33")])},
         "invalid subnet"),
        ({"ipam": docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(
            subnet="10.1.0.0/24", gateway="10.2.0.1")])}, "not a host address"),
        ({"options": {"com.docker.network.bridge.name": "a-very-long-bridge-name"}}, "longer than 15"),
    ]:
        with pytest.raises(docker.errors.APIError, match=message):
            client.networks.create("bad", **kwargs)
    assert sorted(n.name for n in client.networks.list()) == before
    assert not any(name.startswith("br-") for name in links())


def test_docker_py_create_list_prune_and_events(start_daemon, docker_py):
    d = start_daemon()
    client = docker_py(d)
    since = int(time.time())
    keep = client.networks.create("keep", labels={"keep": "yes"}, internal=True)
    drop = client.networks.create("drop")
    assert keep.attrs["Internal"] is True and client.networks.get("keep").attrs["Labels"] == {"keep": "yes"}
    assert {n.name for n in client.networks.list(filters={"dangling": "true"})} == {"keep", "drop"}
    assert [n.name for n in client.networks.list(names=["drop"])] == ["drop"]
    pruned = client.networks.prune(filters={"label!": "keep=yes"})
    assert pruned["NetworksDeleted"] == ["drop"]
    assert {n.name for n in client.networks.list()} == {"bridge", "host", "none", "keep"}
    keep.remove()
    events = client.events(since=since, until=int(time.time()) + 1, filters={"type": "network"}, decode=True)
    seen = [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in events]
    assert seen == [("create", "keep"), ("create", "drop"), ("destroy", "drop"), ("destroy", "keep")]
    assert drop.id not in {n.id for n in client.networks.list()}


def test_networks_survive_a_restart_and_stop_leaves_no_rules(start_daemon, cli):
    d = start_daemon()
    net_id = cli(d, "network", "create", "--subnet", "10.88.0.0/16", "persist").stdout.strip()
    [before] = json.loads(cli(d, "network", "inspect", "persist").stdout)
    bridge_subnet = json.loads(cli(d, "network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"]
    assert d.stop() == 0
    assert our_iptables() == [], "a stopped daemon left iptables rules"
    assert not {"pydocker0", f"br-{net_id[:12]}"} & links(), "a stopped daemon left bridges"

    d2 = start_daemon(name="daemon")  # the same root again
    [after] = json.loads(cli(d2, "network", "inspect", "persist").stdout)
    assert (after["Id"], after["Created"], after["IPAM"]) == (before["Id"], before["Created"], before["IPAM"])
    assert json.loads(cli(d2, "network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"] == bridge_subnet
    assert {"pydocker0", f"br-{net_id[:12]}"} <= links()


def test_iptables_false_touches_no_rule(start_daemon, cli):
    d = start_daemon("--iptables=false")
    cli(d, "network", "create", "quiet")
    assert our_iptables() == []
    assert "pydocker0" in links()


def test_bridge_none_disables_networking(start_daemon, cli):
    d = start_daemon("--bridge=none")
    names = cli(d, "network", "ls", "--format", "{{.Name}}").stdout.split()
    assert sorted(names) == ["host", "none"]
    refused = cli(d, "network", "create", "any", check=False)
    assert refused.returncode != 0 and "--bridge=none" in refused.stderr
    assert "pydocker0" not in links() and our_iptables() == []
