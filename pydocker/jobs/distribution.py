"""Distribution jobs: pull, push, login (``/auth``) and search against registries.

The registry client blocks, so it runs on the engine's worker pool; progress messages come
back to the reactor with ``callFromThread`` and go out on the job's output as they happen.
Pulled images are recorded whole or not at all: the layers a failed pull added are released.
"""

import os
import time
from dataclasses import dataclass, field

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from pydocker.errdefs import InvalidParameter, NotFound
from pydocker.images import ids
from pydocker.jobs.images import ImportRequest
from pydocker.registry import (DEFAULT_CERTS_DIR, AuthConfig, IPullTarget, PushImage, PushLayer,
                               RegistryService, parse_reference)
from pydocker.reference import DIGEST_RE, Reference
from pydocker.store import blobs
from pydocker.store import images as q

CERTS_DIR_ENV = "PYDOCKER_CERTS_DIR"  # tests point the daemon at their own certs.d
SEARCH_FILTERS = ("is-official", "is-automated", "stars")


class DistributionJobs:
    """Pull, push, login and search against registries. Reactor thread; the registry
    client runs in the worker pool."""

    def __init__(self, engine, layers, db, events, distribution):
        self.engine = engine
        self.layers = layers
        self.db = db
        self.events = events
        self.distribution = distribution

    def jobs(self):
        return {"image.create": create_image, "image.pull": pull_image, "image.push": push_image,
                "auth": login, "image.search": search_images}


class DistributionService(service.Service):
    """The "registry" service of the daemon's tree: the registry client settings (with
    where download spools live) and the reactor (to come back from worker threads).
    Immutable after start; used from the reactor and from worker threads."""

    name = "registry"

    def __init__(self, registry, reactor, max_downloads=3, max_uploads=5):
        self.registry = registry
        self.reactor = reactor
        self.max_downloads = max_downloads
        self.max_uploads = max_uploads

    @classmethod
    def from_config(cls, config, reactor):
        tmpdir = os.path.join(config.data_root, "tmp")
        os.makedirs(tmpdir, mode=0o700, exist_ok=True)
        registry = RegistryService(config.insecure_registries, config.registry_mirrors,
                                   os.environ.get(CERTS_DIR_ENV) or DEFAULT_CERTS_DIR, tmpdir)
        return cls(registry, reactor, config.max_concurrent_downloads,
                   config.max_concurrent_uploads)

    def progress_to(self, output):
        """A callback for worker threads that emits each message on the reactor thread."""
        return lambda message: self.reactor.callFromThread(output.emit, message)


# -- requests ------------------------------------------------------------------------------

@dataclass
class PullRequest:
    image: str                       # fromImage: a name, maybe with :tag or @digest
    tag: str = ""                    # a tag or a digest; empty with a bare name: all tags
    platform: object = None          # a registry.platform.Platform, parsed by the binder; None: the host's
    auth: AuthConfig = field(default_factory=AuthConfig)


@dataclass
class PushRequest:
    name: str
    tag: str = ""                    # empty: every tag of the repository
    auth: AuthConfig = field(default_factory=AuthConfig)


@dataclass
class LoginRequest:
    auth: AuthConfig


@dataclass
class SearchRequest:
    term: str
    limit: int = 25
    filters: dict = field(default_factory=dict)
    auth: AuthConfig = field(default_factory=AuthConfig)


def create_image(svc, job):
    """``POST /images/create``: an import (fromSrc) or a pull (fromImage)."""
    name = "image.import" if isinstance(job.request, ImportRequest) else "image.pull"
    return svc.engine.job(name, job.request, job.output)


# -- pull ----------------------------------------------------------------------------------

@implementer(IPullTarget)
class LayerStoreTarget:
    """The registry client's IPullTarget on our layer store.

    A pull runs on a worker thread, so the layer store's blocking calls are made right here.
    Each applied layer is recorded at once so the next layer can build on it, and listed in
    ``created`` so a pull that fails later can release them (no layer without an image stays).
    """

    def __init__(self, layers):
        self._layers = layers  # the LayerStore
        self.created = []  # LayerRows this pull added, parent first

    def has_image(self, image_id):
        return self._layers.db.run_from_worker(q.get_image, image_id) is not None

    def has_layer(self, layer):
        return self._layers.db.run_from_worker(q.get_layer, layer.chain_id) is not None

    def apply_layer(self, layer, stream):
        """The registry client already unpacked the blob and checked the tar against the
        diff ID while downloading, so the tar is neither decompressed nor hashed again."""
        stored, ours = self._layers.apply_layer(layer.parent_chain_id, stream, layer.diff_id,
                                                decompress=False, verified=True)
        if ours:  # else another pull stored the same layer meanwhile
            self.created.append(stored)


def pull_reference(image, tag):
    """Docker's rules: ``tag`` may be a digest; a bare name with no tag means all tags
    (returned with neither tag nor digest)."""
    ref = parse_reference(image, default_tag=False)
    if tag:
        if DIGEST_RE.match(tag):
            return Reference(ref.domain, ref.path, None, tag)
        return ref.with_tag(tag)
    return ref


