"""Volume jobs (create, list, inspect, remove, prune) and the volume service that
containers use to resolve, mount and release their volumes."""

import os
import shutil
import time
from dataclasses import dataclass, field

from twisted.internet import defer, threads

from pydocker.archive.safepath import open_in_root
from pydocker.errdefs import Conflict, InvalidParameter, NotFound
from pydocker.store import volumes as vstore
from pydocker.timeutil import rfc3339
from pydocker.volumes import mountpoints, propagation
from pydocker.drivers import plugins
from pydocker.volumes.interfaces import IVolumeDriver
from pydocker.volumes.mountpoints import VOLUME_NAME


DRIVER_GROUP = "pydocker.volumedrivers"


def install(engine):
    engine.services["volumes"] = VolumeService(engine)
    for name, handler in (("volume.create", create), ("volume.list", list_volumes),
                          ("volume.inspect", inspect_volume), ("volume.remove", remove),
                          ("volume.prune", prune)):
        engine.register(name, handler)


def document(v):
    return {"Name": v.name, "Driver": v.driver, "Mountpoint": v.mountpoint, "CreatedAt": rfc3339(v.created),
            "Labels": v.labels or {}, "Scope": "local", "Options": v.options or None, "Status": {},
            "UsageData": None}


class VolumeService:
    """Volumes for containers. Blocking methods run in worker threads and reach the
    database through the reactor (``db.run``)."""

    def __init__(self, engine):
        self.engine = engine
        self.drivers = {}
        for name in plugins.available(DRIVER_GROUP):
            cls = plugins.load(DRIVER_GROUP, name, IVolumeDriver, "volume driver")
            home = "volumes" if name == "local" else f"volumes-{name}"
            if name == "local":
                self.drivers[name] = cls(os.path.join(engine.config.data_root, home), engine.idmap)
            else:
                self.drivers[name] = cls(os.path.join(engine.config.data_root, home))

    def _db(self, f, *args):
        return threads.blockingCallFromThread(self.engine._reactor, self.engine.db.run, f, *args)

    def driver(self, name):
        try:
            return self.drivers[name or "local"]
        except KeyError:
            raise NotFound(f"volume driver {name!r} is not installed (available: {', '.join(self.drivers)})") from None

    def create(self, name, driver_name="local", options=None, labels=None, anonymous=False):
        """(VolumeRow, created?) — an existing volume of that name is returned as it is."""
        existing = self._db(vstore.get, name)
        if existing is not None:
            if driver_name and existing.driver != driver_name:
                raise Conflict(f"a volume named {name} already exists with the {existing.driver} driver")
            return existing, False
        driver = self.driver(driver_name)
        path = driver.create(name, dict(options or {}))
        row = vstore.VolumeRow(name, driver.name, path, time.time_ns(), dict(labels or {}), dict(options or {}), anonymous)
        try:
            self._db(vstore.insert_volume, row)
        except Exception:
            driver.remove(name)
            raise
        self.engine._reactor.callFromThread(self.engine.events.publish, "volume", "create", name, {"driver": driver.name})
        return row, True

    def ensure(self, name):
        """For mount resolution: (driver, source, name, created)."""
        anonymous = name is None
        row, created = self.create(os.urandom(32).hex() if anonymous else name, "local", anonymous=anonymous)
        return row.driver, row.mountpoint, row.name, created

    def resolve(self, container, image_volumes):
        """Container create: its mount points (worker thread)."""
        hc = container.host_config
        volumes_from = []
        for spec in hc.get("VolumesFrom") or []:
            ref, _, mode = spec.partition(":")
            if mode not in ("", "ro", "rw"):
                raise InvalidParameter(f"invalid mode for volumes-from: {spec}")
            other = self.engine.containers.get(ref)
            volumes_from.append((other.mounts, mode))
        idmap = self.engine.idmap
        return mountpoints.resolve(hc, image_volumes, self.ensure, volumes_from,
                                   idmap.root_pair if idmap is not None else None)

    def users(self, name):
        return [c.id for c in self.engine.containers.all()
                if any(p.get("Type") == "volume" and p.get("Name") == name for p in c.mounts)]

    def mount_all(self, container, rootfs):
        """Container start: mount volumes and fill new ones from the image (worker thread).
        Returns (destination, source, read-only, propagation) for every mount point."""
        result = []
        for point in container.mounts:
            source = point["Source"]
            propagation.check_source(source, point.get("Propagation"))
            if point["Type"] == "volume":
                row = self._db(vstore.get, point["Name"])
                if row is None:
                    raise NotFound(f"volume {point['Name']} of container {container.name} no longer exists")
                source = self.driver(row.driver).mount(row.name, row.options)
                if point.pop("_copy", False):
                    copy_image_content(rootfs, point["Destination"], source)
            result.append((point["Destination"], source, not point["RW"], point.get("Propagation") or ""))
        return result

    def unmount_all(self, container):
        for point in container.mounts:
            if point["Type"] == "volume":
                row = self._db(vstore.get, point["Name"])
                if row is not None:
                    self.driver(row.driver).unmount(row.name)

    def remove_anonymous(self, container):
        """``rm -v``: anonymous volumes of the container that no other container uses (worker thread)."""
        for point in container.mounts:
            if point["Type"] != "volume":
                continue
            row = self._db(vstore.get, point["Name"])
            if row is None or not row.anonymous:
                continue
            if [u for u in self.users(row.name) if u != container.id]:
                continue
            self.destroy(row)

    def destroy(self, row):
        self.driver(row.driver).remove(row.name)
        self._db(vstore.delete_volume, row.name)
        self.engine._reactor.callFromThread(self.engine.events.publish, "volume", "destroy", row.name, {"driver": row.driver})


