"""Black box: containers on the daemon's networks (issue 6's scenarios) —
published ports reached from the host, names resolved on a user network,
--net=host/none/container:, port conflicts, live connect with docker-py,
no rules left after stop, and addresses after a daemon restart.

Needs root and a private network namespace (``unshare --mount --net --fork``).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.images import make_rootfs_tar

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "network"))
from nethelpers import require_private_netns  # noqa: E402

pytestmark = pytest.mark.kernel

HTTPD = ["sh", "-c", "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"]


class Docker:
    """The docker CLI against one daemon."""

    def __init__(self, cli, daemon):
        self.cli, self.daemon = cli, daemon

    def __call__(self, *args, check=True):
        proc = subprocess.run([self.cli, "-H", self.daemon.host, *args], capture_output=True, text=True,
                              timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}\n{self.daemon.log()[-3000:]}")
        return proc

    def output(self, *args):
        """Run a container to its end; its logs (stdout and stderr)."""
        cid = self("run", "-d", *args).stdout.strip()
        self("wait", cid)
        logs = self("logs", cid)
        return logs.stdout + logs.stderr

    def inspect(self, what):
        return json.loads(self("inspect", what).stdout)[0]


@pytest.fixture
def image_tar(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("image") / "busybox.tar")
    make_rootfs_tar(path)
    return path


@pytest.fixture
def docker(request, tmp_path, docker_cli, image_tar):
    """A daemon with the busybox image; ``docker.restart()`` restarts it on the
    same root. Daemon flags come from indirect parametrization."""
    require_private_netns()
    state = {}
    flags = getattr(request, "param", ())

    def start():
        state["daemon"] = DaemonProcess(tmp_path / "daemon", extra_args=flags).start()
        return Docker(docker_cli, state["daemon"])

    client = start()
    client("import", image_tar, "busybox")

    def restart():
        assert client.daemon.stop() == 0, client.daemon.log()
        new = start()
        client.daemon = new.daemon

    client.restart = restart
    yield client
    subprocess.run([docker_cli, "-H", client.daemon.host, "rm", "-f",
                    *client("ps", "-aq").stdout.split()], capture_output=True)
    assert client.daemon.stop() == 0, client.daemon.log()


def our_iptables():
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "PYDOCKER" in line or "pydocker0" in line or " br-" in line]


def host_links():
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {link["ifname"] for link in json.loads(out)}


def fetch(url, attempts=50):
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def eventually(check, seconds=30):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.05)


def host_ping(address):
    return subprocess.run(["busybox", "ping", "-c", "1", "-W", "2", address], capture_output=True).returncode == 0


def test_published_port_reaches_the_container_from_the_host(docker):
    cid = docker("run", "-d", "--name", "web", "-p", "8080:80", "-e", "ROLE=front", "busybox", *HTTPD).stdout.strip()
    assert fetch("http://127.0.0.1:8080/") == f"hello from {cid[:12]}\n"
    settings = docker.inspect("web")["NetworkSettings"]
    assert settings["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    bridge = settings["Networks"]["bridge"]
    assert settings["IPAddress"] == bridge["IPAddress"] != ""
    assert bridge["Gateway"] == settings["Gateway"] and bridge["EndpointID"]
    assert fetch(f"http://{settings['IPAddress']}:80/").startswith("hello")
    assert docker("port", "web").stdout.strip() == "80/tcp -> 0.0.0.0:8080"
    [network] = json.loads(docker("network", "inspect", "bridge").stdout)
    assert network["Containers"][cid]["IPv4Address"] == f"{settings['IPAddress']}/{bridge['IPPrefixLen']}"
    linked = docker.output("--link", "web:site", "busybox", "sh", "-c", "cat /etc/hosts; wget -qO- http://site/")
    assert f"{settings['IPAddress']}\tsite web {cid[:12]}" in linked and f"hello from {cid[:12]}" in linked
    env = docker.output("--name", "client", "--link", "web:site", "-e", "SITE_ENV_ROLE=mine", "busybox", "env")
    ip = settings["IPAddress"]
    for line in (f"SITE_PORT=tcp://{ip}:80", f"SITE_PORT_80_TCP_ADDR={ip}", "SITE_PORT_80_TCP_PROTO=tcp",
                 "SITE_NAME=/client/site", "SITE_ENV_ROLE=mine"):  # the container's own variable wins
        assert line in env.splitlines(), env


def test_a_taken_host_port_fails_the_start_and_leaves_nothing(docker):
    docker("run", "-d", "--name", "first", "-p", "8081:80", "busybox", *HTTPD)
    veths = {name for name in host_links() if name.startswith("veth")}
    rules = our_iptables()
    second = docker("run", "-d", "--name", "second", "-p", "8081:80", "busybox", *HTTPD, check=False)
    assert second.returncode != 0 and "port is already allocated" in second.stderr
    assert docker.inspect("second")["State"]["Running"] is False
    assert {name for name in host_links() if name.startswith("veth")} == veths
    assert our_iptables() == rules
    assert fetch("http://127.0.0.1:8081/").startswith("hello")


def test_containers_on_a_user_network_resolve_each_other(docker):
    docker("network", "create", "--subnet", "10.66.0.0/24", "apps")
    docker("run", "-d", "--name", "db", "--network", "apps", "--network-alias", "database", "busybox", "sleep", "60")
    db_ip = docker.inspect("db")["NetworkSettings"]["Networks"]["apps"]["IPAddress"]
    assert db_ip.startswith("10.66.0.")
    out = docker.output("--network", "apps", "busybox", "sh", "-c",
                        "cat /etc/resolv.conf; nslookup db; nslookup database; ping -c1 -W2 db && echo PING-OK")
    assert "nameserver 127.0.0.11" in out
    assert out.count(db_ip) >= 2 and "PING-OK" in out
    on_default = docker.output("busybox", "sh", "-c", "nslookup db 2>&1; echo done")
    assert db_ip not in on_default
    # Connected while stopped: joins at start, next to its own network, and is found by name.
    docker("create", "--name", "late", "busybox", "sleep", "60")
    docker("network", "connect", "apps", "late")
    docker("start", "late")
    networks = docker.inspect("late")["NetworkSettings"]["Networks"]
    assert networks["bridge"]["IPAddress"] and networks["apps"]["IPAddress"].startswith("10.66.0.")
    found = docker.output("--network", "apps", "busybox", "nslookup", "late")
    assert networks["apps"]["IPAddress"] in found


def test_live_connect_and_disconnect_rewrite_etc_hosts(docker):
    docker("network", "create", "--subnet", "10.70.0.0/24", "live")
    docker("run", "-d", "--name", "mover", "--hostname", "mover-host", "busybox", "sleep", "60")
    bridge_ip = docker.inspect("mover")["NetworkSettings"]["IPAddress"]
    docker("network", "connect", "--alias", "mover-alias", "live", "mover")
    live_ip = docker.inspect("mover")["NetworkSettings"]["Networks"]["live"]["IPAddress"]
    hosts = docker("exec", "mover", "cat", "/etc/hosts").stdout.splitlines()
    assert hosts[-2:] == [f"{bridge_ip}\tmover-host", f"{live_ip}\tmover-host"]
    # The alias is known to the network's DNS at once.
    assert live_ip in docker.output("--network", "live", "busybox", "nslookup", "mover-alias")
    docker("network", "disconnect", "live", "mover")
    hosts = docker("exec", "mover", "cat", "/etc/hosts").stdout
    assert live_ip not in hosts and f"{bridge_ip}\tmover-host" in hosts


def test_a_container_never_reads_its_etc_hosts_empty_while_networks_change(docker):
    """/etc/hosts is rewritten in place (bind-mounted) on every connect and disconnect; a
    loop in the container reads its first line meanwhile (shell builtins only, no fork per
    read). On the old truncate-then-write it read the file empty (each of two runs);
    ``tests/unit/test_bindfile.py`` checks the writer alone."""
    docker("network", "create", "--subnet", "10.74.0.0/24", "flip")
    reader = ("n=0; while :; do read -r first < /etc/hosts; [ -n \"$first\" ] || echo EMPTY; "
              "n=$((n+1)); [ $((n % 2000)) = 0 ] && echo reads; done")
    docker("run", "-d", "--name", "watcher", "busybox", "sh", "-c", reader)
    eventually(lambda: "reads" in docker("logs", "watcher").stdout)
    for i in range(15):
        docker("network", "connect", "--alias", f"watcher-{i}", "flip", "watcher")
        docker("network", "disconnect", "flip", "watcher")
    seen = docker("logs", "watcher").stdout
    docker("rm", "-f", "watcher")
    assert "EMPTY" not in seen
    assert seen.count("reads") > 1


def dns_redirects(docker, container):
    """The embedded DNS's DNAT rules inside a running container's namespace."""
    pid = docker.inspect(container)["State"]["Pid"]
    out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "iptables-save", "-t", "nat"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "127.0.0.11" in line]


def test_names_resolve_again_after_a_disconnect_and_a_reconnect(docker):
    """docker-py's test_connect_with_links with the CLI: the reconnect of a container's only
    network (its link alias too); one DNS and one pair of redirects for its whole run."""
    docker("network", "create", "--subnet", "10.73.0.0/24", "again")
    docker("run", "-d", "--name", "asker", "--network", "again", "busybox", "sleep", "60")
    redirects = dns_redirects(docker, "asker")
    assert len(redirects) == 2
    docker("network", "disconnect", "again", "asker")
    docker("network", "connect", "--link", "upstream:bar", "again", "asker")
    assert docker.inspect("asker")["NetworkSettings"]["Networks"]["again"]["Links"] == ["upstream:bar"]
    docker("run", "-d", "--name", "upstream", "--network", "again", "busybox", "sleep", "60")
    upstream_ip = docker.inspect("upstream")["NetworkSettings"]["Networks"]["again"]["IPAddress"]
    for name in ("upstream", "bar", "bar.again"):
        found = docker("exec", "asker", "nslookup", name)
        assert f"Address: {upstream_ip}" in found.stdout, (name, found.stdout)
    assert dns_redirects(docker, "asker") == redirects
    # Without links, and after two round trips.
    for _ in range(2):
        docker("network", "disconnect", "again", "asker")
        docker("network", "connect", "again", "asker")
    assert f"Address: {upstream_ip}" in docker("exec", "asker", "nslookup", "upstream").stdout
    assert docker("exec", "asker", "nslookup", "bar", check=False).returncode != 0  # that link went with its endpoint


def test_endpoint_links_resolve_for_the_linking_container_only(docker):
    """docker-py's test_create_with_links, the same link in the API's stored form
    (/name:/self/alias) and from the CLI's legacy --link on a user network."""
    dockerpy = pytest.importorskip("docker")
    api = dockerpy.APIClient(base_url=docker.daemon.host, version="1.44", timeout=60)
    try:
        api.create_network("linked", ipam=dockerpy.types.IPAMConfig(
            pool_configs=[dockerpy.types.IPAMPool(subnet="10.74.0.0/24")]))
        links = api.create_endpoint_config(links=[("docker-py-test-upstream", "bar")])
        links["Links"].append("/docker-py-test-upstream:/with-links/stored")
        container = api.create_container("busybox", ["sleep", "60"], name="with-links",
                                         host_config=api.create_host_config(network_mode="linked"),
                                         networking_config=api.create_networking_config({"linked": links}))
        api.start(container)
        networks = api.inspect_container(container)["NetworkSettings"]["Networks"]
        assert networks["linked"]["Links"] == ["docker-py-test-upstream:bar",
                                               "/docker-py-test-upstream:/with-links/stored"]
        upstream = api.create_container("busybox", ["sleep", "60"], name="docker-py-test-upstream",
                                        host_config=api.create_host_config(network_mode="linked"))
        api.start(upstream)
        upstream_ip = api.inspect_container(upstream)["NetworkSettings"]["Networks"]["linked"]["IPAddress"]

        def nslookup(asker, name):
            run = api.exec_create(asker, ["nslookup", name])
            output = api.exec_start(run).decode()
            return api.exec_inspect(run)["ExitCode"], output

        for name in ("bar", "stored", "docker-py-test-upstream"):
            code, output = nslookup(container, name)
            assert code == 0 and f"Address: {upstream_ip}" in output, (name, output)
        code, output = nslookup(upstream, "bar")  # another container's link is no name here
        assert code != 0 and upstream_ip not in output, output
    finally:
        api.close()
    docker("run", "-d", "--name", "legacy", "--network", "linked", "--link", "docker-py-test-upstream:db",
           "busybox", "sleep", "60")
    assert f"Address: {upstream_ip}" in docker("exec", "legacy", "nslookup", "db").stdout


