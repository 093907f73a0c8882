"""Socket activation: the daemon started the way systemd starts it (listening sockets from fd 3
on, LISTEN_FDS, LISTEN_PID), with `-H fd://` and `-H fd://N`; TCP sockets get TLS, unix ones not."""

import os
import socket
import subprocess
import sys

import pytest

from pydocker import __version__, tlsgen
from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.sockets import free_port, system_backlog, unix_backlog

pytestmark = pytest.mark.kernel

# What systemd does in the child it forks for a socket-activated service: the sockets it made
# become fds 3, 4, ...; LISTEN_FDS counts them; LISTEN_PID is the pid that will exec the
# service (exec keeps it). argv: one address per socket ("unix:PATH" or "tcp:PORT"), "--",
# the daemon's command line.
LAUNCHER = r"""
import os, socket, sys
split = sys.argv.index("--")
addresses, command = sys.argv[1:split], sys.argv[split + 1:]
env = dict(os.environ)
for fd, address in enumerate(addresses, start=3):
    kind, _, where = address.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX)
        s.bind(where)
    else:
        s = socket.socket(socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(where)))
    s.listen(128)
    if s.fileno() == fd:
        os.set_inheritable(s.detach(), True)
    else:
        os.dup2(s.fileno(), fd)  # dup2 leaves the new descriptor inheritable
        s.close()
env["LISTEN_FDS"] = str(len(addresses))
env["LISTEN_PID"] = os.environ.get("FAKE_LISTEN_PID") or str(os.getpid())
os.execve(command[0], command, env)
"""


class ActivatedDaemon(DaemonProcess):
    """A DaemonProcess whose extra listeners come from a systemd-like launcher."""

    def __init__(self, base, sockets, host_flags, extra_args=(), env=None):
        super().__init__(base, extra_args=[*extra_args, *host_flags], env=env)
        self.sockets = sockets

    def args(self):
        return [sys.executable, "-c", LAUNCHER, *self.sockets, "--", *super().args()]


def client(host, *args, env=None):
    return subprocess.run([sys.executable, "-m", "pydocker", "-H", host, *args],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    out = tmp_path_factory.mktemp("certs")
    tlsgen.generate(str(out), ["localhost"], ["127.0.0.1"])
    return out


def test_unix_and_tcp_sockets_from_systemd(tmp_path, certs, docker_cli):
    """`-H fd://` takes every passed socket; with --tlsverify the TCP one speaks TLS."""
    activated = str(tmp_path / "activated.sock")
    port = free_port()
    d = ActivatedDaemon(tmp_path / "d", [f"unix:{activated}", f"tcp:{port}"], ["-H", "fd://"], extra_args=[
        "--tlsverify", f"--tlscacert={certs / 'ca.pem'}", f"--tlscert={certs / 'server-cert.pem'}",
        f"--tlskey={certs / 'server-key.pem'}"]).start()
    try:
        plain = client(f"unix://{activated}", "version", "-f", "{{.Server.Version}}")
        assert (plain.returncode, plain.stdout) == (0, __version__ + "\n"), plain.stderr
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(certs), DOCKER_HOST=f"tcp://localhost:{port}")
        proc = subprocess.run([docker_cli, "version", "-f", "{{.Server.Version}}"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert (proc.returncode, proc.stdout) == (0, __version__ + "\n"), proc.stderr
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.0 400 Bad Request")
        assert "API listening on fd://3" in d.log() and "API listening on fd://4" in d.log()
    finally:
        assert d.stop() == 0, d.log()


def test_fd_n_takes_only_that_socket(tmp_path):
    first, second = str(tmp_path / "first.sock"), str(tmp_path / "second.sock")
    d = ActivatedDaemon(tmp_path / "d", [f"unix:{first}", f"unix:{second}"], ["-H", "fd://4"]).start()
    try:
        answered = client(f"unix://{second}", "version", "-f", "{{.Server.Version}}")
        assert (answered.returncode, answered.stdout) == (0, __version__ + "\n"), answered.stderr
        assert "API listening on fd://3" not in d.log()
    finally:
        assert d.stop() == 0, d.log()


def _refused(tmp_path, sockets, host_flags, env=None):
    d = ActivatedDaemon(tmp_path / "d", sockets, host_flags, env=env)
    proc = subprocess.run(d.args(), capture_output=True, text=True, timeout=60, env=env)
    assert not os.path.exists(d.pidfile)
    return proc


def test_fd_n_not_passed_is_a_clear_error(tmp_path):
    proc = _refused(tmp_path, [f"unix:{tmp_path / 'one.sock'}"], ["-H", "fd://7"])
    assert proc.returncode == 1
    assert "fd://7: systemd passed fds [3], not 7" in proc.stderr


def test_sockets_meant_for_another_process_are_not_taken(tmp_path):
    """LISTEN_PID names someone else (a parent that did not unset it): no socket activation."""
    env = dict(os.environ, FAKE_LISTEN_PID="1")
    proc = _refused(tmp_path, [f"unix:{tmp_path / 'one.sock'}"], ["-H", "fd://"], env=env)
    assert proc.returncode == 1
    assert "no sockets found via socket activation" in proc.stderr


def test_an_adopted_socket_queues_the_system_maximum(tmp_path):
    """systemd's ListenStream= backlog (here 128) is raised to the system's maximum."""
    path = str(tmp_path / "activated.sock")
    d = ActivatedDaemon(tmp_path / "d", [f"unix:{path}"], ["-H", "fd://"]).start()
    try:
        assert unix_backlog(path) == system_backlog()
    finally:
        assert d.stop() == 0, d.log()
