"""Typed reads from JSON request bodies.

Every reader raises ``InvalidParameter`` naming the field path, so a client
that sends a wrong type learns exactly which field is wrong. ``check`` applies
a declarative table of field types to a whole object at once.
"""

import contextlib

from pydocker.errdefs import InvalidParameter

STR_LIST = "list of strings"
STR_MAP = "object of strings"
UINT_PAIR = "array of two unsigned integers"   # Go's [2]uint (ConsoleSize)


def check(obj, types, where):
    """Verify the types of the known fields of ``obj`` against ``types`` ({field: kind})."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise InvalidParameter(f"{where}: expected a JSON object, got {_kind(obj)}")
    for key, kind in types.items():
        value = obj.get(key)
        if value is None:
            continue
        name = f"{where}.{key}" if where else key
        if kind == STR_LIST:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise InvalidParameter(f"invalid type for field {name}: expected a list of strings, got {_kind(value)}")
        elif kind == UINT_PAIR:
            if not (isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                    for v in value)):
                raise InvalidParameter(f"invalid type for field {name}: expected {UINT_PAIR}, got {_kind(value)}")
        elif kind == STR_MAP:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise InvalidParameter(f"invalid type for field {name}: expected an object of strings")
        elif kind is int and isinstance(value, bool) or not isinstance(value, kind):
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                continue
            raise InvalidParameter(f"invalid type for field {name}: expected {_kind_name(kind)}, got {_kind(value)}")
    return obj


@contextlib.contextmanager
def naming(field):
    """A refusal (InvalidParameter) of what ``field`` holds, raised by a reader that does not
    know the field's place in the body, names the field, as dockerd's JSON errors do."""
    try:
        yield
    except InvalidParameter as e:
        raise InvalidParameter(f"{e} ({field})") from None


def uint_pair(value):
    """A checked UINT_PAIR as Go stores it: items missing are 0, items beyond two dropped."""
    return (list(value or []) + [0, 0])[:2]


def _kind(value):
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _kind_name(kind):
    if isinstance(kind, tuple):
        return " or ".join(_kind_name(k) for k in kind)
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number"}.get(kind, kind.__name__)
