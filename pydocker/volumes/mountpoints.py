"""Resolving a container's mounts at create time, in dockerd's order: ``--volumes-from``,
then ``-v`` binds and volumes, then ``--mount``, then the image's VOLUMEs not covered
(anonymous volumes). A later entry for the same destination replaces an earlier one.

The result is a list of mount points in inspect's ``Mounts`` shape. ``ensure(name,
anonymous)`` is called for every named or anonymous volume and returns (driver, source,
created) — a volume created here gets a copy of the image's content at its path on
first start (``_copy``)."""

import os
import posixpath
import re

from pydocker.errdefs import InvalidParameter
from pydocker.fields import naming
from pydocker.volumes import propagation

VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
BIND_MODES = ("ro", "rw", "z", "Z", "nocopy") + propagation.MODES


def _point(kind, destination, source, rw, name="", driver="", mode="", propagation=""):
    return {"Type": kind, "Name": name, "Source": source, "Destination": destination, "Driver": driver,
            "Mode": mode, "RW": rw, "Propagation": propagation}


def parse_bind(text, ensure, bind_owner=None):
    parts = text.split(":")
    if len(parts) == 1:
        return _volume(ensure, None, parts[0], True, "", copy=True)
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise InvalidParameter(f"invalid volume specification: '{text}'")
    source, destination = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    options = mode.split(",") if mode else []
    for opt in options:
        if opt not in BIND_MODES:
            raise InvalidParameter(f"invalid mode: {opt}")
    _check_destination(destination, text)
    rw = "ro" not in options
    if source.startswith("/"):
        if not os.path.exists(source):
            # dockerd makes a missing -v source a directory; an existing file, socket, device
            # or fifo is bound as it is; a remapped root (--userns-remap) owns what is made
            os.makedirs(source, exist_ok=True)
            if bind_owner is not None:
                os.chown(source, *bind_owner)
        return _point("bind", destination, source, rw, mode=mode, propagation=propagation.from_options(options))
    check_volume_name(source, ". If you intended to pass a host directory, use absolute path")
    return _volume(ensure, source, destination, rw, mode, copy="nocopy" not in options)


def check_volume_name(name, hint=""):
    """dockerd's rule for a local volume's name, in its words."""
    if not VOLUME_NAME.match(name):
        raise InvalidParameter(f"create {name}: \"{name}\" includes invalid characters for a local volume name, "
                               f"only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed{hint}")


def _check_destination(destination, text):
    if not destination.startswith("/"):
        raise InvalidParameter(f"invalid volume specification: '{text}': mount path must be absolute")
    if posixpath.normpath(destination) == "/":
        raise InvalidParameter(f"invalid volume specification: '{text}': invalid mount config: destination can't be '/'")


def _volume(ensure, name, destination, rw, mode, copy):
    _check_destination(destination, destination)
    driver, source, volume_name, created = ensure(name)
    point = _point("volume", destination, source, rw, volume_name, driver, mode or "z")
    if created and copy:
        point["_copy"] = True
    return point


def parse_mount(i, m, ensure):
    kind = m.get("Type", "volume")
    target = m.get("Target") or m.get("Destination") or ""
    if not target.startswith("/"):
        raise InvalidParameter(f"invalid mount config: HostConfig.Mounts[{i}].Target must be an absolute path")
    rw = not m.get("ReadOnly")
    if kind == "bind":
        source = m.get("Source", "")
        if not source.startswith("/") or not os.path.exists(source):
            raise InvalidParameter(f'invalid mount config for type "bind": bind source path does not exist: {source}')
        chosen = (m.get("BindOptions") or {}).get("Propagation") or propagation.DEFAULT
        if chosen not in propagation.MODES:
            raise InvalidParameter(f"invalid mount config: invalid propagation mode: {chosen}")
        return _point("bind", target, source, rw, propagation=chosen)
    if kind == "volume":
        name = m.get("Source") or None
        if name is not None and not VOLUME_NAME.match(name):
            raise InvalidParameter(f"invalid mount config: invalid volume name {name!r}")
        nocopy = (m.get("VolumeOptions") or {}).get("NoCopy")
        return _volume(ensure, name, target, rw, "", copy=not nocopy)
    if kind == "tmpfs":
        return None  # tmpfs mounts are made from HostConfig at start
    raise InvalidParameter(f"mount type {kind!r} is not supported")


def resolve(host_config, image_volumes, ensure, volumes_from, bind_owner=None):
    """The container's mount points. ``volumes_from`` is [(mount points of the other container, mode)];
    ``bind_owner`` the host (uid, gid) that owns a missing -v source made here (None: root)."""
    by_destination = {}
    for points, mode in volumes_from:
        for point in points:
            point = {k: v for k, v in point.items() if k != "_copy"}
            if mode == "ro":
                point["RW"] = False
            by_destination[point["Destination"]] = point
    for i, text in enumerate(host_config.get("Binds") or []):
        with naming(f"HostConfig.Binds[{i}]"):
            point = parse_bind(text, ensure, bind_owner)
        by_destination[point["Destination"]] = point
    for i, m in enumerate(host_config.get("Mounts") or []):
        point = parse_mount(i, m, ensure)
        if point is not None:
            by_destination[point["Destination"]] = point
    tmpfs = set(host_config.get("Tmpfs") or {})
    for destination in image_volumes or {}:
        if destination not in by_destination and destination not in tmpfs:
            with naming("Volumes"):
                by_destination[destination] = _volume(ensure, None, destination, True, "", copy=True)
    return sorted(by_destination.values(), key=lambda p: p["Destination"])


def public(point):
    """A mount point as inspect shows it."""
    return {k: v for k, v in point.items() if not k.startswith("_")}
