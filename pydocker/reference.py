"""Image references, parsed and normalised the way Docker's distribution/reference does.

``busybox`` means ``docker.io/library/busybox:latest``; a first path component that contains
``.`` or ``:``, or is ``localhost``, or has upper-case letters, is a registry host. Users see
the *familiar* form (``busybox:latest``), the wire protocol needs the full one.
"""

import re
from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX_LENGTH = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
TAG_RE = re.compile(rf"^{_TAG}$")
DIGEST_RE = re.compile(rf"^{_DIGEST}$")
_HEX64_RE = re.compile(r"^[a-f0-9]{64}$")


def _invalid(detail=None):
    message = "invalid reference format"
    return InvalidParameter(f"{message}: {detail}" if detail else message)


@dataclass(frozen=True)
class Reference:
    """A normalised reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self):
        """The full repository name, e.g. ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self):
        """The repository name as users type it, e.g. ``busybox`` or ``localhost:5000/x``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        if self.path.startswith(OFFICIAL_REPO_PREFIX):
            rest = self.path[len(OFFICIAL_REPO_PREFIX):]
            if "/" not in rest:
                return rest
        return self.path

    @property
    def object(self):
        """What to ask the registry's manifest endpoint for: the digest if pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag):
        if not TAG_RE.match(tag):
            raise InvalidParameter(f"invalid tag format: {tag!r}")
        return Reference(self.domain, self.path, tag, None)

    def _suffix(self):
        out = f":{self.tag}" if self.tag else ""
        return out + (f"@{self.digest}" if self.digest else "")

    def __str__(self):
        return self.name + self._suffix()

    def familiar(self):
        """``busybox:latest`` style string for messages."""
        return self.familiar_name + self._suffix()


def split_domain(name):
    """Split a repository name into (domain, path), applying Docker's defaults."""
    first, sep, rest = name.partition("/")
    is_host = sep and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first)
    if not is_host:
        domain, path = DEFAULT_DOMAIN, name
    else:
        domain, path = first, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    return domain, path


def parse_reference(text, default_tag=True):
    """Parse a user-typed reference; add ``:latest`` when neither tag nor digest is given
    and ``default_tag`` is true. Raises InvalidParameter with Docker's wording."""
    if not isinstance(text, str) or not text:
        raise _invalid()
    if _HEX64_RE.match(text):
        raise InvalidParameter(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    match = REFERENCE_RE.match(text)
    if match is None:
        if REFERENCE_RE.match(text.lower()):
            raise _invalid("repository name must be lowercase")
        raise _invalid()
    name, tag, digest = match.groups()
    if len(name) > NAME_MAX_LENGTH:
        raise _invalid(f"repository name must not be more than {NAME_MAX_LENGTH} characters")
    domain, path = split_domain(name)
    if path.lower() != path:
        raise _invalid("repository name must be lowercase")
    if default_tag and not tag and not digest:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def parse_repository(text):
    """Parse a name that must carry neither tag nor digest (e.g. a mount source)."""
    ref = parse_reference(text, default_tag=False)
    if ref.tag or ref.digest:
        raise _invalid(f"{text!r} is not a repository name")
    return ref
