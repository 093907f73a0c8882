"""Errors the client reports to the user.

Each carries the text the docker CLI would print; ``cli.main`` prints it on
stderr and exits with ``status``.
"""


class ClientError(Exception):
    """Base: a failure to report to the user."""

    status = 1

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self):
        return self.message


class APIError(ClientError):
    """The daemon answered with an error status and ``{"message": ...}``."""

    def __init__(self, http_status, message):
        super().__init__(f"Error response from daemon: {message}")
        self.http_status = http_status
        self.daemon_message = message

    @property
    def not_found(self):
        return self.http_status == 404


class ConnectionFailed(ClientError):
    """The daemon cannot be reached at all."""

    def __init__(self, url, reason=""):
        text = f"Cannot connect to the pydocker daemon at {url}. Is the daemon running?"
        super().__init__(text)
        self.reason = reason


class StreamError(ClientError):
    """A JSON progress stream reported ``errorDetail`` in-band."""


class StatusError(ClientError):
    """A command ended with a non-zero status and nothing more to say (e.g. ``run``)."""

    def __init__(self, status, message=""):
        super().__init__(message, status)
