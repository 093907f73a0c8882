"""devicemapper: each layer is a thin snapshot in a device-mapper thin pool.

The pool sits on sparse loop files under ``<home>/devicemapper`` (or on the
block devices of ``dm.datadev``/``dm.metadatadev``, or is an existing pool
named by ``dm.thinpooldev``).  A base thin device is formatted once
(``dm.fs``); a layer is a ``create_snap`` of its parent (or of the base).
Every pool change is a transaction: its intent is written to
``metadata/transaction.json`` before the pool message and removed after the
device's JSON metadata is saved, so a crash in between is rolled back at
the next start.  Diffs come from the naive differ.
"""

import json
import os
import subprocess
import threading

from zope.interface import implementer

from pydocker.errdefs import Conflict, InvalidParameter, NotFound, PrerequisiteMissing, SystemError_

from .dmsetup import SECTOR, DMSetup, attach_loop, find_loop, kernel_has_device_mapper, udev_running
from .interfaces import IGraphDriver
from .layerid import check_layer_id
from .mount import is_mountpoint, mount, unmount
from .naive import NaiveDiffer
from .options import check_known, parse_bool, parse_size
from .refcount import RefCounts

_OPTIONS = ("dm.basesize", "dm.loopdatasize", "dm.loopmetadatasize", "dm.fs", "dm.mkfsarg", "dm.mountopt",
            "dm.blocksize", "dm.blkdiscard", "dm.thinpooldev", "dm.datadev", "dm.metadatadev",
            "dm.override_udev_sync_check")
_FILESYSTEMS = ("ext4", "xfs")
_MIN_BLOCK, _MAX_BLOCK = 64 << 10, 1 << 30


class DeviceMapperConfig:
    """The dm.* options, checked."""

    def __init__(self, options):
        check_known("devicemapper", options, _OPTIONS)
        get = options.get
        self.base_size = parse_size("dm.basesize", get("dm.basesize", "10G"))
        self.loop_data_size = parse_size("dm.loopdatasize", get("dm.loopdatasize", "100G"))
        self.loop_metadata_size = parse_size("dm.loopmetadatasize", get("dm.loopmetadatasize", "2G"))
        self.block_size = parse_size("dm.blocksize", get("dm.blocksize", "64K"))
        if not _MIN_BLOCK <= self.block_size <= _MAX_BLOCK or self.block_size % _MIN_BLOCK:
            raise InvalidParameter("storage option dm.blocksize must be a multiple of 64K between 64K and 1G")
        self.fs = get("dm.fs", "ext4")
        if self.fs not in _FILESYSTEMS:
            raise InvalidParameter(f"storage option dm.fs: {self.fs!r} is not supported (use ext4 or xfs)")
        self.mkfs_args = get("dm.mkfsarg", "").split()
        self.mount_options = get("dm.mountopt", "")
        self.blkdiscard = parse_bool("dm.blkdiscard", get("dm.blkdiscard", "true"))
        self.override_udev_sync_check = parse_bool("dm.override_udev_sync_check",
                                                   get("dm.override_udev_sync_check", "false"))
        self.thin_pool_dev = get("dm.thinpooldev", "").removeprefix("/dev/mapper/")
        self.data_dev = get("dm.datadev", "")
        self.metadata_dev = get("dm.metadatadev", "")
        if bool(self.data_dev) != bool(self.metadata_dev):
            raise InvalidParameter("storage options dm.datadev and dm.metadatadev must be given together")
        if self.thin_pool_dev and self.data_dev:
            raise InvalidParameter("storage option dm.thinpooldev excludes dm.datadev/dm.metadatadev")


