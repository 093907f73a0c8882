"""A container's changes as an image: ``container.changes`` (docker diff) and
``container.commit``."""

import json
import time
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.errdefs import InvalidParameter, NotFound
from pydocker.images import config as imgconfig
from pydocker.reference import parse_reference
from pydocker.runtime.rootfs import init_layer_id
from pydocker.store import images as q


class CommitJobs:
    """diff and commit. Reactor thread; the layer work runs in workers."""

    def __init__(self, engine, layers, containers, runtime, db):
        self.engine = engine
        self.layers = layers
        self.graph = layers.graph
        self.containers = containers
        self.runtime = runtime
        self.db = db

    def jobs(self):
        return {"container.changes": container_changes, "container.commit": commit_container}


def container_changes(svc, job):
    container = svc.containers.get(job.request.name)
    d = svc.engine.run_blocking(svc.graph.changes, container.id, init_layer_id(container.id))
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
def _commit_layer(svc, container, image):
    """The container's changes as a new layer on its image's top layer; None when there are none."""
    init = init_layer_id(container.id)
    found = yield svc.engine.run_blocking(svc.graph.changes, container.id, init)
    if not found:
        return None
    diff = yield svc.engine.run_blocking(svc.graph.diff, container.id, init)
    try:
        row = yield svc.layers.add_layer(image.top_layer, diff, decompress=False)
    finally:
        yield svc.engine.run_blocking(diff.close)
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
def commit_container(svc, job):
    req = job.request
    container = svc.containers.get(req.container)
    ref = None
    if req.repo:
        ref = parse_reference(req.repo, default_tag=False)
        if ref.digest:
            raise InvalidParameter("refusing to create a tag with a digest reference")
        ref = ref.with_tag(req.tag or ref.tag or "latest")
    elif req.tag:
        raise InvalidParameter("a tag needs a repository name")
    imgconfig.apply_changes({}, req.changes)  # a bad --change fails before the container is paused
    image = yield svc.db.run(q.get_image, container.image_id)
    if image is None:
        raise NotFound(f"the image of container {container.id[:12]} no longer exists")

    def make_layer():
        return _commit_layer(svc, container, image)

    layer = yield (svc.runtime.frozen(container, make_layer) if req.pause else make_layer())
    config = commit_config(container, json.loads(image.config), layer, req, time.time_ns())
    try:
        image_id = yield svc.layers.store_image(config, layer.chain_id if layer else image.top_layer,
                                     parent=image.id, ref=ref)
    except BaseException:
        if layer is not None:
            yield svc.layers.release([layer.chain_id])
        raise
    svc.runtime.publish(container, "commit", comment=req.comment)
    return {"Id": image_id}
