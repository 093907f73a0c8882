"""Start a real ``pydocker -d`` on a temporary root for black-box tests."""

import os
import signal
import socket
import subprocess
import sys
import time


class DaemonProcess:
    """One daemon with its own data root, exec root, pid file and unix socket."""

    def __init__(self, base, extra_args=(), env=None, debug=True):
        self.base = str(base)
        self.root = os.path.join(self.base, "root")
        self.exec_root = os.path.join(self.base, "run")
        self.pidfile = os.path.join(self.base, "pydocker.pid")
        self.socket = os.path.join(self.base, "pydocker.sock")
        self.log_path = os.path.join(self.base, "daemon.log")
        self.extra_args = list(extra_args)
        self.env = env
        self.debug = debug  # -D: the tests want the log; a benchmark runs at the default level
        self.proc = None

    @property
    def host(self):
        return f"unix://{self.socket}"

    def args(self):
        return [sys.executable, "-m", "pydocker", "-d", *(["-D"] if self.debug else []), "-g", self.root,
                "--exec-root", self.exec_root, "-p", self.pidfile, "-H", self.host,
                *self.extra_args]

    def start(self, timeout=60):  # a deadline: a loaded machine starts it slowly
        os.makedirs(self.base, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=self._log, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"daemon did not answer within {timeout}s:\n{self.log()}")

    def ping(self):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(1)
        try:
            s.connect(self.socket)
            s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"200 OK" in s.recv(4096)
        except OSError:
            return False
        finally:
            s.close()

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._log.close()

    def kill(self):
        """SIGKILL, as a crash."""
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    def client(self, *args, check=True, timeout=120, **kwargs):
        """Run pydocker's own client against this daemon."""
        proc = subprocess.run([sys.executable, "-m", "pydocker", "-H", self.host, *args],
                              capture_output=True, text=True, timeout=timeout, **kwargs)
        if check and proc.returncode != 0:
            raise AssertionError(f"pydocker {' '.join(args)} failed ({proc.returncode}): {proc.stderr}\n{self.log()}")
        return proc

    def import_busybox(self, ref="busybox:latest"):
        """Import a busybox image made from the host's busybox-static; returns its ID."""
        from pydocker.testing.images import make_rootfs_tar
        tarball = make_rootfs_tar(os.path.join(self.base, "busybox.tar"))
        return self.client("import", tarball, ref).stdout.strip()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""
