"""Our client's ``stats``: one-shot and live, against a real daemon."""

import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.kernel


def ours(d, *args, **kw):
    return subprocess.run([sys.executable, "-m", "pydocker", "-H", d.host, *args],
                          capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def two_sleepers(busybox_daemon):
    names = ["stats-%d-%s" % (i, os.urandom(3).hex()) for i in range(2)]
    for name in names:
        assert ours(busybox_daemon, "run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    yield names
    ours(busybox_daemon, "rm", "-f", *names)


def test_no_stream_lists_every_named_container_once(busybox_daemon, two_sleepers):
    result = ours(busybox_daemon, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}",
                  *two_sleepers)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted(f"{n} 1" for n in two_sleepers)


def test_unknown_container_is_an_error(busybox_daemon):
    result = ours(busybox_daemon, "stats", "--no-stream", "no-such-container")
    assert result.returncode != 0 and "no-such-container" in result.stderr


def test_live_table_redraws_and_picks_up_new_containers(busybox_daemon, two_sleepers):
    late = "stats-late-" + os.urandom(3).hex()
    proc = subprocess.Popen([sys.executable, "-m", "pydocker", "-H", busybox_daemon.host, "stats",
                             "--format", "{{.Name}}"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2.5)
        assert ours(busybox_daemon, "run", "-d", "--name", late, "busybox", "sleep", "60").returncode == 0
        time.sleep(3.5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        ours(busybox_daemon, "rm", "-f", late)
    frames = [frame for frame in out.split("\x1b[2J\x1b[H") if frame.strip()]
    assert len(frames) >= 3, out
    assert set(two_sleepers) <= set(frames[1].split())
    assert late in frames[-1].split()


def test_memory_limit_is_the_hosts_memory_when_unlimited(busybox_daemon, docker_cli):
    """As dockerd: no --memory shows the host's total, a limit shows itself."""
    from pydocker import sysinfo
    names = ["mem-%s-%s" % (kind, os.urandom(3).hex()) for kind in ("free", "capped")]
    env = dict(os.environ, DOCKER_HOST=busybox_daemon.host)
    try:
        for name, extra in zip(names, ([], ["--memory", "64m"])):
            subprocess.run([docker_cli, "run", "-d", "--name", name, *extra, "busybox", "sleep", "60"],
                           env=env, check=True, capture_output=True, timeout=60)
        import docker as dockerpy
        client = dockerpy.APIClient(base_url=busybox_daemon.host)
        try:
            limits = [client.stats(n, stream=False)["memory_stats"]["limit"] for n in names]
        finally:
            client.close()
        assert limits == [sysinfo.mem_total(), 64 << 20]
    finally:
        subprocess.run([docker_cli, "rm", "-f", *names], env=env, capture_output=True, timeout=60)
