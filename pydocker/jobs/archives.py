"""Tar streams of images and containers: image save and load, container export.

They move whole file trees, so the tar work runs in the engine's worker pool and
large results are streamed to the job's output chunk by chunk (:func:`pump`);
the database is only touched through ``db.run``.
"""

import io
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass

from twisted.internet import defer
from twisted.logger import Logger

from pydocker import archive
from pydocker.errdefs import InvalidParameter
from pydocker.images import tarball
from pydocker.images.ids import chain_id
from pydocker.images.layers import decompressed
from pydocker.reference import parse_reference
from pydocker.store import images as q

log = Logger()
CHUNK = 1 << 20


class ArchiveJobs:
    """image save and load, container export. Reactor thread; the tar work runs in workers."""

    def __init__(self, engine, layers, containers, runtime, db, events, distribution, config, idmap=None):
        self.engine = engine
        self.layers = layers
        self.graph = layers.graph
        self.containers = containers
        self.runtime = runtime
        self.db = db
        self.events = events
        self.distribution = distribution
        self.config = config
        self.idmap = idmap

    def jobs(self):
        return {"image.save": save_images, "image.load": load_images, "container.export": export_container}


# -- streaming a blocking reader to a job's output ----------------------------------------

@defer.inlineCallbacks
def pump(svc, stream, output):
    """Copy the blocking file object ``stream`` to ``output`` and close it.

    Each chunk is read in a worker and written on the reactor thread; the next
    read starts only when the output can take more (``output.when_writable()``),
    so memory stays bounded by a chunk
    or two however slow the reader is.  Stops early when the reader goes away.
    """
    try:
        while not output.closed:
            chunk = yield svc.engine.run_blocking(stream.read, CHUNK)
            if not chunk:
                break
            output.write(chunk)
            yield output.when_writable()
    finally:
        yield svc.engine.run_blocking(stream.close)


def _scratch_dir(svc):
    path = os.path.join(svc.config.data_root, "tmp")
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


def _saved_images(conn, svc, chosen):
    saved = []
    for image, refs in chosen.values():
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        layers = [tarball.SavedLayer(row.diff_id, _spooled_layer(svc, row, parent))
                  for row, parent in zip(chain, [None] + chain[:-1])]
        saved.append(tarball.SavedImage(bytes(image.config), layers, sorted(refs)))
    return saved


def _spooled_layer(svc, row, parent):
    """A function giving (size, file) of the layer's original tar, verified against its diff ID
    before a byte of it goes out (a tar needs each member's size up front, as Docker spools too)."""
    open_tar = svc.layers.original_tar_opener(row, parent)

    def spool():
        spooled = tempfile.TemporaryFile(dir=_scratch_dir(svc))
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
def save_images(svc, job):
    output = job.output
    chosen = yield svc.db.run(_images_to_save, job.request.names)
    images = yield svc.db.run(_saved_images, svc, chosen)
    output.flush_headers()
    yield pump(svc, archive.PipeStream(lambda out: tarball.write_tarball(images, out)), output)
    for image in images:
        svc.events.publish("image", "save", image.id, {"name": image.id})


# -- load ----------------------------------------------------------------------------------

@dataclass
class LoadRequest:
    body: object
    quiet: bool = False


def _regular_file(svc, body):
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
    spooled = tempfile.TemporaryFile(dir=_scratch_dir(svc))
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
def _load_layer(svc, bundle, layer, parent_chain, report):
    """Register one layer blob (a layer already stored on the same parent is reused as is)."""
    existing = yield svc.db.run(q.get_layer, chain_id(parent_chain, layer.diff_id))
    if existing is not None:
        return existing
    section = bundle.open(layer.path)
    if report is not None:
        section = _Progress(section, bundle.size(layer.path), layer.diff_id[7:19], report)
    row = yield svc.layers.add_layer(parent_chain, section, layer.diff_id)
    return row


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
def load_images(svc, job):
    """The answer is a 200 message stream from the start, a bad tarball included: its
    error comes as an errorDetail message, as from dockerd (docker-py expects that)."""
    req, output = job.request, job.output
    output.flush_headers()
    body, spooled = yield svc.engine.run_blocking(_regular_file, svc, req.body)
    try:
        bundle = yield svc.engine.run_blocking(tarball.Bundle, body)
        images = yield svc.engine.run_blocking(tarball.read_images, bundle)
        if not images:
            raise InvalidParameter("the tarball holds no image for this platform")
        report = None if req.quiet else svc.distribution.progress_to(output)
        registered, tops = [], []
        try:
            for image in images:
                top = None
                for layer in image.layers:
                    row = yield _load_layer(svc, bundle, layer, top, report)
                    registered.append(row.chain_id)
                    top = row.chain_id
                tops.append(top)
            messages = yield svc.db.run(_record_loaded, images, tops)
        except BaseException:
            yield svc.layers.release(registered)
            raise
    finally:
        if spooled:
            body.close()
    for image_id, name, text in messages:
        if name is not None:
            svc.events.publish("image", "load", image_id, {"name": name})
        output.emit({"stream": text})


# -- containers: export ---------------------------------------------------------

@dataclass
class ContainerArchiveRequest:
    name: str
    path: str = ""
    body: object = None
    copy_uid_gid: bool = False
    no_overwrite_dir_non_dir: bool = False


def _mounted(svc, container_id, make_stream):
    """Mount the container's rootfs, open a stream on it; the stream's close releases the mount."""
    root = svc.graph.get(container_id)
    try:
        stream = make_stream(root)
    except BaseException:
        svc.graph.put(container_id)
        raise
    return _Releasing(stream, lambda: svc.graph.put(container_id))


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
def export_container(svc, job):
    output = job.output
    container = svc.containers.get(job.request.name)
    stream = yield svc.engine.run_blocking(_mounted, svc, container.id,
                                           lambda root: archive.tar_directory(root, idmap=svc.idmap))
    output.flush_headers()
    yield pump(svc, stream, output)
    svc.runtime.publish(container, "export")
