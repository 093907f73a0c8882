"""Container jobs: create, inspect, list, start, stop, restart, kill, wait, remove,
rename, pause, unpause, logs, prune."""

import json
import shutil
import struct
import time
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.containers import createconfig, inspect, links, logs, names
from pydocker.containers.model import Container
from pydocker.drivers.exec import cgroups
from pydocker.errdefs import Conflict, InvalidParameter, NotFound, NotModified
from pydocker.images.ids import new_cache_id
from pydocker.jobs import resources
from pydocker.logdrivers import attributes
from pydocker.runtime import rootfs
from pydocker.runtime.signals import parse_signal
from pydocker.runtime.spec import command_of
from pydocker.store import containers as cstore
from pydocker.store import images as istore
from pydocker.timeutil import parse_rfc3339
from pydocker.volumes import mountpoints


def install(engine):
    for name, handler in (
        ("container.create", create), ("container.inspect", inspect_container),
        ("container.list", list_containers), ("container.start", start), ("container.stop", stop),
        ("container.restart", restart), ("container.kill", kill), ("container.wait", wait),
        ("container.remove", remove), ("container.rename", rename), ("container.pause", pause),
        ("container.unpause", unpause), ("container.logs", container_logs), ("container.prune", prune),
    ):
        engine.register(name, handler)
    engine.runtime.on_stopped(lambda container: _auto_remove(engine, container))


_locks = {}


def _lock(container):
    """Start, stop, restart and remove of one container run one at a time."""
    return _locks.setdefault(container.id, defer.DeferredLock())


def _get(engine, ref):
    return engine.containers.get(ref)


# -- create -------------------------------------------------------------------------------------

@dataclass
class CreateRequest:
    name: str
    body: dict
    version: tuple = (1, 44)


def merge_image_config(config, image_config):
    """Fill the container's Config from the image's, as dockerd's merge does."""
    merged = dict(config)
    env = {}
    for item in list(image_config.get("Env") or []) + list(config.get("Env") or []):
        env[item.split("=", 1)[0]] = item
    merged["Env"] = list(env.values())
    if not config.get("Entrypoint"):
        if not config.get("Cmd"):
            merged["Cmd"] = image_config.get("Cmd")
        if config.get("Entrypoint") is None:
            merged["Entrypoint"] = image_config.get("Entrypoint")
    for key in ("WorkingDir", "User", "StopSignal", "Healthcheck", "Shell", "OnBuild"):
        if not merged.get(key) and image_config.get(key):
            merged[key] = image_config[key]
    for key in ("ExposedPorts", "Volumes", "Labels"):
        combined = dict(image_config.get(key) or {})
        combined.update(config.get(key) or {})
        merged[key] = combined or ({} if key == "Labels" else None)
    if not command_of(merged):
        raise InvalidParameter("no command specified")
    return merged


@defer.inlineCallbacks
def create(job):
    engine, req = job.engine, job.request
    config, host_config, networking = createconfig.validate_create(req.body)
    if engine.idmap is not None:
        createconfig.check_userns_remap(host_config)
    warnings = yield engine.run_blocking(resources.discard_kernel_memory, host_config, req.version)
    image = yield engine.db.run(istore.resolve, config["Image"])
    image_config = json.loads(image.config).get("config") or {}
    config = merge_image_config(config, image_config)
    name = names.validate(req.name) if req.name else names.generate(engine.containers.name_taken)
    if engine.containers.name_taken(name):
        holder = engine.containers.get(name)
        from pydocker.containers.model import name_conflict
        raise name_conflict(name, holder.id)
    container_id = new_cache_id()
    container = Container(id=container_id, name=name, image_id=image.id, image_name=config["Image"],
                          created=time.time_ns(), config=config, host_config=host_config,
                          rw_layer=container_id)
    _check_log_config(engine, host_config)
    _choose_cgroupns(engine, host_config, req.version)
    engine.network.on_create(container, networking)
    engine.containers.add(container)  # reserves the name while the layers are made
    try:
        container.mounts = yield engine.run_blocking(engine.volumes.resolve, container, config.get("Volumes"))
        top = yield engine.db.run(istore.get_layer, image.top_layer) if image.top_layer else None
        yield engine.run_blocking(rootfs.create_layers, engine.graph, container_id, top.cache_id if top else None,
                                  engine.idmap)
        yield engine.db.run(cstore.insert_container, container)
    except BaseException:
        engine.containers.remove(container)
        yield engine.run_blocking(rootfs.remove_layers, engine.graph, container_id)
        raise
    engine.runtime.publish(container, "create")
    return {"Id": container_id, "Warnings": warnings}



