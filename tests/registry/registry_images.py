"""Test images for push/pull round trips and a pull target that keeps layers as tar files."""

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile

from zope.interface import implementer

from pydocker.registry import IPullTarget, PushImage, PushLayer


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


@implementer(IPullTarget)
class TarStoreTarget:
    """Keeps each applied layer as ``<dir>/<diff_id hex>.tar``. It follows the staging
    contract: write into a staging file, keep it only after the stream's verified EOF."""

    def __init__(self, directory):
        self.directory = directory
        self.images = set()
        self.applied = []
        os.makedirs(directory, exist_ok=True)

    def path_of(self, diff_id):
        return os.path.join(self.directory, diff_id.split(":")[1] + ".tar")

    def has_image(self, image_id):
        return image_id in self.images

    def has_layer(self, layer):
        return os.path.exists(self.path_of(layer.diff_id))

    def apply_layer(self, layer, stream):
        fd, staging = tempfile.mkstemp(dir=self.directory, prefix="staging-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out)
            os.rename(staging, self.path_of(layer.diff_id))
        except BaseException:
            os.unlink(staging)
            raise
        self.applied.append(layer)

    def leftovers(self):
        return [name for name in os.listdir(self.directory) if name.startswith("staging-")]
