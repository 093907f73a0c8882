"""Black box: a real daemon on a temporary root, queried by the docker CLI and docker-py."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from pydocker.testing.cli import docker
from pydocker.testing.daemon import DaemonProcess


def raw_request(d, request_bytes):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(d.socket)
    s.sendall(request_bytes)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def test_docker_cli_version(daemon, docker_cli):
    out = docker(docker_cli, daemon, "version", "--format", "{{json .Server}}").stdout
    server = json.loads(out)
    assert server["ApiVersion"] == "1.44" and server["MinAPIVersion"] == "1.24"
    assert server["Os"] == "linux" and server["GoVersion"].startswith("python3")
    assert server["Components"][0]["Name"] == "Engine"


def test_docker_cli_info_reports_real_figures(daemon, docker_cli):
    info = json.loads(docker(docker_cli, daemon, "info", "--format", "{{json .}}").stdout)
    assert info["NCPU"] == os.cpu_count()
    assert info["DockerRootDir"] == daemon.root
    assert info["CgroupVersion"] in ("1", "2") and info["OSType"] == "linux"
    assert info["MemTotal"] > 0 and info["Containers"] == 0


def test_docker_cli_ps_on_empty_daemon(daemon, docker_cli):
    out = docker(docker_cli, daemon, "ps", "-a").stdout
    assert out.split()[:3] == ["CONTAINER", "ID", "IMAGE"]
    assert len(out.strip().splitlines()) == 1


def test_docker_cli_events_since_until(daemon, docker_cli):
    # the CLI sends whole seconds: ask until the next second so the start event is inside
    until = str(int(time.time()) + 1)
    out = docker(docker_cli, daemon, "events", "--since", "5m", "--until", until,
                 "--format", "{{json .}}").stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert any(e["Type"] == "daemon" and e["Action"] == "start" for e in events)


def test_docker_py(daemon):
    docker_py = pytest.importorskip("docker")
    client = docker_py.DockerClient(base_url=daemon.host, version="auto")
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.44"
    assert client.info()["Driver"] is not None
    client.close()


def test_unknown_route_and_bad_version_keep_serving(daemon):
    reply = raw_request(daemon, b"GET /v1.44/no/such/route HTTP/1.0\r\n\r\n")
    assert reply.split(b" ", 2)[1] == b"404" and b'"message"' in reply
    reply = raw_request(daemon, b"GET /v9.0/info HTTP/1.0\r\n\r\n")
    assert reply.split(b" ", 2)[1] == b"400" and b"too new" in reply
    reply = raw_request(daemon, b"GET /_ping HTTP/1.0\r\n\r\n")
    assert reply.split(b" ", 2)[1] == b"200" and reply.endswith(b"OK")


def test_debug_commands_lists_the_jobs_and_jobs_carry_their_id(tmp_path):
    d = DaemonProcess(tmp_path / "d", extra_args=["-D"]).start()
    try:
        reply = raw_request(d, b"GET /debug/commands HTTP/1.0\r\n\r\n")
        names = [entry["Name"] for entry in json.loads(reply.split(b"\r\n\r\n", 1)[1])]
        assert {"container.start", "image.pull", "containers.restore", "commands"} <= set(names)
        log = d.log()
        [job_id] = [line.split("[")[-1].rstrip("]") for line in log.splitlines()
                    if "GET /debug/commands 200" in line]
        assert f"+job commands [{job_id}]" in log and f"-job commands [{job_id}] = OK" in log
        assert "+job containers.restore [" in log  # start-up runs as a job too
    finally:
        assert d.stop() == 0


def run_to_exit(daemon_process):
    """Run a daemon that is expected to refuse to start; (exit status, output)."""
    proc = subprocess.run(daemon_process.args(), capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def test_second_daemon_on_same_socket_refuses(daemon, tmp_path):
    other = DaemonProcess(tmp_path / "other")
    other.socket = daemon.socket
    status, output = run_to_exit(other)
    assert status == 1 and "another daemon is already listening" in output
    assert daemon.ping()


def test_second_daemon_on_same_pidfile_refuses(daemon, tmp_path):
    other = DaemonProcess(tmp_path / "other")
    other.pidfile = daemon.pidfile
    status, output = run_to_exit(other)
    assert status == 1 and "already running" in output
    assert not os.path.exists(other.socket)
    assert daemon.ping()


def test_stale_socket_and_pidfile_after_crash_are_replaced(tmp_path):
    d = DaemonProcess(tmp_path / "d").start()
    d.kill()
    assert os.path.exists(d.socket) and os.path.exists(d.pidfile)
    d.start()
    assert d.ping()
    assert d.stop() == 0
    assert not os.path.exists(d.socket) and not os.path.exists(d.pidfile)


def test_sigterm_leaves_no_children(tmp_path):
    d = DaemonProcess(tmp_path / "d").start()
    pid = d.proc.pid
    assert d.stop() == 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    assert children.strip() == ""


def test_a_second_sigterm_while_stopping_is_harmless(tmp_path):
    d = DaemonProcess(tmp_path / "d").start()
    d.import_busybox()
    d.client("run", "-d", "--name", "stubborn", "busybox", "sleep", "60")   # PID 1 ignores TERM
    d.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while "Received SIGTERM, shutting down" not in d.log():
        assert time.monotonic() < deadline, d.log()[-3000:]
        time.sleep(0.05)
    assert d.proc.poll() is None                    # still stopping the container
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(60) == 0
    log = d.log()
    assert "already shutting down" in log and "Traceback" not in log and "critical" not in log


def test_bad_flag_exits_before_touching_anything(tmp_path):
    d = DaemonProcess(tmp_path / "d", extra_args=["--bip", "not-a-cidr"])
    status, output = run_to_exit(d)
    assert status == 1 and "invalid CIDR address" in output
    assert not os.path.exists(d.root) and not os.path.exists(d.socket)


def test_sighup_reloads_log_level(tmp_path):
    cfg = tmp_path / "daemon.json"
    cfg.write_text(json.dumps({"labels": ["a=1"]}))
    d = DaemonProcess(tmp_path / "d", extra_args=["--config-file", str(cfg)]).start()
    try:
        cfg.write_text(json.dumps({"labels": ["a=2"], "mtu": 1400}))
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "configuration reloaded" not in d.log() and time.time() < deadline:
            time.sleep(0.05)
        log = d.log()
        assert "configuration reloaded: labels" in log
        assert "need a restart to take effect: mtu" in log
    finally:
        assert d.stop() == 0


def test_unknown_log_driver_refuses_to_start(tmp_path):
    d = DaemonProcess(tmp_path / "d", extra_args=["--log-driver", "splunk"])
    status, output = run_to_exit(d)
    assert status == 1 and "unknown log driver 'splunk'" in output
    assert not os.path.exists(d.socket)


def test_swarm_endpoints_answer_like_a_node_outside_any_swarm(daemon):
    """docker-py leaves a swarm in its clean-up: a 503 (not a 404) lets it carry on."""
    import docker as dockerpy
    client = dockerpy.APIClient(base_url=daemon.host)
    try:
        assert client.leave_swarm(force=True) is True
        with pytest.raises(dockerpy.errors.APIError, match="not a swarm manager") as info:
            client.nodes()
        assert info.value.status_code == 503
        with pytest.raises(dockerpy.errors.APIError, match="not a swarm manager"):
            client.inspect_service("web")
        with pytest.raises(dockerpy.errors.APIError, match="does not implement swarm mode"):
            client.init_swarm()
    finally:
        client.close()


def test_system_prune_and_an_empty_diff(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "--name", "unchanged", "busybox", "true")
    assert docker(docker_cli, d, "diff", "unchanged").stdout == ""
    out = docker(docker_cli, d, "system", "prune", "-f").stdout
    assert "Total reclaimed space" in out
    assert "unchanged" not in docker(docker_cli, d, "ps", "-a", "--format", "{{.Names}}").stdout
