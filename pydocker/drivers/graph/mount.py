"""mount(2)/umount2(2) through ctypes: no ``mount`` binary on the hot path."""

import ctypes
import errno
import os

_libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2


def mount(source, target, fstype, flags=0, data=""):
    if _libc.mount(os.fsencode(source), os.fsencode(target), os.fsencode(fstype), ctypes.c_ulong(flags),
                   os.fsencode(data) if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype} on {target}: {os.strerror(err)}")


def unmount(target, flags=MNT_DETACH):
    """Unmount ``target``; not being mounted is not an error."""
    if _libc.umount2(os.fsencode(target), flags) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise OSError(err, f"umount {target}: {os.strerror(err)}")


def is_mountpoint(path):
    try:
        return os.path.ismount(path)
    except OSError:
        return False


def fs_magic(path):
    """The statfs f_type of the filesystem holding ``path``."""
    buf = ctypes.create_string_buffer(120)  # struct statfs is 120 bytes on 64-bit Linux
    if _libc.statfs(os.fsencode(path), buf) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return int.from_bytes(buf.raw[:8], "little", signed=False)


# statfs magic numbers of the filesystems drivers care about, with Docker's names for them.
FS_NAMES = {
    0xEF53: "extfs", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs", 0x794C7630: "overlayfs",
    0x61756673: "aufs", 0x2FC12FC1: "zfs", 0xF15F: "ecryptfs", 0x6969: "nfs", 0x65735546: "fuse",
}
BTRFS_MAGIC = 0x9123683E


def fs_name(path):
    magic = fs_magic(path)
    return FS_NAMES.get(magic, f"<unknown: {magic:#x}>")


def nearest_existing(path):
    """``path`` or its closest existing ancestor: where a not-yet-made home would live."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path
