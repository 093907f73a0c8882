"""Archive jobs: image save/load, container export/changes/commit, ``docker cp`` and ``system df``.

Everything here moves whole file trees, so the tar work runs in the engine's
worker pool and large results are streamed to the job's output chunk by chunk
(:func:`pump`); the database is only touched through ``engine.db.run``.
"""

import base64
import contextlib
import io
import json
import os
import posixpath
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field

from twisted.internet import defer
from twisted.logger import Logger

from pydocker import archive
from pydocker.errdefs import Conflict, Forbidden, InvalidParameter, NotFound
from pydocker.images import config as imgconfig
from pydocker.images import tarball
from pydocker.images.ids import chain_id
from pydocker.images.inspect import summary_document
from pydocker.images.layers import decompressed
from pydocker.jobs.containers import ListRequest
from pydocker.jobs.images import add_layer, free_layers, original_tar_opener, store_image
from pydocker.registry.reference import parse_reference
from pydocker.runtime.rootfs import init_layer_id
from pydocker.store import images as q

log = Logger()
CHUNK = 1 << 20
PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"


def install(engine):
    for name, handler in (
        ("image.save", save_images), ("image.load", load_images),
        ("container.export", export_container), ("container.changes", container_changes),
        ("container.commit", commit_container), ("container.archive.stat", stat_path),
        ("container.archive.get", get_archive), ("container.archive.put", put_archive),
        ("system.df", disk_usage),
    ):
        engine.register(name, handler)


# -- streaming a blocking reader to a job's output ----------------------------------------

@defer.inlineCallbacks
def pump(engine, stream, output):
    """Copy the blocking file object ``stream`` to ``output`` and close it.

    Each chunk is read in a worker and written on the reactor thread; the next
    read starts only when the output can take more (``output.when_writable()``),
    so memory stays bounded by a chunk
    or two however slow the reader is.  Stops early when the reader goes away.
    """
    try:
        while not output.closed:
            chunk = yield engine.run_blocking(stream.read, CHUNK)
            if not chunk:
                break
            output.write(chunk)
            yield output.when_writable()
    finally:
        yield engine.run_blocking(stream.close)


def _scratch_dir(engine):
    path = os.path.join(engine.config.data_root, "tmp")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


# -- save ----------------------------------------------------------------------------------

@dataclass
class SaveRequest:
    names: list


def _images_to_save(conn, names):
    """{image id: (ImageRow, [full tagged references])} for the names a user gave, Docker's way:
    a bare repository name means all its tags, a tag that tag, an ID the image without names."""
    if not names:
        raise InvalidParameter("no image names given to save")
    chosen = {}
    for name in names:
        found = _by_repository(conn, name)
        if not found:
            image = q.resolve(conn, name)
            found = [(image, _tag_of(name, conn, image))]
        for image, ref in found:
            entry = chosen.setdefault(image.id, (image, []))
            if ref and ref not in entry[1]:
                entry[1].append(ref)
    return chosen


def _by_repository(conn, name):
    try:
        ref = parse_reference(name, default_tag=False)
    except InvalidParameter:
        return []
    if ref.tag or ref.digest:
        return []
    result = []
    for image_id, refs in q.all_references(conn).items():
        for full in refs:
            tagged = parse_reference(full, default_tag=False)
            if tagged.name == ref.name and tagged.tag:
                result.append((q.get_image(conn, image_id), full))
    return sorted(result, key=lambda pair: pair[1])


def _tag_of(name, conn, image):
    """The tagged reference ``name`` denotes, or None when it names the image by ID or digest."""
    try:
        ref = parse_reference(name)
    except InvalidParameter:
        return None
    return str(ref) if ref.tag and not ref.digest and str(ref) in q.references_of(conn, image.id) else None


def _saved_images(conn, engine, chosen):
    saved = []
    for image, refs in chosen.values():
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        layers = [tarball.SavedLayer(row.diff_id, _spooled_layer(engine, row, parent))
                  for row, parent in zip(chain, [None] + chain[:-1])]
        saved.append(tarball.SavedImage(bytes(image.config), layers, sorted(refs)))
    return saved


