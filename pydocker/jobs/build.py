"""Build jobs: ``build`` (POST /build) and the steps the builder needs that no other job does.

``build`` receives the context, reads the Dockerfile and hands the program to
``pydocker.builder.dispatcher.Builder``, which runs every step through named jobs:
RUN through container create/attach/start/wait/commit/remove, and these:
``image.derive`` (a metadata step: a child image with a new config and no layer),
``build.copy`` (COPY, ADD and WORKDIR: a new layer over the parent made from files),
``image.cache_probe`` (a local child image whose step config matches: the classic cache)
and ``build.prune``, both in ``jobs/buildcache.py``.
"""

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.builder import context as buildcontext
from pydocker.builder import copy as buildcopy
from pydocker.builder import instructions, parser, remote
from pydocker.builder.dispatcher import Builder, BuildOptions
from pydocker.engine.job import JobOutput
from pydocker.errdefs import NotFound
from pydocker.images import config as imgconfig
from pydocker.images.ids import new_cache_id
from pydocker.jobs.commit import CommitRequest
from pydocker.jobs.attach import AttachRequest
from pydocker.jobs.containers import ContainerRequest, CreateRequest
from pydocker.jobs.lifecycle import KillRequest, RemoveRequest, WaitRequest
from pydocker.jobs.distribution import PullRequest
from pydocker.images.layers import register_written
from pydocker.jobs.buildcache import CacheProbeRequest, build_prune, cache_probe
from pydocker.jobs.images import ImageNameRequest, TagRequest
from pydocker.registry import AuthConfig
from pydocker.reference import parse_reference
from pydocker.store import images as q


class BuildJobs:
    """The builder's jobs. Reactor thread; the file work runs in the worker pool."""

    def __init__(self, engine, layers, db, events, config, idmap=None):
        self.engine = engine
        self.layers = layers
        self.graph = layers.graph
        self.db = db
        self.events = events
        self.config = config
        self.idmap = idmap

    def jobs(self):
        return {"build": build, "build.copy": copy_step, "image.derive": derive_image,
                "image.cache_probe": cache_probe, "build.prune": build_prune}



def _scratch(svc):
    path = os.path.join(svc.config.data_root, "tmp")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return tempfile.mkdtemp(prefix="build-", dir=path)


# -- POST /build ----------------------------------------------------------------------------

@dataclass
class BuildRequest:
    body: object
    options: BuildOptions
    remote: str = ""
    auth_configs: dict = field(default_factory=dict)


def _prepare(req, directory):
    """(program, escape token, context's ContentHashes) from the body (read as it arrives,
    its files hashed as they are written) or the remote context put in ``directory``;
    raises before anything is written."""
    name = req.options.dockerfile
    digests = {}
    if req.remote:
        directory = remote.fetch(req.remote, directory, name or "Dockerfile")
    else:
        buildcontext.receive(req.body, directory, name or "Dockerfile", digests)
    dockerfile = parser.parse(buildcontext.read_dockerfile(directory, name))
    program = instructions.group(dockerfile, name or "Dockerfile")
    return program, dockerfile.escape, buildcontext.ContentHashes(directory, digests)


@defer.inlineCallbacks
def build(svc, job):
    req, out = job.request, job.output
    scratch = yield svc.engine.run_blocking(_scratch, svc)
    try:
        program, escape, hashes = yield svc.engine.run_blocking(_prepare, req, scratch)
        builder = Builder(EngineSteps(svc.engine, req.auth_configs), out, req.options, hashes, program, escape)
        yield builder.run()
    finally:
        # Not waited for: the answer need not wait for the context to go (a stop that
        # comes first leaves it to the next start's clean-up of <data-root>/tmp).
        svc.engine.run_blocking(shutil.rmtree, scratch, True)


class _Collected(JobOutput):
    """A job output kept in memory (the exit status of ``container.wait``)."""

    def __init__(self):
        self.data = b""

    def write(self, data):
        self.data += data


class _StepOutput(JobOutput):
    """What ``container.attach`` writes to: a RUN step's output goes to the build stream."""

    def __init__(self, forward):
        self._forward = forward

    def upgrade(self):
        return self

    def write(self, data):
        if data:
            self._forward(data)

    def on_close(self, callback):
        pass

    def close(self):
        pass