def test_reverse_lookups_name_the_container_on_its_network(docker):
    docker("network", "create", "--subnet", "10.71.0.0/24", "rev")
    docker("run", "-d", "--name", "target", "--network", "rev", "busybox", "sleep", "60")
    ip = docker.inspect("target")["NetworkSettings"]["Networks"]["rev"]["IPAddress"]
    out = docker.output("--network", "rev", "busybox", "sh", "-c",
                        f"nslookup {ip}; nslookup -type=aaaa target; echo rc=$?")
    assert "target.rev" in out
    assert "NXDOMAIN" not in out  # a known name without IPv6 is an empty answer


def test_names_are_forwarded_only_from_containers_with_a_way_out(docker):
    """Upstream is 127.0.0.1, where nothing listens: a forwarded query gets no answer. A
    container on internal networks only gets NXDOMAIN at once, without any forwarding."""
    docker("network", "create", "--internal", "--subnet", "10.72.0.0/24", "closed")
    inside = docker.output("--network", "closed", "--dns", "127.0.0.1", "busybox",
                           "nslookup", "-type=a", "example.com")
    assert "NXDOMAIN" in inside, inside
    docker("create", "--name", "both", "--network", "closed", "--dns", "127.0.0.1", "busybox",
           "sh", "-c", "nslookup -type=a both; echo ===; nslookup -type=a example.com")
    docker("network", "connect", "bridge", "both")
    docker("start", "both")
    docker("wait", "both")
    own, forwarded = docker("logs", "both").stdout.split("===")
    assert "Address: 10.72.0." in own, own  # the embedded DNS answers
    assert "NXDOMAIN" not in forwarded, forwarded  # sent upstream, where nothing answers


