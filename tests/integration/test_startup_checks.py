"""Start-up checks: a daemon that could only fail every container start refuses to start,
saying why, and leaves nothing behind."""

import os
import subprocess

import pytest

from pydocker.testing.daemon import DaemonProcess

pytestmark = pytest.mark.kernel


class HiddenCgroupsDaemon(DaemonProcess):
    """A daemon in a mount namespace of its own where ``hidden`` has an empty tmpfs over it
    (the test's own namespace keeps its cgroups)."""

    def __init__(self, base, hidden):
        super().__init__(base)
        self.hidden = hidden

    def args(self):
        script = f'mount -t tmpfs hidden "{self.hidden}" && exec "$@"'
        return ["unshare", "--mount", "sh", "-c", script, "sh", *super().args()]


@pytest.mark.parametrize("hidden", ["/sys/fs/cgroup", "/sys/fs/cgroup/memory"])
def test_a_hidden_cgroup_hierarchy_refuses_the_start(tmp_path, hidden):
    if not os.path.isdir(hidden):
        pytest.skip(f"{hidden} is not on this host")
    d = HiddenCgroupsDaemon(tmp_path / "d", hidden)
    try:
        proc = subprocess.run(d.args(), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the daemon started without reachable cgroups")
    assert proc.returncode == 1, proc.stderr
    assert "cgroup hierarchy" in proc.stderr and "cannot be reached" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not os.path.exists(d.pidfile) and not os.path.exists(d.socket)