def _spooled_layer(engine, row, parent):
    """A function giving (size, file) of the layer's original tar, verified against its diff ID
    before a byte of it goes out (a tar needs each member's size up front, as Docker spools too)."""
    open_tar = original_tar_opener(engine, row, parent)

    def spool():
        spooled = tempfile.TemporaryFile(dir=_scratch_dir(engine))
        try:
            with open_tar() as source:
                shutil.copyfileobj(source, spooled, CHUNK)
            size = spooled.tell()
            spooled.seek(0)
        except BaseException:
            spooled.close()
            raise
        return size, spooled
    return spool


@defer.inlineCallbacks
def save_images(job):
    engine, output = job.engine, job.output
    chosen = yield engine.db.run(_images_to_save, job.request.names)
    images = yield engine.db.run(_saved_images, engine, chosen)
    output.flush_headers()
    yield pump(engine, archive.PipeStream(lambda out: tarball.write_tarball(images, out)), output)
    for image in images:
        engine.events.publish("image", "save", image.id, {"name": image.id})


# -- load ----------------------------------------------------------------------------------

@dataclass
class LoadRequest:
    body: object
    quiet: bool = False


def _regular_file(engine, body):
    """The upload as a seekable regular file (spooled, and un-gzipped, when it is not one)."""
    if body is None:
        raise InvalidParameter("no image tarball in the request body")
    try:
        if stat.S_ISREG(os.fstat(body.fileno()).st_mode) and body.read(2) != b"\x1f\x8b":
            body.seek(0)
            return body, False
        body.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    spooled = tempfile.TemporaryFile(dir=_scratch_dir(engine))
    shutil.copyfileobj(decompressed(body), spooled, CHUNK)
    spooled.seek(0)
    return spooled, True


class _Progress:
    """Counts bytes read from a layer blob and reports Docker's "Loading layer" progress."""

    def __init__(self, stream, total, layer_id, report):
        self._stream = stream
        self._total = total
        self._id = layer_id
        self._report = report
        self._done = 0
        self._last = 0

    def readable(self):
        return True

    def read(self, size=-1):
        data = self._stream.read(size)
        self._done += len(data)
        if self._done - self._last >= CHUNK or (self._done == self._total and self._last != self._done):
            self._last = self._done
            self._report({"status": "Loading layer", "id": self._id,
                          "progressDetail": {"current": self._done, "total": self._total}})
        return data

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)


@defer.inlineCallbacks
def _load_layer(engine, bundle, layer, parent_chain, report):
    """Register one layer blob (a layer already stored on the same parent is reused as is)."""
    existing = yield engine.db.run(q.get_layer, chain_id(parent_chain, layer.diff_id))
    if existing is not None:
        return existing
    section = bundle.open(layer.path)
    if report is not None:
        section = _Progress(section, bundle.size(layer.path), layer.diff_id[7:19], report)
    row = yield add_layer(engine, parent_chain, section, layer.diff_id)
    return row


@defer.inlineCallbacks
def _release_layers(engine, chain_ids):
    """Drop layers this load registered that no image ended up using."""
    def release(conn):
        freed = []
        for chain in reversed(chain_ids):
            freed.extend(q.release_chain(conn, chain))
        return freed
    yield free_layers(engine, (yield engine.db.run(release)))


def _record_loaded(conn, images, tops):
    """Store every image and move its tags in one transaction; returns the stream messages."""
    messages = []
    for image, top in zip(images, tops):
        q.insert_image(conn, q.ImageRow(image.id, image.config, top, None, time.time_ns()))
        if not image.refs:
            messages.append((image.id, None, f"Loaded image ID: {image.id}\n"))
        for name in image.refs:
            ref = parse_reference(name)
            old = q.tag(conn, ref, image.id)
            if old and old != image.id:
                messages.append((old, None, f"The image {ref.familiar()} already exists, renaming the old one "
                                            f"with ID {old} to empty string\n"))
            messages.append((image.id, ref.familiar(), f"Loaded image: {ref.familiar()}\n"))
    return messages


