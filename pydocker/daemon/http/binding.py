"""Reading typed values out of an API request: path, query and JSON body.

Every reader raises ``InvalidParameter`` naming the field, so a client that
sends a wrong type learns which field is wrong.
"""

import json

from pydocker.engine.errors import InvalidParameter

JSON_BODY_LIMIT = 16 * 1024 * 1024  # bytes; upload routes (load, import, archive) stream instead

_TRUE = ("1", "true", "True", "yes")
_FALSE = ("0", "false", "False", "no", "")


class Query:
    """Typed access to query parameters (Docker's conventions: 1/true, JSON filters)."""

    def __init__(self, args):
        self._args = {k.decode() if isinstance(k, bytes) else k:
                      [v.decode() if isinstance(v, bytes) else v for v in vs]
                      for k, vs in args.items()}

    def __contains__(self, name):
        return name in self._args

    def str(self, name, default=None):
        values = self._args.get(name)
        return values[-1] if values else default

    def list(self, name):
        return list(self._args.get(name, []))

    def bool(self, name, default=False):
        value = self.str(name)
        if value is None:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise InvalidParameter(f"invalid value for query parameter {name!r}: {value!r} is not a boolean")

    def int(self, name, default=None):
        value = self.str(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidParameter(f"invalid value for query parameter {name!r}: {value!r} is not an integer") from None

    def json(self, name, default=None):
        value = self.str(name)
        if value in (None, ""):
            return default
        try:
            return json.loads(value)
        except ValueError:
            raise InvalidParameter(f"invalid value for query parameter {name!r}: not valid JSON") from None

    def filters(self, name="filters"):
        """Docker's filters: {"key": ["v", ...]} or the legacy {"key": {"v": true}}."""
        raw = self.json(name, {})
        if not isinstance(raw, dict):
            raise InvalidParameter(f"invalid filters: expected a JSON object")
        result = {}
        for key, value in raw.items():
            if isinstance(value, dict):
                result[key] = [k for k, on in value.items() if on]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                result[key] = value
            else:
                raise InvalidParameter(f"invalid filter {key!r}: expected a list of strings")
        return result


def parse_json_body(raw, required=True):
    """The request body as JSON; malformed JSON is a 400 that says where."""
    if len(raw) > JSON_BODY_LIMIT:
        raise InvalidParameter(f"request body too large: {len(raw)} bytes (limit {JSON_BODY_LIMIT})")
    if not raw.strip():
        if required:
            raise InvalidParameter("request body is empty: expected a JSON object")
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise InvalidParameter(f"malformed JSON in request body: {e}") from None


class Fields:
    """Typed reads from a JSON object, naming the field path on a wrong type."""

    def __init__(self, data, where=""):
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidParameter(f"{where or 'request body'}: expected a JSON object, got {_kind(data)}")
        self.data = data
        self.where = where

    def _name(self, key):
        return f"{self.where}.{key}" if self.where else key

    def get(self, key, kind, default=None):
        value = self.data.get(key, default)
        if value is None:
            return default
        if kind is int and isinstance(value, bool):
            raise InvalidParameter(f"invalid type for field {self._name(key)}: expected integer, got boolean")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind):
            raise InvalidParameter(f"invalid type for field {self._name(key)}: expected {_kind_name(kind)}, got {_kind(value)}")
        return value

    def str_list(self, key, default=None):
        """A list of strings; Docker also accepts one string for some fields (Cmd, Entrypoint)."""
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise InvalidParameter(f"invalid type for field {self._name(key)}: expected a list of strings")

    def str_map(self, key):
        value = self.get(key, dict, {})
        for k, v in value.items():
            if not isinstance(v, str):
                raise InvalidParameter(f"invalid type for field {self._name(key)}.{k}: expected string, got {_kind(v)}")
        return value

    def sub(self, key):
        return Fields(self.get(key, dict, {}), self._name(key))


def _kind(value):
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _kind_name(kind):
    if isinstance(kind, tuple):
        return " or ".join(_kind_name(k) for k in kind)
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number"}.get(kind, kind.__name__)
