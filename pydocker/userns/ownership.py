"""Directories under a remapped data root: what the remapped root must own,
and what it must be able to traverse (dockerd's ``setupDaemonRoot`` and its
0710 root:<remapped gid> directories).

A container's mounts are made inside its user namespace, by its root, so
every directory on the way to a layer, a volume or the container's own
files needs search permission for the remapped root's uid or gid.
"""

import os
import stat

from pydocker.errdefs import InvalidParameter


def remapped_root(data_root, mapping):
    """Make ``<data_root>/<uid>.<gid>`` (dockerd's layout) and return it.

    ``data_root`` becomes 0711 and the subdirectory 0710 root:<gid>;
    a directory above them that the remapped root cannot traverse is an
    error asking for o+x, as with dockerd."""
    uid, gid = mapping.root_pair
    os.makedirs(data_root, mode=0o711, exist_ok=True)
    os.chmod(data_root, 0o711)
    root = os.path.join(data_root, mapping.key)
    traversable_dir(root, mapping)
    path = root
    while path != "/":
        path = os.path.dirname(path)
        if not _can_search(path, uid, gid):
            raise InvalidParameter("a directory on the path of the data root (%s) restricts access to the "
                                   "remapped root uid/gid; allow 'o+x' on %s" % (root, path))
    return root


def traversable_dir(path, mapping, mode=0o700):
    """``os.makedirs(path, mode)``; with a mapping, the directory is 0710
    root:<remapped gid> so the remapped root can pass through it."""
    os.makedirs(path, mode=mode, exist_ok=True)
    if mapping is not None:
        os.chown(path, 0, mapping.root_pair[1])
        os.chmod(path, 0o710)


def owned_by_root(path, mapping):
    """Give ``path`` (without following a symlink) to the container's root; nothing without a mapping."""
    if mapping is not None:
        os.chown(path, *mapping.root_pair, follow_symlinks=False)


def _can_search(path, uid, gid):
    st = os.stat(path)
    mode = stat.S_IMODE(st.st_mode)
    return bool(mode & 0o001 or (st.st_uid == uid and mode & 0o100) or (st.st_gid == gid and mode & 0o010))