class EngineSteps:
    """The builder's view of the daemon: every step is a named job."""

    def __init__(self, engine, auth_configs):
        self._engine = engine
        self._auth_configs = auth_configs

    def inspect_image(self, name):
        return self._engine.job("image.inspect", ImageNameRequest(name))

    def pull(self, name, output, platform=None):
        ref = parse_reference(name)
        auth = self._auth_configs.get(ref.domain) or AuthConfig()
        return self._engine.job("image.pull", PullRequest(name, platform=platform, auth=auth),
                                output if output is not None else _Collected())

    def derive(self, **request):
        return self._engine.job("image.derive", DeriveRequest(**request))

    def copy(self, **request):
        return self._engine.job("build.copy", CopyStepRequest(**request))

    def probe(self, parent, container_config, config, cache_from):
        return self._engine.job("image.cache_probe", CacheProbeRequest(parent, container_config, config, cache_from))

    def create(self, body):
        return self._engine.job("container.create", CreateRequest("", body)).addCallback(lambda r: r["Id"])

    @defer.inlineCallbacks
    def run(self, container_id, forward, started):
        """Start the container with its output forwarded; its exit code. ``started(id)``
        is called once it runs."""
        engine = self._engine
        attached = engine.job("container.attach", AttachRequest(container_id, stdout=True, stderr=True,
                                                                 stream=True, raw=True), _StepOutput(forward))
        status = _Collected()
        exited = engine.job("container.wait", WaitRequest(container_id, "next-exit"), status)
        try:
            yield engine.job("container.start", ContainerRequest(container_id))
        except BaseException:
            exited.cancel()
            attached.cancel()
            raise
        started(container_id)
        yield exited
        yield attached
        return json.loads(status.data)["StatusCode"]

    def kill(self, container_id):
        d = self._engine.job("container.kill", KillRequest(container_id, "KILL"))
        d.addErrback(lambda _: None)  # it may have exited meanwhile

    def commit(self, container_id, **request):
        return self._engine.job("container.commit", CommitRequest(container_id, pause=False, **request))

    def remove(self, container_id):
        return self._engine.job("container.remove", RemoveRequest(container_id, force=True, volumes=True))

    def tag(self, image_id, ref):
        return self._engine.job("image.tag", TagRequest(image_id, ref.familiar_name, ref.tag or "latest"))

    def hash_sources(self, hashes, paths):
        return self._engine.run_blocking(lambda: [hashes.key(p) for p in paths])

    def download(self, urls, directory):
        return self._engine.run_blocking(remote.download, urls, directory)


# -- steps ----------------------------------------------------------------------------------

@dataclass
class DeriveRequest:
    parent: str  # image ID, "" for scratch
    config: dict  # the new image's container config
    container_config: dict  # the step's config (its Cmd says what the step was)
    created_by: str
    author: str = ""


@defer.inlineCallbacks
def _store_child(svc, parent_id, layer, req):
    parent = yield svc.db.run(q.get_image, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise NotFound(f"No such image: {parent_id}")
    parent_config = json.loads(parent.config) if parent else {}
    config = imgconfig.child_config(parent_config, req.config, time.time_ns(), req.created_by,
                                    layer.diff_id if layer else None, req.author)
    config["container_config"] = req.container_config
    top = layer.chain_id if layer else (parent.top_layer if parent else None)
    image_id = yield svc.layers.store_image(config, top, parent=parent_id or None)
    return {"Id": image_id}


def derive_image(svc, job):
    return _store_child(svc, job.request.parent, None, job.request)


@dataclass
class CopyStepRequest(DeriveRequest):
    sources: list = field(default_factory=list)  # source patterns, as resolved by the builder
    source_root: str = ""  # the context directory, or "" with source_image
    source_image: str = ""  # COPY --from: an image whose rootfs holds the sources
    dest: str = ""  # absolute container path (a trailing / means a directory)
    chown: str = ""
    extract_archives: bool = False
    mode: int = None
    mkdir: str = ""  # WORKDIR: make this directory


@defer.inlineCallbacks
def _top_cache_id(svc, image_id):
    image = yield svc.db.run(q.get_image, image_id) if image_id else None
    if image_id and image is None:
        raise NotFound(f"No such image: {image_id}")
    if image is None or not image.top_layer:
        return image, None
    layer = yield svc.db.run(q.get_layer, image.top_layer)
    return image, layer.cache_id


def _copy_files(graph, layer_id, source_cache, req, idmap):
    """Mount the new layer (and the --from image), copy, release (a worker); ``idmap``
    is the daemon's --userns-remap mapping, which shifts the owners."""
    root = graph.get(layer_id)
    try:
        if req.mkdir:
            buildcopy.make_dir(root, req.mkdir, idmap)
        if not req.sources:
            return
        source_root = graph.get(source_cache) if source_cache else req.source_root
        try:
            found = buildcontext.Sources(source_root, "source image" if source_cache else "build context")
            paths = [item for pattern in req.sources for item in found.resolve(pattern)]
            owner = buildcopy.resolve_owner(root, req.chown) if req.chown else None
            buildcopy.copy_into(root, [(path, os.path.basename(rel) or ".") for path, rel in paths], req.dest,
                                owner, req.extract_archives, req.mode, idmap)
        finally:
            if source_cache:
                graph.put(source_cache)
    finally:
        graph.put(layer_id)


@defer.inlineCallbacks
def copy_step(svc, job):
    """The files go straight into a new layer on the parent's, which is then recorded as it
    is (its diff read once): no container, and no second extraction."""
    req = job.request
    parent, parent_cache = yield _top_cache_id(svc, req.parent)
    source_cache = None
    if req.source_image:
        _, source_cache = yield _top_cache_id(svc, req.source_image)
    cache_id = new_cache_id()
    yield svc.engine.run_blocking(svc.graph.create, cache_id, parent_cache)
    layer = None
    try:
        yield svc.engine.run_blocking(_copy_files, svc.graph, cache_id, source_cache, req, svc.idmap)
        changed = yield svc.engine.run_blocking(svc.graph.changes, cache_id, parent_cache)
        if changed:
            diff_id, size = yield svc.engine.run_blocking(register_written, svc.graph, svc.layers.splits,
                                                      parent_cache, cache_id)
            layer = yield svc.layers.record_layer(parent.top_layer if parent else None, cache_id, diff_id, size)
    finally:
        if layer is None:
            yield svc.engine.run_blocking(svc.graph.remove, cache_id)
    result = yield _store_child(svc, req.parent, layer, req)
    return result
