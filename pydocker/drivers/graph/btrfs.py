"""btrfs: a subvolume per layer, a snapshot of the parent for each child.

Snapshots share extents, so children cost nothing until they diverge.  The
subvolume work is done with the kernel's ioctls (no btrfs-progs needed);
btrfs-progs, when installed, only supplies the version shown in `info`.
Diffs come from the naive differ.
"""

import fcntl
import os
import shutil
import struct
import subprocess

from zope.interface import implementer

from pydocker.errdefs import Conflict, InvalidParameter, PrerequisiteMissing, SystemError_
from pydocker.userns import ownership

from .dirlayers import DirectoryLayers
from .interfaces import IGraphDriver
from .layerid import check_layer_id
from .mount import BTRFS_MAGIC, fs_magic, fs_name, nearest_existing
from .naive import NaiveDiffer
from .options import check_known
from .refcount import RefCounts


def _iow(number, size):
    return (1 << 30) | (size << 16) | (0x94 << 8) | number


_VOL_ARGS_SIZE = 4096  # struct btrfs_ioctl_vol_args: s64 fd; char name[4088]
_VOL_ARGS_V2_SIZE = 4096  # btrfs_ioctl_vol_args_v2: s64 fd, u64 transid, u64 flags, 32-byte union, name[4040]
BTRFS_IOC_SUBVOL_CREATE = _iow(14, _VOL_ARGS_SIZE)
BTRFS_IOC_SNAP_DESTROY = _iow(15, _VOL_ARGS_SIZE)
BTRFS_IOC_SNAP_CREATE_V2 = _iow(23, _VOL_ARGS_V2_SIZE)
_V2_NAME_OFFSET = 56
_SUBVOLUME_ROOT_INODE = 256  # every btrfs subvolume's top directory has this inode number


def _vol_args(name, fd=0):
    encoded = os.fsencode(name)
    if len(encoded) >= _VOL_ARGS_SIZE - 8:
        raise InvalidParameter(f"btrfs: subvolume name too long: {name!r}")
    buf = bytearray(_VOL_ARGS_SIZE)
    struct.pack_into("q", buf, 0, fd)
    buf[8:8 + len(encoded)] = encoded
    return buf


def _ioctl(dir_path, request, args, what):
    fd = os.open(dir_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, request, args)
    except OSError as e:
        raise SystemError_(f"btrfs: {what} failed: {e.strerror}") from None
    finally:
        os.close(fd)


def subvolume_create(parent_dir, name):
    _ioctl(parent_dir, BTRFS_IOC_SUBVOL_CREATE, _vol_args(name), f"creating subvolume {name}")


def subvolume_snapshot(source, parent_dir, name):
    source_fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        args = bytearray(_VOL_ARGS_V2_SIZE)
        struct.pack_into("q", args, 0, source_fd)
        encoded = os.fsencode(name)
        args[_V2_NAME_OFFSET:_V2_NAME_OFFSET + len(encoded)] = encoded
        _ioctl(parent_dir, BTRFS_IOC_SNAP_CREATE_V2, args, f"snapshotting {source} as {name}")
    finally:
        os.close(source_fd)


def subvolume_delete(path):
    """Delete subvolume ``path`` and any subvolumes nested in it (containers may make some)."""
    for dirpath, dirnames, _ in os.walk(path, topdown=False):
        for name in dirnames:
            child = os.path.join(dirpath, name)
            if not os.path.islink(child) and os.lstat(child).st_ino == _SUBVOLUME_ROOT_INODE:
                _ioctl(dirpath, BTRFS_IOC_SNAP_DESTROY, _vol_args(name), f"deleting subvolume {child}")
    parent, name = os.path.split(path.rstrip("/"))
    _ioctl(parent, BTRFS_IOC_SNAP_DESTROY, _vol_args(name), f"deleting subvolume {path}")


def _progs_version():
    try:
        return subprocess.run(["btrfs", "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    except FileNotFoundError:
        return ""


@implementer(IGraphDriver)
class BtrfsDriver(DirectoryLayers, NaiveDiffer):
    name = "btrfs"

    def __init__(self, home, options, idmap=None):
        check_known(self.name, options, ())
        backing = nearest_existing(home)
        if fs_magic(backing) != BTRFS_MAGIC:
            raise PrerequisiteMissing(f"btrfs: {home} is not on a btrfs filesystem ({backing} is on {fs_name(backing)})")
        self.home = home
        self.idmap = idmap
        self._subvolumes = os.path.join(home, "subvolumes")
        for path in (home, self._subvolumes):
            ownership.traversable_dir(path, idmap)
        self._refs = RefCounts()

    def _dir(self, id):
        return os.path.join(self._subvolumes, check_layer_id(id))

    def status(self):
        return [("Build Version", _progs_version() or "btrfs-progs not installed"),
                ("Library Version", "none (kernel ioctls)")]

    def create(self, id, parent=None):
        if os.path.lexists(self._dir(id)):
            raise Conflict(f"btrfs: layer {id} already exists")
        if parent is None:
            subvolume_create(self._subvolumes, id)
            ownership.owned_by_root(self._dir(id), self.idmap)
        else:
            self._check_exists(parent)
            subvolume_snapshot(self._dir(parent), self._subvolumes, id)

    create_rw = create

    def remove(self, id):
        path = self._dir(id)
        self._refs.drop(id)
        if not os.path.lexists(path):
            return
        if os.lstat(path).st_ino == _SUBVOLUME_ROOT_INODE:
            subvolume_delete(path)
        else:
            shutil.rmtree(path)  # debris of an interrupted create

    def ids(self):
        return sorted(os.listdir(self._subvolumes))
