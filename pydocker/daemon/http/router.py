"""Matching (method, path) to a route, and the API version policy.

A route names the job that serves it and a binder that turns the HTTP call
into the job's typed request. Paths may carry a ``/vX.Y`` prefix; a bare path
means the newest version.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from pydocker import API_VERSION, MIN_API_VERSION
from pydocker.errdefs import InvalidParameter, NotFound

_VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")
_PARAM = re.compile(r"\{(\w+)(?::([^}]+))?\}")


def parse_version(text):
    major, minor = text.split(".")
    return int(major), int(minor)


NEWEST = parse_version(API_VERSION)
OLDEST = parse_version(MIN_API_VERSION)


@dataclass
class Route:
    method: str
    pattern: str
    job: str
    bind: object = None  # callable(ApiCall) -> request object; None → no request
    status: int = 200  # success status for JSON results
    kind: str = "json"  # json | text | stream
    content_type: str = "application/json"
    headers: tuple = ()  # extra (name, value) response headers
    stream_body: bool = False  # the job reads the body (in a worker) while it arrives: body.py
    regex: re.Pattern = field(init=False, repr=False)

    def __post_init__(self):
        def to_group(m):
            return f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})"
        self.regex = re.compile("^" + _PARAM.sub(to_group, self.pattern) + "$")


class Router:
    def __init__(self, routes):
        self._by_method = {}
        for route in routes:
            self._by_method.setdefault(route.method, []).append(route)

    def match(self, method, path):
        """(route, path args, api version) for a request, or raise NotFound/InvalidParameter."""
        version, bare = split_version(path)
        for route in self._by_method.get(method, ()):
            m = route.regex.match(bare)
            if m:
                # Matched on the encoded path; the values are the decoded names
                # (a network called "test 01" arrives as test%2001).
                return route, {k: unquote(v) for k, v in m.groupdict().items()}, version
        raise NotFound("page not found")


def split_version(path):
    """('/v1.41/info') → ((1, 41), '/info'); enforces the supported range."""
    m = _VERSIONED.match(path)
    if not m:
        return NEWEST, path
    version = (int(m.group(1)), int(m.group(2)))
    text = f"{version[0]}.{version[1]}"
    if version > NEWEST:
        raise InvalidParameter(f"client version {text} is too new. Maximum supported API version is {API_VERSION}")
    if version < OLDEST:
        raise InvalidParameter(f"client version {text} is too old. Minimum supported API version is "
                               f"{MIN_API_VERSION}, please upgrade your client to a newer version")
    return version, m.group(3)