def _choose_cgroupns(engine, host_config, version):
    """CgroupnsMode fixed at create as dockerd does: none given is the daemon's default
    (host for clients older than API 1.41, which predate the choice); private needs a
    kernel with cgroup namespaces."""
    if not host_config.get("CgroupnsMode"):
        host_config["CgroupnsMode"] = "host" if version < (1, 41) else engine.config.default_cgroupns_mode
    if host_config["CgroupnsMode"] == "private" and not cgroups.namespaces_supported():
        raise InvalidParameter("--cgroupns=private: this kernel has no cgroup namespaces")


def _check_log_config(engine, host_config):
    """LogConfig completed as dockerd does at create: no Type is the daemon's default
    driver, whose default options fill the ones not given; then validated."""
    log_config = host_config.get("LogConfig") or {}
    kind = log_config.get("Type") or engine.config.log_driver
    if kind not in engine.logdrivers:
        raise InvalidParameter(f"logger: no log driver named '{kind}' is registered")
    options = dict(engine.config.log_opts) if kind == engine.config.log_driver else {}
    options.update(log_config.get("Config") or {})
    engine.logdrivers[kind].validate(options)
    host_config["LogConfig"] = {"Type": kind, "Config": options}


# -- inspect / list -------------------------------------------------------------------------------

@dataclass
class ContainerRequest:
    name: str
    size: bool = False


def _mounts(container):
    """inspect's Mounts: binds and volumes resolved at create, and tmpfs mounts."""
    result = [mountpoints.public(p) for p in container.mounts]
    targets = [m.get("Target") for m in container.host_config.get("Mounts") or [] if m.get("Type") == "tmpfs"]
    for target in targets + list(container.host_config.get("Tmpfs") or {}):
        result.append({"Type": "tmpfs", "Source": "", "Destination": target, "Mode": "", "RW": True,
                       "Propagation": ""})
    return result


def _sizes(engine, container):
    """(SizeRw, SizeRootFs), computed by the graph driver (blocking)."""
    rw = engine.graph.diff_size(container.id, rootfs.init_layer_id(container.id))
    return rw, rw + engine.graph.diff_size(rootfs.init_layer_id(container.id), None)


@defer.inlineCallbacks
def inspect_container(job):
    engine, req = job.engine, job.request
    container = _get(engine, req.name)
    data = yield engine.run_blocking(engine.graph.metadata, container.id)
    size = (yield engine.run_blocking(_sizes, engine, container)) if req.size else None
    return inspect.inspect_document(container, engine.graph.name, data,
                                    engine.runtime.container_dir(container.id), _mounts(container), size)


@dataclass
class ListRequest:
    all: bool = False
    limit: int = -1
    size: bool = False
    filters: dict = field(default_factory=dict)


LIST_FILTERS = ("id", "name", "label", "status", "ancestor", "exited", "before", "since", "volume",
                "network", "health", "is-task", "publish", "expose")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH_STATUSES = ("starting", "healthy", "unhealthy", "none")


