"""One HTTP request to a registry with the stdlib's http.client.

Why not urllib: pulls need control over redirects (a registry's ``Authorization`` must never
follow a redirect to another host, e.g. blob storage), ``Range`` requests, streaming request
bodies and per-host TLS contexts; http.client gives all that without a new dependency.
"""

import http.client
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from pydocker.registry.errors import RegistryUnavailable

DEFAULT_TIMEOUT = 60.0
MAX_REDIRECTS = 5
USER_AGENT = "pydocker/registry-client"
_REDIRECTS = (301, 302, 303, 307, 308)


class Response:
    """A response whose body may be streamed; closing it closes its connection."""

    def __init__(self, connection, raw, url):
        self._connection = connection
        self._raw = raw
        self.url = url
        self.status = raw.status
        self.headers = raw.headers

    def read(self, size=-1):
        try:
            return self._raw.read() if size is None or size < 0 else self._raw.read(size)
        except (OSError, http.client.HTTPException) as exc:
            raise RegistryUnavailable(f"connection to {urlsplit(self.url).netloc} broke: {exc}") from exc

    def readable(self):
        return True

    def close(self):
        self._raw.close()
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _connect(url, ssl_context, timeout):
    parts = urlsplit(url)
    if parts.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        return http.client.HTTPSConnection(parts.netloc, timeout=timeout, context=context)
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.netloc, timeout=timeout)
    raise RegistryUnavailable(f"unsupported URL scheme in {url!r}")


def send(method, url, headers=None, body=None, ssl_context=None, timeout=DEFAULT_TIMEOUT,
         follow_redirects=True):
    """Send one request (following redirects for GET/HEAD) and return a Response.

    Connection and TLS failures become RegistryUnavailable so callers can fall back to
    another endpoint. ``body`` may be bytes, a readable file object (set Content-Length
    in ``headers``) or an iterable of bytes (sent with chunked transfer encoding).
    """
    headers = {"User-Agent": USER_AGENT, **(headers or {})}
    origin = urlsplit(url).netloc
    for _ in range(MAX_REDIRECTS + 1):
        connection = _connect(url, ssl_context, timeout)
        path = urlsplit(url)._replace(scheme="", netloc="").geturl() or "/"
        chunked = body is not None and not isinstance(body, (bytes, bytearray)) \
            and not hasattr(body, "read")
        try:
            connection.request(method, path, body=body, headers=headers, encode_chunked=chunked)
            raw = connection.getresponse()
        except (OSError, http.client.HTTPException, ssl.SSLError, socket.timeout) as exc:
            connection.close()
            raise RegistryUnavailable(f"{method} {url}: {exc}") from exc
        response = Response(connection, raw, url)
        if not (follow_redirects and raw.status in _REDIRECTS and method in ("GET", "HEAD")):
            return response
        location = raw.headers.get("Location")
        response.close()
        if not location:
            raise RegistryUnavailable(f"{method} {url}: redirect without a Location")
        url = urljoin(url, location)
        if urlsplit(url).netloc != origin:
            # Credentials for the registry are not for the storage it redirects to.
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    raise RegistryUnavailable(f"{method} {url}: too many redirects")
