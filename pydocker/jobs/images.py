"""Image jobs: import, list, inspect, tag, remove, history, prune."""

import fnmatch
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.errdefs import Conflict, InvalidParameter, NotFound, SystemError_
from pydocker.images import config as imgconfig
from pydocker.images import ids, inspect
from pydocker.images.layers import register_layer
from pydocker.images.tarsplit import ChunkReader, LayerSplits
from pydocker.registry.digest import VerifyingReader
from pydocker.registry.reference import parse_reference
from pydocker.store import images as q


def install(engine):
    engine.register("image.import", import_image)
    engine.register("image.list", list_images)
    engine.register("image.inspect", inspect_image)
    engine.register("image.tag", tag_image)
    engine.register("image.remove", remove_image)
    engine.register("image.history", image_history)
    engine.register("image.prune", prune_images)


# -- shared steps ---------------------------------------------------------------------------

def layer_splits(engine):
    """The tar-split records of the engine's layers (under the data root, keyed by diff ID)."""
    return LayerSplits(os.path.join(engine.config.data_root, "image", "tarsplit"))


@defer.inlineCallbacks
def add_layer(engine, parent_chain_id, stream, expected_diff_id=None, decompress=True):
    """Apply ``stream`` on top of ``parent_chain_id``, recording its tar-split; return the
    stored LayerRow. ``decompress=False``: the stream is already a plain tar.

    Identical content already stored is reused (the new copy is dropped).
    """
    parent = yield engine.db.run(q.get_layer, parent_chain_id) if parent_chain_id else None
    parent_cache = parent.cache_id if parent else None
    cache_id, diff_id, size = yield engine.run_blocking(
        register_layer, engine.graph, layer_splits(engine), parent_cache, stream,
        expected_diff_id, decompress)
    stored = yield record_layer(engine, parent_chain_id, cache_id, diff_id, size)
    return stored


@defer.inlineCallbacks
def record_layer(engine, parent_chain_id, cache_id, diff_id, size):
    """Record driver layer ``cache_id``; identical content already stored wins (ours goes)."""
    layer = q.LayerRow(ids.chain_id(parent_chain_id, diff_id), diff_id, parent_chain_id, cache_id, size)
    stored = yield engine.db.run(q.insert_layer, layer)
    if stored.cache_id != cache_id:
        yield engine.run_blocking(engine.graph.remove, cache_id)
    return stored


@defer.inlineCallbacks
def free_layers(engine, freed):
    """Remove what the store no longer records (``freed``: LayerRows from ``release_chain`` or
    ``delete_image``): their driver layers, and the tar-splits of diff IDs no layer has now."""
    for layer in freed:
        yield engine.run_blocking(engine.graph.remove, layer.cache_id)
    splits = layer_splits(engine)

    def drop_unused_splits(conn):
        # On the db thread, so no layer of the same content is recorded in between.
        for diff_id in q.unused_diff_ids(conn, {layer.diff_id for layer in freed}):
            splits.remove(diff_id)

    if freed:
        yield engine.db.run(drop_unused_splits)


def original_tar_opener(engine, row, parent):
    """A function opening the layer's original tar: rebuilt from its tar-split when one was
    recorded, else the driver's diff. Either way it is verified against the diff ID before
    anything is read to the end, so a registry or a saved tarball never gets a layer that
    does not match the config."""
    graph, splits = engine.graph, layer_splits(engine)

    def open_tar():
        if splits.has(row.diff_id):
            root = graph.get(row.cache_id)
            source = ChunkReader(splits.assemble(row.diff_id, root), lambda: graph.put(row.cache_id))
            what = f"layer {row.diff_id} rebuilt from its tar-split"
        else:
            source = graph.diff(row.cache_id, parent.cache_id if parent else None)
            what = (f"layer {row.diff_id} (no tar-split was recorded for it and the graph "
                    f"driver's diff does not reproduce its original tar)")
        return _ClosingReader(source, row.diff_id, what)
    return open_tar


class _ClosingReader(VerifyingReader):
    """A verified reader that also closes its source (releasing a mount)."""

    def close(self):
        if not self.closed:
            close = getattr(self._stream, "close", None)
            if close:
                close()
        super().close()