@defer.inlineCallbacks
def list_containers(job):
    engine, req = job.engine, job.request
    f = req.filters
    for key in f:
        if key not in LIST_FILTERS:
            raise InvalidParameter(f"invalid filter '{key}'")
    for status in f.get("status", []):
        if status not in STATUSES:
            raise InvalidParameter(f"invalid filter 'status={status}'")
    for status in f.get("health", []):
        if status not in HEALTH_STATUSES:
            raise InvalidParameter(f"Unrecognised filter value for health: {status}")
    ancestors = set()
    for ref in f.get("ancestor", []):
        try:
            ancestors.add((yield engine.db.run(istore.resolve, ref)).id)
        except NotFound:
            pass
    everything = sorted(engine.containers.all(), key=lambda c: c.created, reverse=True)
    before = _created_of(engine, f.get("before"))
    since = _created_of(engine, f.get("since"))
    rows = []
    for c in everything:
        if not (req.all or f.get("status") or req.limit > 0 or since is not None or before is not None) \
                and not c.running:
            continue
        if not _matches(c, f, ancestors, before, since):
            continue
        rows.append(c)
    if req.limit > 0:
        rows = rows[:req.limit]
    extra_names = links.link_names(everything, lambda ref: _id_or_none(engine, ref))
    result = []
    for c in rows:
        size = (yield engine.run_blocking(_sizes, engine, c)) if req.size else None
        doc = inspect.summary_document(c, _mounts(c), size)
        doc["Names"] += extra_names.get(c.id, [])
        result.append(doc)
    return result


def _id_or_none(engine, ref):
    try:
        return engine.containers.get(ref).id
    except NotFound:
        return None


def _created_of(engine, refs):
    if not refs:
        return None
    return engine.containers.get(refs[-1]).created


def _matches(c, f, ancestors, before, since):
    if "id" in f and not any(c.id.startswith(v) for v in f["id"]):
        return False
    if "name" in f and not any(v.lstrip("/") in c.name for v in f["name"]):
        return False
    if "status" in f and c.status not in f["status"]:
        return False
    if "exited" in f and (c.status != "exited" or str(c.state["ExitCode"]) not in f["exited"]):
        return False
    if "ancestor" in f and c.image_id not in ancestors:
        return False
    if before is not None and not c.created < before:
        return False
    if since is not None and not c.created > since:
        return False
    if "label" in f:
        labels = c.config.get("Labels") or {}
        for spec in f["label"]:
            key, eq, value = spec.partition("=")
            if key not in labels or (eq and labels[key] != value):
                return False
    if "volume" in f:
        destinations = {m["Destination"] for m in _mounts(c)} | {m.get("Name") or m["Source"] for m in _mounts(c)}
        if not any(v in destinations for v in f["volume"]):
            return False
    if "health" in f:
        status = (c.state.get("Health") or {}).get("Status", "none") if c.running else "none"
        if status not in f["health"]:
            return False
    if "network" in f:
        nets = set((c.network_settings.get("Networks") or {}).keys())
        nets.add(c.host_config.get("NetworkMode") or "default")
        if not nets & set(f["network"]):
            return False
    return True


# -- lifecycle ------------------------------------------------------------------------------------

@defer.inlineCallbacks
def start(job):
    engine = job.engine
    container = _get(engine, job.request.name)
    lock = _lock(container)
    yield lock.acquire()
    try:
        container.manually_stopped = False
        yield engine.runtime.start(container)
    except Exception:
        if container.host_config.get("AutoRemove"):
            # dockerd removes an --rm container whose start failed; the CLI waits for that.
            engine.call_later(0, _auto_remove, engine, container)
        raise
    finally:
        lock.release()


@dataclass
class StopRequest:
    name: str
    timeout: int = None
    signal: str = ""


@defer.inlineCallbacks
def stop(job):
    engine, req = job.engine, job.request
    container = _get(engine, req.name)
    sig = parse_signal(req.signal) if req.signal else None
    lock = _lock(container)
    yield lock.acquire()
    try:
        yield engine.runtime.stop(container, req.timeout, sig)
    finally:
        lock.release()


@defer.inlineCallbacks
def restart(job):
    engine, req = job.engine, job.request
    container = _get(engine, req.name)
    lock = _lock(container)
    yield lock.acquire()
    try:
        try:
            yield engine.runtime.stop(container, req.timeout)
        except NotModified:
            pass
        container.manually_stopped = False
        yield engine.runtime.start(container)
        engine.runtime.publish(container, "restart")
    finally:
        lock.release()


@dataclass
class KillRequest:
    name: str
    signal: str = "KILL"


KILL_WAIT_SECONDS = 10