@defer.inlineCallbacks
def load_images(job):
    """The answer is a 200 message stream from the start, a bad tarball included: its
    error comes as an errorDetail message, as from dockerd (docker-py expects that)."""
    engine, req, output = job.engine, job.request, job.output
    output.flush_headers()
    body, spooled = yield engine.run_blocking(_regular_file, engine, req.body)
    try:
        bundle = yield engine.run_blocking(tarball.Bundle, body)
        images = yield engine.run_blocking(tarball.read_images, bundle)
        if not images:
            raise InvalidParameter("the tarball holds no image for this platform")
        report = None if req.quiet else engine.distribution.progress_to(output)
        registered, tops = [], []
        try:
            for image in images:
                top = None
                for layer in image.layers:
                    row = yield _load_layer(engine, bundle, layer, top, report)
                    registered.append(row.chain_id)
                    top = row.chain_id
                tops.append(top)
            messages = yield engine.db.run(_record_loaded, images, tops)
        except BaseException:
            yield _release_layers(engine, registered)
            raise
    finally:
        if spooled:
            body.close()
    for image_id, name, text in messages:
        if name is not None:
            engine.events.publish("image", "load", image_id, {"name": name})
        output.emit({"stream": text})


# -- containers: export, changes ---------------------------------------------------------

@dataclass
class ContainerArchiveRequest:
    name: str
    path: str = ""
    body: object = None
    copy_uid_gid: bool = False
    no_overwrite_dir_non_dir: bool = False


def _mounted(engine, container_id, make_stream):
    """Mount the container's rootfs, open a stream on it; the stream's close releases the mount."""
    root = engine.graph.get(container_id)
    try:
        stream = make_stream(root)
    except BaseException:
        engine.graph.put(container_id)
        raise
    return _Releasing(stream, lambda: engine.graph.put(container_id))


class _Releasing:
    def __init__(self, stream, release):
        self._stream = stream
        self._release = release

    def read(self, size=-1):
        return self._stream.read(size)

    def close(self):
        if self._release is not None:
            release, self._release = self._release, None
            try:
                self._stream.close()
            finally:
                release()


@defer.inlineCallbacks
def export_container(job):
    engine, output = job.engine, job.output
    container = engine.containers.get(job.request.name)
    stream = yield engine.run_blocking(_mounted, engine, container.id,
                                       lambda root: archive.tar_directory(root, idmap=engine.idmap))
    output.flush_headers()
    yield pump(engine, stream, output)
    engine.runtime.publish(container, "export")


def container_changes(job):
    engine = job.engine
    container = engine.containers.get(job.request.name)
    d = engine.run_blocking(engine.graph.changes, container.id, init_layer_id(container.id))
    return d.addCallback(lambda found: [change.to_api() for change in found])


# -- commit ----------------------------------------------------------------------------------

@dataclass
class CommitRequest:
    container: str
    repo: str = ""
    tag: str = ""
    comment: str = ""
    author: str = ""
    pause: bool = True
    changes: list = field(default_factory=list)
    config: dict = None  # the body: container config overrides
    container_config: dict = None  # a build step's container config (then ``config`` is taken whole)
    created_by: str = ""  # a build step's history text


@defer.inlineCallbacks
def _paused(engine, container, work):
    """Run ``work()`` (a Deferred) with the container frozen, if it runs and is not paused already."""
    freeze = container.running and not container.paused and not container.state.get("Restarting")
    if freeze:
        try:
            yield engine.runtime.pause(container)
        except Conflict:
            freeze = False      # its process exited meanwhile: nothing left to freeze
    try:
        result = yield work()
    finally:
        if freeze and container.paused:
            yield engine.runtime.unpause(container)
    return result


@defer.inlineCallbacks
def _commit_layer(engine, container, image):
    """The container's changes as a new layer on its image's top layer; None when there are none."""
    init = init_layer_id(container.id)
    found = yield engine.run_blocking(engine.graph.changes, container.id, init)
    if not found:
        return None
    diff = yield engine.run_blocking(engine.graph.diff, container.id, init)
    try:
        row = yield add_layer(engine, image.top_layer, diff, decompress=False)
    finally:
        yield engine.run_blocking(diff.close)
    return row


def commit_config(container, parent_config, layer, request, now):
    """The committed image's config: the container's config with ``--change``s, the parent's
    history and layers plus this commit's. A build step (``request.container_config``) gives
    the config, the step's container config and its history text as they are."""
    if request.container_config is not None:
        container_config = dict(request.config)
        created_by = request.created_by
    else:
        container_config = dict(container.config)
        if isinstance(request.config, dict):
            container_config.update(request.config)
        container_config = imgconfig.apply_changes(container_config, request.changes)
        command = list(container.config.get("Entrypoint") or []) + list(container.config.get("Cmd") or [])
        created_by = " ".join(command)
    config = imgconfig.child_config(parent_config, container_config, now, created_by,
                                    layer.diff_id if layer is not None else None, request.author, request.comment)
    config.update(container=container.id,
                  container_config=dict(request.container_config or container.config))
    if request.comment:
        config["comment"] = request.comment
    return config


