"""The one table from error kinds to HTTP status codes."""

from pydocker.engine import errors

STATUS = [
    (errors.NotModified, 304),
    (errors.InvalidParameter, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.NotImplementedYet, 501),
    (errors.Unavailable, 503),
    (errors.PrerequisiteMissing, 500),
    (errors.PydockerError, 500),
]


def status_for(exc):
    """The HTTP status of an exception; unknown exceptions are internal errors."""
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500