@defer.inlineCallbacks
def store_image(engine, config, top_layer, parent=None, ref=None):
    """Record an image config (exact bytes) and optionally tag it; returns the image ID."""
    raw = imgconfig.serialize(config)
    image = q.ImageRow(ids.image_id(raw), raw, top_layer, parent, time.time_ns())

    def record(conn):
        q.insert_image(conn, image)
        if ref is not None:
            q.tag(conn, ref, image.id)

    yield engine.db.run(record)
    engine.events.publish("image", "import" if parent is None else "commit", image.id,
                          {"name": ref.familiar() if ref else image.id})
    if ref is not None:
        engine.events.publish("image", "tag", image.id, {"name": ref.familiar()})
    return image.id


def image_size(conn, image):
    return sum(layer.size for layer in q.layer_chain(conn, image.top_layer)) if image.top_layer else 0


# -- import ------------------------------------------------------------------------------------

@dataclass
class ImportRequest:
    source: str  # "-" for the request body, else a URL
    body: object = None
    repo: str = ""
    tag: str = ""
    changes: list = field(default_factory=list)
    message: str = ""


def _open_source(request):
    if request.source == "-":
        return request.body
    if not request.source.startswith(("http://", "https://")):
        raise InvalidParameter(f"import source must be '-' or an http(s) URL, got {request.source!r}")
    try:
        return urllib.request.urlopen(request.source, timeout=60)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise SystemError_(f"failed to GET {request.source} with status {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SystemError_(f"Get {request.source!r}: {getattr(exc, 'reason', exc)}") from None


@defer.inlineCallbacks
def import_image(job):
    engine, req, out = job.engine, job.request, job.output
    ref = None
    if req.repo:
        ref = parse_reference(req.repo, default_tag=False)
        ref = ref.with_tag(req.tag) if req.tag else (ref if ref.tag or ref.digest else ref.with_tag("latest"))
    container_config = imgconfig.apply_changes({}, req.changes)
    stream = yield engine.run_blocking(_open_source, req)
    layer = yield add_layer(engine, None, stream)
    now = time.time_ns()
    comment = req.message or f"Imported from {req.source}"
    history = [{"created": imgconfig.rfc3339(now), "created_by": "", "comment": comment}]
    config = imgconfig.new_config([layer.diff_id], container_config, now, history)
    if req.message:
        config["comment"] = req.message
    image_id = yield store_image(engine, config, layer.chain_id, ref=ref)
    out.emit({"status": image_id})


# -- list / inspect / history -----------------------------------------------------------------

@dataclass
class ListImagesRequest:
    all: bool = False
    filters: dict = field(default_factory=dict)
    digests: bool = False
    version: tuple = (1, 44)


FILTERS = ("dangling", "label", "reference", "before", "since", "until")


def _listing(conn, req):
    for key in req.filters:
        if key not in FILTERS:
            raise InvalidParameter(f"invalid filter '{key}'")
    refs = q.all_references(conn)
    images = q.all_images(conn)
    used = q.container_counts(conn)
    bounds = {}
    for key in ("before", "since"):
        for value in req.filters.get(key, []):
            bounds[key] = q.resolve(conn, value).created
    parents = {image.parent for image in images if image.parent}
    result = []
    for image in images:
        names = refs.get(image.id, [])
        if not names and image.id in parents and not req.all:
            continue  # an intermediate image (a build step's parent): shown by -a only
        if not _matches(image, names, req.filters, bounds):
            continue
        result.append(inspect.summary_document(image, names, image_size(conn, image),
                                               used.get(image.id, 0), req.version))
    return result


def _matches(image, names, filters, bounds):
    if "dangling" in filters:
        want = filters["dangling"][-1] in ("true", "1")
        if want != (not names):
            return False
    if "before" in bounds and not image.created < bounds["before"]:
        return False
    if "since" in bounds and not image.created > bounds["since"]:
        return False
    if "label" in filters:
        labels = (json.loads(image.config).get("config") or {}).get("Labels") or {}
        for spec in filters["label"]:
            key, eq, value = spec.partition("=")
            if key not in labels or (eq and labels[key] != value):
                return False
    if "reference" in filters:
        shown = [inspect.familiar(n) for n in names]
        if not any(fnmatch.fnmatchcase(n, pattern) or fnmatch.fnmatchcase(n.rsplit(":", 1)[0], pattern)
                   for n in shown for pattern in filters["reference"]):
            return False
    return True


def list_images(job):
    return job.engine.db.run(_listing, job.request)


@dataclass
class ImageNameRequest:
    name: str
    version: tuple = (1, 44)


def inspect_image(job):
    engine, req = job.engine, job.request

    def read(conn):
        image = q.resolve(conn, req.name)
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        return image, q.references_of(conn, image.id), chain

    def document(found):
        image, names, chain = found
        data = engine.graph.metadata(chain[-1].cache_id) if chain else {}
        return inspect.inspect_document(image, names, sum(layer.size for layer in chain),
                                        engine.graph.name, data, req.version)

    return engine.db.run(read).addCallback(lambda found: engine.run_blocking(document, found))


def image_history(job):
    def read(conn):
        image = q.resolve(conn, job.request.name)
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        return inspect.history_documents(image, [layer.size for layer in chain], q.references_of(conn, image.id))
    return job.engine.db.run(read)


# -- tag / remove / prune ---------------------------------------------------------------------

@dataclass
class TagRequest:
    name: str
    repo: str
    tag: str = ""


def tag_image(job):
    req = job.request
    ref = parse_reference(req.repo, default_tag=False)
    if ref.digest:
        raise InvalidParameter("refusing to create a tag with a digest reference")
    ref = ref.with_tag(req.tag or ref.tag or "latest")

    def record(conn):
        image = q.resolve(conn, req.name)
        q.tag(conn, ref, image.id)
        return image.id

    def published(image_id):
        job.engine.events.publish("image", "tag", image_id, {"name": ref.familiar()})

    return job.engine.db.run(record).addCallback(published)


@dataclass
class RemoveImageRequest:
    name: str
    force: bool = False
    noprune: bool = False


def _remove(conn, req):
    """Docker's rmi. A reference given by name is untagged (with its repository's digest
    references once no tag of that repository is left), and the image goes with its last
    reference. An ID removes the image and every reference: with -f only, when references
    from several repositories (or several tags) would go with it."""
    image = q.resolve(conn, req.name)
    by_id = _is_id_prefix(image.id, req.name)
    if by_id:
        report = _untag_single_repository(conn, image, req.force)
    else:
        report = _untag_reference(conn, image, req)
        if q.references_of(conn, image.id):
            return report, [], image.id
    conflict = _delete_conflict(conn, image, force=req.force, references=True)
    if conflict:
        if by_id:
            raise conflict
        return report, [], image.id  # untagged; what holds the image keeps it, as in Docker
    report += _untag_all(conn, image)
    if q.containers_using(conn, image.id):
        # A stopped container (-f) still needs the image's layers: keep it, untagged (dangling).
        return report, [], image.id
    freed = q.delete_image(conn, image.id)
    report.append({"Deleted": image.id})
    if not req.noprune:
        freed += _prune_parents(conn, image.parent, report)
    return report, freed, image.id


def _prune_parents(conn, parent_id, report):
    """Docker deletes the parents a deletion leaves untagged and unused (not with --no-prune)."""
    freed = []
    while parent_id:
        parent = q.get_image(conn, parent_id)
        if parent is None or _delete_conflict(conn, parent, force=False, references=True):
            break
        freed += q.delete_image(conn, parent.id)
        report.append({"Deleted": parent.id})
        parent_id = parent.parent
    return freed


def _is_id_prefix(image_id, text):
    return image_id.startswith(text) or image_id[len("sha256:"):].startswith(text)


def _parsed(names):
    return [parse_reference(name, default_tag=False) for name in names]


def _single_repository(names):
    """Moby's isSingleReference: some references, all of one repository, at most one tag."""
    refs = _parsed(names)
    return bool(refs) and len({ref.name for ref in refs}) == 1 and sum(not ref.digest for ref in refs) <= 1


def _untag_reference(conn, image, req):
    ref = parse_reference(req.name)
    names = q.references_of(conn, image.id)
    if str(ref) not in names:
        raise NotFound(f"No such image: {req.name}")
    users = q.containers_using(conn, image.id)
    if users and not req.force and _single_repository(names):
        raise Conflict(f'conflict: unable to remove repository reference "{req.name}" (must force) - '
                       f"container {users[0][0][:12]} is using its referenced image {image.id[7:19]}")
    q.untag(conn, str(ref))
    report = [{"Untagged": ref.familiar()}]
    remaining = _parsed(q.references_of(conn, image.id))
    if not ref.digest and not any(other.name == ref.name and not other.digest for other in remaining):
        for other in remaining:
            if other.digest and other.name == ref.name:
                q.untag(conn, str(other))
                report.append({"Untagged": other.familiar()})
    return report


def _untag_single_repository(conn, image, force):
    """``rmi IMAGE_ID`` takes the references along when they are one repository's."""
    if not _single_repository(q.references_of(conn, image.id)):
        return []
    conflict = _delete_conflict(conn, image, force=force, references=False)
    if conflict:
        raise conflict
    return _untag_all(conn, image)


def _untag_all(conn, image):
    report = []
    for name in q.references_of(conn, image.id):
        q.untag(conn, name)
        report.append({"Untagged": inspect.familiar(name)})
    return report


def _delete_conflict(conn, image, force, references):
    """Why the image cannot go, in moby's words: child images and running containers always
    stop it; its references (when ``references``) and stopped containers only without -f."""
    users = q.containers_using(conn, image.id)
    running = [c for c in users if json.loads(c[2]).get("Running")]
    if q.children_of(conn, image.id):
        return _conflict(image, "cannot be forced", "image has dependent child images")
    if running:
        return _conflict(image, "cannot be forced", f"image is being used by running container {running[0][0][:12]}")
    if force:
        return None
    if references and q.references_of(conn, image.id):
        return _conflict(image, "must be forced", "image is referenced in one or more repositories")
    if users:
        return _conflict(image, "must be forced", f"image is being used by stopped container {users[0][0][:12]}")
    return None


def _conflict(image, how, why):
    return Conflict(f"conflict: unable to delete {image.id[7:19]} ({how}) - {why}")


@defer.inlineCallbacks
def _remove_and_free(engine, request):
    report, freed, image_id = yield engine.db.run(_remove, request)
    yield free_layers(engine, freed)
    for entry in report:
        for action, what in entry.items():
            engine.events.publish("image", "untag" if action == "Untagged" else "delete", image_id, {"name": what})
    return report, freed


def remove_image(job):
    return _remove_and_free(job.engine, job.request).addCallback(lambda result: result[0])


@dataclass
class PruneImagesRequest:
    filters: dict = field(default_factory=dict)


@defer.inlineCallbacks
def prune_images(job):
    """Remove dangling images (all unused ones with dangling=false)."""
    engine = job.engine
    filters = job.request.filters
    only_dangling = (filters.get("dangling") or ["true"])[-1] in ("true", "1")
    until = None
    if filters.get("until"):
        from pydocker.jobs.system import parse_timestamp
        until = parse_timestamp(filters["until"][-1], "until")

    def candidates(conn):
        refs = q.all_references(conn)
        found = []
        for image in q.all_images(conn):
            if only_dangling and refs.get(image.id):
                continue
            if q.containers_using(conn, image.id) or q.children_of(conn, image.id):
                continue
            if until is not None and image.created > until:
                continue
            if not _matches(image, refs.get(image.id, []), {k: v for k, v in filters.items() if k == "label"}, {}):
                continue
            found.append(image.id)
        return found

    deleted, reclaimed = [], 0
    for image_id in (yield engine.db.run(candidates)):
        try:
            report, freed = yield _remove_and_free(engine, RemoveImageRequest(image_id, force=True))
        except (Conflict, NotFound):
            continue  # used or removed since we looked
        deleted.extend(report)
        reclaimed += sum(layer.size for layer in freed)
    return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}
