"""``docker cp``: stat, read and write paths inside a container's root filesystem.

Paths come from the user and symlinks from the container, so both are
resolved by the kernel with ``openat2(RESOLVE_IN_ROOT)``: an absolute
symlink or a ``..`` stops at the container's root, and a tar written into
the container is extracted relative to a directory fd that is itself inside
the root, so no entry can land outside it.
"""

import os
import posixpath
import stat
from datetime import datetime, timezone

from pydocker.errdefs import InvalidParameter, NotFound

from .apply import apply_layer
from .pack import tar_path
from .safepath import open_in_root

_PATH_FLAGS = os.O_PATH | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC

# Go's os.FileMode type bits: the API's "mode" field is a FileMode, not a unix st_mode.
_GO_TYPE_BITS = {
    stat.S_IFDIR: 1 << 31, stat.S_IFLNK: 1 << 27, stat.S_IFIFO: 1 << 25, stat.S_IFSOCK: 1 << 24,
    stat.S_IFBLK: 1 << 26, stat.S_IFCHR: (1 << 26) | (1 << 21),
}
_GO_SETUID, _GO_SETGID, _GO_STICKY = 1 << 23, 1 << 22, 1 << 20


def go_file_mode(st_mode):
    """A unix st_mode as Go's os.FileMode bits."""
    mode = stat.S_IMODE(st_mode) & 0o777
    mode |= _GO_TYPE_BITS.get(stat.S_IFMT(st_mode), 0)
    if st_mode & stat.S_ISUID:
        mode |= _GO_SETUID
    if st_mode & stat.S_ISGID:
        mode |= _GO_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= _GO_STICKY
    return mode


def _relative(path):
    """The container path as a clean path relative to its root ("" for the root)."""
    if not path or "\0" in path:
        raise InvalidParameter("a container path is required")
    return posixpath.normpath("/" + path).lstrip("/")


class ContainerPath:
    """A path in a container's root filesystem, its parent directory held open.

    ``where`` is "<root fd's dir>/<base>" usable for one lstat/open/walk;
    the final component is not followed (Docker's stat shows a symlink as is).
    """

    def __init__(self, root, path):
        self.path = path
        rel = _relative(path)
        self._fds = []
        root_fd = self._open(os.open, root, _DIR_FLAGS)
        if not rel:
            # Through the fd: ``root`` may be a link such as /proc/PID/root.
            self.parent, self.base = f"/proc/self/fd/{root_fd}", "."
            return
        parent_rel, self.base = posixpath.split(rel)
        try:
            fd = self._open(open_in_root, root_fd, parent_rel or ".", _DIR_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            self.close()
            raise NotFound(f"Could not find the file {path} in container") from None
        self.parent = f"/proc/self/fd/{fd}"

    def _open(self, opener, *args):
        fd = opener(*args)
        self._fds.append(fd)
        return fd

    @property
    def where(self):
        return os.path.join(self.parent, self.base)

    def lstat(self):
        try:
            return os.lstat(self.where)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"Could not find the file {self.path} in container") from None

    def close(self):
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def path_stat(root, path):
    """The ``X-Docker-Container-Path-Stat`` document of ``path`` in the container at ``root``."""
    with ContainerPath(root, path) as where:
        st = where.lstat()
        link = ""
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(where.where)
            link = target if target.startswith("/") else posixpath.normpath(
                posixpath.join("/", _relative(path), "..", target))
        mtime = datetime.fromtimestamp(st.st_mtime_ns // 10**9, timezone.utc).replace(
            microsecond=(st.st_mtime_ns % 10**9) // 1000)
        return {"name": posixpath.basename(_relative(path)) or "/", "size": st.st_size,
                "mode": go_file_mode(st.st_mode), "mtime": mtime.isoformat().replace("+00:00", "Z"),
                "linkTarget": link}


def read_path(root, path, idmap=None):
    """(stat document, readable tar stream) of ``path``, its entries named after the path's base.

    A path ending in "/." archives the directory's content (entries "./...");
    ``idmap`` gives the owners as the container's remapped ids."""
    document = path_stat(root, path)
    where = ContainerPath(root, path)
    try:
        where.lstat()
        arcname = "." if path.endswith("/.") else (document["name"] if document["name"] != "/" else ".")
        stream = tar_path(where.where, arcname, idmap)
    except BaseException:
        where.close()
        raise
    return document, _ClosingStream(stream, where)


def write_path(root, path, stream, keep_owners=False, keep_kinds=False, idmap=None):
    """Extract the tar ``stream`` into directory ``path`` of the container at ``root``.

    Symlinks on the way are followed inside the root; entries are extracted
    relative to the resolved directory and can never leave it.  Without
    ``keep_owners`` everything belongs to root, as with ``docker cp`` without ``-a``;
    ``keep_kinds`` refuses to replace a directory by a file or the reverse;
    ``idmap`` shifts the owners to the container's remapped host ids."""
    rel = _relative(path)
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        try:
            fd = open_in_root(root_fd, rel or ".", _PATH_FLAGS)
        except FileNotFoundError:
            raise NotFound(f"Could not find the file {path} in container") from None
        except NotADirectoryError:
            raise InvalidParameter(f"extraction point {path} is not a directory") from None
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise InvalidParameter(f"extraction point {path} is not a directory")
            return apply_layer(f"/proc/self/fd/{fd}", stream, whiteouts=None,
                               owner=None if keep_owners else (0, 0), keep_kinds=keep_kinds, idmap=idmap)
        finally:
            os.close(fd)
    finally:
        os.close(root_fd)


class _ClosingStream:
    """A tar stream that closes the held directory fds when it is closed."""

    def __init__(self, stream, where):
        self._stream = stream
        self._where = where

    def read(self, size=-1):
        return self._stream.read(size)

    def readinto(self, buf):
        return self._stream.readinto(buf)

    def close(self):
        self._stream.close()
        self._where.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
