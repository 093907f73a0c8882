"""Id ranges between a user namespace and the host (moby's ``IdentityMapping``)."""

from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter


@dataclass(frozen=True)
class IdRange:
    """``count`` ids from ``container`` inside map to ``host`` outside (one uid_map line)."""
    container: int
    host: int
    count: int


def _shift(value, ranges, source, dest, what):
    for r in ranges:
        start = getattr(r, source)
        if start <= value < start + r.count:
            return getattr(r, dest) + value - start
    raise InvalidParameter(what % value)


@dataclass(frozen=True)
class IdentityMapping:
    """The uid and gid ranges of the remapped root's user namespace."""
    uids: tuple
    gids: tuple

    @property
    def root_pair(self):
        """The host (uid, gid) of the container's root."""
        return self.to_host(0, 0)

    @property
    def key(self):
        """The name of the data root subdirectory for this mapping: "<uid>.<gid>"."""
        return "%d.%d" % self.root_pair

    def to_host(self, uid, gid):
        what = "container ID %d cannot be mapped to a host ID"
        return (_shift(uid, self.uids, "container", "host", what),
                _shift(gid, self.gids, "container", "host", what))

    def to_container(self, uid, gid):
        what = "host ID %d cannot be mapped to a container ID"
        return (_shift(uid, self.uids, "host", "container", what),
                _shift(gid, self.gids, "host", "container", what))

    def launcher_config(self):
        """The ranges as plain lists, for the native launcher (marshal) and the lxc config."""
        return {"uid_map": [[r.container, r.host, r.count] for r in self.uids],
                "gid_map": [[r.container, r.host, r.count] for r in self.gids]}


def ranges_from_subids(entries):
    """Container ranges laid end to end over subordinate (start, count) entries, as dockerd does."""
    ranges = []
    next_id = 0
    for start, count in entries:
        ranges.append(IdRange(next_id, start, count))
        next_id += count
    return tuple(ranges)
