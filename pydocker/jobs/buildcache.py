"""The classic builder's cache, as jobs of ``BuildJobs``: ``image.cache_probe`` (a local
child image made by the same step, or one restored from a ``cachefrom`` image's history)
and ``build.prune`` (its stale part, as ``/build/prune``'s filters pick it)."""

import json
import time
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.images import config as imgconfig
from pydocker.images import ids
from pydocker.jobs.images import PruneImagesRequest
from pydocker.store import images as q

@dataclass
class CacheProbeRequest:
    parent: str  # image ID, "" for scratch
    container_config: dict
    config: dict = None  # the image config a step restored from a cache source gets
    cache_from: list = field(default_factory=list)  # image IDs whose history may serve as cache


# Keys of a step's config that never decide a cache hit (dockerd's compare skips them too).
_PROBE_IGNORED = ("Image", "Hostname", "Domainname", "AttachStdin", "AttachStdout", "AttachStderr")


def normalized(config):
    """A step config without empty values or the keys the cache ignores."""
    return {k: v for k, v in (config or {}).items() if v not in (None, "", [], {}, False)
            and k not in _PROBE_IGNORED}


def _local_child(conn, req):
    wanted = normalized(req.container_config)
    best = None
    for image in q.child_images(conn, req.parent or None):
        if normalized(json.loads(image.config).get("container_config")) == wanted:
            if best is None or image.created > best.created:
                best = image
    return best.id if best else None


def _source_step(parent_config, source_config, created_by):
    """The layer index (or None) and history entry of ``source_config``'s step after the parent's,
    when the source's history and layers start with the parent's and that step is ``created_by``."""
    history = parent_config.get("history") or []
    layers = (parent_config.get("rootfs") or {}).get("diff_ids") or []
    source_history = source_config.get("history") or []
    source_layers = (source_config.get("rootfs") or {}).get("diff_ids") or []
    if len(source_history) <= len(history) or source_history[:len(history)] != history:
        return None
    if source_layers[:len(layers)] != layers:
        return None
    entry = source_history[len(history)]
    if entry.get("created_by") != created_by:
        return None
    if entry.get("empty_layer"):
        return (None, entry)
    return (len(layers), entry) if len(source_layers) > len(layers) else None


def _from_sources(conn, req):
    """dockerd's cache-from: a step found in a source image's history is restored as a local
    image (the parent's history and layers plus that step's), so a pulled image serves as cache."""
    parent = q.get_image(conn, req.parent) if req.parent else None
    parent_config = json.loads(parent.config) if parent else {}
    created_by = " ".join(req.container_config.get("Cmd") or [])
    for source_id in req.cache_from:
        source = q.get_image(conn, source_id)
        found = _source_step(parent_config, json.loads(source.config), created_by) if source else None
        if found is None:
            continue
        index, entry = found
        source_config = json.loads(source.config)
        diff_ids = list((parent_config.get("rootfs") or {}).get("diff_ids") or [])
        if index is not None:
            diff_ids.append(source_config["rootfs"]["diff_ids"][index])
        config = imgconfig.new_config(diff_ids, req.config, 0, list(parent_config.get("history") or []) + [entry],
                                      source_config.get("author", ""))
        config.update(created=entry.get("created", config["created"]), container_config=req.container_config,
                      architecture=source_config.get("architecture"), os=source_config.get("os"))
        top = ids.chain_ids(diff_ids)[-1] if diff_ids else None
        raw = imgconfig.serialize(config)
        image = q.ImageRow(ids.image_id(raw), raw, top, req.parent or None, time.time_ns())
        if q.get_image(conn, image.id) is None:
            q.insert_image(conn, image)
        return image.id
    return None


def _probe(conn, req):
    return _local_child(conn, req) or (_from_sources(conn, req) if req.cache_from else None)


def cache_probe(svc, job):
    """The newest local child of the parent made by the same step (or one restored from a
    cache source), or None."""
    return svc.db.run(_probe, job.request)


# -- POST /build/prune ----------------------------------------------------------------------

@dataclass
class BuildPruneRequest:
    older_than: int = None  # nanoseconds (until, unused-for): only cache made longer ago than this
    labels: list = field(default_factory=list)  # label=, label!=: as image prune reads them
    not_labels: list = field(default_factory=list)
    record_filters: dict = field(default_factory=dict)  # id, parent, type, description, inuse, shared, private
    keep_storage: int = 0  # bytes of stale cache to keep (the oldest goes first)
    all: bool = False


def _record_matches(image, config, wanted):
    """BuildKit's record filters on a stale cache entry: never in use, never shared."""
    last = (config.get("history") or [{}])[-1]
    values = {"id": image.id.split(":", 1)[-1], "parent": (image.parent or "").split(":", 1)[-1],
              "type": "regular", "description": last.get("created_by", "")}
    for key, value in wanted.items():
        if key in ("inuse", "shared"):
            return False
        if key == "id" and not values["id"].startswith(value.split(":", 1)[-1]):
            return False
        if key in ("parent", "type", "description") and values[key] != value.split(":", 1)[-1]:
            return False
    return True


def _stale_cache(conn, req, now):
    """The classic builder's stale cache, oldest first: untagged images nothing is built on
    and no container uses (what a rebuild after a change orphans), as the filters pick them,
    less the newest ones ``keep_storage`` leaves."""
    refs = q.all_references(conn)
    found = []
    for image in sorted(q.all_images(conn), key=lambda image: image.created):
        if refs.get(image.id) or q.containers_using(conn, image.id) or q.children_of(conn, image.id):
            continue
        if req.older_than is not None and image.created > now - req.older_than:
            continue
        config = json.loads(image.config)
        if not _record_matches(image, config, req.record_filters):
            continue
        top = q.get_layer(conn, image.top_layer) if image.top_layer else None
        empty = (config.get("history") or [{}])[-1].get("empty_layer")
        found.append((image.id, 0 if empty or top is None else top.size))
    if not req.keep_storage:
        return [image_id for image_id, _ in found]
    total, chosen = sum(size for _, size in found), []
    for image_id, size in found:
        if total <= req.keep_storage:
            break
        chosen.append(image_id)
        total -= size
    return chosen


@defer.inlineCallbacks
def build_prune(svc, job):
    """dockerd 20.10 answers /build/prune from BuildKit's cache, which classic builds never
    fill; here the classic builder's own cache is what it prunes: the stale part (cached
    steps of tagged images stay, as their layers do). ``all`` adds nothing to that: the rest
    is in use."""
    req = job.request
    chosen = yield svc.db.run(_stale_cache, req, time.time_ns())
    if not chosen:
        return {"CachesDeleted": None, "SpaceReclaimed": 0}
    filters = {"dangling": ["true"], "label": req.labels, "label!": req.not_labels}
    report = yield svc.engine.job("image.prune", PruneImagesRequest({k: v for k, v in filters.items() if v},
                                                                    ids=chosen))
    deleted = [entry["Deleted"] for entry in report["ImagesDeleted"] or () if "Deleted" in entry]
    return {"CachesDeleted": deleted or None, "SpaceReclaimed": report["SpaceReclaimed"]}
