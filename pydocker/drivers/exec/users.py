"""Resolve ``-u user[:group]`` and ``--group-add`` against the *container's*
/etc/passwd and /etc/group (read after pivot_root, never the host's)."""


class UserError(ValueError):
    """The user or group named in the config does not exist in the container."""


def _entries(path, fields):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) >= fields:
            rows.append(parts)
    return rows


def _lookup(rows, key, what, path):
    """Find a row by name, else by number; a bare number need not exist."""
    for row in rows:
        if row[0] == key:
            return row
    if key.isdigit():
        for row in rows:
            if row[2] == key:
                return row
        return None
    raise UserError("unable to find %s %s: no matching entries in %s file" % (what, key, path))


def resolve(user, group_add=(), passwd="/etc/passwd", group="/etc/group"):
    """Return (uid, gid, supplementary gids, home) for a Docker ``user`` string."""
    name, _, group_name = (user or "root").partition(":")
    passwd_rows = _entries(passwd, 7)
    group_rows = _entries(group, 3)
    row = _lookup(passwd_rows, name or "root", "user", "passwd")
    if row is None:
        uid, gid, home, login = int(name), 0, "/", None
    else:
        uid, gid, home, login = int(row[2]), int(row[3]), row[5] or "/", row[0]
    if group_name:
        grow = _lookup(group_rows, group_name, "group", "group")
        gid = int(group_name) if grow is None else int(grow[2])
    # The primary group is always a supplementary group too (as Docker does
    # since the fix for CVE-2023-25173), then /etc/group memberships, then --group-add.
    groups = [gid]
    if login is not None and not group_name:
        groups += [int(g[2]) for g in group_rows if login in g[3].split(",")]
    for extra in group_add:
        grow = _lookup(group_rows, str(extra), "group", "group")
        groups.append(int(extra) if grow is None else int(grow[2]))
    return uid, gid, list(dict.fromkeys(groups)), home