@defer.inlineCallbacks
def kill(job):
    """SIGKILL answers once the container is gone (up to 10 s), as dockerd does, so a
    following inspect sees it exited; other signals answer at once."""
    engine, req = job.engine, job.request
    container = _get(engine, req.name)
    sig = parse_signal(req.signal)
    if sig != 9:
        yield engine.runtime.kill(container, sig)
        return
    container.manually_stopped = True
    restarting = container.state.get("Restarting")
    exited = engine.runtime.next_exit(container) if container.running and not restarting else None
    yield engine.runtime.kill(container, sig)
    if exited is not None and container.running:
        try:
            yield engine.with_timeout(exited, KILL_WAIT_SECONDS)
        except defer.TimeoutError:
            pass


@dataclass
class WaitRequest:
    name: str
    condition: str = "not-running"


def wait(job):
    """Headers go out at once (the CLI waits for them before it starts the container)."""
    engine, req = job.engine, job.request
    if req.condition not in ("not-running", "next-exit", "removed"):
        raise InvalidParameter(f"invalid condition: {req.condition!r}")
    container = _get(engine, req.name)
    job.output.flush_headers()
    if req.condition == "not-running" and not container.running:
        d = defer.succeed(container.state["ExitCode"])
    elif req.condition == "removed":
        d = _removal_waiter(container)
    else:
        d = engine.runtime.next_exit(container)

    def answer(code):
        job.output.write(json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n")

    return d.addCallback(answer)


_removal_waiters = {}


def _removal_waiter(container):
    d = defer.Deferred()
    _removal_waiters.setdefault(container.id, []).append((d, container))
    return d


@dataclass
class RemoveRequest:
    name: str
    force: bool = False
    volumes: bool = False
    link: bool = False


def _remove_link(engine, name):
    """``rm --link /linking/alias``: the linking container forgets that link, as dockerd
    does (its running processes keep their /etc/hosts and environment)."""
    holder_name, _, alias = name.strip("/").rpartition("/")
    if not holder_name:
        raise Conflict("Conflict, cannot remove the default link name of the container")
    holder = _get(engine, holder_name)
    entries = holder.host_config.get("Links") or []
    kept = [text for text in entries if links.parse_link(text)[1] != alias]
    if len(kept) == len(entries):
        raise NotFound(f"Could not find entity for {name}")
    holder.host_config["Links"] = kept or None
    return engine.db.run(cstore.save_container, holder)


@defer.inlineCallbacks
def remove(job):
    engine, req = job.engine, job.request
    if req.link:
        yield _remove_link(engine, req.name)
        return
    container = _get(engine, req.name)
    if container.running and not req.force:
        raise Conflict(f"You cannot remove a running container {container.id}. Stop the container before "
                       f"attempting removal or force remove")
    if container.removing:
        raise Conflict(f"removal of container {container.id} is already in progress")
    lock = _lock(container)
    yield lock.acquire()
    try:
        container.removing = True
        if container.running:
            yield engine.runtime.kill_and_wait(container)
        yield destroy(engine, container)
        if req.volumes:
            yield engine.run_blocking(engine.volumes.remove_anonymous, container)
    finally:
        container.removing = False
        lock.release()
        _locks.pop(container.id, None)


@defer.inlineCallbacks
def destroy(engine, container):
    """Remove a stopped container's layers, files, record and name."""
    yield engine.run_blocking(rootfs.remove_layers, engine.graph, container.id)
    yield engine.run_blocking(shutil.rmtree, engine.runtime.container_dir(container.id), True)
    yield engine.run_blocking(engine.execdriver.clean, container.id)
    yield engine.db.run(cstore.delete_container, container.id)
    engine.containers.remove(container)
    engine.runtime.publish(container, "destroy")
    for d, _ in _removal_waiters.pop(container.id, []):
        d.callback(container.state["ExitCode"])


def _auto_remove(engine, container):
    if not container.host_config.get("AutoRemove") or container.removing:
        return None
    return engine.job("container.remove", RemoveRequest(container.id, force=True, volumes=True))


@dataclass
class RenameRequest:
    name: str
    new_name: str


@defer.inlineCallbacks
def rename(job):
    engine, req = job.engine, job.request
    container = _get(engine, req.name)
    new = names.validate(req.new_name)
    if new == container.name:
        raise InvalidParameter("Renaming a container with the same name as its current name")
    old = container.name
    engine.containers.rename(container, new)
    try:
        yield engine.db.run(cstore.save_container, container)
    except BaseException:
        engine.containers.rename(container, old)
        raise
    engine.runtime.publish(container, "rename", oldName="/" + old)


def pause(job):
    return job.engine.runtime.pause(_get(job.engine, job.request.name))


def unpause(job):
    return job.engine.runtime.unpause(_get(job.engine, job.request.name))


@dataclass
class PruneRequest:
    filters: dict = field(default_factory=dict)


@defer.inlineCallbacks
def prune(job):
    engine, f = job.engine, job.request.filters
    until = parse_rfc3339(f["until"][-1]) if f.get("until") else None
    deleted, reclaimed = [], 0
    for c in engine.containers.all():
        if c.running or c.removing:
            continue
        if until and c.created > until:
            continue
        if "label" in f and not _matches(c, {"label": f["label"]}, set(), None, None):
            continue
        size = (yield engine.run_blocking(_sizes, engine, c))[0]
        try:
            yield engine.job("container.remove", RemoveRequest(c.id))
        except (Conflict, NotFound):
            continue
        deleted.append(c.id)
        reclaimed += size
    return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}


