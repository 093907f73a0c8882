"""The Engine API's image documents (inspect, list, history) from stored rows and configs."""

import json

from pydocker.timeutil import parse_rfc3339, rfc3339
from pydocker.reference import parse_reference

CONTAINER_CONFIG_DEFAULTS = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}


def familiar(name):
    """``docker.io/library/busybox:latest`` → ``busybox:latest``, as clients show names."""
    try:
        return parse_reference(name, default_tag=False).familiar()
    except Exception:
        return name


def split_references(names):
    """(RepoTags, RepoDigests) in familiar form."""
    tags = sorted(familiar(n) for n in names if "@" not in n)
    digests = sorted(familiar(n) for n in names if "@" in n)
    return tags, digests


def image_config(image):
    return json.loads(image.config)


def inspect_document(image, names, size, driver_name, driver_data, version):
    config = image_config(image)
    tags, digests = split_references(names)
    container_config = dict(CONTAINER_CONFIG_DEFAULTS)
    container_config.update(config.get("config") or {})
    doc = {
        "Id": image.id,
        "RepoTags": tags,
        "RepoDigests": digests,
        "Parent": image.parent or "",
        "Comment": config.get("comment", ""),
        "Created": config.get("created") or rfc3339(image.created),
        "Container": config.get("container", ""),
        "ContainerConfig": config.get("container_config") or dict(CONTAINER_CONFIG_DEFAULTS),
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": container_config,
        "Architecture": config.get("architecture", ""),
        "Os": config.get("os", ""),
        "Size": size,
        "GraphDriver": {"Name": driver_name, "Data": driver_data},
        "RootFS": {"Type": "layers", "Layers": list(config.get("rootfs", {}).get("diff_ids", []))},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }
    if config.get("variant"):
        doc["Variant"] = config["variant"]
    if version < (1, 44):
        doc["VirtualSize"] = size
    return doc


def summary_document(image, names, size, containers, version):
    """One row of GET /images/json."""
    config = image_config(image)
    tags, digests = split_references(names)
    created = parse_rfc3339(config.get("created")) or image.created
    doc = {
        "Id": image.id,
        "ParentId": image.parent or "",
        "RepoTags": tags,
        "RepoDigests": digests,
        "Created": created // 1_000_000_000,
        "Size": size,
        "SharedSize": -1,
        "Labels": (config.get("config") or {}).get("Labels") or {},
        "Containers": containers,
    }
    if version < (1, 44):
        doc["VirtualSize"] = size
    return doc


def history_documents(image, layer_sizes, lineage):
    """GET /images/{name}/history: newest first; empty layers have size 0. ``lineage`` is
    [(image ID, names)] of the image and its parents, newest first: as dockerd, each row
    names the image at its depth while the parent chain lasts (a built image's
    intermediate images), then ``<missing>``."""
    config = image_config(image)
    history = config.get("history") or [{"created": config.get("created", ""), "created_by": ""}]
    sizes = iter(layer_sizes)
    rows = []
    for entry in history:
        size = 0 if entry.get("empty_layer") else next(sizes, 0)
        rows.append({
            "Id": "<missing>",
            "Created": parse_rfc3339(entry.get("created")) // 1_000_000_000,
            "CreatedBy": entry.get("created_by", ""),
            "Tags": None,
            "Size": size,
            "Comment": entry.get("comment", ""),
        })
    rows.reverse()
    for row, (image_id, names) in zip(rows, lineage):
        row["Id"] = image_id
        row["Tags"] = split_references(names)[0] or None
    return rows