@defer.inlineCallbacks
def pull_image(svc, job):
    req = job.request
    service = svc.distribution
    ref = pull_reference(req.image, req.tag)
    if ref.tag or ref.digest:
        yield _pull_one(svc, service, ref, req, job.output)
        return
    tags = yield svc.engine.run_blocking(service.registry.list_tags, ref, req.auth)
    if not tags:
        raise NotFound(f"no tags found in repository {ref.familiar_name}")
    for tag in sorted(tags):
        yield _pull_one(svc, service, ref.with_tag(tag), req, job.output)


@defer.inlineCallbacks
def _pull_one(svc, service, ref, req, output):
    target = LayerStoreTarget(svc.layers)
    try:
        result = yield svc.engine.run_blocking(
            service.registry.pull, ref, target, req.auth, req.platform,
            service.progress_to(output), max_concurrent_downloads=service.max_downloads)
    except BaseException:
        yield _release_layers(svc, target.created)
        raise
    moved = yield svc.db.run(_record_pull, ref, result, time.time_ns())
    svc.events.publish("image", "pull", ref.familiar(), {"name": ref.familiar_name})
    if moved:
        svc.events.publish("image", "tag", result.image_id, {"name": ref.familiar()})
    return result


def _record_pull(conn, ref, result, now):
    """Store the image, point the tag and the repo digest at it and remember the blobs.
    Returns whether the tag now names a different image than before."""
    top = result.layers[-1].chain_id if result.layers else None
    q.insert_image(conn, q.ImageRow(ids.image_id(result.config), result.config, top, None, now))
    moved = False
    if ref.tag:
        moved = q.tag(conn, ref, result.image_id) != result.image_id
    q.tag(conn, Reference(ref.domain, ref.path, None, result.digest), result.image_id)
    blobs.record_blobs(conn, [(layer.diff_id, layer.digest, ref.name) for layer in result.layers])
    return moved


@defer.inlineCallbacks
def _release_layers(svc, created):
    """Forget the layers a failed pull added (top first) unless something uses them now."""
    if not created:
        return

    freed = yield svc.db.run(q.release_chain, created[-1].chain_id)
    yield svc.layers.free_layers(freed)


# -- push ----------------------------------------------------------------------------------

def _push_references(conn, req):
    """The local references to push: one tag, or every tag of the repository."""
    ref = parse_reference(req.name, default_tag=False)
    if ref.digest:
        raise InvalidParameter(f"cannot push a digest reference: {req.name}")
    if req.tag or ref.tag:
        wanted = [ref.with_tag(req.tag or ref.tag)]
    else:
        names = sorted(n for names in q.all_references(conn).values() for n in names)
        wanted = [parse_reference(n) for n in names if n.startswith(ref.name + ":")]
    plans = []
    for tagged in wanted:
        try:
            image = q.resolve(conn, str(tagged))
        except NotFound:
            image = None
        if image is None or str(tagged) not in q.references_of(conn, image.id):
            continue
        chain = q.layer_chain(conn, image.top_layer) if image.top_layer else []
        known = blobs.blobs_of(conn, [layer.diff_id for layer in chain])
        plans.append((tagged, image, chain, known))
    if not plans:
        raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name}")
    return plans


@defer.inlineCallbacks
def push_image(svc, job):
    req = job.request
    service = svc.distribution
    for ref, image, chain, known in (yield svc.db.run(_push_references, req)):
        layers = [PushLayer(row.diff_id, svc.layers.original_tar_opener(row, parent),
                            known[row.diff_id])
                  for row, parent in zip(chain, [None] + chain[:-1])]
        result = yield svc.engine.run_blocking(
            service.registry.push, ref, PushImage(image.config, layers), req.auth,
            service.progress_to(job.output), max_concurrent_uploads=service.max_uploads)
        yield svc.db.run(_record_push, ref, image.id, result)
        svc.events.publish("image", "push", ref.familiar(), {"name": ref.familiar_name})


def _record_push(conn, ref, image_id, result):
    q.tag(conn, Reference(ref.domain, ref.path, None, result.digest), image_id)
    blobs.record_blobs(conn, [(layer.diff_id, layer.digest, ref.name) for layer in result.layers])


# -- login and search ----------------------------------------------------------------------

def login(svc, job):
    service = svc.distribution
    d = svc.engine.run_blocking(service.registry.login, job.request.auth)
    return d.addCallback(lambda result: result.to_json())


def search_images(svc, job):
    req = job.request
    for key in req.filters:
        if key not in SEARCH_FILTERS:
            raise InvalidParameter(f"invalid filter '{key}'")
    service = svc.distribution
    d = svc.engine.run_blocking(service.registry.search, req.term, req.limit, req.auth)
    return d.addCallback(_filtered, req.filters)


def _filtered(results, filters):
    def wanted(entry):
        for key, field_name in (("is-official", "is_official"), ("is-automated", "is_automated")):
            for value in filters.get(key, []):
                if entry[field_name] != (value in ("true", "1")):
                    return False
        for value in filters.get("stars", []):
            if not value.isdigit():
                raise InvalidParameter(f"invalid filter 'stars={value}'")
            if entry["star_count"] < int(value):
                return False
        return True
    return [entry for entry in results if wanted(entry)]
