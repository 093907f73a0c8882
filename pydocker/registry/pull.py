"""Pulling an image: resolve the reference (through mirrors and HTTPS→HTTP fallback),
choose the platform, verify manifest and config, download missing layers concurrently
(bounded, retried and resumed with Range), then hand each layer's tar to the target in order.

Each download thread decompresses its blob as it arrives and spools the plain tar to a
private temp dir, hashing both: the blob against its digest, the tar against its diff_id.
So decompression and verification run alongside the applying of earlier layers, and the
applier (one after the other: each layer builds on its parent, as in Docker) only copies a
verified tar into the target.
"""

import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pydocker.errdefs import NotFound, PydockerError, SystemError_, Unauthorized
from pydocker.registry import mediatypes
from pydocker.registry.client import RegistryClient
from pydocker.registry.decompress import Decompressor
from pydocker.registry.digest import hasher_for, short_id
from pydocker.registry.errors import DigestMismatch, RegistryUnavailable
from pydocker.registry.image import config_descriptor, layers_of, parse_json_object
from pydocker.registry.platform import Platform, select_manifest
from pydocker.registry.progress import Reporter, retrying

CHUNK = 1 << 18
MAX_CONFIG_SIZE = 8 << 20
DEFAULT_CONCURRENCY = 3
DEFAULT_RETRIES = 5


class PullCancelled(PydockerError):
    """A download stopped because the pull already failed elsewhere."""


@dataclass
class PullResult:
    reference: object          # the Reference asked for
    digest: str                # what the tag resolved to (an index's digest for multi-platform)
    manifest_digest: str       # the image manifest's digest
    manifest: bytes
    media_type: str
    config: bytes
    image_id: str              # the config's digest
    layers: list               # LayerInfo, parent first
    downloaded: list           # the LayerInfos that were fetched (the rest already existed)
    status: str                # the final "Status: ..." line


class _Unpacker:
    """Takes a blob's bytes as they arrive: decompresses them into ``out`` (the spooled tar)
    and hashes the tar. A decompression error is held back until the blob's own digest was
    checked (a corrupt download is a digest mismatch, not a decompression failure)."""

    def __init__(self, layer, out):
        self._layer = layer
        self._out = out
        self._decompressor = Decompressor()
        self._hasher = hasher_for(layer.diff_id)
        self._error = None
        self.size = 0

    def feed(self, data):
        if self._error is None:
            try:
                self._write(self._decompressor.feed(data))
            except SystemError_ as exc:
                self._error = exc

    def finish(self):
        """After the blob verified: the last bytes, then the tar's diff_id is checked."""
        if self._error is None:
            self._write(self._decompressor.finish())
        if self._error is not None:
            raise self._error
        actual = f"{self._hasher.name}:{self._hasher.hexdigest()}"
        if actual != self._layer.diff_id:
            raise DigestMismatch(f"layer {self._layer.diff_id} digest mismatch: expected "
                                 f"{self._layer.diff_id}, got {actual}")

    def _write(self, data):
        if data:
            self._out.write(data)
            self._hasher.update(data)
            self.size += len(data)


class _CountingReader:
    """Reports how much of a spooled tar the target has consumed ("Extracting")."""

    def __init__(self, fileobj, on_read):
        self._fileobj = fileobj
        self._on_read = on_read
        self.count = 0

    def read(self, size=-1):
        data = self._fileobj.read(size)
        self.count += len(data)
        self._on_read(self.count)
        return data


