"""Registry test fixtures shared by tests/registry and tests/integration.

- ``RegistryProcess``: Debian's `docker-registry` (distribution 2.x) on 127.0.0.1:<free port>,
  configured by a file written here (JSON, which YAML accepts), storing into a temp dir;
- ``SlowProxy``: a rate-limited TCP relay in front of it, so a test can act mid-transfer;
- small test images (layer tars made in memory) pushed straight with the registry client.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import tarfile
import time
import warnings

from pydocker.registry import PushImage, PushLayer, RegistryService
from pydocker.testing.sockets import free_port

REGISTRY_BINARY = shutil.which("docker-registry")


# The credentials the registry fixtures put in an htpasswd file.
TEST_USER, TEST_PASSWORD = "alice", "s3cret-pass"


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

    def start(self, timeout=60):  # a deadline: a loaded machine starts it slowly
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


# -- test images pushed straight to a registry ------------------------------------------

def layer_tar(files):
    """An uncompressed layer tar from {path: bytes}; deterministic (fixed mtimes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def image_config(diff_ids, architecture="amd64", os_name="linux", variant=None, cmd=("sh",)):
    config = {"architecture": architecture, "os": os_name,
              "config": {"Cmd": list(cmd), "Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
              "created": "2024-01-01T00:00:00Z", "history": []}
    if variant:
        config["variant"] = variant
    return json.dumps(config, sort_keys=True).encode()


def bytes_layer(data, known_blobs=()):
    return PushLayer(sha256(data), lambda: io.BytesIO(data), list(known_blobs))


def file_layer(path, known_blobs=()):
    return PushLayer(file_sha256(path), lambda: open(path, "rb"), list(known_blobs))


def image_of(layers, oci=False, **config):
    return PushImage(image_config([layer.diff_id for layer in layers], **config), layers, oci)


def push_test_image(reference, layer_tars, auth=None, certs_dir="/nonexistent"):
    """Push an image made of the given uncompressed layer tars; returns the PushResult."""
    image = image_of([bytes_layer(data) for data in layer_tars])
    return RegistryService(certs_dir=certs_dir).push(reference, image, auth)


class SlowProxy:
    """Relays TCP connections to ``upstream`` (host:port), sending at most ``rate`` bytes a
    second towards the client, so a download takes long enough to interrupt."""

    def __init__(self, upstream, rate=2 << 20):
        self.upstream = upstream
        self.rate = rate
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._stopped = threading.Event()

    @property
    def host(self):
        return f"127.0.0.1:{self._server.getsockname()[1]}"

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self._stopped.set()
        self._server.close()

    def _accept(self):
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        host, port = self.upstream.rsplit(":", 1)
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
        self._pump(upstream, client, self.rate)

    def _pump(self, source, sink, rate):
        chunk = 16 << 10
        try:
            while not self._stopped.is_set():
                data = source.recv(chunk)
                if not data:
                    break
                sink.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            source.close()  # each socket is the source of exactly one pump
