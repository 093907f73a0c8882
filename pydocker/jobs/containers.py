"""Container jobs: create, inspect, list, rename. The lifecycle (start, stop, ...,
remove, prune) is in ``lifecycle``, logs in ``logs``."""

import json
import time
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker import sysinfo
from pydocker.containers import createconfig, inspect, links, names
from pydocker.containers.model import Container
from pydocker.errdefs import InvalidParameter, NotFound
from pydocker.fields import naming
from pydocker.images.ids import new_cache_id
from pydocker.jobs import update
from pydocker.registry.platform import Platform
from pydocker.runtime import rootfs
from pydocker.runtime.spec import command_of, security_from
from pydocker.store import containers as cstore
from pydocker.store import images as istore
from pydocker.volumes import mountpoints


class ContainerJobs:
    """create, inspect, list, rename. Reactor thread: the container index is read and
    changed only there."""

    def __init__(self, engine, runtime, containers, db, graph, network, volumes, execdriver, logdrivers, config,
                 idmap=None):
        self.engine = engine
        self.runtime = runtime
        self.containers = containers
        self.db = db
        self.graph = graph
        self.network = network
        self.volumes = volumes
        self.execdriver = execdriver
        self.logdrivers = logdrivers
        self.config = config
        self.idmap = idmap     # --userns-remap's mapping, or None

    def jobs(self):
        return {"container.create": create, "container.inspect": inspect_container,
                "container.list": list_containers, "container.rename": rename}


def _get(svc, ref):
    return svc.containers.get(ref)


# -- create -------------------------------------------------------------------------------------

@dataclass
class CreateRequest:
    name: str
    body: dict
    version: tuple = (1, 44)
    platform: Platform | None = None   # the platform the image must be of, when asked


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
    if merged.get("Entrypoint") == [""]:
        merged["Entrypoint"] = None     # an entrypoint of [""] resets the image's, as dockerd
    if not command_of(merged):
        raise InvalidParameter("no command specified")
    return merged


@defer.inlineCallbacks
def create(svc, job):
    req = job.request
    config, host_config, networking = createconfig.validate_create(req.body)
    with naming("HostConfig.SecurityOpt"):
        security_from(host_config)      # refused at create, not first at start
    if svc.idmap is not None:
        createconfig.check_userns_remap(host_config)
    warnings = yield svc.engine.run_blocking(_host_checks, svc, host_config, req.version)
    image = yield svc.db.run(istore.resolve, config["Image"])
    image_doc = json.loads(image.config)
    warnings += _check_platform(config["Image"], image_doc, req.platform)
    image_config = image_doc.get("config") or {}
    config = merge_image_config(config, image_config)
    name = names.validate(req.name) if req.name else names.generate(svc.containers.name_taken)
    if svc.containers.name_taken(name):
        holder = svc.containers.get(name)
        from pydocker.containers.model import name_conflict
        raise name_conflict(name, holder.id)
    container_id = new_cache_id()
    container = Container(id=container_id, name=name, image_id=image.id, image_name=config["Image"],
                          created=time.time_ns(), config=config, host_config=host_config,
                          rw_layer=container_id)
    _check_log_config(svc, host_config)
    svc.network.on_create(container, networking)
    svc.containers.add(container)  # reserves the name while the layers are made
    try:
        volumes_from = svc.volumes.volumes_from(container)
        container.mounts = yield svc.engine.run_blocking(svc.volumes.resolve, container, config.get("Volumes"),
                                                         volumes_from)
        top = yield svc.db.run(istore.get_layer, image.top_layer) if image.top_layer else None
        yield svc.engine.run_blocking(rootfs.create_layers, svc.graph, container_id, top.cache_id if top else None,
                                      svc.idmap)
        yield svc.db.run(cstore.insert_record, cstore.record(container))
    except BaseException:
        svc.containers.remove(container)
        yield svc.engine.run_blocking(rootfs.remove_layers, svc.graph, container_id)
        raise
    svc.runtime.publish(container, "create")
    return {"Id": container_id, "Warnings": warnings}


def _host_checks(svc, host_config, version):
    """What the create settles against the host's kernel (blocking: probes /proc and the
    cgroup files, so it runs in a worker); returns the warnings."""
    createconfig.verify_on_host(host_config)
    _choose_cgroupns(svc, host_config, version)
    return update.discard_kernel_memory(svc.execdriver, host_config, version)


