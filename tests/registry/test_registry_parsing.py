"""Pure parsing pieces: auth challenges, platforms, digests, decompression."""

import bz2
import gzip
import hashlib
import io
import lzma

import pytest

from pydocker.errdefs import InvalidParameter, NotFound, SystemError_
from pydocker.registry import DigestMismatch, Platform, chain_ids
from pydocker.registry.auth import parse_challenges
from pydocker.registry.decompress import Decompressor
from pydocker.registry.digest import VerifyingReader
from pydocker.registry.platform import select_manifest
from pydocker.registry.progress import progress


def test_challenges():
    [bearer] = parse_challenges('Bearer realm="https://auth.example/token",'
                                'service="registry.example",scope="repository:a/b:pull,push"')
    assert bearer.scheme == "bearer"
    assert bearer.params == {"realm": "https://auth.example/token", "service": "registry.example",
                             "scope": "repository:a/b:pull,push"}
    [basic] = parse_challenges('Basic realm="basic-realm"')
    assert (basic.scheme, basic.params) == ("basic", {"realm": "basic-realm"})


def test_platforms():
    assert Platform.parse(None) == Platform("linux", "amd64", None)
    assert Platform.parse("linux/arm64") == Platform("linux", "arm64", "v8")
    assert Platform.parse("linux/aarch64/v8") == Platform("linux", "arm64", "v8")
    assert str(Platform.parse("linux/arm/v6")) == "linux/arm/v6"
    with pytest.raises(InvalidParameter, match="invalid platform"):
        Platform.parse("linux//v7")
    index = {"manifests": [
        {"digest": "sha256:1", "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
        {"digest": "sha256:2", "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": "sha256:3", "platform": {"os": "linux", "architecture": "amd64"}}]}
    assert select_manifest(index, Platform.parse("linux/arm64/v8"))["digest"] == "sha256:2"
    assert select_manifest(index, Platform())["digest"] == "sha256:3"
    with pytest.raises(NotFound):
        select_manifest(index, Platform.parse("linux/arm"))


def test_which_image_platforms_serve_a_request():
    """dockerd's OnlyPlatformWithFallback: the same platform, an older ARM variant, or the
    os and architecture when the image names no variant."""
    def image(architecture, variant=None, os="linux"):
        return Platform.of_image({"os": os, "architecture": architecture, "variant": variant})
    assert Platform.parse("linux/amd64").accepts(image("amd64"))
    assert Platform.parse("linux/amd64").accepts(image("x86_64"))
    assert not Platform.parse("linux/amd64").accepts(image("arm64"))
    assert not Platform.parse("linux/amd64").accepts(image("amd64", os="windows"))
    assert Platform.parse("linux/arm64").accepts(image("arm64"))
    assert Platform.parse("linux/arm64").accepts(image("aarch64", "8"))
    assert Platform.parse("linux/arm/v7").accepts(image("arm", "v6"))
    assert Platform.parse("linux/arm/v7").accepts(image("arm"))
    assert not Platform.parse("linux/arm/v6").accepts(image("arm", "v7"))
    assert not Platform.parse("linux/arm64").accepts(image("arm", "v7"))
    assert str(image("arm")) == "linux/arm" and str(image("arm", "v6")) == "linux/arm/v6"


def test_verifying_reader_raises_instead_of_eof():
    data = b"x" * 1000
    good = VerifyingReader(io.BytesIO(data), "sha256:" + hashlib.sha256(data).hexdigest())
    assert good.read() == data and good.read() == b"" and good.verified
    bad = VerifyingReader(io.BytesIO(data + b"!"), "sha256:" + hashlib.sha256(data).hexdigest())
    assert bad.read(1001) == data + b"!"
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        bad.read(10)
    with pytest.raises(InvalidParameter, match="invalid digest"):
        VerifyingReader(io.BytesIO(b""), "md5:abc")


def decompress_in_pieces(blob, piece):
    """What a download thread does: feed the blob as it arrives, ``piece`` bytes at a time."""
    decompressor = Decompressor()
    out = [decompressor.feed(blob[at:at + piece]) for at in range(0, len(blob), piece)]
    return b"".join(out) + decompressor.finish()


@pytest.mark.parametrize("piece", [1, 3, 4096, 1 << 20])
@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress, lambda d: d,
                                      lambda d: gzip.compress(d[:5000]) + gzip.compress(d[5000:])])
def test_decompression_by_magic(compress, piece):
    data = bytes(range(256)) * 400
    assert decompress_in_pieces(compress(data), piece) == data


def test_a_blob_shorter_than_any_magic_is_taken_as_it_is():
    assert decompress_in_pieces(b"abc", 2) == b"abc"


def test_truncated_gzip_is_an_error():
    blob = gzip.compress(bytes(range(256)) * 400)[:-20]
    with pytest.raises(SystemError_, match="decompression failed"):
        decompress_in_pieces(blob, 4096)


def test_corrupt_gzip_is_an_error():
    blob = bytearray(gzip.compress(bytes(range(256)) * 400))
    blob[20:40] = b"\xff" * 20
    with pytest.raises(SystemError_, match="decompression failed"):
        decompress_in_pieces(bytes(blob), 4096)


def test_chain_ids():
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert chain_ids([a, b]) == [a, "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()]


def test_progress_shape():
    message = progress("Downloading", "abc", 512, 2048)
    assert message["progressDetail"] == {"current": 512, "total": 2048}
    assert message["progress"].startswith("[============>") and message["progress"].endswith(
        "512B/2.048kB")


def test_zstd_layers_are_decompressed():
    import zstandard
    data = b"zstd payload" * 1000
    blob = zstandard.ZstdCompressor().compress(data)
    assert decompress_in_pieces(blob, 100) == data
    with pytest.raises(SystemError_, match="decompression"):
        decompress_in_pieces(blob[:len(blob) // 2], 100)
