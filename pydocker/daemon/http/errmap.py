"""The one table from error kinds to HTTP status codes."""

from pydocker import errdefs

STATUS = [
    (errdefs.NotModified, 304),
    (errdefs.InvalidParameter, 400),
    (errdefs.Unauthorized, 401),
    (errdefs.Forbidden, 403),
    (errdefs.NotFound, 404),
    (errdefs.Conflict, 409),
    (errdefs.NotImplementedYet, 501),
    (errdefs.Unavailable, 503),
    (errdefs.PrerequisiteMissing, 500),
    (errdefs.PydockerError, 500),
]


def status_for(exc):
    """The HTTP status of an exception; unknown exceptions are internal errors."""
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500
