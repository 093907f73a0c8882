"""Pushing an image: for each layer skip what the registry has (HEAD), mount what another
repository on the same registry has, or gzip and upload it (monolithic when small, chunked
PATCHes otherwise); then the config blob and a Docker schema2 or OCI manifest."""

import gzip
import hashlib
import io
import json
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from zope.interface import implementer

from pydocker.errdefs import InvalidParameter, PydockerError
from pydocker.registry import mediatypes
from pydocker.registry.client import RegistryClient
from pydocker.registry.digest import digest_of, short_id
from pydocker.registry.errors import RegistryUnavailable
from pydocker.registry.image import parse_json_object
from pydocker.registry.interfaces import IPushLayer
from pydocker.registry.progress import Reporter, aux, retrying
from pydocker.reference import parse_repository

DEFAULT_CHUNK_SIZE = 5 << 20
DEFAULT_CONCURRENCY = 5
DEFAULT_RETRIES = 5
COMPRESS_LEVEL = 6
_COPY = 1 << 16


@implementer(IPushLayer)
@dataclass
class PushLayer:
    """A layer to push (implements IPushLayer)."""

    diff_id: str
    open_tar: Callable
    known_blobs: list = field(default_factory=list)  # [(blob digest, full repository name)]


@dataclass
class PushImage:
    config: bytes                 # the image config JSON, exactly as stored (its digest is the ID)
    layers: list                  # PushLayer, parent first
    oci: bool = False             # push an OCI manifest instead of Docker schema2


@dataclass
class PushedLayer:
    diff_id: str
    digest: str
    size: int
    outcome: str                  # "pushed", "exists" or "mounted"
    mounted_from: str | None = None


@dataclass
class PushResult:
    reference: object
    digest: str
    size: int
    manifest: bytes
    media_type: str
    layers: list                  # PushedLayer; record these as known_blobs for the next push


class _HashingWriter:
    """Counts and hashes what gzip writes to the spool file, so the blob digest is known
    without reading the file back."""

    def __init__(self, fileobj):
        self._fileobj = fileobj
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self._hash.update(data)
        self.size += len(data)
        return self._fileobj.write(data)

    def flush(self):
        self._fileobj.flush()

    @property
    def digest(self):
        return "sha256:" + self._hash.hexdigest()


def compress_layer(tar, out):
    """Gzip ``tar`` into ``out`` reproducibly (no name, mtime 0) → (digest, size)."""
    writer = _HashingWriter(out)
    with gzip.GzipFile(filename="", mode="wb", fileobj=writer, mtime=0,
                       compresslevel=COMPRESS_LEVEL) as gz:
        shutil.copyfileobj(tar, gz, _COPY)
    return writer.digest, writer.size


def build_manifest(config_digest, config_size, layers, oci):
    """The manifest JSON bytes for a config and its PushedLayers."""
    layer_type = mediatypes.OCI_LAYER_GZIP if oci else mediatypes.DOCKER_LAYER_GZIP
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST if oci else mediatypes.DOCKER_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG if oci else mediatypes.DOCKER_CONFIG,
                   "size": config_size, "digest": config_digest},
        "layers": [{"mediaType": layer_type, "size": layer.size, "digest": layer.digest}
                   for layer in layers],
    }
    return json.dumps(manifest, indent=3).encode(), manifest["mediaType"]


def build_index(entries, oci=True):
    """A multi-platform index from (PushResult, Platform) pairs."""
    manifests = []
    for result, platform in entries:
        entry = {"mediaType": result.media_type, "size": result.size, "digest": result.digest,
                 "platform": {"architecture": platform.architecture, "os": platform.os}}
        if platform.variant:
            entry["platform"]["variant"] = platform.variant
        manifests.append(entry)
    media_type = mediatypes.OCI_INDEX if oci else mediatypes.DOCKER_MANIFEST_LIST
    data = {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}
    return json.dumps(data, indent=3).encode(), media_type


