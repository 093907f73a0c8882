"""/etc/subuid and /etc/subgid: ``name-or-uid:start:count`` lines."""

from pydocker.errdefs import InvalidParameter

SUBUID = "/etc/subuid"
SUBGID = "/etc/subgid"
DEFAULT_RANGE_START = 100000
DEFAULT_RANGE_LENGTH = 65536


def parse(path):
    """Every (owner, start, count) in ``path``; a missing file holds none."""
    entries = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return entries
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            entries.append((parts[0], int(parts[1]), int(parts[2])))
        except ValueError:
            raise InvalidParameter("%s line %d is not name:start:count: %r" % (path, number, line)) from None
    return entries


def ranges_of(path, name, uid):
    """The (start, count) ranges given to the user, by name or by uid, in file order."""
    return [(start, count) for owner, start, count in parse(path) if owner in (name, str(uid))]


def next_free_start(path):
    """The first start at or above 100000 where a 65536-long range overlaps no entry."""
    start = DEFAULT_RANGE_START
    for _, other, count in sorted(parse(path), key=lambda e: e[1]):
        if start < other + count and other < start + DEFAULT_RANGE_LENGTH:
            start = other + count
    return start
