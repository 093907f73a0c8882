"""What a pull learns about an image: its manifest, its config and its layers' identities."""

import json
from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter
from pydocker.images.ids import chain_ids
from pydocker.registry import mediatypes
from pydocker.registry.digest import validate_digest


@dataclass(frozen=True)
class LayerInfo:
    """One layer: the compressed blob (``digest``, ``size``) and its uncompressed identity
    (``diff_id``) plus ``chain_id``, the identity of the whole stack up to this layer."""

    index: int
    digest: str
    size: int
    media_type: str
    diff_id: str
    chain_id: str
    parent_chain_id: str | None


def parse_json_object(data, what):
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise InvalidParameter(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidParameter(f"{what} is not a JSON object")
    return value


def _descriptor(entry, what):
    if not isinstance(entry, dict) or "digest" not in entry:
        raise InvalidParameter(f"{what}: descriptor without a digest")
    validate_digest(entry["digest"])
    size = entry.get("size")
    if not isinstance(size, int) or size < 0:
        raise InvalidParameter(f"{what}: descriptor {entry['digest']} has no valid size")
    return entry


def config_descriptor(manifest):
    return _descriptor(manifest.get("config"), "manifest config")


def layers_of(manifest, config):
    """Pair the manifest's layer blobs with the config's ``rootfs.diff_ids``."""
    blobs = [_descriptor(layer, "manifest layer") for layer in manifest.get("layers") or []]
    for blob in blobs:
        if blob.get("mediaType", mediatypes.DOCKER_LAYER_GZIP) not in mediatypes.LAYERS:
            raise InvalidParameter(f"unsupported layer media type {blob.get('mediaType')!r}")
    rootfs = config.get("rootfs") or {}
    diff_ids = rootfs.get("diff_ids") or []
    if rootfs.get("type") != "layers" or len(diff_ids) != len(blobs):
        raise InvalidParameter(f"image config lists {len(diff_ids)} diff_ids for "
                               f"{len(blobs)} layers")
    for diff_id in diff_ids:
        validate_digest(diff_id)
    chains = chain_ids(diff_ids)
    return [LayerInfo(i, blob["digest"], blob["size"],
                      blob.get("mediaType", mediatypes.DOCKER_LAYER_GZIP), diff_ids[i], chains[i],
                      chains[i - 1] if i else None)
            for i, blob in enumerate(blobs)]
