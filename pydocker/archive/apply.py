"""Apply a layer tar to a directory, safely.

Every name is resolved inside the root (see :mod:`.safepath`), existing
paths are replaced rather than written through, and whiteouts are handed to a
:class:`~.whiteouts.IWhiteoutFormat` strategy.  Directory times are set last,
after their children stopped changing them.
"""

import os
import stat

from pydocker.errdefs import InvalidParameter

from . import contentdigest
from .safepath import Root, check_length, clean_name, split
from .source import open_layer
from .tarreader import members
from .whiteouts import OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, remove_entry, whiteout_format

XATTR_PAX_PREFIX = "SCHILY.xattr."
# Layers may not forge overlay metadata; whiteouts come only from .wh. entries.
_FORBIDDEN_XATTR_PREFIX = "trusted.overlay."
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DEVICE_TYPES = {b"3": stat.S_IFCHR, b"4": stat.S_IFBLK, b"6": stat.S_IFIFO}


def apply_layer(root, tar_stream, whiteouts="naive", owner=None, keep_kinds=False, idmap=None, digests=None):
    """Extract the layer tar read from ``tar_stream`` into directory ``root``.

    ``tar_stream`` is a binary file object, plain or gzip-compressed.
    ``whiteouts`` is a format name ("naive", "overlay") or strategy object;
    None extracts a plain archive (``docker cp``), where ``.wh.`` names are
    ordinary files.  ``owner`` (uid, gid) overrides the entries' owners.
    ``idmap`` (a ``pydocker.userns.IdentityMapping``) shifts every owner
    from container ids to the host ids of a remapped root.
    ``keep_kinds`` refuses to replace a directory by a non-directory or the
    reverse (``docker cp``'s noOverwriteDirNonDir).
    ``digests``, a dict, receives the content digest (``contentdigest``) of each regular file by its path
    relative to ``root``, taken as the file is written (a build context's cache keys).
    Returns the number of file-content bytes written.  Bad input raises
    :class:`InvalidParameter`; what was extracted before the error stays,
    and the caller must discard the half-applied layer.
    """
    fmt = None if whiteouts is None else whiteout_format(whiteouts)
    reader = open_layer(tar_stream)
    with Root(root, idmap.root_pair if idmap is not None else None) as tree:
        return _Extractor(tree, fmt, reader, owner, keep_kinds, idmap, digests).run()


