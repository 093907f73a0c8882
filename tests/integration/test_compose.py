"""docker-compose (Debian's 1.29, on docker-py) against our daemon, unchanged:
a user network with name resolution, a published port, a named volume,
exec, restart and a clean ``down -v``."""

import os
import shutil
import subprocess
import time
import urllib.request

import docker
import pytest

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(shutil.which("docker-compose") is None,
                                 reason="docker-compose is not installed (Debian package docker-compose)")]

COMPOSE_FILE = """\
version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /www && echo hello-from-web > /www/index.html && httpd -f -p 80 -h /www'
    ports: ["18080:80"]
    volumes: ["data:/data"]
    labels: {role: web}
  client:
    image: busybox
    command: sh -c 'until wget -qO- http://web/index.html; do sleep 0.2; done; exec sleep 300'
    depends_on: [web]
    environment: {FOO: bar}
volumes:
  data: {}
"""


def compose(d, project_dir, *args, check=True):
    env = dict(os.environ, DOCKER_HOST=d.host, COMPOSE_PROJECT_NAME="pyd")
    result = subprocess.run(["docker-compose", *args], env=env, cwd=project_dir,
                            capture_output=True, text=True, timeout=180)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_compose_up_exec_restart_down(busybox_daemon, tmp_path):
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE)
    compose(busybox_daemon, tmp_path, "up", "-d")
    try:
        deadline = time.monotonic() + 30
        while "hello-from-web" not in compose(busybox_daemon, tmp_path, "logs", "client").stdout:
            assert time.monotonic() < deadline, "the client never reached web by its name"
            time.sleep(0.3)
        with urllib.request.urlopen("http://127.0.0.1:18080/index.html", timeout=10) as response:
            assert response.read() == b"hello-from-web\n"
        ps = compose(busybox_daemon, tmp_path, "ps").stdout
        assert "pyd_web_1" in ps and "0.0.0.0:18080->80/tcp" in ps
        env = compose(busybox_daemon, tmp_path, "exec", "-T", "client", "env").stdout
        assert "FOO=bar" in env.splitlines()
        compose(busybox_daemon, tmp_path, "restart", "web")
        assert "Up" in compose(busybox_daemon, tmp_path, "ps", "web").stdout
    finally:
        compose(busybox_daemon, tmp_path, "down", "-v", "-t", "1")
    client = docker.DockerClient(base_url=busybox_daemon.host)
    try:
        assert [c for c in client.containers.list(all=True) if c.name.startswith("pyd_")] == []
        assert "pyd_default" not in [n.name for n in client.networks.list()]
        assert "pyd_data" not in [v.name for v in client.volumes.list()]
    finally:
        client.close()


SOCKET_AND_CONFIG = """\
version: "3.8"
services:
  job:
    image: busybox
    network_mode: none
    command: sh -c 'cat /etc/app.conf && test -S /var/run/docker.sock && echo socket-there'
    volumes:
      - ./app.conf:/etc/app.conf:ro
      - {socket}:/var/run/docker.sock
"""


def test_compose_binds_a_config_file_and_the_daemon_socket(busybox_daemon, tmp_path):
    """What a CI runner's job container or a redis with its config file does (issue 15)."""
    (tmp_path / "app.conf").write_text("maxmemory 1mb\n")
    (tmp_path / "docker-compose.yml").write_text(SOCKET_AND_CONFIG.format(socket=busybox_daemon.socket))
    try:
        out = compose(busybox_daemon, tmp_path, "run", "--rm", "-T", "job").stdout
        assert out.splitlines()[-2:] == ["maxmemory 1mb", "socket-there"]
    finally:
        compose(busybox_daemon, tmp_path, "down", check=False)
