"""What a layer changed compared to its parents (``GET /containers/{id}/changes``).

Two ways to find out, by whiteout format: a full-copy layer ("naive") is
compared tree-to-tree with its parent's full copy; an overlay upper dir
*is* the change set, checked against the lower dirs only to tell an added
path from a modified one.
"""

import enum
import os
import stat
from dataclasses import dataclass

from .whiteouts import whiteout_format

_CAPABILITY_XATTR = "security.capability"


class ChangeKind(enum.IntEnum):
    """Docker's numbering, as the API returns it."""

    MODIFY = 0
    ADD = 1
    DELETE = 2


@dataclass(frozen=True)
class Change:
    path: str  # absolute inside the container, e.g. "/etc/passwd"
    kind: ChangeKind

    def to_api(self):
        return {"Path": self.path, "Kind": int(self.kind)}


def changes(layer_dir, parents=None, whiteouts="naive"):
    """The sorted changes of ``layer_dir`` relative to ``parents``.

    naive: ``parents`` is the parent's full rootfs (a path, a one-item list
    or None for a base layer).  overlay: ``layer_dir`` is the upper dir and
    ``parents`` the lower dirs, topmost first.
    """
    fmt = whiteout_format(whiteouts)
    if isinstance(parents, (str, os.PathLike)):
        parents = [parents]
    parents = list(parents or [])
    found = []
    if fmt.name == "naive":
        _compare_trees(layer_dir, parents[0] if parents else None, "", found)
    else:
        _scan_upper(layer_dir, parents, "", fmt, False, found)
    return sorted(found, key=lambda c: c.path)


def changes_size(found, root):
    """Bytes of regular-file content behind the added/modified ``found`` changes in ``root``."""
    seen = set()
    total = 0
    for change in found:
        if change.kind == ChangeKind.DELETE:
            continue
        try:
            st = os.lstat(os.path.join(root, change.path.lstrip("/")))
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def _entries(path):
    if path is None:
        return {}
    try:
        with os.scandir(path) as it:
            return {e.name: e.stat(follow_symlinks=False) for e in it}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def _compare_trees(new_root, old_root, rel, found):
    """Append changes under ``rel``; returns True if any were found."""
    new_dir = os.path.join(new_root, rel)
    old_dir = os.path.join(old_root, rel) if old_root is not None else None
    new, old = _entries(new_dir), _entries(old_dir)
    before = len(found)
    for name in old.keys() - new.keys():
        found.append(Change("/" + _join(rel, name), ChangeKind.DELETE))
    for name, st in new.items():
        path = _join(rel, name)
        old_st = old.get(name)
        at = len(found)
        if old_st is None:
            found.append(Change("/" + path, ChangeKind.ADD))
        elif _differs(st, old_st, os.path.join(new_dir, name), os.path.join(old_dir, name)):
            found.append(Change("/" + path, ChangeKind.MODIFY))
        if stat.S_ISDIR(st.st_mode):
            recorded = len(found) > at
            inner_old = old_root if old_st is not None and stat.S_ISDIR(old_st.st_mode) else None
            if _compare_trees(new_root, inner_old, path, found) and not recorded:
                # A directory whose content changed travels with the diff, attributes and all.
                found.insert(at, Change("/" + path, ChangeKind.MODIFY))
    return len(found) > before


def _differs(new, old, new_path, old_path):
    if (new.st_mode, new.st_uid, new.st_gid, new.st_rdev) != (old.st_mode, old.st_uid, old.st_gid, old.st_rdev):
        return True
    if not stat.S_ISDIR(new.st_mode) and (new.st_mtime_ns != old.st_mtime_ns or new.st_size != old.st_size):
        return True
    return _capability(new_path) != _capability(old_path)


def _capability(path):
    try:
        return os.getxattr(path, _CAPABILITY_XATTR, follow_symlinks=False)
    except OSError:
        return None


def _scan_upper(upper, lowers, rel, fmt, hidden, found):
    """Walk an overlay upper dir; ``hidden`` means an opaque dir above hides the lowers."""
    here = os.path.join(upper, rel)
    for name, st in _entries(here).items():
        path = _join(rel, name)
        in_lower = not hidden and any(os.path.lexists(os.path.join(lower, path)) for lower in lowers)
        if fmt.is_whiteout(st):
            found.append(Change("/" + path, ChangeKind.DELETE))
            continue
        found.append(Change("/" + path, ChangeKind.MODIFY if in_lower else ChangeKind.ADD))
        if stat.S_ISDIR(st.st_mode):
            opaque = fmt.is_opaque(os.path.join(here, name))
            if opaque and in_lower:
                _report_hidden(upper, lowers, path, found)
            _scan_upper(upper, lowers, path, fmt, hidden or opaque, found)


def _report_hidden(upper, lowers, path, found):
    """Lower entries an opaque directory hides are deletions."""
    shown = set(_entries(os.path.join(upper, path)))
    hidden = set()
    for lower in lowers:
        hidden |= set(_entries(os.path.join(lower, path)))
    found.extend(Change("/" + _join(path, name), ChangeKind.DELETE) for name in sorted(hidden - shown))


def _join(rel, name):
    return f"{rel}/{name}" if rel else name