class Pusher:
    """One push. Blocking; call from a worker thread."""

    def __init__(self, registry_config, credentials=None, progress=None,
                 chunk_size=DEFAULT_CHUNK_SIZE, max_concurrent_uploads=DEFAULT_CONCURRENCY,
                 tmpdir=None, retries=DEFAULT_RETRIES, retry_delay=1.0):
        self.config = registry_config
        self.credentials = credentials
        self.reporter = Reporter(progress)
        self.chunk_size = chunk_size
        self.concurrency = max(1, int(max_concurrent_uploads))
        self.tmpdir = tmpdir
        self.retries = retries
        self.retry_delay = retry_delay

    def connect(self, ref):
        """A Repository (pull+push scope) on the first endpoint that answers."""
        errors = []
        for endpoint in self.config.endpoints(ref.domain, for_push=True):
            client = RegistryClient(endpoint, self.credentials, self.config.ssl_context_for_url)
            try:
                client.ping()
            except RegistryUnavailable as exc:
                errors.append(exc)
                continue
            return client.repository(ref.path, ("pull", "push"))
        raise errors[-1]

    def push(self, ref, image):
        """Push ``image`` (a PushImage) as ``ref``; tag-less references push by digest."""
        self._check_config(image)
        self.reporter.status(f"The push refers to repository [{ref.name}]")
        repo = self.connect(ref)
        pushed = self._push_layers(repo, ref, image.layers)
        config_digest = digest_of(image.config)
        if repo.stat_blob(config_digest) is None:
            self._upload(repo, config_digest, len(image.config), io.BytesIO(image.config))
        data, media_type = build_manifest(config_digest, len(image.config), pushed, image.oci)
        return self._finish(repo, ref, data, media_type, pushed)

    def push_index(self, ref, entries, oci=True):
        """Push a multi-platform index over already pushed manifests (see build_index)."""
        repo = self.connect(ref)
        data, media_type = build_index(entries, oci)
        return self._finish(repo, ref, data, media_type, [])

    def _finish(self, repo, ref, data, media_type, pushed):
        digest = repo.put_manifest(ref.tag or digest_of(data), data, media_type)
        prefix = f"{ref.tag}: " if ref.tag else ""
        self.reporter.status(f"{prefix}digest: {digest} size: {len(data)}")
        self.reporter.emit(aux({"Tag": ref.tag or "", "Digest": digest, "Size": len(data)}))
        return PushResult(ref, digest, len(data), data, media_type, pushed)

    @staticmethod
    def _check_config(image):
        config = parse_json_object(image.config, "image config")
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        if diff_ids != [layer.diff_id for layer in image.layers]:
            raise InvalidParameter("image config rootfs.diff_ids do not match the layers to push")

    def _push_layers(self, repo, ref, layers):
        for layer in reversed(layers):  # Docker lists the top layer first
            self.reporter.status("Preparing", short_id(layer.diff_id))
        for n, layer in enumerate(layers):
            if n >= self.concurrency:
                self.reporter.status("Waiting", short_id(layer.diff_id))
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="push") as executor:
            futures = [executor.submit(self._push_layer, repo, ref, layer) for layer in layers]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _push_layer(self, repo, ref, layer):
        lid = short_id(layer.diff_id)
        for digest, source in layer.known_blobs:
            size = repo.stat_blob(digest)
            if size is not None:
                self.reporter.status("Layer already exists", lid)
                return PushedLayer(layer.diff_id, digest, size, "exists")
        for digest, source in layer.known_blobs:
            mounted = self._try_mount(repo, ref, digest, source)
            if mounted:
                self.reporter.status(f"Mounted from {mounted.familiar_name}", lid)
                return PushedLayer(layer.diff_id, digest, repo.stat_blob(digest) or 0, "mounted",
                                   mounted.name)
        with tempfile.TemporaryFile(dir=self.tmpdir, prefix="pydocker-push-") as spool:
            with layer.open_tar() as tar:
                digest, size = compress_layer(tar, spool)
            if repo.stat_blob(digest) is not None:
                self.reporter.status("Layer already exists", lid)
                return PushedLayer(layer.diff_id, digest, size, "exists")
            self._upload_with_retries(repo, digest, size, spool, lid)
        self.reporter.status("Pushed", lid)
        return PushedLayer(layer.diff_id, digest, size, "pushed")

    @staticmethod
    def _try_mount(repo, ref, digest, source):
        try:
            source_ref = parse_repository(source)
        except PydockerError:
            return None
        if source_ref.domain != ref.domain or source_ref.path == ref.path:
            return None
        return source_ref if repo.mount_blob(digest, source_ref.path) else None

    def _upload_with_retries(self, repo, digest, size, spool, lid):
        """A broken connection restarts the layer's upload in a new session."""
        for attempt in range(self.retries + 1):
            spool.seek(0)
            try:
                return self._upload(repo, digest, size, spool, lid)
            except RegistryUnavailable:
                if attempt == self.retries:
                    raise
                self.reporter.status(retrying(attempt + 1), lid)
                time.sleep(self.retry_delay * (attempt + 1))

    def _upload(self, repo, digest, size, source, lid=None):
        """Monolithic (POST, PUT with the body) up to one chunk, else POST, PATCH… PUT."""
        location = repo.start_upload()
        if size <= self.chunk_size:
            repo.finish_upload(location, digest, source.read())
        else:
            offset = 0
            while offset < size:
                chunk = source.read(self.chunk_size)
                if not chunk:
                    raise PydockerError(f"layer data ended after {offset} of {size} bytes")
                location = repo.upload_chunk(location, chunk, offset)
                offset += len(chunk)
                if lid:
                    self.reporter.bytes("Pushing", lid, offset, size)
            repo.finish_upload(location, digest)
        if lid and size <= self.chunk_size:
            self.reporter.bytes("Pushing", lid, size, size)

