"""Our client's ``stats``: one-shot and live, against a real daemon."""

import os
import subprocess
import sys
import threading
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
    screen = LiveScreen(proc.stdout)
    try:
        screen.wait(lambda frames: len(frames) >= 2)
        assert set(two_sleepers) <= set(screen.frames()[1].split())
        assert ours(busybox_daemon, "run", "-d", "--name", late, "busybox", "sleep", "60").returncode == 0
        screen.wait(lambda frames: late in frames[-1].split())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        ours(busybox_daemon, "rm", "-f", late)


class LiveScreen:
    """What a live ``stats`` drew, frame by frame, read as it comes by a thread."""

    CLEAR = "\x1b[2J\x1b[H"

    def __init__(self, stream):
        self._text = []
        self._reader = threading.Thread(target=lambda: self._text.extend(iter(lambda: stream.read(1), "")),
                                        daemon=True)
        self._reader.start()

    def frames(self):
        """Whole frames: the one being drawn ends only where the next begins."""
        return [frame for frame in "".join(self._text).split(self.CLEAR) if frame.strip()][:-1]

    def wait(self, condition, timeout=60):
        deadline = time.monotonic() + timeout
        while not (self.frames() and condition(self.frames())):
            assert time.monotonic() < deadline, "".join(self._text)[-2000:]
            time.sleep(0.1)


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