@defer.inlineCallbacks
def commit_container(job):
    engine, req = job.engine, job.request
    container = engine.containers.get(req.container)
    ref = None
    if req.repo:
        ref = parse_reference(req.repo, default_tag=False)
        if ref.digest:
            raise InvalidParameter("refusing to create a tag with a digest reference")
        ref = ref.with_tag(req.tag or ref.tag or "latest")
    elif req.tag:
        raise InvalidParameter("a tag needs a repository name")
    imgconfig.apply_changes({}, req.changes)  # a bad --change fails before the container is paused
    image = yield engine.db.run(q.get_image, container.image_id)
    if image is None:
        raise NotFound(f"the image of container {container.id[:12]} no longer exists")

    def make_layer():
        return _commit_layer(engine, container, image)

    layer = yield (_paused(engine, container, make_layer) if req.pause else make_layer())
    config = commit_config(container, json.loads(image.config), layer, req, time.time_ns())
    try:
        image_id = yield store_image(engine, config, layer.chain_id if layer else image.top_layer,
                                     parent=image.id, ref=ref)
    except BaseException:
        if layer is not None:
            yield _release_layers(engine, [layer.chain_id])
        raise
    engine.runtime.publish(container, "commit", comment=req.comment)
    return {"Id": image_id}


# -- docker cp -------------------------------------------------------------------------------

def _encoded_stat(document):
    return base64.b64encode(json.dumps(document).encode()).decode()


def _mount_holding(container, path):
    """The container's mount point (volume or bind) that holds ``path``, or None."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    found = None
    for mount in container.mounts:
        destination = mount["Destination"].rstrip("/") or "/"
        inside = path == destination or path.startswith(destination.rstrip("/") + "/")
        if inside and (found is None or len(destination) > len(found["Destination"])):
            found = mount
    return found


@contextlib.contextmanager
def _filesystem_of(engine, container, path):
    """(root, path in it) where the container's ``path`` is, as ``docker cp`` sees it
    (blocking). A running container is reached through /proc/PID/root, its own
    view with every volume, bind and tmpfs. A stopped one has only its rootfs
    layers, so a path under a volume or bind is taken from that mount's source."""
    pid = container.state.get("Pid") if container.running else 0
    if pid:
        yield f"/proc/{pid}/root", path
        return
    mount = _mount_holding(container, path)
    if mount is not None and os.path.isdir(mount.get("Source") or ""):
        destination = mount["Destination"].rstrip("/")
        inner = "/" + posixpath.normpath("/" + path.lstrip("/"))[len(destination):].lstrip("/")
        if path.endswith("/."):
            inner = inner.rstrip("/") + "/."
        yield mount["Source"], inner
        return
    root = engine.graph.get(container.id)
    try:
        yield root, path
    finally:
        engine.graph.put(container.id)


@defer.inlineCallbacks
def _on_filesystem(engine, container, work, path, *args):
    """``work(root, path, *args)`` in a worker on the container's filesystem (frozen
    while it runs, as Docker does, so the container cannot swap paths under the copy)."""
    if container.removing:
        raise Conflict(f"container {container.id[:12]} is being removed")

    def call():
        with _filesystem_of(engine, container, path) as (root, inner):
            return work(root, inner, *args)

    result = yield _paused(engine, container, lambda: engine.run_blocking(call))
    return result


@defer.inlineCallbacks
def stat_path(job):
    engine, req, output = job.engine, job.request, job.output
    container = engine.containers.get(req.name)
    document = yield _on_filesystem(engine, container, archive.path_stat, req.path)
    output.set_header(PATH_STAT_HEADER, _encoded_stat(document))
    output.flush_headers()


@defer.inlineCallbacks
def get_archive(job):
    engine, req, output = job.engine, job.request, job.output
    container = engine.containers.get(req.name)

    def stream_out():
        return _stream_path(engine, container, req.path, output)

    yield _paused(engine, container, stream_out)


