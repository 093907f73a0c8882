"""A tar entry whose name is longer than the filesystem allows (NAME_MAX) is bad input on
every path that extracts a tar: import and cp answer 400 naming the entry, load and pull
(streams) fail in-band naming it, and the daemon keeps serving."""

import hashlib
import io
import json
import tarfile

import pytest

from pydocker.testing.cli import docker
from pydocker.testing.registry import REGISTRY_BINARY, layer_tar, push_test_image

pytestmark = pytest.mark.kernel

LONG = "n" * 256


def api(d, method, path, body=b""):
    """(status, body) of one raw HTTP/1.0 request on the daemon's socket."""
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(d.socket)
    s.sendall(f"{method} {path} HTTP/1.0\r\nContent-Length: {len(body)}\r\n"
              "Content-Type: application/x-tar\r\n\r\n".encode() + body)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload.decode(errors="replace")


def saved_image(layer):
    """A `docker save` tarball of one image whose only layer is ``layer``."""
    layer_hex = hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_hex}"]}}).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_hex}.json", "RepoTags": ["long:1"],
                            "Layers": [f"{layer_hex}/layer.tar"]}]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in ((f"{layer_hex}/layer.tar", layer), (f"{config_hex}.json", config),
                           ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_import_load_and_cp_refuse_naming_the_entry(busybox_daemon, docker_cli):
    d = busybox_daemon
    hostile = layer_tar({f"dir/{LONG}": b"x"})
    status, body = api(d, "POST", "/images/create?fromSrc=-&repo=long&tag=1", hostile)
    assert status == 400 and LONG in body and "File name too long" not in body, body
    status, body = api(d, "POST", "/images/load?quiet=1", saved_image(hostile))
    # load streams its progress, so its failure is in-band, as with dockerd
    assert status == 200 and json.loads(body)["errorDetail"]["message"].count(LONG) == 1, body
    docker(docker_cli, d, "create", "--name", "target", "busybox", "true")
    status, body = api(d, "PUT", "/containers/target/archive?path=/tmp", hostile)
    assert status == 400 and LONG in body, body
    assert docker(docker_cli, d, "images", "-q", "long").stdout == ""
    docker(docker_cli, d, "rm", "target")


@pytest.mark.skipif(REGISTRY_BINARY is None, reason="Debian's docker-registry is not installed")
def test_a_pull_fails_naming_the_entry(make_registry, daemon, docker_cli):
    registry = make_registry()
    push_test_image(f"{registry.host}/long/name:1", [layer_tar({LONG: b"x"})])
    proc = docker(docker_cli, daemon, "pull", f"{registry.host}/long/name:1", check=False)
    assert proc.returncode != 0 and LONG in proc.stderr and "File name too long" not in proc.stderr, proc.stderr
    assert "Traceback" not in daemon.log()
    assert daemon.ping()
