"""Which registry blobs hold a layer's content: recorded on pull and push, read on push.

Functions take a connection and run inside the caller's transaction (on the db thread).
"""

from sqlalchemy import insert, select

from pydocker.store.schema import layer_blobs


def record_blobs(conn, entries):
    """Remember (diff_id, blob digest, full repository name) triples; repeats are ignored."""
    for diff_id, digest, repository in entries:
        known = conn.execute(select(layer_blobs.c.diff_id).where(
            (layer_blobs.c.diff_id == diff_id) & (layer_blobs.c.digest == digest)
            & (layer_blobs.c.repository == repository))).first()
        if known is None:
            conn.execute(insert(layer_blobs).values(diff_id=diff_id, digest=digest,
                                                    repository=repository))


def blobs_of(conn, diff_ids):
    """{diff_id: [(blob digest, repository), ...]} for the given layers."""
    result = {diff_id: [] for diff_id in diff_ids}
    rows = conn.execute(select(layer_blobs.c.diff_id, layer_blobs.c.digest,
                               layer_blobs.c.repository)
                        .where(layer_blobs.c.diff_id.in_(list(diff_ids)))
                        .order_by(layer_blobs.c.repository))
    for diff_id, digest, repository in rows:
        result[diff_id].append((digest, repository))
    return result