class _Extractor:
    def __init__(self, tree, fmt, reader, owner=None, keep_kinds=False, idmap=None, digests=None):
        self.tree = tree
        self.digests = digests
        self.fmt = fmt
        self.reader = reader
        self.owner = owner
        self.idmap = idmap
        self.keep_kinds = keep_kinds
        self.unpacked = set()
        self.dir_times = []
        self.size = 0

    def run(self):
        for member in members(self.reader):
            self._apply(member)
        self.reader.check_complete()
        for relpath, mtime in reversed(self.dir_times):
            self._set_dir_time(relpath, mtime)
        return self.size

    def _apply(self, member):
        relpath = clean_name(member.name)
        parent, base = split(relpath)
        if self.owner is not None:
            member.uid, member.gid = self.owner
        if self.idmap is not None:
            member.uid, member.gid = self.idmap.to_host(member.uid, member.gid)
        if self.fmt is not None and base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parent, base, member)
            return
        if not relpath:
            if member.isdir():
                self._set_attributes(self.tree.fd, member)
                self.dir_times.append(("", member.mtime))
            return
        dir_fd = self.tree.dir_fd(parent)
        if self.digests is not None:
            self.digests.pop(relpath, None)
        if member.isreg():
            self._create(dir_fd, relpath, base, member, self._write_file)
        elif member.isdir():
            self._make_dir(dir_fd, relpath, base, member)
        elif member.issym():
            self._create(dir_fd, relpath, base, member, self._symlink)
        elif member.islnk():
            self._create(dir_fd, relpath, base, member, self._link)
        elif member.type in _DEVICE_TYPES:
            self._create(dir_fd, relpath, base, member, self._device)
        else:
            raise InvalidParameter(f"layer entry {member.name!r} has unsupported tar type {member.type!r}")
        self.unpacked.add(relpath)

    def _create(self, dir_fd, relpath, base, member, make):
        """Make the entry; whatever already sits at the path is replaced, never written through."""
        try:
            make(dir_fd, base, member)
        except FileExistsError:
            if member.islnk() and clean_name(member.linkname) == relpath:
                return
            if self.keep_kinds and stat.S_ISDIR(os.stat(base, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                raise InvalidParameter(f"cannot overwrite directory {relpath!r} with non-directory")
            self.tree.forget(relpath)
            remove_entry(dir_fd, base)
            make(dir_fd, base, member)

    def _whiteout(self, parent, base, member):
        if base == OPAQUE_MARKER:
            self.fmt.opaque(self.tree.dir_fd(parent), parent, self.unpacked)
            self.tree.forget(parent)
        elif not base.startswith(WHITEOUT_META_PREFIX):  # other .wh..wh. entries are aufs bookkeeping
            name = base[len(WHITEOUT_PREFIX):]
            if name in ("", ".", ".."):
                raise InvalidParameter(f"layer entry {member.name!r} is an invalid whiteout")
            self.fmt.whiteout(self.tree.dir_fd(parent), name, member.uid, member.gid)
            self.tree.forget(f"{parent}/{name}" if parent else name)

    def _write_file(self, dir_fd, base, member):
        fd = os.open(base, _NEW_FILE_FLAGS, 0o600, dir_fd=dir_fd)
        try:
            if member.sparse is not None:
                for offset, length in member.sparse:
                    os.lseek(fd, offset, os.SEEK_SET)
                    self.reader.copy_to(fd, length)
                os.ftruncate(fd, member.size)
            elif self.digests is not None:
                digest = contentdigest.new()
                self.reader.copy_to(fd, member.size, digest)
                self.digests[clean_name(member.name)] = digest.hexdigest()
            else:
                self.reader.copy_to(fd, member.size)
            self._set_attributes(fd, member)
            os.utime(fd, ns=_ns(member.mtime))
        finally:
            os.close(fd)
        self.size += member.size

    def _make_dir(self, dir_fd, relpath, base, member):
        try:
            os.mkdir(base, 0o700, dir_fd=dir_fd)
        except FileExistsError:
            if not stat.S_ISDIR(os.stat(base, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                if self.keep_kinds:
                    raise InvalidParameter(f"cannot overwrite non-directory {relpath!r} with directory")
                self.tree.forget(relpath)
                remove_entry(dir_fd, base)
                os.mkdir(base, 0o700, dir_fd=dir_fd)
            # an existing directory is kept and takes the new attributes
        self._set_attributes(self.tree.dir_fd(relpath), member)
        self.dir_times.append((relpath, member.mtime))
        self.unpacked.add(relpath)

    def _symlink(self, dir_fd, base, member):
        check_length(member.name, member.linkname, "the target of symlink")
        os.symlink(member.linkname, base, dir_fd=dir_fd)
        self._set_nofollow_attributes(dir_fd, base, member)

    def _device(self, dir_fd, base, member):
        os.mknod(base, _DEVICE_TYPES[member.type] | 0o600, os.makedev(member.devmajor, member.devminor),
                 dir_fd=dir_fd)
        self._set_nofollow_attributes(dir_fd, base, member)
        os.chmod(base, member.mode, dir_fd=dir_fd)

    def _link(self, dir_fd, base, member):
        try:
            target = clean_name(member.linkname)
        except InvalidParameter:
            raise InvalidParameter(f"layer entry {member.name!r} is a hard link to {member.linkname!r}, "
                                   f"outside the extraction root") from None
        try:
            target_fd, target_base = self.tree.parent(target, create=False)
            os.link(target_base, base, src_dir_fd=target_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            if self.digests is not None and target in self.digests:
                self.digests[clean_name(member.name)] = self.digests[target]
        except (FileNotFoundError, NotADirectoryError):
            raise InvalidParameter(
                f"layer entry {member.name!r} is a hard link to {member.linkname!r}, which is not in the layer"
            ) from None
        except PermissionError:  # e.g. a hard link to a directory
            raise InvalidParameter(f"layer entry {member.name!r} cannot hard-link {member.linkname!r}") from None

    def _set_attributes(self, fd, member):
        """Owner, then mode (chown clears set-id bits), then xattrs, on an open fd."""
        os.fchown(fd, member.uid, member.gid)
        os.fchmod(fd, member.mode)
        for name, value in _xattrs(member):
            os.setxattr(fd, name, value)

    def _set_nofollow_attributes(self, dir_fd, base, member):
        """Attributes of an entry we must not follow (symlinks, device nodes)."""
        os.chown(base, member.uid, member.gid, dir_fd=dir_fd, follow_symlinks=False)
        for name, value in _xattrs(member):
            os.setxattr(f"/proc/self/fd/{dir_fd}/{base}", name, value, follow_symlinks=False)
        os.utime(base, ns=_ns(member.mtime), dir_fd=dir_fd, follow_symlinks=False)

    def _set_dir_time(self, relpath, mtime):
        try:
            fd = self.tree.dir_fd(relpath, create=False)
        except (FileNotFoundError, InvalidParameter):
            return  # removed by a later whiteout
        os.utime(fd, ns=_ns(mtime))


def _xattrs(member):
    for key, value in member.pax.items():
        if key.startswith(XATTR_PAX_PREFIX):
            name = key[len(XATTR_PAX_PREFIX):]
            if not name.startswith(_FORBIDDEN_XATTR_PREFIX):
                yield name, value.encode("utf-8", "surrogateescape")


def _ns(mtime):
    """(atime, mtime) in ns for a tar mtime, which PAX may give as a float."""
    ns = round(mtime * 10**9)
    return ns, ns