class Puller:
    """One pull. Blocking; call from a worker thread."""

    def __init__(self, registry_config, credentials=None, progress=None, platform=None,
                 max_concurrent_downloads=DEFAULT_CONCURRENCY, tmpdir=None,
                 retries=DEFAULT_RETRIES, retry_delay=1.0):
        self.config = registry_config
        self.credentials = credentials
        self.reporter = Reporter(progress)
        self.platform = platform if isinstance(platform, Platform) else Platform.parse(platform)
        self.concurrency = max(1, int(max_concurrent_downloads))
        self.tmpdir = tmpdir
        self.retries = retries
        self.retry_delay = retry_delay
        self._stop = threading.Event()  # set when the pull fails: running downloads give up

    # -- resolving ---------------------------------------------------------------------------

    def _clients(self, ref):
        for endpoint in self.config.endpoints(ref.domain):
            yield RegistryClient(endpoint, self.credentials, self.config.ssl_context_for_url)

    def _on_first_endpoint(self, ref, action):
        """``action(repository)`` on the first endpoint that answers, trying them in order:
        a mirror's failure or a TLS/connection failure falls through to the next."""
        errors = []
        for client in self._clients(ref):
            try:
                client.ping()
                return action(client.repository(ref.path))
            except RegistryUnavailable as exc:
                errors.append(exc)
            except PydockerError as exc:
                if not client.endpoint.mirror:
                    raise _explain(exc, ref, self.credentials)
                errors.append(exc)
        raise errors[-1] if errors else RegistryUnavailable(f"no endpoint for {ref.domain}")

    def resolve(self, ref):
        """Return (repository, digest, manifest bytes, media type, manifest digest)."""
        return self._on_first_endpoint(ref, lambda repo: (repo,) + self._resolve_manifest(repo, ref))

    def list_tags(self, ref):
        """The repository's tags (``pull --all-tags``)."""
        return self._on_first_endpoint(ref, lambda repo: repo.list_tags())

    def _resolve_manifest(self, repo, ref):
        data, media_type, digest = repo.get_manifest(ref.object)
        top_digest = digest
        if media_type in mediatypes.INDEXES:
            entry = select_manifest(parse_json_object(data, "manifest list"), self.platform)
            data, media_type, digest = repo.get_manifest(
                entry["digest"], (entry.get("mediaType") or mediatypes.DOCKER_MANIFEST,)
                + mediatypes.IMAGE_MANIFESTS)
        if media_type not in mediatypes.IMAGE_MANIFESTS:
            raise SystemError_(f"unsupported manifest media type {media_type!r} for {ref.familiar()}")
        return top_digest, data, media_type, digest

    # -- pulling -----------------------------------------------------------------------------

    def pull(self, ref, target):
        """Pull ``ref`` into ``target`` (an IPullTarget); return a PullResult."""
        repo, top_digest, data, media_type, manifest_digest = self.resolve(ref)
        # After resolving, as Docker does: a missing image or a refused login is then an
        # HTTP error response rather than an error inside a started progress stream.
        self.reporter.status(f"Pulling from {ref.path}", ref.digest or ref.tag)
        manifest = parse_json_object(data, "manifest")
        config_entry = config_descriptor(manifest)
        if config_entry["size"] > MAX_CONFIG_SIZE:
            raise SystemError_(f"image config of {ref.familiar()} is too large")
        config_bytes = repo.read_blob(config_entry["digest"], MAX_CONFIG_SIZE)
        layers = layers_of(manifest, parse_json_object(config_bytes, "image config"))
        had_image = target.has_image(config_entry["digest"])
        missing = []
        for layer in layers:
            if target.has_layer(layer):
                self.reporter.status("Already exists", short_id(layer.digest))
            else:
                self.reporter.emit({"status": "Pulling fs layer", "progressDetail": {},
                                    "id": short_id(layer.digest)})
                missing.append(layer)
        self._fetch_and_apply(repo, missing, target)
        self.reporter.status(f"Digest: {top_digest}")
        name = ref.familiar()
        final = (f"Status: Image is up to date for {name}" if had_image and not missing
                 else f"Status: Downloaded newer image for {name}")
        self.reporter.status(final)
        return PullResult(ref, top_digest, manifest_digest, data, media_type, config_bytes,
                          config_entry["digest"], layers, missing, final)

    def _fetch_and_apply(self, repo, layers, target):
        if not layers:
            return
        self._stop = threading.Event()
        spool_dir = tempfile.mkdtemp(prefix="pydocker-pull-", dir=self.tmpdir)
        executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="pull")
        try:
            futures = []
            for n, layer in enumerate(layers):
                if n >= self.concurrency:
                    self.reporter.status("Waiting", short_id(layer.digest))
                # The index keeps a blob listed twice in one image from sharing a file.
                path = os.path.join(spool_dir, f"{layer.index}-{layer.digest.split(':')[1]}.tar")
                futures.append(executor.submit(self._download, repo, layer, path))
            for layer, future in zip(layers, futures):
                path = future.result()
                self._apply(layer, path, target)
                os.unlink(path)
        finally:
            self._stop.set()
            executor.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(spool_dir, ignore_errors=True)

    def _download(self, repo, layer, path):
        """Fetch one blob, unpacking its tar to ``path``; verify the blob's size and digest,
        then the tar's diff_id. Retry broken connections, resuming with a Range request (or
        skipping the bytes already held)."""
        lid = short_id(layer.digest)
        hasher = hasher_for(layer.digest)
        offset, failures = 0, 0
        with open(path, "wb") as out:
            unpacker = _Unpacker(layer, out)
            while offset < layer.size or offset == 0:
                if self._stop.is_set():
                    raise PullCancelled("pull cancelled")
                try:
                    offset = self._receive(repo, layer, unpacker, hasher, offset, lid)
                    if offset >= layer.size:
                        break
                    raise RegistryUnavailable(f"connection closed after {offset} of "
                                              f"{layer.size} bytes of {layer.digest}")
                except RegistryUnavailable:
                    failures += 1
                    if failures > self.retries:
                        raise
                    self.reporter.status(retrying(failures), lid)
                    time.sleep(self.retry_delay * failures)
            self.reporter.status("Verifying Checksum", lid)
            actual = f"{hasher.name}:{hasher.hexdigest()}"
            if offset != layer.size or actual != layer.digest:
                raise DigestMismatch(f"filesystem layer verification failed for digest "
                                     f"{layer.digest} (got {actual}, {offset} of {layer.size} bytes)")
            unpacker.finish()
        self.reporter.status("Download complete", lid)
        return path

    def _receive(self, repo, layer, unpacker, hasher, offset, lid):
        response, resumed = repo.open_blob(layer.digest, offset)
        with response:
            skip = 0 if resumed else offset
            received = offset
            while True:
                if self._stop.is_set():
                    raise PullCancelled("pull cancelled")
                chunk = response.read(CHUNK)
                if not chunk:
                    return received
                if skip:
                    dropped = min(skip, len(chunk))
                    chunk, skip = chunk[dropped:], skip - dropped
                if received + len(chunk) > layer.size:
                    raise DigestMismatch(f"blob {layer.digest} is larger than its "
                                         f"{layer.size} bytes")
                hasher.update(chunk)
                unpacker.feed(chunk)
                received += len(chunk)
                self.reporter.bytes("Downloading", lid, received, layer.size)

    def _apply(self, layer, path, target):
        lid = short_id(layer.digest)
        with open(path, "rb") as spooled:
            size = os.fstat(spooled.fileno()).st_size
            target.apply_layer(layer, _CountingReader(
                spooled, lambda n: self.reporter.bytes("Extracting", lid, n, size)))
        self.reporter.status("Pull complete", lid)


def _explain(exc, ref, credentials):
    """Docker's wording for a repository that is missing or needs a login. Without
    credentials a refusal is "not found" (404), as in Docker, so clients do not take it for
    a failed login; with credentials it stays Unauthorized (401)."""
    anonymous = credentials is None or credentials.anonymous
    if (isinstance(exc, Unauthorized) and anonymous) or \
            (isinstance(exc, NotFound) and "name unknown" in str(exc)):
        return NotFound(f"pull access denied for {ref.familiar_name}, repository does not "
                        f"exist or may require 'docker login': {exc}")
    if isinstance(exc, NotFound):
        return NotFound(f"manifest for {ref.familiar()} not found: {exc}")
    return exc
