"""Volume jobs: create, list, inspect, remove, prune (on ``pydocker.volumes.service``)."""

import os
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.errdefs import Conflict, InvalidParameter, NotFound
from pydocker.fields import naming
from pydocker.store import volumes as vstore
from pydocker.timeutil import rfc3339
from pydocker.volumes.mountpoints import check_volume_name


class VolumeJobs:
    """Volume create, list, inspect, remove, prune on the volume service. Reactor thread."""

    def __init__(self, engine, volumes, db):
        self.engine = engine
        self.volumes = volumes
        self.db = db

    def jobs(self):
        return {"volume.create": create, "volume.list": list_volumes, "volume.inspect": inspect_volume,
                "volume.remove": remove, "volume.prune": prune}


def document(v):
    return {"Name": v.name, "Driver": v.driver, "Mountpoint": v.mountpoint, "CreatedAt": rfc3339(v.created),
            "Labels": v.labels or {}, "Scope": "local", "Options": v.options or None, "Status": {},
            "UsageData": None}


@dataclass
class CreateVolumeRequest:
    name: str = ""
    driver: str = "local"
    options: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)


def create(svc, job):
    req = job.request
    if req.name:
        with naming("Name"):
            check_volume_name(req.name)
    service = svc.volumes
    name = req.name or os.urandom(32).hex()
    d = svc.engine.run_blocking(service.create, name, req.driver or "local", req.options, req.labels, not req.name)
    return d.addCallback(lambda result: document(result[0]))


@dataclass
class ListVolumesRequest:
    filters: dict = field(default_factory=dict)


@defer.inlineCallbacks
def list_volumes(svc, job):
    f = job.request.filters
    for key in f:
        if key not in ("dangling", "driver", "label", "name"):
            raise InvalidParameter(f"invalid filter '{key}'")
    rows = yield svc.db.run(vstore.all_volumes)
    service = svc.volumes
    result = [document(v) for v in rows if _matches(v, f, service)]
    return {"Volumes": result, "Warnings": []}


def _matches(v, f, service):
    if "dangling" in f:
        dangling = not service.users(v.name)
        if dangling != (f["dangling"][-1] in ("true", "1")):
            return False
    if "driver" in f and v.driver not in f["driver"]:
        return False
    if "name" in f and not any(n in v.name for n in f["name"]):
        return False
    if "label" in f:
        for spec in f["label"]:
            key, eq, value = spec.partition("=")
            if key not in v.labels or (eq and v.labels[key] != value):
                return False
    return True


@dataclass
class VolumeNameRequest:
    name: str
    force: bool = False


@defer.inlineCallbacks
def _get(svc, name):
    row = yield svc.db.run(vstore.get, name)
    if row is None:
        raise NotFound(f"get {name}: no such volume")
    return row


def inspect_volume(svc, job):
    return _get(svc, job.request.name).addCallback(document)


@defer.inlineCallbacks
def remove(svc, job):
    req = job.request
    try:
        row = yield _get(svc, req.name)
    except NotFound:
        if req.force:
            return None
        raise
    users = svc.volumes.users(row.name)
    if users:
        raise Conflict(f"remove {row.name}: volume is in use - [{', '.join(users)}]")
    yield svc.engine.run_blocking(svc.volumes.destroy, row)


@dataclass
class PruneVolumesRequest:
    filters: dict = field(default_factory=dict)
    version: tuple = (1, 44)


@defer.inlineCallbacks
def prune(svc, job):
    """Unused anonymous volumes; with the filter all=true, unused named ones too. Before API
    1.42 every unused volume, as dockerd. The list is [] when none was deleted, as dockerd's."""
    f = dict(job.request.filters)
    everything = (f.pop("all", ["false"]))[-1] in ("true", "1") or job.request.version < (1, 42)
    rows = yield svc.db.run(vstore.all_volumes)
    deleted, reclaimed = [], 0
    for row in rows:
        if svc.volumes.users(row.name) or (not row.anonymous and not everything):
            continue
        if "label" in f and not _matches(row, {"label": f["label"]}, svc.volumes):
            continue
        reclaimed += yield svc.engine.run_blocking(_size, row.mountpoint)
        yield svc.engine.run_blocking(svc.volumes.destroy, row)
        deleted.append(row.name)
    return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}


def _size(path):
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:
                pass
    return total
