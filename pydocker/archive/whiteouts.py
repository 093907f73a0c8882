"""Whiteout formats: how a deletion recorded in a layer tar lands on disk.

In tar form a deleted ``NAME`` is an empty entry ``.wh.NAME`` and an opaque
directory (one that hides everything below it in lower layers) holds an entry
``.wh..wh..opq``.  Drivers that keep full copies (vfs, btrfs, devicemapper)
apply these by deleting ("naive"); overlay2 keeps them for the kernel as a 0/0
character device and the ``trusted.overlay.opaque`` xattr.  The strategy is
picked by name and passed to :func:`pydocker.archive.apply_layer`,
:func:`pydocker.archive.tar_directory` and :func:`pydocker.archive.changes`.
"""

import os
import shutil
import stat

from zope.interface import Attribute, Interface, implementer

from pydocker.errdefs import InvalidParameter

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
OPAQUE_MARKER = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"


class IWhiteoutFormat(Interface):
    name = Attribute("'naive' or 'overlay'")

    def whiteout(dir_fd, base, uid, gid):
        """Record on disk that ``base`` in directory ``dir_fd`` was deleted."""

    def opaque(dir_fd, dir_relpath, keep):
        """Hide lower content of a directory; ``keep`` holds this layer's own paths."""

    def is_whiteout(st):
        """True if an on-disk entry with stat ``st`` stands for a deletion."""

    def is_opaque(path):
        """True if the on-disk directory ``path`` is marked opaque."""


def remove_entry(dir_fd, base):
    """Remove ``base`` (file, symlink or whole tree) from ``dir_fd`` if present."""
    try:
        st = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(base, dir_fd=dir_fd)
    else:
        os.unlink(base, dir_fd=dir_fd)


@implementer(IWhiteoutFormat)
class NaiveWhiteouts:
    """Full-copy layers: a whiteout simply deletes the path."""

    name = "naive"

    def whiteout(self, dir_fd, base, uid, gid):
        remove_entry(dir_fd, base)

    def opaque(self, dir_fd, dir_relpath, keep):
        prefix = dir_relpath + "/" if dir_relpath else ""
        for entry in os.listdir(dir_fd):
            if prefix + entry not in keep:
                remove_entry(dir_fd, entry)

    def is_whiteout(self, st):
        return False

    def is_opaque(self, path):
        return False


@implementer(IWhiteoutFormat)
class OverlayWhiteouts:
    """overlayfs upper dirs: 0/0 char devices and the opaque xattr."""

    name = "overlay"

    def whiteout(self, dir_fd, base, uid, gid):
        remove_entry(dir_fd, base)
        os.mknod(base, stat.S_IFCHR, os.makedev(0, 0), dir_fd=dir_fd)
        os.chown(base, uid, gid, dir_fd=dir_fd, follow_symlinks=False)

    def opaque(self, dir_fd, dir_relpath, keep):
        os.setxattr(dir_fd, OVERLAY_OPAQUE_XATTR, b"y")

    def is_whiteout(self, st):
        return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0

    def is_opaque(self, path):
        try:
            return os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False) == b"y"
        except OSError:
            return False


NAIVE = NaiveWhiteouts()
OVERLAY = OverlayWhiteouts()
_FORMATS = {f.name: f for f in (NAIVE, OVERLAY)}


def whiteout_format(fmt):
    """Accept a format object or its name."""
    if IWhiteoutFormat.providedBy(fmt):
        return fmt
    try:
        return _FORMATS[fmt]
    except KeyError:
        raise InvalidParameter(f"unknown whiteout format {fmt!r} (known: {', '.join(_FORMATS)})") from None
