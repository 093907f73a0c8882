"""Docker's content identities.

- diff ID: sha256 of a layer's uncompressed tar;
- chain ID: the diff ID for a base layer, else sha256("<parent chain ID> <diff ID>");
- image ID: sha256 of the image config JSON bytes.
"""

import hashlib
import os


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chain_id(parent_chain_id, diff_id):
    if not parent_chain_id:
        return diff_id
    return sha256_digest(f"{parent_chain_id} {diff_id}".encode())


def chain_ids(diff_ids):
    """The chain ID of every prefix of ``diff_ids``."""
    result, parent = [], None
    for diff_id in diff_ids:
        parent = chain_id(parent, diff_id)
        result.append(parent)
    return result


def image_id(config_bytes):
    return sha256_digest(config_bytes)


def new_cache_id():
    """A random graph-driver id for a new layer (Docker's cache IDs)."""
    return os.urandom(32).hex()


def hex_of(digest):
    return digest.split(":", 1)[-1]


def short(digest):
    return hex_of(digest)[:12]
