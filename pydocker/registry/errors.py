"""Registry-specific error kinds, each a subclass of one of the engine's kinds so the HTTP
layer maps them to a status without knowing about registries."""

from pydocker.errdefs import SystemError_, Unavailable


class DigestMismatch(SystemError_):
    """Content did not hash to the digest it was announced under; nothing may be kept."""


class RegistryUnavailable(Unavailable):
    """The registry could not be reached or broke the connection; another endpoint
    (HTTP fallback, next mirror) or a later retry may succeed."""
