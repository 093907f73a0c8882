"""COPY and ADD into a root filesystem, with dockerd's destination rules.

A directory source is copied as its contents; a file goes into a destination ending
in ``/`` (or one that is a directory) under its own name, else it becomes the
destination; ADD extracts a local tar. Everything is written through the safe
extraction code, so nothing lands outside the root whatever its symlinks say.
Blocking code for worker threads.
"""

import os
import posixpath
import stat

from pydocker.archive import apply_layer, tar_path
from pydocker.archive.safepath import Root, open_in_root
from pydocker.errdefs import InvalidParameter
from pydocker.images.layers import decompressed

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_ARCHIVE_MAGICS = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


def copy_into(root, sources, dest, owner=None, extract_archives=False, mode=None, idmap=None):
    """Copy ``sources`` (host paths) to the absolute container path ``dest`` under ``root``.

    ``owner`` (uid, gid) owns what is copied (None: root); ``extract_archives`` is ADD's
    local tar extraction; ``mode`` overrides file permissions (ADD's downloads are 0600);
    ``idmap`` shifts every owner to the host ids of a remapped root (--userns-remap)."""
    to_dir = dest.endswith("/") or dest.endswith("/.")
    rel_dest = posixpath.normpath(dest).lstrip("/")
    rel_dest = "" if rel_dest == "." else rel_dest
    if len(sources) > 1 and not to_dir:
        raise InvalidParameter("When using COPY with more than one source file, the destination must be "
                               "a directory and end with a /")
    owner = owner or (0, 0)
    with Root(root, _root_pair(idmap)) as tree:
        into_dir = to_dir or _is_dir(tree, rel_dest)
        for source, name in sources:
            if os.path.isdir(source) and not os.path.islink(source):
                _extract(tree, rel_dest, tar_path(source, "."), owner, idmap)
            elif extract_archives and _is_archive(source):
                with open(source, "rb") as f:
                    _extract(tree, rel_dest, decompressed(f), None, idmap)
            elif into_dir or not rel_dest:
                _extract(tree, rel_dest, tar_path(source, name), owner, idmap, mode, name)
            else:
                parent, base = posixpath.split(rel_dest)
                _extract(tree, parent, tar_path(source, base), owner, idmap, mode, base)


def make_dir(root, path, idmap=None):
    """``mkdir -p`` of the absolute container path ``path`` under ``root`` (WORKDIR)."""
    rel = posixpath.normpath(path).lstrip("/")
    if rel and rel != ".":
        with Root(root, _root_pair(idmap)) as tree:
            tree.dir_fd(rel)


def _root_pair(idmap):
    return idmap.root_pair if idmap is not None else None


def _is_dir(tree, rel):
    if not rel:
        return True
    try:
        fd = open_in_root(tree.fd, rel, _DIR_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return False
    os.close(fd)
    return True


def _is_archive(path):
    with open(path, "rb") as f:
        head = f.read(262)
    return head.startswith(_ARCHIVE_MAGICS) or head[257:262] == b"ustar"


def _extract(tree, rel_dir, stream, owner, idmap, mode=None, name=None):
    try:
        fd = tree.dir_fd(rel_dir)
    except InvalidParameter as e:
        raise InvalidParameter(f"cannot copy to {('/' + rel_dir)!r}: {e}") from None
    try:
        if name is not None and os.path.lexists(f"/proc/self/fd/{fd}/{name}") and \
                stat.S_ISDIR(os.lstat(f"/proc/self/fd/{fd}/{name}").st_mode):
            raise InvalidParameter(f"cannot replace directory /{posixpath.join(rel_dir, name)} with a file")
        apply_layer(f"/proc/self/fd/{fd}", stream, whiteouts=None, owner=owner, idmap=idmap)
        if mode is not None and name is not None:
            os.chmod(name, mode, dir_fd=fd)
    finally:
        stream.close()


def resolve_owner(root, spec):
    """(uid, gid) of a ``--chown`` value: numbers, or names looked up in the root's
    /etc/passwd and /etc/group; a lone user takes its primary group (a lone number, itself)."""
    user, _, group = spec.partition(":")
    uid, primary = _lookup(root, "etc/passwd", user, "user", 2, 3)
    if not group:
        return uid, primary if primary is not None else uid
    gid, _ = _lookup(root, "etc/group", group, "group", 2, None)
    return uid, gid


def _lookup(root, rel, name, kind, id_field, extra_field):
    if name.isdigit():
        return int(name), None
    for fields in _entries(root, rel):
        if fields[0] == name and len(fields) > id_field and fields[id_field].isdigit():
            extra = fields[extra_field] if extra_field is not None and len(fields) > extra_field else ""
            return int(fields[id_field]), int(extra) if extra.isdigit() else None
    raise InvalidParameter(f"unable to convert uid/gid chown string to host mapping: "
                           f"can't find {'uid' if kind == 'user' else 'gid'} for {kind} {name}: no such {kind}: {name}")


def _entries(root, rel):
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        fd = open_in_root(root_fd, rel, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return []
    finally:
        os.close(root_fd)
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        return [line.strip().split(":") for line in f if line.strip() and not line.startswith("#")]
