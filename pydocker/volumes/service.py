"""The volume service: named and anonymous volumes, mounted for containers.

The "volumes" service of the daemon's tree.
"""

import os
import shutil
import threading
import time

from twisted.application import service

from pydocker.archive.safepath import open_in_root
from pydocker.drivers import plugins
from pydocker.errdefs import Conflict, InvalidParameter, NotFound
from pydocker.store import volumes as vstore
from pydocker.volumes import mountpoints, propagation
from pydocker.volumes.interfaces import IVolumeDriver

DRIVER_GROUP = "pydocker.volumedrivers"


class VolumeService(service.Service):
    """Volumes for containers, on the volume drivers of the ``pydocker.volumedrivers``
    entry points. Its blocking methods run in worker threads: they reach the database
    through the reactor (``db.run``) and publish events there; what they need of
    reactor state (the container index) is read by the reactor-side ``users``."""

    name = "volumes"

    def __init__(self, reactor, db, events, containers, data_root, idmap=None):
        self._reactor = reactor
        self._db_service = db
        self._events = events
        self._containers = containers
        self._idmap = idmap
        self._creating = threading.Lock()  # workers: one create looks up and inserts at a time
        self.drivers = {}
        for name in plugins.available(DRIVER_GROUP):
            cls = plugins.load(DRIVER_GROUP, name, IVolumeDriver, "volume driver")
            home = "volumes" if name == "local" else f"volumes-{name}"
            if name == "local":
                self.drivers[name] = cls(os.path.join(data_root, home), idmap)
            else:
                self.drivers[name] = cls(os.path.join(data_root, home))

    def _db(self, f, *args):
        return self._db_service.run_from_worker(f, *args)

    def driver(self, name):
        try:
            return self.drivers[name or "local"]
        except KeyError:
            raise NotFound(f"volume driver {name!r} is not installed (available: {', '.join(self.drivers)})") from None

    def create(self, name, driver_name="local", options=None, labels=None, anonymous=False):
        """(VolumeRow, created?) — an existing volume of that name is returned as it is.
        Creates of one name at once (compose starting services that share it) must not both
        make it: the one whose insert failed would remove the directory the other made."""
        with self._creating:
            return self._create(name, driver_name, options, labels, anonymous)

    def _create(self, name, driver_name, options, labels, anonymous):
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
        self._reactor.callFromThread(self._events.publish, "volume", "create", name, {"driver": driver.name})
        return row, True

    def ensure(self, name):
        """For mount resolution: (driver, source, name, created)."""
        anonymous = name is None
        row, created = self.create(os.urandom(32).hex() if anonymous else name, "local", anonymous=anonymous)
        return row.driver, row.mountpoint, row.name, created

    def volumes_from(self, container):
        """Container create, on the reactor: (copies of the mount points, mode) of each
        ``--volumes-from`` container, for ``resolve``."""
        result = []
        for spec in container.host_config.get("VolumesFrom") or []:
            ref, _, mode = spec.partition(":")
            if mode not in ("", "ro", "rw"):
                raise InvalidParameter(f"invalid mode for volumes-from: {spec}")
            other = self._containers.get(ref)
            result.append(([dict(point) for point in other.mounts], mode))
        return result

    def resolve(self, container, image_volumes, volumes_from):
        """Container create: its mount points (worker thread)."""
        return mountpoints.resolve(container.host_config, image_volumes, self.ensure, volumes_from,
                                   self._idmap.root_pair if self._idmap is not None else None)

    def users(self, name, but=None):
        """Ids of the containers (other than ``but``) that mount the volume ``name`` (reactor)."""
        return [c.id for c in self._containers.all()
                if c.id != but and any(p.get("Type") == "volume" and p.get("Name") == name for p in c.mounts)]

    def in_use(self, but):
        """Names of the volumes that containers other than ``but`` mount (reactor)."""
        return {p.get("Name") for c in self._containers.all() if c.id != but
                for p in c.mounts if p.get("Type") == "volume"}

    def mount_all(self, name, points, rootfs):
        """Container start: mount the volumes of container ``name`` and fill new ones from
        the image (worker thread; ``points``: a copy of its mount points, taken on the
        reactor). Returns (destination, source, read-only, propagation) for every point."""
        result = []
        for point in points:
            source = point["Source"]
            propagation.check_source(source, point.get("Propagation"))
            if point["Type"] == "volume":
                row = self._db(vstore.get, point["Name"])
                if row is None:
                    raise NotFound(f"volume {point['Name']} of container {name} no longer exists")
                source = self.driver(row.driver).mount(row.name, row.options)
                if point.get("_copy"):
                    copy_image_content(rootfs, point["Destination"], source)
            result.append((point["Destination"], source, not point["RW"], point.get("Propagation") or ""))
        return result

    def unmount_all(self, points):
        """Release the volumes of these mount points (worker thread; a copy of a
        container's points)."""
        for point in points:
            if point["Type"] == "volume":
                row = self._db(vstore.get, point["Name"])
                if row is not None:
                    self.driver(row.driver).unmount(row.name)

    def remove_anonymous(self, points, in_use):
        """``rm -v``: the anonymous volumes of these mount points (a copy of a container's)
        that no other container uses (``in_use``, read on the reactor) (worker thread)."""
        for point in points:
            if point["Type"] != "volume":
                continue
            row = self._db(vstore.get, point["Name"])
            if row is None or not row.anonymous:
                continue
            if row.name in in_use:
                continue
            self.destroy(row)

    def destroy(self, row):
        self.driver(row.driver).remove(row.name)
        self._db(vstore.delete_volume, row.name)
        self._reactor.callFromThread(self._events.publish, "volume", "destroy", row.name, {"driver": row.driver})


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
