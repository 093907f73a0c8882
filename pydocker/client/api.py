"""The Engine API client: version negotiation, JSON calls, streams, hijack.

Negotiation follows the docker CLI: unless ``DOCKER_API_VERSION`` pins a
version, the first request is preceded by ``GET /_ping`` and the client uses
``min(1.44, server API-Version)``.
"""

import json

from pydocker import API_VERSION, __version__

from .errors import APIError, ClientError, StreamError
from .transport import Response, Transport

USER_AGENT = f"pydocker-client/{__version__}"


def version_tuple(version):
    try:
        return tuple(int(p) for p in version.split("."))
    except (AttributeError, ValueError):
        return (0,)


def negotiate(client_max, server_version):
    """The API version to speak: the lower of ours and the server's."""
    if not server_version:
        return client_max
    if version_tuple(server_version) < version_tuple(client_max):
        return server_version
    return client_max


def encode_query(params):
    """Query string for ``params``; None values are left out, bools are 1/0,
    dicts (filters) become JSON."""
    from urllib.parse import quote

    parts = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, dict):
            value = json.dumps(value, separators=(",", ":"))
        values = value if isinstance(value, list) else [value]
        parts.extend(f"{quote(key)}={quote(str(v), safe='')}" for v in values)
    return "?" + "&".join(parts) if parts else ""


def filters_param(pairs):
    """``--filter k=v`` values in the docker CLI's wire form ``{"k": {"v": true}}``."""
    if not pairs:
        return None
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ClientError("bad format of filter (expected name=value)")
        result.setdefault(key.strip().lower(), {})[value] = True
    return result


class APIClient:
    """Calls one daemon. ``version`` pins the API version (no negotiation)."""

    def __init__(self, host, tls=None, version=None, headers=None):
        self.transport = Transport(host, tls)
        self.host = host
        self._pinned = version
        self._version = version
        self.server_api_version = None
        self.extra_headers = dict(headers or {})

    @property
    def version(self):
        if self._version is None:
            self.ping()
        return self._version

    @property
    def negotiated_down(self):
        return self._pinned is None and self.version != API_VERSION

    def ping(self):
        """``GET /_ping``; records the server's API version and negotiates."""
        resp = self._send("GET", "/_ping", {}, None, versioned=False)
        with resp:
            body = resp.read()
        self.server_api_version = resp.header("API-Version")
        if self._version is None:
            self._version = negotiate(API_VERSION, self.server_api_version)
        if resp.status >= 400 and resp.status != 404:
            raise self._error(resp.status, body)
        return resp.headers

    def request(self, method, path, params=None, body=None, headers=None, versioned=True):
        """Send a request; raise APIError for an error status, else return the Response
        unread (stream it or call ``read``/``json``)."""
        hdrs = {}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        resp = self._send(method, path + encode_query(params), hdrs, body, versioned)
        if resp.status >= 400:
            with resp:
                raise self._error(resp.status, resp.read())
        return resp

    def _send(self, method, target, headers, body, versioned):
        if versioned:
            target = f"/v{self.version}{target}"
        all_headers = {"User-Agent": USER_AGENT, **self.extra_headers, **headers}
        return self.transport.request(method, target, all_headers, body)

    @staticmethod
    def _error(status, body):
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            message = body.decode("utf-8", "replace").strip() or f"HTTP {status}"
        return APIError(status, message)

    # Convenience wrappers -------------------------------------------------

    def json(self, method, path, params=None, body=None, headers=None):
        with self.request(method, path, params, body, headers) as resp:
            data = resp.read()
        return json.loads(data) if data.strip() else None

    def get(self, path, params=None):
        return self.json("GET", path, params)

    def post(self, path, params=None, body=None, headers=None):
        return self.json("POST", path, params, body, headers)

    def delete(self, path, params=None):
        return self.json("DELETE", path, params)

    def stream_json(self, method, path, params=None, body=None, headers=None):
        """Yield each JSON message of a newline-delimited stream."""
        with self.request(method, path, params, body, headers) as resp:
            yield from json_messages(resp)

    def hijack(self, path, params=None, body=None):
        """POST with ``Upgrade: tcp``; return the Response whose socket is now raw.

        A daemon that does not upgrade but answers 200 is accepted too (old
        daemons stream on the plain response)."""
        headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
        # No body unless given: attach does not read one, so stray bytes would
        # reach the container's stdin.
        resp = self.request("POST", path, params, body, headers)
        if resp.status not in (101, 200):
            resp.close()
            raise ClientError(f"unexpected status {resp.status} from hijack")
        return resp


def json_messages(resp: Response):
    """Decode a stream of JSON values separated by newlines (or nothing)."""
    decoder = json.JSONDecoder()
    buf = ""
    for line in resp.iter_lines():
        buf += line.decode("utf-8", "replace")
        while buf.strip():
            buf = buf.lstrip()
            try:
                value, end = decoder.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            yield value


def check_stream_error(message):
    """Raise StreamError for a progress message that carries ``error``."""
    if "errorDetail" in message or "error" in message:
        detail = message.get("errorDetail") or {}
        raise StreamError(detail.get("message") or message.get("error") or "unknown error")
