"""The route table: every (method, path) the daemon serves, the job behind it and its binder.

Endpoints that later work fills are listed in ``PENDING`` and answer 501 with a
message naming the feature, so clients get a clear error rather than a 404.
"""

from pydocker.daemon.http.router import Route
from pydocker.jobs import system


def bind_events(call):
    q = call.query
    return system.EventsRequest(
        since=system.parse_timestamp(q.str("since"), "since"),
        until=system.parse_timestamp(q.str("until"), "until"),
        filters=q.filters(),
    )


PING_HEADERS = (
    (b"Cache-Control", b"no-cache, no-store, must-revalidate"),
    (b"Pragma", b"no-cache"),
    (b"Builder-Version", b"1"),
    (b"Swarm", b"inactive"),
)


def system_routes():
    return [
        Route("GET", "/_ping", "ping", kind="text", content_type=b"text/plain; charset=utf-8", headers=PING_HEADERS),
        Route("HEAD", "/_ping", "ping", kind="text", content_type=b"text/plain; charset=utf-8", headers=PING_HEADERS),
        Route("GET", "/version", "version"),
        Route("GET", "/info", "info"),
        Route("GET", "/events", "events", bind_events, kind="stream"),
    ]


def all_routes():
    return system_routes()
