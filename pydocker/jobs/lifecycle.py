"""The container lifecycle: start, stop, restart, kill, wait, pause, unpause, remove
and prune. Start, stop, restart and remove of one container run one at a time."""

import json
import shutil
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.containers import links
from pydocker.errdefs import Conflict, InvalidParameter, NotFound, NotModified
from pydocker.jobs.containers import ContainerRequest, _matches, _sizes
from pydocker.runtime import rootfs
from pydocker.runtime.signals import parse_signal
from pydocker.store import containers as cstore
from pydocker.timeutil import parse_rfc3339


class LifecycleJobs:
    """The lifecycle jobs. Reactor thread: it owns the per-container locks and the
    waiters for a removal; the runtime's --rm and policy restarts come back here as jobs."""

    def __init__(self, engine, runtime, containers, db, graph, volumes, execdriver):
        self.engine = engine
        self.runtime = runtime
        self.containers = containers
        self.db = db
        self.graph = graph
        self.volumes = volumes
        self.execdriver = execdriver
        self.locks = {}            # container id -> DeferredLock
        self.removal_waiters = {}  # container id -> [(Deferred, Container)]
        runtime.on_stopped(lambda container: _auto_remove(self, container))
        runtime.start_through(lambda container: engine.job("container.start", ContainerRequest(container.id)))

    def jobs(self):
        return {"container.start": start, "container.stop": stop, "container.restart": restart,
                "container.kill": kill, "container.wait": wait, "container.remove": remove,
                "container.pause": pause, "container.unpause": unpause, "container.prune": prune}


def _lock(svc, container):
    """Start, stop, restart and remove of one container run one at a time."""
    return svc.locks.setdefault(container.id, defer.DeferredLock())


def _get(svc, ref):
    return svc.containers.get(ref)


@defer.inlineCallbacks
def start(svc, job):
    container = _get(svc, job.request.name)
    lock = _lock(svc, container)
    yield lock.acquire()
    try:
        container.manually_stopped = False
        yield svc.runtime.start(container)
    except Exception:
        if container.host_config.get("AutoRemove"):
            # dockerd removes an --rm container whose start failed; the CLI waits for that.
            svc.engine.call_later(0, _auto_remove, svc, container)
        raise
    finally:
        lock.release()


@dataclass
class StopRequest:
    name: str
    timeout: int = None
    signal: str = ""


@defer.inlineCallbacks
def stop(svc, job):
    req = job.request
    container = _get(svc, req.name)
    sig = parse_signal(req.signal) if req.signal else None
    lock = _lock(svc, container)
    yield lock.acquire()
    try:
        yield svc.runtime.stop(container, req.timeout, sig)
    finally:
        lock.release()


@defer.inlineCallbacks
def restart(svc, job):
    req = job.request
    container = _get(svc, req.name)
    lock = _lock(svc, container)
    yield lock.acquire()
    try:
        try:
            yield svc.runtime.stop(container, req.timeout)
        except NotModified:
            pass
        container.manually_stopped = False
        yield svc.runtime.start(container)
        svc.runtime.publish(container, "restart")
    finally:
        lock.release()


@dataclass
class KillRequest:
    name: str
    signal: str = "KILL"


KILL_WAIT_SECONDS = 10


@defer.inlineCallbacks
def kill(svc, job):
    """SIGKILL answers once the container is gone (up to 10 s), as dockerd does, so a
    following inspect sees it exited; other signals answer at once."""
    req = job.request
    container = _get(svc, req.name)
    sig = parse_signal(req.signal)
    if sig != 9:
        yield svc.runtime.kill(container, sig)
        return
    container.manually_stopped = True
    restarting = container.state.get("Restarting")
    exited = svc.runtime.next_exit(container) if container.running and not restarting else None
    yield svc.runtime.kill(container, sig)
    if exited is not None and container.running:
        try:
            yield svc.engine.with_timeout(exited, KILL_WAIT_SECONDS)
        except defer.TimeoutError:
            pass


@dataclass
class WaitRequest:
    name: str
    condition: str = "not-running"