def copy_image_content(rootfs, destination, target):
    """A new volume starts with what the image has at its path, as Docker does. The path is
    resolved inside the rootfs (openat2), so an image's symlink cannot point the copy at the host."""
    if os.listdir(target):
        return
    root_fd = os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fd = open_in_root(root_fd, destination.lstrip("/") or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return  # nothing (or no directory) at that path in the image
    finally:
        os.close(root_fd)
    try:
        source = f"/proc/self/fd/{fd}"
        for entry in os.listdir(source):
            src, dst = os.path.join(source, entry), os.path.join(target, entry)
            if os.path.isdir(src) and not os.path.islink(src):
                shutil.copytree(src, dst, symlinks=True)
            else:
                shutil.copy2(src, dst, follow_symlinks=False)
        _copy_owners(source, target)
        st = os.fstat(fd)
        os.chown(target, st.st_uid, st.st_gid)
        os.chmod(target, st.st_mode & 0o7777)
    finally:
        os.close(fd)


def _copy_owners(source, target):
    """The copies keep their originals' owners (shutil keeps only modes and times), as
    with dockerd: an image's files stay its users', a remapped root's stay its own."""
    for directory, dirs, files in os.walk(source):
        for name in dirs + files:
            src = os.path.join(directory, name)
            dst = os.path.join(target, os.path.relpath(src, source))
            st = os.lstat(src)
            os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
            if not os.path.islink(dst):
                os.chmod(dst, st.st_mode & 0o7777)   # chown dropped any set-id bit


@dataclass
class CreateVolumeRequest:
    name: str = ""
    driver: str = "local"
    options: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)


def create(job):
    req = job.request
    if req.name and not VOLUME_NAME.match(req.name):
        raise InvalidParameter(f"create {req.name}: \"{req.name}\" includes invalid characters for a local volume name, "
                               f"only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
    service = job.engine.volumes
    name = req.name or os.urandom(32).hex()
    d = job.engine.run_blocking(service.create, name, req.driver or "local", req.options, req.labels, not req.name)
    return d.addCallback(lambda result: document(result[0]))


@dataclass
class ListVolumesRequest:
    filters: dict = field(default_factory=dict)


@defer.inlineCallbacks
def list_volumes(job):
    f = job.request.filters
    for key in f:
        if key not in ("dangling", "driver", "label", "name"):
            raise InvalidParameter(f"invalid filter '{key}'")
    rows = yield job.engine.db.run(vstore.all_volumes)
    service = job.engine.volumes
    result = [document(v) for v in rows if _matches(v, f, service)]
    return {"Volumes": result, "Warnings": []}


def _matches(v, f, service):
    if "dangling" in f:
        dangling = not service.users(v.name)
        if dangling != (f["dangling"][-1] in ("true", "1")):
            return False
    if "driver" in f and v.driver not in f["driver"]:
        return False
    if "name" in f and not any(n in v.name for n in f["name"]):
        return False
    if "label" in f:
        for spec in f["label"]:
            key, eq, value = spec.partition("=")
            if key not in v.labels or (eq and v.labels[key] != value):
                return False
    return True


@dataclass
class VolumeNameRequest:
    name: str
    force: bool = False


@defer.inlineCallbacks
def _get(engine, name):
    row = yield engine.db.run(vstore.get, name)
    if row is None:
        raise NotFound(f"get {name}: no such volume")
    return row


def inspect_volume(job):
    return _get(job.engine, job.request.name).addCallback(document)


@defer.inlineCallbacks
def remove(job):
    engine, req = job.engine, job.request
    try:
        row = yield _get(engine, req.name)
    except NotFound:
        if req.force:
            return None
        raise
    users = engine.volumes.users(row.name)
    if users:
        raise Conflict(f"remove {row.name}: volume is in use - [{', '.join(users)}]")
    yield engine.run_blocking(engine.volumes.destroy, row)


@dataclass
class PruneVolumesRequest:
    filters: dict = field(default_factory=dict)
    version: tuple = (1, 44)


@defer.inlineCallbacks
def prune(job):
    """Unused anonymous volumes; with the filter all=true, unused named ones too. Before API
    1.42 every unused volume, as dockerd. The list is [] when none was deleted, as dockerd's."""
    engine, f = job.engine, dict(job.request.filters)
    everything = (f.pop("all", ["false"]))[-1] in ("true", "1") or job.request.version < (1, 42)
    rows = yield engine.db.run(vstore.all_volumes)
    deleted, reclaimed = [], 0
    for row in rows:
        if engine.volumes.users(row.name) or (not row.anonymous and not everything):
            continue
        if "label" in f and not _matches(row, {"label": f["label"]}, engine.volumes):
            continue
        reclaimed += yield engine.run_blocking(_size, row.mountpoint)
        yield engine.run_blocking(engine.volumes.destroy, row)
        deleted.append(row.name)
    return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}


def _size(path):
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:
                pass
    return total
