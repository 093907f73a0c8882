"""Image jobs: import, list, inspect, tag, remove, history, prune."""

import fnmatch
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.errdefs import Conflict, InvalidParameter, NotFound, SystemError_
from pydocker.images import config as imgconfig
from pydocker.images import inspect
from pydocker.reference import parse_reference
from pydocker.store import images as q


class ImageJobs:
    """Image import, list, inspect, tag, remove, history, prune. Reactor thread."""

    def __init__(self, engine, layers, db, events):
        self.engine = engine
        self.layers = layers
        self.graph = layers.graph
        self.db = db
        self.events = events

    def jobs(self):
        return {"image.import": import_image, "image.list": list_images, "image.inspect": inspect_image,
                "image.tag": tag_image, "image.remove": remove_image, "image.history": image_history,
                "image.prune": prune_images}


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
def import_image(svc, job):
    req, out = job.request, job.output
    ref = None
    if req.repo:
        ref = parse_reference(req.repo, default_tag=False)
        ref = ref.with_tag(req.tag) if req.tag else (ref if ref.tag or ref.digest else ref.with_tag("latest"))
    container_config = imgconfig.apply_changes({}, req.changes)
    stream = yield svc.engine.run_blocking(_open_source, req)
    layer = yield svc.layers.add_layer(None, stream)
    now = time.time_ns()
    comment = req.message or f"Imported from {req.source}"
    history = [{"created": imgconfig.rfc3339(now), "created_by": "", "comment": comment}]
    config = imgconfig.new_config([layer.diff_id], container_config, now, history)
    if req.message:
        config["comment"] = req.message
    image_id = yield svc.layers.store_image(config, layer.chain_id, ref=ref)
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
    if "label" in filters or "label!" in filters:
        labels = (json.loads(image.config).get("config") or {}).get("Labels") or {}
        has = lambda spec: spec.partition("=")[0] in labels and (
            "=" not in spec or labels[spec.partition("=")[0]] == spec.partition("=")[2])
        if not all(has(spec) for spec in filters.get("label", ())) or any(has(s) for s in filters.get("label!", ())):
            return False
    if "reference" in filters:
        shown = [inspect.familiar(n) for n in names]
        if not any(fnmatch.fnmatchcase(n, pattern) or fnmatch.fnmatchcase(n.rsplit(":", 1)[0], pattern)
                   for n in shown for pattern in filters["reference"]):
            return False
    return True


def list_images(svc, job):
    return svc.db.run(_listing, job.request)


@dataclass
class ImageNameRequest:
    name: str
    version: tuple = (1, 44)


def inspect_image(svc, job):
    req = job.request

    def read(conn):
        image = q.resolve(conn, req.name)
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        return image, q.references_of(conn, image.id), chain

    def document(found):
        image, names, chain = found
        data = svc.graph.metadata(chain[-1].cache_id) if chain else {}
        return inspect.inspect_document(image, names, sum(layer.size for layer in chain),
                                        svc.graph.name, data, req.version)

    return svc.db.run(read).addCallback(lambda found: svc.engine.run_blocking(document, found))


def image_history(svc, job):
    def read(conn):
        image = q.resolve(conn, job.request.name)
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        lineage, current = [], image
        while current is not None:
            lineage.append((current.id, q.references_of(conn, current.id)))
            current = q.get_image(conn, current.parent) if current.parent else None
        return inspect.history_documents(image, [layer.size for layer in chain], lineage)
    return svc.db.run(read)


# -- tag / remove / prune ---------------------------------------------------------------------

@dataclass
class TagRequest:
    name: str
    repo: str
    tag: str = ""


def tag_image(svc, job):
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
        svc.events.publish("image", "tag", image_id, {"name": ref.familiar()})

    return svc.db.run(record).addCallback(published)


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
def _remove_and_free(svc, request):
    report, freed, image_id = yield svc.db.run(_remove, request)
    yield svc.layers.free_layers(freed)
    for entry in report:
        for action, what in entry.items():
            svc.events.publish("image", "untag" if action == "Untagged" else "delete", image_id, {"name": what})
    return report, freed


def remove_image(svc, job):
    return _remove_and_free(svc, job.request).addCallback(lambda result: result[0])


@dataclass
class PruneImagesRequest:
    filters: dict = field(default_factory=dict)
    ids: list = None  # only these images (the part of the build cache /build/prune chose)


@defer.inlineCallbacks
def prune_images(svc, job):
    """Remove dangling images (all unused ones with dangling=false)."""
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
            if job.request.ids is not None and image.id not in job.request.ids:
                continue
            if q.containers_using(conn, image.id) or q.children_of(conn, image.id):
                continue
            if until is not None and image.created > until:
                continue
            if not _matches(image, refs.get(image.id, []), {k: v for k, v in filters.items() if k.startswith("label")},
                            {}):
                continue
            found.append(image.id)
        return found

    deleted, reclaimed = [], 0
    for image_id in (yield svc.db.run(candidates)):
        try:
            report, freed = yield _remove_and_free(svc, RemoveImageRequest(image_id, force=True))
        except (Conflict, NotFound):
            continue  # used or removed since we looked
        deleted.extend(report)
        reclaimed += sum(layer.size for layer in freed)
    return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}