def _check_platform(ref, image_doc, wanted):
    """dockerd's rule: an image not of the platform asked for is not found (a client may
    pull the right one); with none asked, an image not of this host's platform is a warning."""
    actual = Platform.of_image(image_doc)
    if wanted is not None:
        if not wanted.accepts(actual):
            raise NotFound(f"image with reference {ref} was found but does not match the specified platform: "
                           f"wanted {wanted}, actual: {actual}")
        return []
    host = Platform.host()
    if host.accepts(actual):
        return []
    return [f"The requested image's platform ({actual}) does not match the detected host platform ({host}) "
            "and no specific platform was requested"]


def _choose_cgroupns(svc, host_config, version):
    """CgroupnsMode fixed at create as dockerd does: none given is the daemon's default
    (host for clients older than API 1.41, which predate the choice); private needs a
    kernel with cgroup namespaces."""
    if not host_config.get("CgroupnsMode"):
        host_config["CgroupnsMode"] = "host" if version < (1, 41) else svc.config.default_cgroupns_mode
    if host_config["CgroupnsMode"] == "private" and not sysinfo.cgroup_namespaces():
        raise InvalidParameter("--cgroupns=private: this kernel has no cgroup namespaces")


def _check_log_config(svc, host_config):
    """LogConfig completed as dockerd does at create: no Type is the daemon's default
    driver, whose default options fill the ones not given; then validated."""
    log_config = host_config.get("LogConfig") or {}
    kind = log_config.get("Type") or svc.config.log_driver
    if kind not in svc.logdrivers:
        raise InvalidParameter(f"logger: no log driver named '{kind}' is registered (HostConfig.LogConfig.Type)")
    options = dict(svc.config.log_opts) if kind == svc.config.log_driver else {}
    options.update(log_config.get("Config") or {})
    svc.logdrivers[kind].validate(options)
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


def _sizes(svc, container):
    """(SizeRw, SizeRootFs), computed by the graph driver (blocking)."""
    rw = svc.graph.diff_size(container.id, rootfs.init_layer_id(container.id))
    return rw, rw + svc.graph.diff_size(rootfs.init_layer_id(container.id), None)


@defer.inlineCallbacks
def inspect_container(svc, job):
    req = job.request
    container = _get(svc, req.name)
    data = yield svc.engine.run_blocking(svc.graph.metadata, container.id)
    size = (yield svc.engine.run_blocking(_sizes, svc, container)) if req.size else None
    return inspect.inspect_document(container, svc.graph.name, data,
                                    svc.runtime.container_dir(container.id), _mounts(container), size)


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
def list_containers(svc, job):
    req = job.request
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
            ancestors.add((yield svc.db.run(istore.resolve, ref)).id)
        except NotFound:
            pass
    everything = sorted(svc.containers.all(), key=lambda c: c.created, reverse=True)
    before = _created_of(svc, f.get("before"))
    since = _created_of(svc, f.get("since"))
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
    extra_names = links.link_names(everything, lambda ref: _id_or_none(svc, ref))
    result = []
    for c in rows:
        size = (yield svc.engine.run_blocking(_sizes, svc, c)) if req.size else None
        doc = inspect.summary_document(c, _mounts(c), size)
        doc["Names"] += extra_names.get(c.id, [])
        result.append(doc)
    return result


def _id_or_none(svc, ref):
    try:
        return svc.containers.get(ref).id
    except NotFound:
        return None


def _created_of(svc, refs):
    if not refs:
        return None
    return svc.containers.get(refs[-1]).created


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


@dataclass
class RenameRequest:
    name: str
    new_name: str


@defer.inlineCallbacks
def rename(svc, job):
    req = job.request
    container = _get(svc, req.name)
    new = names.validate(req.new_name)
    if new == container.name:
        raise InvalidParameter("Renaming a container with the same name as its current name")
    old = container.name
    svc.containers.rename(container, new)
    try:
        yield svc.db.run(cstore.save_record, cstore.record(container))
    except BaseException:
        svc.containers.rename(container, old)
        raise
    svc.runtime.publish(container, "rename", oldName="/" + old)