def network_containers(docker, network):
    return json.loads(docker("network", "inspect", network).stdout)[0]["Containers"]


def test_inspect_host_and_none_list_their_running_containers(docker):
    docker("run", "-d", "--name", "on-host", "--net=host", "busybox", "sleep", "60")
    docker("run", "-d", "--name", "on-none", "--net=none", "busybox", "sleep", "60")
    for network, name in (("host", "on-host"), ("none", "on-none")):
        container = docker.inspect(name)
        listed = network_containers(docker, network)
        assert listed.keys() == {container["Id"]}
        entry = listed[container["Id"]]
        assert entry["Name"] == name and entry["IPv4Address"] == "" and entry["EndpointID"]
        assert container["NetworkSettings"]["Networks"][network]["EndpointID"] == entry["EndpointID"]
    for network, name, message in (("bridge", "on-host", "sharing network namespace"),
                                   ("bridge", "on-none", "private (none) mode"),
                                   ("host", "on-none", "connected to host network")):
        refused = docker("network", "connect", network, name, check=False)
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    docker("stop", "-t", "0", "on-host", "on-none")
    assert network_containers(docker, "host") == {} and network_containers(docker, "none") == {}


def test_host_none_and_container_modes(docker):
    assert docker.output("--net=host", "busybox", "hostname").strip() == socket.gethostname()
    assert "pydocker0" in docker.output("--net=host", "busybox", "ip", "-o", "link")
    none_links = docker.output("--net=none", "busybox", "ip", "-o", "link")
    assert [line.split(":")[1].strip() for line in none_links.splitlines()] == ["lo"]
    assert docker.inspect(docker("ps", "-lq").stdout.strip())["NetworkSettings"]["Networks"].keys() == {"none"}
    docker("run", "-d", "--name", "owner", "busybox", "sleep", "60")
    owner_ip = docker.inspect("owner")["NetworkSettings"]["IPAddress"]
    assert f"inet {owner_ip}/" in docker.output("--net=container:owner", "busybox", "ip", "-o", "-4", "addr")
    refused = docker("run", "-d", "--net=container:owner", "-p", "9000:80", "busybox", "true", check=False)
    assert refused.returncode != 0 and "conflicting options" in refused.stderr


