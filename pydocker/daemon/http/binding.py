"""Reading typed values out of an API request: path, query and JSON body.

Every reader raises ``InvalidParameter`` naming the field, so a client that
sends a wrong type learns which field is wrong.
"""

import json

from pydocker.errdefs import InvalidParameter

JSON_BODY_LIMIT = 16 * 1024 * 1024  # bytes; upload routes (load, import, archive) stream instead

# dockerd's httputils.BoolValue: any value but these (case and spaces aside) is true.
_FALSE = ("", "0", "no", "false", "none")


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
        """Absent: ``default``; present: true unless it says no, as dockerd reads flags."""
        value = self.str(name)
        if value is None:
            return default
        return value.strip().lower() not in _FALSE

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
            raise InvalidParameter("invalid filters: expected a JSON object")
        result = {}
        for key, value in raw.items():
            if value is None:  # Go's decoder keeps the key with no values
                result[key] = []
            elif isinstance(value, dict):
                result[key] = [k for k, on in value.items() if on]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                result[key] = value
            else:
                raise InvalidParameter(f"invalid filter {key!r}: expected a list of strings")
        return result


def parse_json_body(raw, required=True):
    """The request body as JSON, with null read as Go reads it (``go_nulls``); malformed JSON
    is a 400 that says where."""
    if len(raw) > JSON_BODY_LIMIT:
        raise InvalidParameter(f"request body too large: {len(raw)} bytes (limit {JSON_BODY_LIMIT})")
    if not raw.strip():
        if required:
            raise InvalidParameter("request body is empty: expected a JSON object")
        return None
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise InvalidParameter(f"malformed JSON in request body: {e}") from None
    return {} if body is None else go_nulls(body)


# The objects of the request bodies we serve that are Go maps, by their path in the body ("[]"
# an array's items, "*" any key of a map), and the JSON kind of their values. JSON cannot tell
# a map from a struct; tests/unit/test_api_spec.py checks this table against the v1.44
# description.
MAP_FIELDS = {
    "Labels": "string", "ExposedPorts": "object", "Volumes": "object", "Options": "string",
    "DriverOpts": "string", "HostConfig.Annotations": "string", "HostConfig.LogConfig.Config": "string",
    "HostConfig.PortBindings": "array", "HostConfig.StorageOpt": "string", "HostConfig.Sysctls": "string",
    "HostConfig.Tmpfs": "string", "HostConfig.DeviceRequests[].Options": "string",
    "HostConfig.Mounts[].VolumeOptions.DriverConfig.Options": "string",
    "HostConfig.Mounts[].VolumeOptions.Labels": "string", "DeviceRequests[].Options": "string",
    "NetworkingConfig.EndpointsConfig": "object", "NetworkingConfig.EndpointsConfig.*.DriverOpts": "string",
    "EndpointConfig.DriverOpts": "string", "IPAM.Options": "string",
    "IPAM.Config[].AuxiliaryAddresses": "string",
}
_ZERO = {"string": "", "object": dict, "array": list, "boolean": False, "integer": 0, "number": 0}

# The arrays of structs in the request bodies we serve, by path; tests/unit/test_api_spec.py
# checks this set against the v1.44 description.
STRUCT_ARRAYS = frozenset({
    "BlkioDeviceReadBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteBps", "BlkioDeviceWriteIOps",
    "BlkioWeightDevice", "DeviceRequests", "Devices", "Ulimits", "IPAM.Config",
    "HostConfig.BlkioDeviceReadBps", "HostConfig.BlkioDeviceReadIOps", "HostConfig.BlkioDeviceWriteBps",
    "HostConfig.BlkioDeviceWriteIOps", "HostConfig.BlkioWeightDevice", "HostConfig.DeviceRequests",
    "HostConfig.Devices", "HostConfig.Mounts", "HostConfig.Ulimits",
})


# The arrays of the request bodies we serve whose items are not structs, by path, and the kind
# of their items; tests/unit/test_api_spec.py checks this table against the v1.44 description.
ARRAY_ITEMS = {
    "Cmd": "string", "Entrypoint": "string", "Env": "string", "Healthcheck.Test": "string", "OnBuild": "string",
    "Shell": "string", "ConsoleSize": "integer", "DeviceCgroupRules": "string",
    "DeviceRequests[].Capabilities": "array", "DeviceRequests[].DeviceIDs": "string",
    "HostConfig.Binds": "string", "HostConfig.CapAdd": "string", "HostConfig.CapDrop": "string",
    "HostConfig.ConsoleSize": "integer", "HostConfig.DeviceCgroupRules": "string",
    "HostConfig.DeviceRequests[].Capabilities": "array", "HostConfig.DeviceRequests[].DeviceIDs": "string",
    "HostConfig.Dns": "string", "HostConfig.DnsOptions": "string", "HostConfig.DnsSearch": "string",
    "HostConfig.ExtraHosts": "string", "HostConfig.GroupAdd": "string", "HostConfig.Links": "string",
    "HostConfig.MaskedPaths": "string", "HostConfig.ReadonlyPaths": "string", "HostConfig.SecurityOpt": "string",
    "HostConfig.VolumesFrom": "string", "EndpointConfig.Aliases": "string", "EndpointConfig.DNSNames": "string",
    "EndpointConfig.IPAMConfig.LinkLocalIPs": "string", "EndpointConfig.Links": "string",
    "NetworkingConfig.EndpointsConfig.*.Aliases": "string", "NetworkingConfig.EndpointsConfig.*.DNSNames": "string",
    "NetworkingConfig.EndpointsConfig.*.IPAMConfig.LinkLocalIPs": "string",
    "NetworkingConfig.EndpointsConfig.*.Links": "string",
}


def _zero(kind):
    """A fresh zero value of a JSON kind, as Go stores it for null."""
    zero = _ZERO.get(kind)
    return zero() if callable(zero) else zero


def _struct_item(item, path):
    """An item of an array of structs: null is Go's zero struct; anything but an object is the
    client's error, named here so that no reader meets it."""
    if item is None:
        return {}
    if not isinstance(item, dict):
        raise InvalidParameter(f"invalid value for {path}: expected an array of objects, got {item!r} in it")
    return item


def go_nulls(value, path=""):
    """``value`` with every null read as Go's JSON decoder reads it into a fresh value: a null
    member of a struct is as if it were absent (its zero value), a null value in a map is kept
    as the zero value of the map's value type, a null item of an array is the zero value of
    its item type (the zero struct, "", 0)."""
    if isinstance(value, list):
        if path in STRUCT_ARRAYS:
            value = [_struct_item(item, path) for item in value]
        elif path in ARRAY_ITEMS:
            value = [_zero(ARRAY_ITEMS[path]) if item is None else item for item in value]
        return [go_nulls(item, path + "[]") for item in value]
    if not isinstance(value, dict):
        return value
    kind = MAP_FIELDS.get(path)
    if kind is not None:
        return {key: _zero(kind) if item is None else go_nulls(item, f"{path}.*")
                for key, item in value.items()}
    prefix = path + "." if path else ""
    return {key: go_nulls(item, prefix + key) for key, item in value.items() if item is not None}
