"""Resolve layer paths strictly inside an extraction root.

A layer tar is hostile input: its names and symlinks may try to reach outside
the root (CVE-2014-6407, CVE-2014-9356, CVE-2018-15664).  Every path is
resolved with ``openat2(RESOLVE_IN_ROOT)``, so the kernel treats the root as
``/`` for absolute symlinks and ``..``; there is no window between checking a
path and using it, and no process-wide ``chroot``/``chdir``.
"""

import ctypes
import errno
import os
import posixpath
import re
import struct

from pydocker.errdefs import InvalidParameter, PrerequisiteMissing

_SYS_OPENAT2 = 437  # the same number on every architecture (asm-generic)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_IN_ROOT = 0x10
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC

# Anything normpath would change: "." or ".." components, "//", a leading or trailing "/".
_NEEDS_NORMALISING = re.compile(r"(^|/)\.{1,2}(/|$)|//|^/|/$|^$")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

NAME_MAX = 255   # bytes in one path component (Linux's VFS limit, every layer filesystem's)
PATH_MAX = 4096  # bytes in a path or a symlink's target, its terminating NUL included


def check_length(name, path, what="layer entry"):
    """Refuse a path the kernel would reject with ENAMETOOLONG: a component over
    NAME_MAX bytes or the whole over PATH_MAX. ``name`` is what the error names."""
    if len(path) * 4 <= NAME_MAX:  # the common case: even 4-byte characters fit
        return
    encoded = os.fsencode(path)
    if len(encoded) >= PATH_MAX:
        raise InvalidParameter(f"{what} {name!r} is longer than the {PATH_MAX - 1} bytes a path may have")
    if any(len(component) > NAME_MAX for component in encoded.split(b"/")):
        raise InvalidParameter(f"{what} {name!r} has a name longer than the {NAME_MAX} bytes a file name may have")


def clean_name(name):
    """Normalise a tar member name to a path relative to the root.

    Absolute names are re-rooted (Docker does the same); a name that climbs
    above the root with ``..`` or is too long for the filesystem is refused.
    Returns "" for the root itself.
    """
    plain = name[2:] if name.startswith("./") else name
    check_length(name, plain)
    if not _NEEDS_NORMALISING.search(plain):
        return plain  # the common case: already a plain relative path
    path = posixpath.normpath("/" + plain.lstrip("/")) if plain.startswith("/") else posixpath.normpath(plain)
    if path == ".." or path.startswith("../"):
        raise InvalidParameter(f"layer entry {name!r} escapes the extraction root")
    path = path.lstrip("/")
    return "" if path == "." else path


def open_in_root(dir_fd, path, flags):
    how = struct.pack("QQQ", flags, 0, _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS)
    while True:
        fd = _libc.syscall(_SYS_OPENAT2, dir_fd, os.fsencode(path), how, len(how))
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err == errno.ENOSYS:
            raise PrerequisiteMissing("safe layer extraction needs openat2(2) (Linux 5.6 or later)")
        if err not in (errno.EAGAIN, errno.EINTR):  # EAGAIN: a rename raced the lookup
            raise OSError(err, os.strerror(err), path)


class Root:
    """An open extraction root: hands out directory fds resolved inside it.

    Directory fds are cached, least recently used first out (most tar
    entries share a parent, and one entry needs at most two fds at once, so
    an fd just handed out is never the one evicted).  Anything that replaces
    or removes a path must call :meth:`forget` so a cached fd never outlives
    the directory the name used to denote.
    """

    _CACHE_LIMIT = 64

    def __init__(self, path, owner=None):
        """``owner``: host (uid, gid) of the directories made on the way (None: ours);
        a remapped root's, so that its containers own them (--userns-remap)."""
        self.path = path
        self.fd = os.open(path, _DIR_FLAGS)
        self._owner = owner
        self._dirs = {}

    def close(self):
        self.forget("")
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def forget(self, relpath):
        """Drop cached fds for ``relpath`` and everything below it."""
        prefix = relpath + "/"
        for key in [k for k in self._dirs if not relpath or k == relpath or k.startswith(prefix)]:
            os.close(self._dirs.pop(key))

    def dir_fd(self, relpath, create=True):
        """An fd of directory ``relpath`` (resolved in the root), made if missing."""
        if not relpath:
            return self.fd
        fd = self._dirs.pop(relpath, None)
        if fd is not None:
            self._dirs[relpath] = fd  # now the most recently used
            return fd
        try:
            fd = open_in_root(self.fd, relpath, _DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                raise
            parent, base = split(relpath)
            try:
                os.mkdir(base, 0o755, dir_fd=self.dir_fd(parent))
                fd = open_in_root(self.fd, relpath, _DIR_FLAGS)
                if self._owner is not None:
                    os.fchown(fd, *self._owner)
            except (FileExistsError, FileNotFoundError):
                raise InvalidParameter(
                    f"layer path {relpath!r} goes through a symlink to a directory missing in the layer"
                ) from None
        except NotADirectoryError:
            raise InvalidParameter(f"layer path {relpath!r} has a parent that is not a directory") from None
        if len(self._dirs) >= self._CACHE_LIMIT:
            os.close(self._dirs.pop(next(iter(self._dirs))))
        self._dirs[relpath] = fd
        return fd

    def parent(self, relpath, create=True):
        """(fd of the parent directory, base name) of ``relpath``."""
        parent, base = split(relpath)
        return self.dir_fd(parent, create), base


def split(relpath):
    """Split a clean relative path into (parent, base)."""
    parent, _, base = relpath.rpartition("/")
    return parent, base
