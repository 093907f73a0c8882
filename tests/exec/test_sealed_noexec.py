"""The sealed copy on a host that refuses executable memfds (``vm.memfd_noexec=2``).

The sysctl is per pid namespace (a child's may only be stricter), so each case runs in a
child process in a new pid and mount namespace that sets 2 for itself alone; the host's
value is unchanged. There the copy is an unlinked file: the interpreter (what the native
driver's spawner executes) runs from it and a write through its exe fails; with no
directory that allows executing, the error names the sysctl.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

from pydocker.testing.daemon import DaemonProcess

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(not os.path.exists("/proc/sys/vm/memfd_noexec"),
                                 reason="this kernel has no vm.memfd_noexec (Linux < 6.3)")]

CHILD = r"""
import json, os, subprocess, sys
from pydocker.drivers.exec.sealed import SealedCopy
from pydocker.errdefs import PrerequisiteMissing
with open("/proc/sys/vm/memfd_noexec", "w") as f:
    f.write("2")
directory = sys.argv[1]
try:
    copy = SealedCopy(sys.executable, os.path.join(directory, "python-copy"))
except PrerequisiteMissing as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(0)
probe = ("import errno, os\n"
         "try:\n"
         "    os.open('/proc/self/exe', os.O_WRONLY)\n"
         "    print('written')\n"
         "except OSError as e:\n"
         "    print(errno.errorcode[e.errno])\n")
ran = subprocess.run([copy.path, "-c", probe], capture_output=True, text=True)
print(json.dumps({"kind": copy.kind, "probe": ran.stdout.strip(), "stderr": ran.stderr}))
copy.close()
"""


def _in_noexec_namespace(directory, mount_noexec=False):
    before = open("/proc/sys/vm/memfd_noexec").read()
    setup = "mount -t tmpfs -o noexec none %s && " % directory if mount_noexec else ""
    proc = subprocess.run(
        ["unshare", "--pid", "--mount", "--fork", "--mount-proc", "sh", "-c",
         setup + 'exec "$0" -c "$1" "$2"', sys.executable, CHILD, str(directory)],
        capture_output=True, text=True, timeout=60)
    assert open("/proc/sys/vm/memfd_noexec").read() == before     # the host's stays
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_copy_falls_back_to_an_unlinked_file_that_runs_and_refuses_writes(tmp_path):
    result = _in_noexec_namespace(tmp_path)
    assert result["kind"] == "tmpfile", result
    assert result["probe"] == "ETXTBSY", result
    assert os.listdir(tmp_path) == []       # unlinked, and the link went with close()


def test_without_an_executable_directory_the_error_names_the_sysctl(tmp_path):
    result = _in_noexec_namespace(tmp_path, mount_noexec=True)
    assert "vm.memfd_noexec=2" in result["error"], result
    assert "noexec" in result["error"]


class _NoexecDaemon(DaemonProcess):
    """A daemon in its own pid namespace whose vm.memfd_noexec is 2."""

    def args(self):
        return ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c",
                'echo 2 > /proc/sys/vm/memfd_noexec && exec "$@"', "sh"] + super().args()

    def stop(self, timeout=30):
        """unshare passes no signal on: the daemon (its only child) gets the SIGTERM."""
        with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
            os.kill(int(f.read().split()[0]), signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()


def test_the_native_driver_runs_containers_where_memfds_may_not_execute(tmp_path):
    d = _NoexecDaemon(tmp_path, ["-e", "native", "--bridge=none"]).start()
    try:
        d.import_busybox()
        out = d.client("run", "--rm", "--net=none", "busybox", "sh", "-c",
                       "readlink /proc/1/exe; cat /proc/sys/vm/memfd_noexec").stdout
    finally:
        assert d.stop() == 0, d.log()
    assert out.split() == ["/bin/busybox", "2"]


def test_the_lxc_driver_runs_containers_there_and_refuses_exec_plainly(tmp_path):
    d = _NoexecDaemon(tmp_path, ["-e", "lxc", "--bridge=none"]).start()
    try:
        d.import_busybox()
        container = d.client("run", "-d", "--net=none", "busybox", "sleep", "60").stdout.strip()
        refused = d.client("exec", container, "true", check=False)
        d.client("rm", "-f", container)
    finally:
        assert d.stop() == 0, d.log()
    assert refused.returncode != 0
    assert "vm.memfd_noexec=2" in refused.stdout, refused
