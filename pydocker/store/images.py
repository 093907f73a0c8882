"""Queries on images, layers and references. Every function takes a connection
and runs inside the caller's transaction (on the db thread).

Layers are shared between images and kept while anything needs them: an image
whose top layer is in the chain, a child layer, or a container's init layer.
That count is derived from the rows, so it can never drift.
"""

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from pydocker.errdefs import Conflict, InvalidParameter, NotFound
from pydocker.reference import parse_reference
from pydocker.store.schema import containers, images, layers, references


@dataclass
class LayerRow:
    chain_id: str
    diff_id: str
    parent: str
    cache_id: str
    size: int


@dataclass
class ImageRow:
    id: str
    config: bytes
    top_layer: str
    parent: str
    created: int


def get_layer(conn, chain_id):
    row = conn.execute(select(layers).where(layers.c.chain_id == chain_id)).first()
    return LayerRow(*row) if row else None


def insert_layer(conn, layer):
    """Record a layer; if the same chain id exists already, return that one instead."""
    existing = get_layer(conn, layer.chain_id)
    if existing:
        return existing
    conn.execute(insert(layers).values(chain_id=layer.chain_id, diff_id=layer.diff_id, parent=layer.parent,
                                       cache_id=layer.cache_id, size=layer.size))
    return layer


def layer_chain(conn, chain_id):
    """The layers from the base up to ``chain_id``."""
    chain = []
    while chain_id:
        layer = get_layer(conn, chain_id)
        if layer is None:
            raise NotFound(f"layer {chain_id} does not exist")
        chain.append(layer)
        chain_id = layer.parent
    return list(reversed(chain))


def insert_image(conn, image):
    if conn.execute(select(images.c.id).where(images.c.id == image.id)).first() is None:
        conn.execute(insert(images).values(id=image.id, config=image.config, top_layer=image.top_layer,
                                           parent=image.parent, created=image.created))
    return image


def get_image(conn, image_id):
    row = conn.execute(select(images).where(images.c.id == image_id)).first()
    return ImageRow(*row) if row else None


def all_images(conn):
    return [ImageRow(*row) for row in conn.execute(select(images).order_by(images.c.created.desc()))]


def references_of(conn, image_id):
    return [name for (name,) in conn.execute(
        select(references.c.name).where(references.c.image_id == image_id).order_by(references.c.name))]


def all_references(conn):
    """{image id: [reference names]} for every image."""
    result = {}
    for name, image_id in conn.execute(select(references.c.name, references.c.image_id)):
        result.setdefault(image_id, []).append(name)
    return result


def resolve(conn, text):
    """The image a user means: a reference (tag or digest), a full or short ID."""
    image = _by_id(conn, text)
    if image:
        return image
    try:
        ref = parse_reference(text)
    except InvalidParameter:
        ref = None
    if ref is not None:
        row = conn.execute(select(references.c.image_id).where(references.c.name == str(ref))).first()
        if row:
            return get_image(conn, row[0])
        if ref.digest:
            # name@digest where the digest names the image config (a local ID).
            image = _by_id(conn, ref.digest)
            if image:
                return image
    raise NotFound(f"No such image: {text}")


def _by_id(conn, text):
    hexpart = text[len("sha256:"):] if text.startswith("sha256:") else text
    if not hexpart or len(hexpart) > 64 or any(c not in "0123456789abcdef" for c in hexpart):
        return None
    if len(hexpart) == 64:
        return get_image(conn, "sha256:" + hexpart)
    rows = conn.execute(select(images).where(images.c.id.like(f"sha256:{hexpart}%")).limit(2)).all()
    if len(rows) > 1:
        raise Conflict(f"image ID prefix {text!r} is ambiguous")
    return ImageRow(*rows[0]) if rows else None


def tag(conn, ref, image_id):
    """Point ``ref`` at ``image_id``; returns the image it pointed at before, if any."""
    name = str(ref)
    old = conn.execute(select(references.c.image_id).where(references.c.name == name)).first()
    if old:
        conn.execute(references.update().where(references.c.name == name).values(image_id=image_id))
        return old[0]
    conn.execute(insert(references).values(name=name, image_id=image_id))
    return None


def untag(conn, name):
    conn.execute(delete(references).where(references.c.name == name))


def containers_using(conn, image_id):
    """(id, name, state json) of containers made from the image."""
    return conn.execute(select(containers.c.id, containers.c.name, containers.c.state)
                        .where(containers.c.image_id == image_id)).all()


def container_counts(conn):
    """{image id: number of containers made from it}."""
    return dict(conn.execute(select(containers.c.image_id, func.count()).group_by(containers.c.image_id)).all())


def children_of(conn, image_id):
    return [i for (i,) in conn.execute(select(images.c.id).where(images.c.parent == image_id))]


def child_images(conn, image_id):
    """The ImageRows whose parent is ``image_id`` (None: images without one), in one query."""
    return [ImageRow(*row) for row in conn.execute(select(images).where(images.c.parent == image_id))]


def delete_image(conn, image_id):
    """Delete the image row and every layer nothing else needs; return those LayerRows."""
    image = get_image(conn, image_id)
    conn.execute(delete(references).where(references.c.image_id == image_id))
    conn.execute(delete(images).where(images.c.id == image_id))
    return release_chain(conn, image.top_layer)


def release_chain(conn, chain_id):
    """Delete unused layers from ``chain_id`` downwards; return the freed LayerRows."""
    freed = []
    while chain_id and not _layer_in_use(conn, chain_id):
        layer = get_layer(conn, chain_id)
        conn.execute(delete(layers).where(layers.c.chain_id == chain_id))
        freed.append(layer)
        chain_id = layer.parent
    return freed


def unused_diff_ids(conn, diff_ids):
    """Those of ``diff_ids`` that no recorded layer has (their tar-splits can go)."""
    used = {d for (d,) in conn.execute(select(layers.c.diff_id).where(layers.c.diff_id.in_(list(diff_ids))))}
    return set(diff_ids) - used


def _layer_in_use(conn, chain_id):
    used = conn.execute(select(func.count()).select_from(images).where(images.c.top_layer == chain_id)).scalar()
    children = conn.execute(select(func.count()).select_from(layers).where(layers.c.parent == chain_id)).scalar()
    return used + children > 0


def known_cache_ids(conn):
    """Every graph-driver id the metadata knows: layers and containers' layers."""
    ids = {c for (c,) in conn.execute(select(layers.c.cache_id))}
    for (rw,) in conn.execute(select(containers.c.rw_layer)):
        ids.add(rw)
        ids.add(rw + "-init")
    return ids
