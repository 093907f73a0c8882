"""Layer ids become path components, so they must be plain names."""

from pydocker.errdefs import InvalidParameter


def check_layer_id(id):
    if not isinstance(id, str) or not id or "/" in id or "\0" in id or id in (".", "..") or id.startswith("-"):
        raise InvalidParameter(f"invalid layer id {id!r}")
    return id