def test_docker_py_connects_a_running_container(docker):
    dockerpy = pytest.importorskip("docker")
    client = dockerpy.DockerClient(base_url=docker.daemon.host, version="1.44", timeout=60)
    since = int(time.time())
    try:
        net = client.networks.create("side", ipam=dockerpy.types.IPAMConfig(
            pool_configs=[dockerpy.types.IPAMPool(subnet="10.67.0.0/24")]))
        container = client.containers.run("busybox", ["sleep", "60"], detach=True)
        net.connect(container, ipv4_address="10.67.0.40", aliases=["side-car"])
        container.reload()
        side = container.attrs["NetworkSettings"]["Networks"]["side"]
        assert side["IPAddress"] == "10.67.0.40" and side["Aliases"] == ["side-car", container.id[:12]]
        assert host_ping("10.67.0.40")
        assert container.id in client.networks.get("side").attrs["Containers"]
        with pytest.raises(dockerpy.errors.APIError, match="has active endpoints"):
            net.remove()
        net.disconnect(container)
        events = client.events(since=since, until=int(time.time()) + 1, decode=True,
                               filters={"type": "network", "network": "side"})
        assert [(e["Action"], e["Actor"]["Attributes"].get("container")) for e in events] == [
            ("create", None), ("connect", container.id), ("disconnect", container.id)]
        container.reload()
        assert "side" not in container.attrs["NetworkSettings"]["Networks"]
        assert not host_ping("10.67.0.40")
        net.remove()
    finally:
        client.close()


