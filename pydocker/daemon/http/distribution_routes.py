"""Routes of the distribution endpoints: pull (``/images/create?fromImage=``), push,
``/auth`` and search. Credentials arrive as the ``X-Registry-Auth`` header (push, pull,
search) or the JSON body (``/auth``)."""

from pydocker.daemon.http.router import Route
from pydocker.errdefs import InvalidParameter
from pydocker.jobs import distribution
from pydocker.registry import AuthConfig, decode_registry_auth
from pydocker.registry.platform import Platform


def registry_auth(call):
    """The caller's registry credentials; a missing header means anonymous."""
    header = call.header("X-Registry-Auth")
    if isinstance(header, bytes):
        header = header.decode("ascii", "replace")
    return decode_registry_auth(header)


def pull_auth(call):
    """A pull's credentials: unreadable ones are anonymous, as dockerd reads them for pulls
    (a public image needs none); push and search refuse them."""
    try:
        return registry_auth(call)
    except InvalidParameter:
        return AuthConfig()


def bind_pull(call):
    q = call.query
    # A bad platform is a 400 before anything is dialled, as dockerd's.
    platform = Platform.parse(q.str("platform", "")) if q.str("platform") else None
    return distribution.PullRequest(image=q.str("fromImage"), tag=q.str("tag", ""),
                                    platform=platform, auth=pull_auth(call))


def bind_push(call):
    return distribution.PushRequest(call.args["name"], call.query.str("tag", ""),
                                    registry_auth(call))


def bind_login(call):
    body = call.json()
    return distribution.LoginRequest(AuthConfig.from_json(body if isinstance(body, dict) else {}))


def bind_search(call):
    q = call.query
    return distribution.SearchRequest(q.str("term", ""), q.int("limit", 25), q.filters(),
                                      registry_auth(call))


def distribution_routes():
    return [
        Route("POST", "/images/{name:.+}/push", "image.push", bind_push, kind="stream"),
        Route("POST", "/auth", "auth", bind_login),
        Route("GET", "/images/search", "image.search", bind_search),
    ]
