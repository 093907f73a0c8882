"""The Registry HTTP API v2, one endpoint at a time: ping, manifests, blobs, uploads.

A RegistryClient holds one endpoint and one Authorizer; a Repository binds it to a
repository path. Every manifest is verified against its digest before it is returned.
"""

import json
from urllib.parse import urlencode, urljoin, urlsplit

from pydocker.errdefs import (Forbidden, InvalidParameter, NotFound, SystemError_,
                                    Unauthorized)
from pydocker.registry import mediatypes, transport
from pydocker.registry.auth import Authorizer, repository_scope
from pydocker.registry.digest import check_digest, digest_of, validate_digest
from pydocker.registry.errors import RegistryUnavailable

MAX_MANIFEST_SIZE = 4 << 20  # what distribution accepts; a larger answer is not a manifest


def error_message(body):
    """Render the registry's ``{"errors": [...]}`` body the way the docker CLI shows it."""
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    parts = [f"{e.get('code', 'unknown').lower()}: {e.get('message', '')}" for e in errors
             if isinstance(e, dict)]
    if parts:
        return "; ".join(parts)
    text = body.decode(errors="replace").strip() if isinstance(body, bytes) else str(body)
    return text[:200] or "no details"


def raise_for_status(response, what):
    """Map an unexpected registry answer to the engine's error kinds."""
    body = response.read(64 << 10) if response.status >= 400 else b""
    detail = error_message(body) if body else f"HTTP {response.status}"
    status = response.status
    if status == 401:
        raise Unauthorized(f"{what}: {detail}")
    if status == 403:
        raise Forbidden(f"{what}: {detail}")
    if status == 404:
        raise NotFound(f"{what}: {detail}")
    if status in (400, 405, 413, 416):
        raise InvalidParameter(f"{what}: {detail}")
    if status >= 500 or status == 429:
        raise RegistryUnavailable(f"{what}: {detail}")
    raise SystemError_(f"{what}: unexpected HTTP {status}: {detail}")


class RegistryClient:
    """One registry endpoint with its credentials."""

    def __init__(self, endpoint, credentials=None, ssl_context_for=lambda url: None,
                 timeout=transport.DEFAULT_TIMEOUT):
        self.endpoint = endpoint
        self.authorizer = Authorizer(credentials, ssl_context_for)
        self.timeout = timeout

    def url(self, path):
        return self.endpoint.base_url + path

    def ping(self):
        """GET /v2/: check this is a v2 registry and learn its auth challenge."""
        with self._send("GET", self.url("/v2/")) as response:
            response.read()
            if response.status == 401:
                self.authorizer.learn(response.headers.get("WWW-Authenticate", ""))
            elif response.status != 200:
                raise RegistryUnavailable(f"{self.endpoint.base_url} is not a v2 registry: "
                                          f"GET /v2/ answered {response.status}")
            return response.headers.get("Docker-Distribution-API-Version")

    def _send(self, method, url, headers=None, body=None, follow_redirects=True):
        return transport.send(method, url, headers=headers, body=body,
                              ssl_context=self.endpoint.ssl_context, timeout=self.timeout,
                              follow_redirects=follow_redirects)

    def request(self, method, url, scopes, headers=None, body=None, follow_redirects=True):
        """Send with authorization for ``scopes``; on a 401 learn the challenge and retry once
        (only when the body can be sent again)."""
        headers = dict(headers or {})
        for attempt in range(2):
            authorization = self.authorizer.header(scopes)
            if authorization:
                headers["Authorization"] = authorization
            response = self._send(method, url, headers, body, follow_redirects)
            retryable = body is None or isinstance(body, (bytes, bytearray))
            if response.status != 401 or attempt or not retryable:
                return response
            challenge = response.headers.get("WWW-Authenticate", "")
            response.read()
            response.close()
            if not challenge:
                break
            self.authorizer.learn(challenge)
        return response

    def repository(self, path, actions=("pull",)):
        return Repository(self, path, actions)