def test_stop_and_removal_leave_no_rules_or_veths(docker):
    docker("network", "create", "tidy")
    docker("run", "-d", "--name", "p1", "-p", "8082:80", "busybox", *HTTPD)
    docker("run", "-d", "--name", "p2", "--network", "tidy", "-p", "8083:80", "busybox", *HTTPD)
    assert any("8082" in rule for rule in our_iptables())
    docker("stop", "-t", "1", "p1", "p2")
    # The disconnects finish just after the exits are reported (off their path).
    eventually(lambda: not any("8082" in rule or "8083" in rule for rule in our_iptables()))
    eventually(lambda: not {name for name in host_links() if name.startswith("veth")})
    assert docker.inspect("p1")["NetworkSettings"]["Ports"] == {}
    assert docker.inspect("p2")["NetworkSettings"]["Networks"]["tidy"]["IPAddress"] == ""
    docker("start", "p1")
    assert fetch("http://127.0.0.1:8082/").startswith("hello")
    docker("rm", "-f", "p1", "p2")
    docker("network", "rm", "tidy")
    assert docker.daemon.stop() == 0
    assert our_iptables() == [] and "pydocker0" not in host_links()
    docker.daemon.start()


def test_addresses_after_a_daemon_restart(docker):
    docker("network", "create", "--subnet", "10.68.0.0/24", "keep")
    docker("run", "-d", "--name", "fixed", "--network", "keep", "--ip", "10.68.0.50", "busybox", "sleep", "60")
    docker("run", "-d", "--name", "auto", "--network", "keep", "busybox", "sleep", "60")
    auto_ip = docker.inspect("auto")["NetworkSettings"]["Networks"]["keep"]["IPAddress"]
    docker.restart()
    assert docker.inspect("fixed")["NetworkSettings"]["Networks"]["keep"]["IPAddress"] == ""
    docker("start", "fixed")
    assert docker.inspect("fixed")["NetworkSettings"]["Networks"]["keep"]["IPAddress"] == "10.68.0.50"
    docker("run", "-d", "--name", "fresh", "--network", "keep", "busybox", "sleep", "60")
    # Nothing of the previous run is still allocated: the first free address is handed out again.
    assert docker.inspect("fresh")["NetworkSettings"]["Networks"]["keep"]["IPAddress"] == auto_ip
    assert host_ping("10.68.0.50")
    # A restart right after the exit gets the same address and host port back: the start
    # waits for the disconnect that the exit left going.
    docker("run", "-d", "--name", "again", "--network", "keep", "--ip", "10.68.0.60", "-p", "8086:80",
           "busybox", *HTTPD)
    for _ in range(3):
        docker("restart", "-t", "0", "again")
        assert docker.inspect("again")["NetworkSettings"]["Networks"]["keep"]["IPAddress"] == "10.68.0.60"
        assert fetch("http://127.0.0.1:8086/").startswith("hello")


