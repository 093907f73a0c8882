"""Debian's `docker-registry` (distribution 2.x) on 127.0.0.1:<free port> for tests, configured by a
file written here (JSON, which YAML accepts), storing into a temp dir, killed afterwards."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import warnings

REGISTRY_BINARY = shutil.which("docker-registry")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def htpasswd_line(user, password):
    """A bcrypt htpasswd entry (the only kind the registry accepts), made with the C
    library's crypt(3) (libxcrypt knows bcrypt) or, failing that, the `bcrypt` package."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
            hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))
        except (ImportError, AttributeError):
            hashed = None
    if not hashed or not hashed.startswith("$2"):
        import bcrypt
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode()
    return f"{user}:{hashed}\n"


class RegistryProcess:
    def __init__(self, workdir, port=None, auth=None, tls=None):
        """``auth``: the registry's ``auth`` section (dict) or None; ``tls``: the
        ``http.tls`` section (certificate/key/clientcas) or None."""
        self.workdir = workdir
        self.port = port or free_port()
        self.storage = os.path.join(workdir, "storage")
        self.config_path = os.path.join(workdir, "config.yml")
        self.log_path = os.path.join(workdir, "registry.log")
        self.tls = tls
        http = {"addr": f"127.0.0.1:{self.port}", "secret": "pydocker-test",
                "headers": {"X-Content-Type-Options": ["nosniff"]}}
        if tls:
            http["tls"] = tls
        config = {"version": 0.1, "log": {"level": "warn", "accesslog": {"disabled": True}},
                  "storage": {"filesystem": {"rootdirectory": self.storage},
                              "delete": {"enabled": True}},
                  "http": http}
        if auth:
            config["auth"] = auth
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=1)
        self.process = None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=15):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([REGISTRY_BINARY, "serve", self.config_path],
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not listen on {self.port}: {self.log()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-2000:]

    def blob_path(self, digest):
        algorithm, hexdigest = digest.split(":")
        return os.path.join(self.storage, "docker", "registry", "v2", "blobs", algorithm,
                            hexdigest[:2], hexdigest, "data")
