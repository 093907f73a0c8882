"""HEALTHCHECK through the docker CLI 28: starting, unhealthy after the retries,
healthy again, timeouts, the log of results, ps status and filter, events."""

import json
import os
import time

import pytest

from pydocker.testing.cli import docker

pytestmark = pytest.mark.kernel


def health_of(cli, d, name):
    return json.loads(docker(cli, d, "inspect", "-f", "{{json .State.Health}}", name).stdout)


def wait_for(cli, d, name, status, within=20):
    deadline = time.monotonic() + within
    while True:
        health = health_of(cli, d, name)
        if health["Status"] == status:
            return health
        assert time.monotonic() < deadline, f"{name} never became {status}: {health}"
        time.sleep(0.1)


def test_health_goes_unhealthy_after_retries_then_healthy(busybox_daemon, docker_cli):
    d, name = busybox_daemon, "health-" + os.urandom(3).hex()
    since = str(int(time.time()))
    docker(docker_cli, d, "run", "-d", "--name", name, "--health-cmd", "cat /tmp/ok",
           "--health-interval", "200ms", "--health-retries", "2", "busybox", "sleep", "60")
    try:
        first = health_of(docker_cli, d, name)
        assert first["Status"] == "starting" and first["FailingStreak"] == 0
        assert "(health: starting)" in docker(docker_cli, d, "ps", "--filter", f"name={name}").stdout
        unhealthy = wait_for(docker_cli, d, name, "unhealthy")
        assert unhealthy["FailingStreak"] >= 2
        assert unhealthy["Log"][-1]["ExitCode"] == 1
        assert "No such file" in unhealthy["Log"][-1]["Output"]
        assert docker(docker_cli, d, "ps", "-q", "--filter", "health=unhealthy").stdout.split() == [
            docker(docker_cli, d, "inspect", "-f", "{{.Id}}", name).stdout.strip()[:12]]
        docker(docker_cli, d, "exec", name, "touch", "/tmp/ok")
        healthy = wait_for(docker_cli, d, name, "healthy")
        assert healthy["FailingStreak"] == 0 and len(healthy["Log"]) <= 5
        assert "(healthy)" in docker(docker_cli, d, "ps", "--filter", f"name={name}").stdout
        events = docker(docker_cli, d, "events", "--since", since, "--until", str(int(time.time()) + 1),
                        "--filter", f"container={name}", "--format", "{{.Action}}").stdout.split("\n")
        assert "health_status: unhealthy" in events and "health_status: healthy" in events
    finally:
        docker(docker_cli, d, "rm", "-f", name)


def test_a_probe_that_outlives_its_timeout_fails(busybox_daemon, docker_cli):
    d, name = busybox_daemon, "slowhealth-" + os.urandom(3).hex()
    docker(docker_cli, d, "run", "-d", "--name", name, "--health-cmd", "sleep 30",
           "--health-interval", "100ms", "--health-timeout", "300ms", "--health-retries", "1",
           "busybox", "sleep", "60")
    try:
        health = wait_for(docker_cli, d, name, "unhealthy")
        assert health["Log"][-1]["Output"] == "Health check exceeded timeout (300ms)"
        assert health["Log"][-1]["ExitCode"] == -1
        # Timed-out probes are killed: after three more, at most the probe under way is left.
        deadline = time.monotonic() + 30
        while health_of(docker_cli, d, name)["FailingStreak"] < health["FailingStreak"] + 3:
            assert time.monotonic() < deadline, "the probes stopped"
            time.sleep(0.1)
        top = docker(docker_cli, d, "top", name).stdout
        assert top.count("sleep 30") <= 1, top
    finally:
        docker(docker_cli, d, "rm", "-f", name)


def test_no_healthcheck_means_no_health_state(busybox_daemon, docker_cli):
    d, name = busybox_daemon, "nohealth-" + os.urandom(3).hex()
    docker(docker_cli, d, "run", "-d", "--name", name, "busybox", "sleep", "60")
    try:
        assert docker(docker_cli, d, "inspect", "-f", "{{json .State.Health}}", name).stdout.strip() == "null"
        assert name in docker(docker_cli, d, "ps", "--filter", "health=none", "--format", "{{.Names}}").stdout
        bad = docker(docker_cli, d, "ps", "--filter", "health=bogus", check=False)
        assert bad.returncode != 0 and "Unrecognised filter value for health" in bad.stderr
    finally:
        docker(docker_cli, d, "rm", "-f", name)


def test_bad_health_durations_are_refused(busybox_daemon):
    import docker as dockerpy
    client = dockerpy.APIClient(base_url=busybox_daemon.host)
    try:
        with pytest.raises(dockerpy.errors.APIError, match="Interval in Healthcheck cannot be less than 1ms"):
            client.create_container("busybox", "true", healthcheck={"Test": ["CMD", "true"], "Interval": 500})
    finally:
        client.close()