def test_bad_network_requests_are_refused_at_create(docker):
    docker("network", "create", "--subnet", "10.69.0.0/24", "strict")
    image_id = docker.inspect("busybox")["Id"]
    for args, message in [
        (["--network", "nosuch"], "network nosuch not found"),
        (["--ip", "172.30.0.9"], "user specified IP address is supported on user defined networks only"),
        (["--network", "strict", "--ip", "10.70.0.5"], "does not belong to any of network strict's subnets"),
    ]:
        # By image id: a 404 for "busybox" would make the CLI try to pull it.
        refused = docker("create", *args, image_id, "true", check=False)
        assert refused.returncode != 0 and message in refused.stderr, (args, refused.stderr)
    dockerpy = pytest.importorskip("docker")
    api = dockerpy.APIClient(base_url=docker.daemon.host, version="1.44")
    try:
        aliases = api.create_networking_config({"bridge": api.create_endpoint_config(aliases=["x"])})
        with pytest.raises(dockerpy.errors.APIError, match="network-scoped alias is supported only"):
            api.create_container(image_id, ["true"], networking_config=aliases)
        for host_config, message in [
            (api.create_host_config(port_bindings={80: 70000}), "invalid host port range"),
            (api.create_host_config(extra_hosts=["name:not-an-ip"]), "invalid IP address"),
        ]:
            with pytest.raises(dockerpy.errors.APIError, match=message):
                api.create_container(image_id, ["true"], host_config=host_config)
        bad_mac = api.create_networking_config({"strict": api.create_endpoint_config()})
        bad_mac["EndpointsConfig"]["strict"]["MacAddress"] = "zz:zz"
        with pytest.raises(dockerpy.errors.APIError, match="invalid MAC address"):
            api.create_container(image_id, ["true"], host_config=api.create_host_config(network_mode="strict"),
                                 networking_config=bad_mac)
        two_modes = api.create_networking_config({"strict": {}})
        with pytest.raises(dockerpy.errors.APIError, match="cannot be connected to network endpoints"):
            api.create_container(image_id, ["true"], host_config=api.create_host_config(network_mode="host"),
                                 networking_config=two_modes)
    finally:
        api.close()
    assert docker("ps", "-aq").stdout.split() == []


def test_a_crashed_daemon_s_endpoints_are_cleaned_at_the_next_start(docker):
    docker("run", "-d", "--name", "before", "-p", "8084:80", "busybox", *HTTPD)
    assert any(name.startswith("veth") for name in host_links())
    docker.daemon.kill()
    docker.daemon.start()
    assert not any(name.startswith("veth") for name in host_links())
    assert not any("8084" in rule for rule in our_iptables())
    assert docker.inspect("before")["NetworkSettings"]["IPAddress"] == ""
    docker("run", "-d", "--name", "after", "-p", "8084:80", "busybox", *HTTPD)
    assert fetch("http://127.0.0.1:8084/").startswith("hello")


@pytest.mark.parametrize("docker", [["--userland-proxy=false"]], indirect=True)
def test_without_the_userland_proxy_nat_serves_loopback_too(docker):
    cid = docker("run", "-d", "-p", "8085:80", "busybox", *HTTPD).stdout.strip()
    assert fetch("http://127.0.0.1:8085/") == f"hello from {cid[:12]}\n"
    assert any("--dport 8085" in rule and "DNAT" in rule for rule in our_iptables())
    listening = subprocess.run(["ss", "-ltnH", "sport = :8085"], capture_output=True, text=True).stdout
    assert listening.strip() == "", "no proxy should listen when NAT does the work"


@pytest.mark.parametrize("docker", [["--bridge=none"]], indirect=True)
def test_bridge_none_gives_every_container_the_none_mode(docker):
    links = docker.output("busybox", "ip", "-o", "link")
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
    cid = docker("ps", "-lq").stdout.strip()
    assert list(docker.inspect(cid)["NetworkSettings"]["Networks"]) == ["none"]
    assert "pydocker0" not in host_links()
