"""What ``--userns-remap`` names, turned into an id mapping (dockerd's
``parseRemappedRoot`` and ``setupRemappedRoot``).

Accepted: ``default`` (the ``dockremap`` user and group, created with
subordinate ranges when missing), ``user``, ``user:group``, ``uid``,
``uid:gid``. The ranges are the user's lines in /etc/subuid and /etc/subgid,
laid end to end from container id 0.
"""

import grp
import pwd
import shutil
import subprocess

from pydocker.errdefs import InvalidParameter, SystemError_

from . import subids
from .idmap import IdentityMapping, ranges_from_subids

DEFAULT_SPEC = "default"
DEFAULT_USER = "dockremap"


def load_remapping(spec):
    """(IdentityMapping, "user:group") for ``spec``; the mapping is None when
    ``spec`` names root, which cannot be remapped onto itself (dockerd turns
    user namespaces off then). Bad names and missing ranges raise InvalidParameter."""
    user, group = resolve(spec)
    if user == "root":
        return None, "root:root"
    uid = pwd.getpwnam(user).pw_uid
    ranges = []
    for path in (subids.SUBUID, subids.SUBGID):
        found = subids.ranges_of(path, user, uid)
        if not found:
            raise InvalidParameter("--userns-remap: no subordinate ranges for user %r in %s" % (user, path))
        ranges.append(ranges_from_subids(found))
    return IdentityMapping(*ranges), "%s:%s" % (user, group)


def resolve(spec):
    """(user name, group name) named by ``spec``; ``default`` creates dockremap if missing."""
    parts = spec.split(":")
    if len(parts) > 2 or not all(parts):
        raise InvalidParameter("invalid user/group specification in --userns-remap: %r" % spec)
    if parts[0].isdigit():
        user = _user_by_uid(int(parts[0]))
        group = None if len(parts) == 2 else _group_by_gid(int(parts[0]))
    elif parts[0] == DEFAULT_SPEC and len(parts) == 1:
        add_namespace_user(DEFAULT_USER)
        return DEFAULT_USER, _group_by_name(DEFAULT_USER)
    else:
        user = DEFAULT_USER if parts[0] == DEFAULT_SPEC else parts[0]
        if not _user_exists(user):
            raise InvalidParameter("--userns-remap: no user %r in /etc/passwd" % user)
        group = None if len(parts) == 2 else _group_by_name(user)
    if len(parts) == 2:
        group = _group_by_gid(int(parts[1])) if parts[1].isdigit() else _group_by_name(parts[1])
    return user, group


def _user_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _user_by_uid(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        raise InvalidParameter("--userns-remap: uid %d has no entry in /etc/passwd" % uid) from None


def _group_by_gid(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        raise InvalidParameter("--userns-remap: gid %d has no entry in /etc/group" % gid) from None


def _group_by_name(name):
    try:
        return grp.getgrnam(name).gr_name
    except KeyError:
        raise InvalidParameter("--userns-remap: no group %r in /etc/group" % name) from None


def add_namespace_user(name):
    """Make sure system user and group ``name`` exist (created if missing) and
    have subordinate uids and gids (65536 where no range is taken, added if it
    has none), as dockerd does for dockremap."""
    if _user_exists(name):
        pass
    elif shutil.which("adduser"):
        _run(["adduser", "--system", "--shell", "/bin/false", "--no-create-home",
              "--disabled-login", "--disabled-password", "--group", name], "adding user %s" % name)
    elif shutil.which("useradd"):
        _run(["useradd", "-r", "-s", "/bin/false", name], "adding user %s" % name)
    else:
        raise SystemError_("--userns-remap=default: cannot add user %s: no adduser or useradd" % name)
    uid = pwd.getpwnam(name).pw_uid
    for path, flag in ((subids.SUBUID, "-v"), (subids.SUBGID, "-w")):
        if not subids.ranges_of(path, name, uid):
            start = subids.next_free_start(path)
            _run(["usermod", flag, "%d-%d" % (start, start + subids.DEFAULT_RANGE_LENGTH - 1), name],
                 "giving %s subordinate ids in %s" % (name, path))


def _run(argv, what):
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemError_("--userns-remap: %s failed: %s" % (what, (result.stderr or result.stdout).strip()))