def wait(svc, job):
    """Headers go out at once (the CLI waits for them before it starts the container)."""
    req = job.request
    if req.condition not in ("not-running", "next-exit", "removed"):
        raise InvalidParameter(f"invalid condition: {req.condition!r}")
    container = _get(svc, req.name)
    job.output.flush_headers()
    if req.condition == "not-running" and not container.running:
        d = defer.succeed(container.state["ExitCode"])
    elif req.condition == "removed":
        d = _removal_waiter(svc, container)
    else:
        d = svc.runtime.next_exit(container)

    def answer(code):
        job.output.write(json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n")

    return d.addCallback(answer)


def _removal_waiter(svc, container):
    d = defer.Deferred()
    svc.removal_waiters.setdefault(container.id, []).append((d, container))
    return d


@dataclass
class RemoveRequest:
    name: str
    force: bool = False
    volumes: bool = False
    link: bool = False


def _remove_link(svc, name):
    """``rm --link /linking/alias``: the linking container forgets that link, as dockerd
    does (its running processes keep their /etc/hosts and environment)."""
    holder_name, _, alias = name.strip("/").rpartition("/")
    if not holder_name:
        raise Conflict("Conflict, cannot remove the default link name of the container")
    holder = _get(svc, holder_name)
    entries = holder.host_config.get("Links") or []
    kept = [text for text in entries if links.parse_link(text)[1] != alias]
    if len(kept) == len(entries):
        raise NotFound(f"Could not find entity for {name}")
    holder.host_config["Links"] = kept or None
    return svc.db.run(cstore.save_record, cstore.record(holder))


@defer.inlineCallbacks
def remove(svc, job):
    req = job.request
    if req.link:
        yield _remove_link(svc, req.name)
        return
    container = _get(svc, req.name)
    if container.running and not req.force:
        raise Conflict(f"You cannot remove a running container {container.id}. Stop the container before "
                       f"attempting removal or force remove")
    if container.removing:
        raise Conflict(f"removal of container {container.id} is already in progress")
    lock = _lock(svc, container)
    yield lock.acquire()
    try:
        container.removing = True
        if container.running:
            yield svc.runtime.kill_and_wait(container)
        yield destroy(svc, container)
        if req.volumes:
            yield svc.engine.run_blocking(svc.volumes.remove_anonymous, [dict(p) for p in container.mounts],
                                          svc.volumes.in_use(container.id))
    finally:
        container.removing = False
        lock.release()
        svc.locks.pop(container.id, None)


@defer.inlineCallbacks
def destroy(svc, container):
    """Remove a stopped container's layers, files, record and name."""
    yield svc.engine.run_blocking(rootfs.remove_layers, svc.graph, container.id)
    yield svc.engine.run_blocking(shutil.rmtree, svc.runtime.container_dir(container.id), True)
    yield svc.engine.run_blocking(svc.execdriver.clean, container.id)
    yield svc.db.run(cstore.delete_container, container.id)
    svc.containers.remove(container)
    svc.runtime.publish(container, "destroy")
    for d, _ in svc.removal_waiters.pop(container.id, []):
        d.callback(container.state["ExitCode"])


def _auto_remove(svc, container):
    if not container.host_config.get("AutoRemove") or container.removing:
        return None
    return svc.engine.job("container.remove", RemoveRequest(container.id, force=True, volumes=True))


def pause(svc, job):
    return svc.runtime.pause(_get(svc, job.request.name))


def unpause(svc, job):
    return svc.runtime.unpause(_get(svc, job.request.name))


@dataclass
class PruneRequest:
    filters: dict = field(default_factory=dict)


@defer.inlineCallbacks
def prune(svc, job):
    f = job.request.filters
    until = parse_rfc3339(f["until"][-1]) if f.get("until") else None
    deleted, reclaimed = [], 0
    for c in svc.containers.all():
        if c.running or c.removing:
            continue
        if until and c.created > until:
            continue
        if "label" in f and not _matches(c, {"label": f["label"]}, set(), None, None):
            continue
        size = (yield svc.engine.run_blocking(_sizes, svc, c))[0]
        try:
            yield svc.engine.job("container.remove", RemoveRequest(c.id))
        except (Conflict, NotFound):
            continue
        deleted.append(c.id)
        reclaimed += size
    return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}
