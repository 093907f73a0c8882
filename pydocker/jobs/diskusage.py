"""``system df``: what images, layers, containers and the build cache take on disk."""

import json
from dataclasses import dataclass

from twisted.internet import defer

from pydocker.images.inspect import summary_document
from pydocker.jobs.containers import ListRequest
from pydocker.store import images as q


class DiskUsageJobs:
    """system df. Reactor thread."""

    def __init__(self, engine, db):
        self.engine = engine
        self.db = db

    def jobs(self):
        return {"system.df": disk_usage}


@dataclass
class DiskUsageRequest:
    version: tuple = (1, 44)


def _build_cache(images, refs, used, chains):
    """The classic builder's cache: intermediate images (untagged parents, hidden by ``images``),
    in use while an image built on them is tagged or used by a container."""
    by_id = {image.id: image for image in images}
    parents = {image.parent for image in images if image.parent}
    live = set()
    for image in images:
        if refs.get(image.id) or used.get(image.id):
            ancestor = image.parent
            while ancestor and ancestor not in live:
                live.add(ancestor)
                ancestor = by_id[ancestor].parent if ancestor in by_id else None
    records = []
    for image in images:
        if image.id not in parents or refs.get(image.id):
            continue
        config = json.loads(image.config)
        last = (config.get("history") or [{}])[-1]
        chain = chains[image.id]
        records.append({
            "ID": image.id.split(":", 1)[-1], "Parents": [image.parent] if image.parent else None,
            "Type": "regular", "Description": last.get("created_by", ""), "InUse": image.id in live,
            "Shared": image.id in live, "Size": 0 if last.get("empty_layer") or not chain else chain[-1].size,
            "CreatedAt": config.get("created"), "LastUsedAt": None, "UsageCount": 0})
    return records


def _image_usage(conn, version):
    refs = q.all_references(conn)
    used = q.container_counts(conn)
    images = q.all_images(conn)
    chains = {image.id: (q.layer_chain(conn, image.top_layer) if image.top_layer else []) for image in images}
    holders = {}
    for chain in chains.values():
        for layer in chain:
            holders[layer.chain_id] = holders.get(layer.chain_id, 0) + 1
    layers_size = sum({layer.chain_id: layer.size for chain in chains.values() for layer in chain}.values())
    cache = _build_cache(images, refs, used, chains)
    intermediate = {"sha256:" + record["ID"] for record in cache}
    documents = []
    for image in images:
        if image.id in intermediate:
            continue
        chain = chains[image.id]
        doc = summary_document(image, refs.get(image.id, []), sum(layer.size for layer in chain),
                               used.get(image.id, 0), version)
        doc["SharedSize"] = sum(layer.size for layer in chain if holders[layer.chain_id] > 1)
        documents.append(doc)
    return layers_size, documents, cache


@defer.inlineCallbacks
def disk_usage(svc, job):
    layers_size, images, cache = yield svc.db.run(_image_usage, job.request.version)
    containers = yield svc.engine.job("container.list", ListRequest(all=True, size=True))
    return {"LayersSize": layers_size, "Images": images, "Containers": containers,
            "Volumes": [], "BuildCache": cache}
