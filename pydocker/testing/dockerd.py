"""Docker's own dockerd (Debian docker.io) on a private root, for interoperability tests and
side-by-side benchmarks. Run it inside private namespaces: with ``networked=True`` it makes
its docker0 bridge and iptables rules there."""

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

CGROUP_ROOT = "/sys/fs/cgroup"


def available():
    """Why dockerd cannot run here, or None when it can."""
    if shutil.which("dockerd") is None or shutil.which("containerd") is None:
        return "Docker's dockerd (Debian docker.io) and containerd are not installed"
    return None


class Dockerd:
    def __init__(self, base, networked=False):
        self.base = str(base)
        self.socket = os.path.join(self.base, "docker.sock")
        self.host = f"unix://{self.socket}"
        self.networked = networked
        # containerd's socket paths must fit in 108 bytes: keep the exec root short
        self.exec_root = tempfile.mkdtemp(prefix="dkd-", dir="/tmp")
        self.cgroup_parent = "pydocker-test-" + secrets.token_hex(4)
        self.proc = None

    def args(self):
        args = ["dockerd", "--data-root", os.path.join(self.base, "root"), "--exec-root",
                self.exec_root, "-H", self.host, "-p", os.path.join(self.base, "dockerd.pid"),
                "--cgroup-parent", "/" + self.cgroup_parent]
        if not self.networked:
            args += ["--bridge=none", "--iptables=false", "--ip6tables=false"]
        return args

    def start(self, timeout=60):
        os.makedirs(self.base, exist_ok=True)
        self._log = open(os.path.join(self.base, "dockerd.log"), "wb")
        self.proc = subprocess.Popen(self.args(), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited with {self.proc.returncode}:\n{self.log()}")
            if subprocess.run(["docker", "-H", self.host, "version"], capture_output=True).returncode == 0:
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"dockerd did not answer within {timeout}s:\n{self.log()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        self._remove_cgroups()
        shutil.rmtree(self.exec_root, ignore_errors=True)

    def _remove_cgroups(self):
        for controller in os.listdir(CGROUP_ROOT):
            path = os.path.join(CGROUP_ROOT, controller, self.cgroup_parent)
            if os.path.isdir(path):
                for dirpath, _, _ in sorted(os.walk(path), key=lambda entry: -len(entry[0])):
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass

    def log(self):
        with open(os.path.join(self.base, "dockerd.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]
