"""Log drivers end to end: json-file rotation and follow, syslog to a socket, none."""

import os
import socket
import subprocess
import time

import pytest

from pydocker.testing.cli import docker

pytestmark = pytest.mark.kernel


def test_syslog_driver_sends_each_line(busybox_daemon, docker_cli, tmp_path):
    path = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(10)
    try:
        docker(docker_cli, busybox_daemon, "run", "--name", "sl", "--log-driver", "syslog",
               "--log-opt", f"syslog-address=unixgram://{path}", "--log-opt", "tag=web",
               "busybox", "sh", "-c", "echo one; echo two >&2")
        messages = sorted(server.recv(4096).decode() for _ in range(2))
    finally:
        server.close()
    assert messages[0].startswith("<27>") and messages[0].endswith("web[" + messages[0].split("[")[1].split("]")[0] + "]: two")
    assert messages[1].startswith("<30>") and messages[1].endswith("]: one")
    proc = docker(docker_cli, busybox_daemon, "logs", "sl", check=False)
    assert proc.returncode != 0 and "does not support reading" in proc.stderr


def test_bad_log_options_are_refused(busybox_daemon, docker_cli):
    proc = docker(docker_cli, busybox_daemon, "create", "--log-driver", "syslog", "--log-opt", "bogus=1",
                  "busybox", "true", check=False)
    assert proc.returncode != 0 and "unknown log opt 'bogus'" in proc.stderr
    proc = docker(docker_cli, busybox_daemon, "create", "--log-driver", "nope", "busybox", "true", check=False)
    assert proc.returncode != 0 and "no log driver named 'nope'" in proc.stderr


def test_none_driver_keeps_nothing(busybox_daemon, docker_cli):
    docker(docker_cli, busybox_daemon, "run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "x")
    proc = docker(docker_cli, busybox_daemon, "logs", "quiet", check=False)
    assert proc.returncode != 0 and "does not support reading" in proc.stderr


def test_json_file_rotation_and_follow(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
           "busybox", "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); sleep 0.01; done")
    follow = subprocess.run([docker_cli, "-H", d.host, "logs", "-f", "rot"], capture_output=True, text=True, timeout=60)
    lines = follow.stdout.split()
    assert lines[-1] == "line-199"  # follow ends when the container stops, across rotations
    assert lines == [f"line-{i}" for i in range(200 - len(lines), 200)]
    log_path = docker(docker_cli, d, "inspect", "-f", "{{.LogPath}}", "rot").stdout.strip()
    assert os.path.exists(log_path + ".1") and os.path.exists(log_path + ".2")
    assert not os.path.exists(log_path + ".3")
    assert docker(docker_cli, d, "logs", "--tail", "2", "rot").stdout.split() == ["line-198", "line-199"]


def test_logs_details_show_the_labels_and_env_named_by_log_opts(busybox_daemon, docker_cli):
    name = "details-" + os.urandom(3).hex()
    docker(docker_cli, busybox_daemon, "run", "--name", name, "--label", "team=a b",
           "--label", "other=x", "-e", "STAGE=prod", "-e", "SECRET=s",
           "--log-opt", "labels=team", "--log-opt", "env-regex=^STA",
           "busybox", "echo", "hello")
    try:
        shown = docker(docker_cli, busybox_daemon, "logs", "--details", name).stdout
        assert shown == "STAGE=prod,team=a+b hello\n"
        assert docker(docker_cli, busybox_daemon, "logs", name).stdout == "hello\n"
        stamped = docker(docker_cli, busybox_daemon, "logs", "-t", "--details", name).stdout
        assert stamped.split(" ", 1)[1] == "STAGE=prod,team=a+b hello\n"
    finally:
        docker(docker_cli, busybox_daemon, "rm", name)


def test_logs_details_without_attributes_is_a_leading_space(busybox_daemon, docker_cli):
    name = "nodetails-" + os.urandom(3).hex()
    docker(docker_cli, busybox_daemon, "run", "--name", name, "busybox", "echo", "hi")
    try:
        assert docker(docker_cli, busybox_daemon, "logs", "--details", name).stdout == " hi\n"
    finally:
        docker(docker_cli, busybox_daemon, "rm", name)


def test_a_bad_env_regex_is_refused(busybox_daemon, docker_cli):
    result = docker(docker_cli, busybox_daemon, "create", "--log-opt", "env-regex=(",
                    "busybox", "true", check=False)
    assert result.returncode != 0 and "env-regex" in result.stderr


def test_an_unreachable_syslog_server_does_not_stall_the_daemon(busybox_daemon, docker_cli):
    """The syslog server's accept queue is full, so the daemon's connect waits on dropped
    SYNs: meanwhile the daemon answers; once the server goes away the start fails clearly."""
    d = busybox_daemon
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):  # never accepted: they fill the queue
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    run = subprocess.Popen([docker_cli, "-H", d.host, "run", "--log-driver", "syslog",
                            "--log-opt", f"syslog-address=tcp://127.0.0.1:{port}", "busybox", "true"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "+job container.start" not in d.log():
            assert time.monotonic() < deadline, d.log()
            time.sleep(0.05)
        answered = docker(docker_cli, d, "ps", "-a", "--format", "{{.Status}}").stdout
        assert run.poll() is None, "the start should still be waiting for the syslog server"
        assert answered.strip() == "Created"
    finally:
        server.close()  # a retried SYN now meets a closed port: the connect fails
        for filler in fillers:
            filler.close()
    _, err = run.communicate(timeout=120)
    assert run.returncode != 0 and "failed to initialize logging driver" in err, err