# -- logs ------------------------------------------------------------------------------------------

@dataclass
class LogsRequest:
    name: str
    follow: bool = False
    stdout: bool = False
    stderr: bool = False
    since: int = 0
    until: int = 0
    timestamps: bool = False
    tail: int = None
    details: bool = False


MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def frame_header(stream, size):
    """stdcopy framing: 1 byte stream (1 stdout, 2 stderr), 3 zero bytes, 4-byte big-endian length."""
    return struct.pack(">BxxxI", 1 if stream == "stdout" else 2, size)


def frame(stream, data):
    return frame_header(stream, len(data)) + data


@defer.inlineCallbacks
def container_logs(job):
    engine, req, out = job.engine, job.request, job.output
    if not (req.stdout or req.stderr):
        raise InvalidParameter("Bad parameters: you must choose at least one stream")
    container = _get(engine, req.name)
    driver, _ = engine.runtime.log_driver(container)
    if not driver.readable:
        raise InvalidParameter(f'configured logging driver does not support reading ("{driver.name}")')
    tty = bool(container.config.get("Tty"))
    out.set_content_type(RAW if tty else MULTIPLEXED)
    wanted = {s for s, on in (("stdout", req.stdout), ("stderr", req.stderr)) if on}

    def render(entry):
        if entry["stream"] not in wanted:
            return
        data = entry["log"].encode()
        if req.details:
            data = attributes.details_prefix(entry.get("attrs")).encode() + data
        if req.timestamps:
            data = entry["time"].encode() + b" " + data
        out.write(data if tty else frame(entry["stream"], data))

    live_io = engine.runtime.io_of(container) if req.follow else None
    writer = live_io.log_writer if live_io else None
    backlog, finished = [], defer.Deferred()
    replaying = True
    unsubscribe, limit = None, None
    if writer is not None:
        def on_entry(entry):
            if entry is None:
                if not finished.called:
                    finished.callback(None)
            elif replaying:
                backlog.append(entry)
            else:
                render(entry)
        unsubscribe, limit = yield writer.follow(on_entry)
    path = engine.runtime.log_path(container)
    entries = yield engine.run_blocking(logs.read_entries, path, req.since or None, req.until or None,
                                        req.tail, limit)
    out.flush_headers()
    for entry in entries + backlog:
        render(entry)
    replaying = False
    if writer is None:
        return
    out.on_close(lambda: not finished.called and finished.callback(None))
    timer = None
    if req.until:
        delay = max(0.0, req.until / 1e9 - time.time())
        timer = engine.call_later(delay, lambda: not finished.called and finished.callback(None))
    try:
        yield finished
    finally:
        unsubscribe()
        if timer is not None and timer.active():
            timer.cancel()
