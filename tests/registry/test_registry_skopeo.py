"""Interoperability with skopeo: what our library pushes skopeo reads and copies, and what
skopeo pushes our library pulls."""

import json
import shutil
import subprocess

import pytest
from pydocker.testing.registry import bytes_layer, file_sha256, image_of, layer_tar

SKOPEO = shutil.which("skopeo")
pytestmark = pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed")


def skopeo(*args):
    done = subprocess.run([SKOPEO, "--insecure-policy", *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_skopeo_reads_what_we_push(service, registry, tmp_path):
    image = image_of([bytes_layer(layer_tar({"a": b"first"})),
                      bytes_layer(layer_tar({"b": b"second"}))])
    pushed = service.push(f"{registry.host}/interop/ours:v1", image)

    info = json.loads(skopeo("inspect", "--tls-verify=false",
                             f"docker://{registry.host}/interop/ours:v1"))
    assert info["Digest"] == pushed.digest
    assert info["Layers"] == [layer.digest for layer in pushed.layers]
    assert info["Architecture"] == "amd64"

    skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/interop/ours:v1",
           f"dir:{tmp_path / 'copy'}")
    assert (tmp_path / "copy" / "manifest.json").read_bytes() == pushed.manifest
    config_hex = json.loads(pushed.manifest)["config"]["digest"].split(":")[1]
    assert (tmp_path / "copy" / config_hex).read_bytes() == image.config


def test_we_pull_what_skopeo_pushes(service, registry, store, tmp_path, busybox_tar):
    image = image_of([bytes_layer(open(busybox_tar, "rb").read())], oci=False)
    service.push(f"{registry.host}/interop/seed:v1", image)
    skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/interop/seed:v1",
           f"dir:{tmp_path / 'seed'}")
    # skopeo re-publishes it as an OCI image under another name.
    skopeo("copy", "--format", "oci", "--dest-tls-verify=false", f"dir:{tmp_path / 'seed'}",
           f"docker://{registry.host}/interop/theirs:v2")

    result = service.pull(f"{registry.host}/interop/theirs:v2", store)
    assert result.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert file_sha256(store.path_of(result.layers[0].diff_id)) == file_sha256(busybox_tar)