class Repository:
    """API calls for one repository path (``library/busybox``)."""

    def __init__(self, client, path, actions=("pull",)):
        self.client = client
        self.path = path
        self.scopes = [repository_scope(path, actions)]

    def _url(self, kind, ref=""):
        return self.client.url(f"/v2/{self.path}/{kind}/{ref}")

    def _request(self, method, url, headers=None, body=None, scopes=None, **kw):
        return self.client.request(method, url, scopes or self.scopes, headers, body, **kw)

    def get_manifest(self, ref, accept=mediatypes.ACCEPTED_MANIFESTS):
        """Return (bytes, media_type, digest) for a tag or digest, verified against the digest
        (the one asked for, else the registry's ``Docker-Content-Digest``)."""
        with self._request("GET", self._url("manifests", ref),
                           {"Accept": ", ".join(accept)}) as response:
            if response.status != 200:
                raise_for_status(response, f"manifest for {self.path}:{ref}")
            length = int(response.headers.get("Content-Length") or 0)
            if length > MAX_MANIFEST_SIZE:
                raise InvalidParameter(f"manifest for {self.path}:{ref} is too large ({length} bytes)")
            data = response.read(MAX_MANIFEST_SIZE + 1)
            header_digest = response.headers.get("Docker-Content-Digest")
        if len(data) > MAX_MANIFEST_SIZE:
            raise InvalidParameter(f"manifest for {self.path}:{ref} is too large")
        expected = ref if ":" in ref else header_digest
        if expected:
            check_digest(data, expected, f"manifest for {self.path}:{ref}")
        digest = expected or digest_of(data)
        media_type = _media_type_of(data, response.headers.get("Content-Type", ""))
        return data, media_type, digest

    def list_tags(self):
        """The repository's tags (``GET /v2/<name>/tags/list``, following ``Link`` pages)."""
        tags, url = [], self._url("tags", "list")
        while url:
            with self._request("GET", url) as response:
                if response.status != 200:
                    raise_for_status(response, f"listing tags of {self.path}")
                try:
                    page = json.loads(response.read(MAX_MANIFEST_SIZE))
                except ValueError as exc:
                    raise SystemError_(f"tag list of {self.path} is not JSON: {exc}") from exc
                tags.extend(page.get("tags") or [])
                url = _next_page(response.headers.get("Link"), self.client.url("/"))
        return tags

    def put_manifest(self, ref, data, media_type):
        """Upload a manifest under a tag or digest; return its digest."""
        with self._request("PUT", self._url("manifests", ref),
                           {"Content-Type": media_type, "Content-Length": str(len(data))},
                           data) as response:
            if response.status not in (200, 201, 202):
                raise_for_status(response, f"pushing manifest {self.path}:{ref}")
            response.read()
            returned = response.headers.get("Docker-Content-Digest")
        digest = digest_of(data)
        if returned and returned != digest:
            raise SystemError_(f"registry stored manifest as {returned}, expected {digest}")
        return digest

    def stat_blob(self, digest, scopes=None):
        """The blob's size when the repository has it, else None."""
        validate_digest(digest)
        with self._request("HEAD", self._url("blobs", digest), scopes=scopes) as response:
            if response.status == 404:
                return None
            if response.status != 200:
                raise_for_status(response, f"checking blob {digest}")
            return int(response.headers.get("Content-Length") or 0)

    def open_blob(self, digest, offset=0):
        """Open a blob's body from ``offset``. Returns (response, resumed): ``resumed`` says
        the registry honoured the Range request; otherwise the body starts at byte 0."""
        validate_digest(digest)
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self._request("GET", self._url("blobs", digest), headers)
        if response.status not in (200, 206):
            try:
                raise_for_status(response, f"blob {digest}")
            finally:
                response.close()
        return response, response.status == 206

    def read_blob(self, digest, limit):
        """A small blob (an image config) in memory, verified."""
        response, _ = self.open_blob(digest)
        with response:
            data = response.read(limit + 1)
        if len(data) > limit:
            raise InvalidParameter(f"blob {digest} is larger than {limit} bytes")
        return check_digest(data, digest, f"blob {digest}")

    def mount_blob(self, digest, from_path):
        """Ask the registry to link ``digest`` from another repository. Returns True when it
        did (201); on 202 the registry opened an upload instead, which is cancelled."""
        scopes = self.scopes + [repository_scope(from_path, ["pull"])]
        url = self._url("blobs", "uploads/") + "?" + urlencode({"mount": digest, "from": from_path})
        with self._request("POST", url, {"Content-Length": "0"}, b"", scopes=scopes) as response:
            response.read()
            if response.status == 201:
                return True
            if response.status == 202:
                self._cancel(response.headers.get("Location"))
                return False
            if response.status in (401, 403, 404):
                return False  # no access to the source: upload instead
            raise_for_status(response, f"mounting {digest} from {from_path}")

    def _cancel(self, location):
        if location:
            with self._request("DELETE", self._location(location)) as response:
                response.read()

    def _location(self, location):
        if not location:
            raise SystemError_("registry answered an upload request without a Location")
        return urljoin(self.client.url("/"), location)

    def start_upload(self):
        with self._request("POST", self._url("blobs", "uploads/"), {"Content-Length": "0"},
                           b"") as response:
            response.read()
            if response.status != 202:
                raise_for_status(response, f"starting upload to {self.path}")
            return self._location(response.headers.get("Location"))

    def upload_chunk(self, location, data, offset):
        """PATCH one chunk at ``offset``; return the next upload location."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data)),
                   "Content-Range": f"{offset}-{offset + len(data) - 1}"}
        with self._request("PATCH", location, headers, data) as response:
            response.read()
            if response.status != 202:
                raise_for_status(response, f"uploading to {self.path}")
            return self._location(response.headers.get("Location"))

    def finish_upload(self, location, digest, data=b""):
        """PUT ?digest= (with the whole blob for a monolithic upload, or the last bytes)."""
        separator = "&" if urlsplit(location).query else "?"
        url = location + separator + urlencode({"digest": digest})
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        with self._request("PUT", url, headers, data) as response:
            response.read()
            if response.status not in (201, 204):
                raise_for_status(response, f"committing blob {digest} to {self.path}")


def _next_page(link, base):
    """The ``<url>; rel="next"`` target of a Link header, made absolute; None at the end."""
    if not link or 'rel="next"' not in link:
        return None
    return urljoin(base, link.split(";", 1)[0].strip().strip("<>"))


def _media_type_of(data, content_type):
    """The manifest's own ``mediaType`` field wins over the Content-Type header."""
    try:
        declared = json.loads(data).get("mediaType")
    except (ValueError, AttributeError) as exc:
        raise InvalidParameter(f"manifest is not a JSON object: {exc}") from exc
    media_type = declared or content_type.split(";")[0].strip()
    if not declared and media_type not in mediatypes.ACCEPTED_MANIFESTS:
        # OCI manifests may omit mediaType; tell an index from a manifest by its fields.
        media_type = mediatypes.OCI_INDEX if b'"manifests"' in data else mediatypes.OCI_MANIFEST
    return media_type
