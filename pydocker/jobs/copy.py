"""``docker cp``: stat, read and write a path in a container (``container.archive.*``).

A running container is frozen while its filesystem is read or written, as Docker
does, so it cannot swap paths under the copy.
"""

import base64
import contextlib
import json
import os
import posixpath
from twisted.internet import defer

from pydocker import archive
from pydocker.errdefs import Conflict, Forbidden
from pydocker.jobs.archives import pump

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"


class CopyJobs:
    """docker cp. Reactor thread; the file work runs in workers."""

    def __init__(self, engine, graph, containers, runtime, idmap=None):
        self.engine = engine
        self.graph = graph
        self.containers = containers
        self.runtime = runtime
        self.idmap = idmap

    def jobs(self):
        return {"container.archive.stat": stat_path, "container.archive.get": get_archive,
                "container.archive.put": put_archive}


def _encoded_stat(document):
    return base64.b64encode(json.dumps(document).encode()).decode()


def _mount_holding(mounts, path):
    """The mount point (volume or bind) of ``mounts`` that holds ``path``, or None."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    found = None
    for mount in mounts:
        destination = mount["Destination"].rstrip("/") or "/"
        inside = path == destination or path.startswith(destination.rstrip("/") + "/")
        if inside and (found is None or len(destination) > len(found["Destination"])):
            found = mount
    return found


def _where(container):
    """What ``_filesystem_of`` needs of a container, read on the reactor: (id, pid of a
    running one or 0, a copy of its mount points)."""
    pid = container.state.get("Pid") if container.running else 0
    return container.id, pid, [dict(mount) for mount in container.mounts]


@contextlib.contextmanager
def _filesystem_of(graph, where, path):
    """(root, path in it) where the container's ``path`` is, as ``docker cp`` sees it
    (blocking; ``where`` from ``_where``). A running container is reached through
    /proc/PID/root, its own view with every volume, bind and tmpfs. A stopped one has
    only its rootfs layers, so a path under a volume or bind is taken from that
    mount's source."""
    container_id, pid, mounts = where
    if pid:
        yield f"/proc/{pid}/root", path
        return
    mount = _mount_holding(mounts, path)
    if mount is not None and os.path.isdir(mount.get("Source") or ""):
        destination = mount["Destination"].rstrip("/")
        inner = "/" + posixpath.normpath("/" + path.lstrip("/"))[len(destination):].lstrip("/")
        if path.endswith("/."):
            inner = inner.rstrip("/") + "/."
        yield mount["Source"], inner
        return
    root = graph.get(container_id)
    try:
        yield root, path
    finally:
        graph.put(container_id)


@defer.inlineCallbacks
def _on_filesystem(svc, container, work, path, *args):
    """``work(root, path, *args)`` in a worker on the container's filesystem (frozen
    while it runs, as Docker does, so the container cannot swap paths under the copy)."""
    if container.removing:
        raise Conflict(f"container {container.id[:12]} is being removed")

    where = _where(container)

    def call():
        with _filesystem_of(svc.graph, where, path) as (root, inner):
            return work(root, inner, *args)

    result = yield svc.runtime.frozen(container, lambda: svc.engine.run_blocking(call))
    return result


@defer.inlineCallbacks
def stat_path(svc, job):
    req, output = job.request, job.output
    container = svc.containers.get(req.name)
    document = yield _on_filesystem(svc, container, archive.path_stat, req.path)
    output.set_header(PATH_STAT_HEADER, _encoded_stat(document))
    output.flush_headers()


@defer.inlineCallbacks
def get_archive(svc, job):
    req, output = job.request, job.output
    container = svc.containers.get(req.name)

    def stream_out():
        return _stream_path(svc, container, req.path, output)

    yield svc.runtime.frozen(container, stream_out)


@defer.inlineCallbacks
def _stream_path(svc, container, path, output):
    held = contextlib.ExitStack()
    root, inner = yield svc.engine.run_blocking(held.enter_context,
                                                 _filesystem_of(svc.graph, _where(container), path))
    try:
        document, stream = yield svc.engine.run_blocking(archive.read_path, root, inner, svc.idmap)
        output.set_header(PATH_STAT_HEADER, _encoded_stat(document))
        output.flush_headers()
        yield pump(svc, stream, output)
    finally:
        yield svc.engine.run_blocking(held.close)


@defer.inlineCallbacks
def put_archive(svc, job):
    req = job.request
    container = svc.containers.get(req.name)
    mount = _mount_holding(container.mounts, req.path)
    if mount is not None and not mount.get("RW", True):
        raise Forbidden("mounted volume is marked read-only")
    if mount is None and container.host_config.get("ReadonlyRootfs"):
        raise Forbidden("container rootfs is marked read-only")
    yield _on_filesystem(svc, container, archive.write_path, req.path, req.body, req.copy_uid_gid,
                         req.no_overwrite_dir_non_dir, svc.idmap)
