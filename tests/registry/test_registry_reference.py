"""Reference parsing and normalisation (distribution/reference's rules)."""

import pytest

from pydocker.errdefs import InvalidParameter
from pydocker.registry import parse_reference, parse_repository

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, full, familiar", [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("user/app", "docker.io/user/app:latest", "user/app:latest"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest", "127.0.0.1:5000/a/b/c:latest"),
    ("registry.example/ns/app", "registry.example/ns/app:latest", "registry.example/ns/app:latest"),
    ("Registry/app", "Registry/app:latest", "Registry/app:latest"),
    ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"),
    (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}", f"busybox@{DIGEST}"),
    (f"app:v1@{DIGEST}", f"docker.io/library/app:v1@{DIGEST}", f"app:v1@{DIGEST}"),
    ("a__b-c---d/e.f_g", "docker.io/a__b-c---d/e.f_g:latest", "a__b-c---d/e.f_g:latest"),
])
def test_normalisation(text, full, familiar):
    ref = parse_reference(text)
    assert str(ref) == full
    assert ref.familiar() == familiar


def test_parts_and_object():
    ref = parse_reference("localhost:5000/ns/app@" + DIGEST)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("localhost:5000", "ns/app", None, DIGEST)
    assert ref.object == DIGEST
    assert parse_reference("busybox").object == "latest"
    assert parse_reference("busybox", default_tag=False).tag is None
    assert str(parse_reference("busybox").with_tag("x")) == "docker.io/library/busybox:x"


@pytest.mark.parametrize("text, message", [
    ("Busybox", "invalid reference format: repository name must be lowercase"),
    ("user/App:tag", "invalid reference format: repository name must be lowercase"),
    ("", "invalid reference format"),
    ("busybox:", "invalid reference format"),
    ("bad name", "invalid reference format"),
    ("app:" + "t" * 129, "invalid reference format"),
    ("app@sha256:short", "invalid reference format"),
    ("-leading/app", "invalid reference format"),
    ("a" * 256, "must not be more than 255 characters"),
    ("ab" * 32, "cannot specify 64-byte hexadecimal strings"),
])
def test_invalid(text, message):
    with pytest.raises(InvalidParameter, match=message):
        parse_reference(text)


def test_repository_names_refuse_tags():
    assert parse_repository("127.0.0.1:5000/x").path == "x"
    with pytest.raises(InvalidParameter, match="is not a repository name"):
        parse_repository("busybox:latest")