@defer.inlineCallbacks
def _stream_path(engine, container, path, output):
    held = contextlib.ExitStack()
    root, inner = yield engine.run_blocking(held.enter_context, _filesystem_of(engine, container, path))
    try:
        document, stream = yield engine.run_blocking(archive.read_path, root, inner, engine.idmap)
        output.set_header(PATH_STAT_HEADER, _encoded_stat(document))
        output.flush_headers()
        yield pump(engine, stream, output)
    finally:
        yield engine.run_blocking(held.close)


@defer.inlineCallbacks
def put_archive(job):
    engine, req = job.engine, job.request
    container = engine.containers.get(req.name)
    mount = _mount_holding(container, req.path)
    if mount is not None and not mount.get("RW", True):
        raise Forbidden("mounted volume is marked read-only")
    if mount is None and container.host_config.get("ReadonlyRootfs"):
        raise Forbidden("container rootfs is marked read-only")
    yield _on_filesystem(engine, container, archive.write_path, req.path, req.body, req.copy_uid_gid,
                         req.no_overwrite_dir_non_dir, engine.idmap)


# -- system df -----------------------------------------------------------------------------

@dataclass
class DiskUsageRequest:
    version: tuple = (1, 44)


def _build_cache(images, refs, used, chains):
    """The classic builder's cache: intermediate images (untagged parents, hidden by ``images``),
    in use while an image built on them is tagged or used by a container."""
    by_id = {image.id: image for image in images}
    parents = {image.parent for image in images if image.parent}
    live = set()
    for image in images:
        if refs.get(image.id) or used.get(image.id):
            ancestor = image.parent
            while ancestor and ancestor not in live:
                live.add(ancestor)
                ancestor = by_id[ancestor].parent if ancestor in by_id else None
    records = []
    for image in images:
        if image.id not in parents or refs.get(image.id):
            continue
        config = json.loads(image.config)
        last = (config.get("history") or [{}])[-1]
        chain = chains[image.id]
        records.append({
            "ID": image.id.split(":", 1)[-1], "Parents": [image.parent] if image.parent else None,
            "Type": "regular", "Description": last.get("created_by", ""), "InUse": image.id in live,
            "Shared": image.id in live, "Size": 0 if last.get("empty_layer") or not chain else chain[-1].size,
            "CreatedAt": config.get("created"), "LastUsedAt": None, "UsageCount": 0})
    return records


def _image_usage(conn, version):
    refs = q.all_references(conn)
    used = q.container_counts(conn)
    images = q.all_images(conn)
    chains = {image.id: (q.layer_chain(conn, image.top_layer) if image.top_layer else []) for image in images}
    holders = {}
    for chain in chains.values():
        for layer in chain:
            holders[layer.chain_id] = holders.get(layer.chain_id, 0) + 1
    layers_size = sum({layer.chain_id: layer.size for chain in chains.values() for layer in chain}.values())
    cache = _build_cache(images, refs, used, chains)
    intermediate = {"sha256:" + record["ID"] for record in cache}
    documents = []
    for image in images:
        if image.id in intermediate:
            continue
        chain = chains[image.id]
        doc = summary_document(image, refs.get(image.id, []), sum(layer.size for layer in chain),
                               used.get(image.id, 0), version)
        doc["SharedSize"] = sum(layer.size for layer in chain if holders[layer.chain_id] > 1)
        documents.append(doc)
    return layers_size, documents, cache


@defer.inlineCallbacks
def disk_usage(job):
    engine = job.engine
    layers_size, images, cache = yield engine.db.run(_image_usage, job.request.version)
    containers = yield engine.job("container.list", ListRequest(all=True, size=True))
    return {"LayersSize": layers_size, "Images": images, "Containers": containers,
            "Volumes": [], "BuildCache": cache}


# -- daemon start ----------------------------------------------------------------------------

@defer.inlineCallbacks
def sweep_orphan_layers(engine):
    """Remove graph-driver layers no record knows (a crash between making a layer and recording it).

    Call at daemon start, before the API listens: a layer being made by a running job is not
    recorded yet and would look orphaned.  Returns the removed ids."""
    known = yield engine.db.run(q.known_cache_ids)
    present = yield engine.run_blocking(engine.graph.ids)
    orphans = [layer_id for layer_id in present if layer_id not in known]
    for layer_id in orphans:
        try:
            yield engine.run_blocking(engine.graph.remove, layer_id)
            log.info("removed orphan layer {id}", id=layer_id)
        except Exception as e:
            log.warn("removing orphan layer {id} failed: {e}", id=layer_id, e=e)
    return orphans
