"""Write layer tars: a whole directory, or a list of changes.

The tar is produced by a thread into a pipe and handed out as a readable
file object, so the caller (an HTTP response, a registry upload, another
driver's ``apply_diff``) streams it without the layer ever being in memory.
On-disk whiteouts (overlay's 0/0 char devices and opaque xattr) are turned
into their tar form on the way out.
"""

import os
import stat
import tarfile
import threading

from .apply import XATTR_PAX_PREFIX
from .changes import ChangeKind
from .safepath import split
from .whiteouts import OPAQUE_MARKER, WHITEOUT_PREFIX, whiteout_format

_PIPE_CHUNK = 1 << 20
_FILE_TYPES = {
    stat.S_IFREG: tarfile.REGTYPE, stat.S_IFDIR: tarfile.DIRTYPE, stat.S_IFLNK: tarfile.SYMTYPE,
    stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE, stat.S_IFIFO: tarfile.FIFOTYPE,
}


def tar_directory(root, whiteouts="naive", include_root=False, idmap=None):
    """A readable stream of a tar of everything under ``root``.

    Entries are in walk order, parents first, with names relative to
    ``root``; with ``whiteouts="overlay"`` on-disk whiteouts become
    ``.wh.`` entries.  ``include_root`` adds a ``./`` entry for the root's
    own attributes.  ``idmap`` shifts owners from a remapped root's host ids
    back to container ids.
    """
    fmt = whiteout_format(whiteouts)

    def entries():
        if include_root:
            yield ""
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            prefix = "" if rel == "." else rel + "/"
            for name in sorted(filenames + dirnames):
                yield prefix + name

    return TarStream(lambda writer: writer.write_tree(root, entries(), fmt), idmap)


def tar_path(path, arcname, idmap=None):
    """A readable stream of a tar of ``path`` (a file, symlink or directory tree), named ``arcname``.

    ``docker cp`` out of a container: entries are ``arcname`` and
    ``arcname/...``; a symlink is archived as the link itself.
    """
    parent, base = os.path.split(path.rstrip("/") or "/")

    def entries():
        yield base
        if os.path.isdir(path) and not os.path.islink(path):
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames.sort()
                rel = os.path.relpath(dirpath, parent)
                for name in sorted(filenames + dirnames):
                    yield f"{rel}/{name}"

    def rename(relpath):
        return arcname + relpath[len(base):]

    return TarStream(lambda writer: writer.write_tree(parent, entries(), whiteout_format("naive"), rename),
                     idmap)


def diff_tar(changes, root, whiteouts="naive", idmap=None):
    """A readable stream of a layer tar holding ``changes`` taken from ``root``.

    Deletions become ``.wh.`` entries; added and modified paths are read
    from ``root`` (a full rootfs or a layer's own directory).
    """
    fmt = whiteout_format(whiteouts)
    ordered = sorted(changes, key=lambda c: c.path)
    return TarStream(lambda writer: writer.write_changes(root, ordered, fmt), idmap)


class PipeStream:
    """A file-like reader of bytes that ``produce(out)`` writes from a background thread.

    Errors in the writer surface from ``read()`` once the data before them is
    consumed, so a reader can never mistake a failed stream for a short one.
    Closing early stops the writer.
    """

    def __init__(self, produce):
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb", buffering=_PIPE_CHUNK)
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(produce, write_fd), daemon=True,
                                        name="pipe-stream-writer")
        self._thread.start()

    def _run(self, produce, write_fd):
        try:
            with os.fdopen(write_fd, "wb", buffering=_PIPE_CHUNK) as out:
                produce(out)
        except BrokenPipeError:
            pass  # the reader went away; nothing left to tell
        except BaseException as e:  # handed to the reader
            self._error = e

    def read(self, size=-1):
        data = self._reader.read(size)
        if not data or (size is not None and 0 <= size != len(data)):
            self._raise_writer_error(data)
        return data

    def readinto(self, buf):
        n = self._reader.readinto(buf)
        if n < len(buf):
            self._raise_writer_error(n)
        return n

    def _raise_writer_error(self, data):
        if data:
            return  # partial read; the error (if any) comes with the next read
        self._thread.join()
        if self._error is not None:
            raise self._error

    def close(self):
        self._reader.close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TarStream(PipeStream):
    """A :class:`PipeStream` of a tar that ``produce(writer)`` fills through a ``_TarWriter``;
    ``idmap`` turns host owners into container ones."""

    def __init__(self, produce, idmap=None):
        def write_tar(out):
            with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_PIPE_CHUNK) as tar:
                produce(_TarWriter(tar, idmap))
        super().__init__(write_tar)


class _TarWriter:
    def __init__(self, tar, idmap=None):
        self._tar = tar
        self._idmap = idmap
        self._inodes = {}  # (dev, ino) -> first name, to write hard links

    def write_tree(self, root, relpaths, fmt, rename=None):
        for relpath in relpaths:
            self._add_path(root, relpath, fmt, rename(relpath) if rename else None)

    def write_changes(self, root, changes, fmt):
        for change in changes:
            relpath = change.path.lstrip("/")
            if change.kind == ChangeKind.DELETE:
                parent, base = split(relpath)
                self._add_whiteout(f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base)
            else:
                self._add_path(root, relpath, fmt)

    def _add_path(self, root, relpath, fmt, name=None):
        path = os.path.join(root, relpath) if relpath else root
        st = os.lstat(path)
        if fmt.is_whiteout(st):
            parent, base = split(relpath)
            self._add_whiteout(f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base, st)
            return
        info = self._info(path, name or relpath or ".", st)
        if info.isreg():
            with open(path, "rb") as f:
                self._tar.addfile(info, f)
        else:
            self._tar.addfile(info)
        if info.isdir() and fmt.is_opaque(path):
            self._add_whiteout(f"{relpath}/{OPAQUE_MARKER}" if relpath else OPAQUE_MARKER, st)

    def _info(self, path, name, st):
        info = tarfile.TarInfo(name)  # tarfile adds the trailing "/" of directories
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = self._owner(st)
        info.mtime = int(st.st_mtime)  # whole seconds, as Docker writes them
        info.type = _FILE_TYPES.get(stat.S_IFMT(st.st_mode), tarfile.REGTYPE)
        if stat.S_ISLNK(st.st_mode):
            info.linkname = os.readlink(path)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISREG(st.st_mode):
            first = self._inodes.setdefault((st.st_dev, st.st_ino), name) if st.st_nlink > 1 else name
            if first != name:
                info.type, info.linkname = tarfile.LNKTYPE, first
            else:
                info.size = st.st_size
        info.pax_headers = {
            XATTR_PAX_PREFIX + key: value.decode("utf-8", "surrogateescape") for key, value in _xattrs(path)
        }
        return info

    def _add_whiteout(self, name, st=None):
        info = tarfile.TarInfo(name)
        info.mode = 0o644
        if st is not None:
            info.mtime = int(st.st_mtime)
            if self._idmap is None:
                info.uid, info.gid = st.st_uid, st.st_gid
            # else: overlay makes whiteouts as the mounter (host root, unmapped); theirs stays 0:0
        self._tar.addfile(info)

    def _owner(self, st):
        if self._idmap is None:
            return st.st_uid, st.st_gid
        return self._idmap.to_container(st.st_uid, st.st_gid)


def _xattrs(path):
    """The xattrs that belong in a layer (overlay's own ones are implied by whiteouts)."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return []
    return [(n, os.getxattr(path, n, follow_symlinks=False)) for n in sorted(names)
            if not n.startswith("trusted.overlay.")]
