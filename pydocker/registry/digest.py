"""Content digests (``sha256:<hex>``) and a reader that verifies one while data streams past
(the layer store's HashingReader, checked at the end)."""

import hashlib
import re

from pydocker.errdefs import InvalidParameter
from pydocker.images.layers import HashingReader
from pydocker.registry.errors import DigestMismatch

_ALGORITHMS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^([a-z0-9]+):([a-f0-9]+)$")


def validate_digest(digest):
    """Return (algorithm, hex) for a supported digest string, else raise InvalidParameter."""
    match = _DIGEST_RE.match(digest or "")
    if not match or _ALGORITHMS.get(match.group(1)) != len(match.group(2)):
        raise InvalidParameter(f"invalid digest {digest!r}: expected sha256:<64 hex digits>")
    return match.group(1), match.group(2)


def hasher_for(digest):
    algorithm, _ = validate_digest(digest)
    return hashlib.new(algorithm)


def digest_of(data, algorithm="sha256"):
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def short_id(digest):
    """The 12-hex-digit id Docker shows for layers in progress messages."""
    return digest.split(":", 1)[-1][:12]


def check_digest(data, expected, what="content"):
    """Verify in-memory bytes (manifests, configs) against their digest."""
    algorithm, _ = validate_digest(expected)
    actual = digest_of(data, algorithm)
    if actual != expected:
        raise DigestMismatch(f"{what} digest mismatch: expected {expected}, got {actual}")
    return data


class VerifyingReader(HashingReader):
    """Wrap a binary file object; hash what is read and, instead of returning the final
    end-of-file, raise DigestMismatch when the bytes did not hash to ``expected``.

    A consumer that stops at the first ``b""`` therefore only ever sees an EOF for
    content that verified (the staging contract documented in ``pydocker.registry``).
    """

    def __init__(self, fileobj, expected, what="content", expected_size=None):
        algorithm, _ = validate_digest(expected)
        super().__init__(fileobj, algorithm)
        self._expected = expected
        self._what = what
        self._expected_size = expected_size
        self.verified = False

    def at_end(self):
        if self.verified:
            return
        if self._expected_size is not None and self.size != self._expected_size:
            raise DigestMismatch(f"{self._what} size mismatch: expected {self._expected_size} "
                                 f"bytes, got {self.size}")
        if self.digest != self._expected:
            raise DigestMismatch(f"{self._what} digest mismatch: expected {self._expected}, "
                                 f"got {self.digest}")
        self.verified = True