class _MetadataStore:
    """JSON files under ``<home>/metadata``, written atomically (write, fsync, rename)."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(os.path.join(directory, "layers"), mode=0o700, exist_ok=True)

    def _path(self, name):
        return os.path.join(self.directory, name + ".json")

    def load(self, name):
        try:
            with open(self._path(name)) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, name, data):
        path = self._path(name)
        with open(path + ".tmp", "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(path + ".tmp", path)

    def delete(self, name):
        try:
            os.unlink(self._path(name))
        except FileNotFoundError:
            pass

    def names(self, group):
        """The names saved under ``group/`` (without the group and the .json suffix)."""
        return sorted(name[:-len(".json")] for name in os.listdir(os.path.join(self.directory, group))
                      if name.endswith(".json"))


@implementer(IGraphDriver)
class DeviceMapperDriver(NaiveDiffer):
    name = "devicemapper"

    def __init__(self, home, options):
        self.config = DeviceMapperConfig(options)
        if not kernel_has_device_mapper():
            raise PrerequisiteMissing("devicemapper: device-mapper is not available in this kernel "
                                      "(no dm_mod module, no /dev/mapper/control)")
        udev_sync = udev_running()
        if not udev_sync and not self.config.override_udev_sync_check:
            raise PrerequisiteMissing("devicemapper: udev is not running, so device-mapper cannot sync with it; "
                                      "set dm.override_udev_sync_check=true to run without")
        self.home = home
        self._dm = DMSetup(udev_sync=udev_sync)
        self._lock = threading.RLock()
        self._refs = RefCounts()
        os.makedirs(os.path.join(home, "mnt"), mode=0o700, exist_ok=True)
        self._meta = _MetadataStore(os.path.join(home, "metadata"))
        st = os.stat(home)
        self._prefix = f"pydocker-{os.major(st.st_dev)}:{os.minor(st.st_dev)}-{st.st_ino}"
        self.pool = self.config.thin_pool_dev or self._prefix + "-pool"
        self._state = self._meta.load("deviceset") or {"next_device_id": 1, "transaction_id": 0}
        self._ensure_pool()
        self._recover_transaction()
        self._ensure_base()

    # the pool and the base device

    def _ensure_pool(self):
        if self._dm.exists(self.pool):
            return
        if self.config.thin_pool_dev:
            raise NotFound(f"devicemapper: thin pool {self.config.thin_pool_dev} does not exist")
        if self.config.data_dev:
            data, metadata = self.config.data_dev, self.config.metadata_dev
        else:
            data = self._loop_file("data", self.config.loop_data_size)
            metadata = self._loop_file("metadata", self.config.loop_metadata_size)
        self._dm.create_pool(self.pool, metadata, data, self.config.block_size // SECTOR)

    def _loop_file(self, name, size):
        directory = os.path.join(self.home, "devicemapper")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.truncate(size)  # sparse: blocks are allocated as the pool uses them
        return find_loop(path) or attach_loop(path)

    def _ensure_base(self):
        if self._meta.load("base") is not None:
            return
        device_id = self._new_thin("base", "create_thin {id}")
        info = {"device_id": device_id, "size": self.config.base_size, "fs": self.config.fs}
        self._meta.save("base", info)
        name = self._device_name("base")
        self._dm.activate_thin(name, self.pool, device_id, info["size"])
        try:
            self._mkfs(f"/dev/mapper/{name}")
            target = os.path.join(self.home, "mnt", ".base")
            os.makedirs(target, exist_ok=True)
            mount(f"/dev/mapper/{name}", target, self.config.fs, data=self._mount_options())
            try:
                os.mkdir(os.path.join(target, "rootfs"), 0o755)
            finally:
                unmount(target, 0)
        finally:
            self._dm.remove(name)

    def _mkfs(self, device):
        command = {"ext4": ["mkfs.ext4", "-q", "-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0"],
                   "xfs": ["mkfs.xfs", "-q", "-K"]}[self.config.fs]
        result = subprocess.run([*command, *self.config.mkfs_args, device], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemError_(f"devicemapper: formatting the base device failed: {result.stderr.strip()}")

    def _mount_options(self):
        options = ["nouuid"] if self.config.fs == "xfs" else []  # snapshots share the base's UUID
        if self.config.mount_options:
            options.append(self.config.mount_options)
        return ",".join(options)

    # transactions

    def _new_thin(self, key, message):
        """Create a thin device in the pool under a recorded transaction; returns its id."""
        with self._lock:
            device_id = self._state["next_device_id"]
            transaction = self._state["transaction_id"] + 1
            self._meta.save("transaction", {"device_id": device_id, "transaction_id": transaction, "key": key})
            self._dm.message(self.pool, message.format(id=device_id))
            self._dm.message(self.pool, f"set_transaction_id {transaction - 1} {transaction}")
            self._state.update(next_device_id=device_id + 1, transaction_id=transaction)
            self._meta.save("deviceset", self._state)
            return device_id

    def _close_transaction(self):
        self._meta.delete("transaction")

    def _recover_transaction(self):
        """Undo a creation interrupted by a crash: its layer was never handed out."""
        pending = self._meta.load("transaction")
        if pending is None:
            return
        try:
            self._dm.message(self.pool, f"delete {pending['device_id']}")
        except SystemError_:
            pass  # the pool never got as far as creating it
        pool_transaction = self._dm.pool_usage(self.pool)["transaction"]
        self._state["transaction_id"] = pool_transaction
        self._state["next_device_id"] = max(self._state["next_device_id"], pending["device_id"] + 1)
        self._meta.save("deviceset", self._state)
        self._meta.delete(pending["key"])
        self._close_transaction()

    # IGraphDriver

    def _device_name(self, key):
        return f"{self._prefix}-{key}"

    def _layer(self, id):
        info = self._meta.load("layers/" + check_layer_id(id))
        if info is None:
            raise NotFound(f"devicemapper: no such layer {id}")
        return info

    def status(self):
        usage = self._dm.pool_usage(self.pool)
        block = self.config.block_size
        data_file = os.path.join(self.home, "devicemapper", "data")
        return [
            ("Pool Name", self.pool),
            ("Pool Blocksize", str(block)),
            ("Base Device Size", str(self.config.base_size)),
            ("Backing Filesystem", self.config.fs),
            ("Data file", self.config.data_dev or data_file),
            ("Metadata file", self.config.metadata_dev or os.path.join(self.home, "devicemapper", "metadata")),
            ("Data Space Used", str(usage["data_used"] * block)),
            ("Data Space Total", str(usage["data_total"] * block)),
            ("Metadata Space Used", str(usage["meta_used"] * 4096)),
            ("Metadata Space Total", str(usage["meta_total"] * 4096)),
            ("Udev Sync Supported", str(udev_running()).lower()),
            ("Library Version", self._dm.version()),
        ]

    def metadata(self, id):
        info = self._layer(id)
        return {"DeviceId": str(info["device_id"]), "DeviceSize": str(info["size"]),
                "DeviceName": self._device_name(id)}

    def cleanup(self):
        for id in self._refs.active():
            unmount(os.path.join(self.home, "mnt", id), 0)
            self._dm.remove(self._device_name(id))
            self._refs.drop(id)

    def create(self, id, parent=None):
        key = "layers/" + check_layer_id(id)
        with self._lock:
            if self._meta.load(key) is not None:
                raise Conflict(f"devicemapper: layer {id} already exists")
            origin_key = "base" if parent is None else "layers/" + check_layer_id(parent)
            origin = self._meta.load(origin_key)
            if origin is None:
                raise NotFound(f"devicemapper: parent layer {parent} of {id} does not exist")
            origin_name = self._device_name("base" if parent is None else parent)
            active = self._dm.exists(origin_name)
            if active:
                self._dm.suspend(origin_name)  # a snapshot of a live device needs it quiet
            try:
                device_id = self._new_thin(key, f"create_snap {{id}} {origin['device_id']}")
            finally:
                if active:
                    self._dm.resume(origin_name)
            self._meta.save(key, {"device_id": device_id, "size": origin["size"]})
            self._close_transaction()

    create_rw = create

    def remove(self, id):
        key = "layers/" + check_layer_id(id)
        with self._lock:
            info = self._meta.load(key)
            if info is None:
                return
            name = self._device_name(id)
            unmount(os.path.join(self.home, "mnt", id), 0)
            self._refs.drop(id)
            if self.config.blkdiscard:
                self._dm.activate_thin(name, self.pool, info["device_id"], info["size"])
                subprocess.run(["blkdiscard", f"/dev/mapper/{name}"], capture_output=True)
            self._dm.remove(name)
            transaction = self._state["transaction_id"] + 1
            self._meta.save("transaction", {"device_id": info["device_id"], "transaction_id": transaction,
                                            "key": key})
            self._dm.message(self.pool, f"delete {info['device_id']}")
            self._dm.message(self.pool, f"set_transaction_id {transaction - 1} {transaction}")
            self._state["transaction_id"] = transaction
            self._meta.save("deviceset", self._state)
            self._meta.delete(key)
            self._close_transaction()

    def get(self, id):
        info = self._layer(id)
        target = os.path.join(self.home, "mnt", id)
        with self._lock:
            if self._refs.increment(id) == 1 and not is_mountpoint(target):
                try:
                    name = self._device_name(id)
                    self._dm.activate_thin(name, self.pool, info["device_id"], info["size"])
                    os.makedirs(target, exist_ok=True)
                    mount(f"/dev/mapper/{name}", target, self.config.fs, data=self._mount_options())
                except (OSError, SystemError_) as e:
                    self._refs.decrement(id)
                    raise SystemError_(f"devicemapper: cannot mount layer {id}: {e}") from None
        return os.path.join(target, "rootfs")

    def put(self, id):
        with self._lock:
            if self._refs.decrement(id) == 0:
                unmount(os.path.join(self.home, "mnt", check_layer_id(id)), 0)
                self._dm.remove(self._device_name(id))

    def exists(self, id):
        return self._meta.load("layers/" + check_layer_id(id)) is not None

    def ids(self):
        return self._meta.names("layers")
