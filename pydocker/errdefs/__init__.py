"""Error kinds shared by jobs, drivers, libraries and the HTTP layer.

A package of its own (moby's ``errdefs`` idea) so that drivers and libraries
raise a kind without importing the engine. Code raises these by *kind*; the
HTTP layer maps each kind to a status code in one table
(``pydocker.daemon.http.errmap``), never by looking at message text. It
imports nothing, so the client and every driver may use it.
"""


class PydockerError(Exception):
    """Base class: an error whose message is meant for the user."""

    def __init__(self, message=""):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class InvalidParameter(PydockerError):
    """The request or configuration is wrong (HTTP 400)."""


class Unauthorized(PydockerError):
    """Credentials are missing or wrong (HTTP 401)."""


class Forbidden(PydockerError):
    """The action is not allowed (HTTP 403)."""


class NotFound(PydockerError):
    """The object does not exist (HTTP 404)."""


class Conflict(PydockerError):
    """The object's state forbids the action, or a name is taken (HTTP 409)."""


class NotModified(PydockerError):
    """Nothing to do: already in the requested state (HTTP 304)."""


class NotImplementedYet(PydockerError):
    """The endpoint or feature is not implemented (HTTP 501)."""


class Unavailable(PydockerError):
    """A dependency (registry, kernel feature at run time) is unavailable (HTTP 503)."""


class SystemError_(PydockerError):
    """An internal failure (HTTP 500)."""


class PrerequisiteMissing(PydockerError):
    """A driver cannot run here: a kernel feature, a tool or a backing
    filesystem is missing. Driver selection skips such drivers; an explicit
    choice of one is a start-up error carrying this message."""
