"""register_layer: the tar-split is recorded with every layer (and dropped with a failed one);
``decompress=False`` takes the stream as the tar it is, even when it starts like gzip;
``verified=True`` records it under the diff ID the caller checked, without hashing it again.

A stand-in graph driver (a mock, as unit tests may use) keeps the applied bytes in memory;
the real drivers are exercised by the graph and integration tests."""

import gzip
import hashlib
import io
import os
import tarfile

import pytest

from pydocker.errdefs import InvalidParameter
from pydocker.images.layers import HashingReader, register_layer
from pydocker.images.tarsplit import LayerSplits
from pydocker.registry.digest import VerifyingReader


class MemoryDriver:
    """Mock graph driver: records what each layer was given."""

    def __init__(self, fail=False):
        self.layers = {}
        self.fail = fail

    def create(self, cache_id, parent):
        self.layers[cache_id] = b""

    def apply_diff(self, cache_id, parent, stream):
        data = stream.read()
        if self.fail:
            raise OSError("disk full")
        self.layers[cache_id] = data
        return len(data)

    def remove(self, cache_id):
        del self.layers[cache_id]


def gzip_looking_tar():
    """A valid tar whose first bytes are gzip's magic (its first member's name)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tar:
        info = tarfile.TarInfo(b"\x1f\x8b\x08name".decode("utf-8", "surrogateescape"))
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    data = buffer.getvalue()
    assert data.startswith(b"\x1f\x8b")
    return data


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_decompressed_stream_is_not_sniffed_again(tmp_path):
    data = gzip_looking_tar()
    splits = LayerSplits(str(tmp_path / "splits"))
    driver = MemoryDriver()
    cache_id, diff_id, size = register_layer(driver, splits, None, io.BytesIO(data), sha256(data),
                                             decompress=False)
    assert driver.layers[cache_id] == data and diff_id == sha256(data) and size == len(data)
    assert splits.has(diff_id)
    # Sniffed, the same bytes are taken for a gzip stream and fail to decompress.
    with pytest.raises(InvalidParameter, match="compressed data is corrupt"):
        register_layer(driver, splits, None, io.BytesIO(data))
    assert list(driver.layers) == [cache_id]


def test_compressed_upload_is_decompressed_and_its_split_recorded(tmp_path):
    data = gzip_looking_tar()
    splits = LayerSplits(str(tmp_path / "splits"))
    driver = MemoryDriver()
    cache_id, diff_id, _ = register_layer(driver, splits, None, io.BytesIO(gzip.compress(data)))
    assert driver.layers[cache_id] == data and diff_id == sha256(data)
    assert os.listdir(splits.directory) == [os.path.basename(splits.path(diff_id))]


def test_zstd_upload_is_decompressed(tmp_path):
    import zstandard
    data = gzip_looking_tar()
    splits = LayerSplits(str(tmp_path / "splits"))
    driver = MemoryDriver()
    blob = zstandard.ZstdCompressor().compress(data)
    cache_id, diff_id, _ = register_layer(driver, splits, None, io.BytesIO(blob))
    assert driver.layers[cache_id] == data and diff_id == sha256(data)
    with pytest.raises(InvalidParameter, match="compressed data is corrupt"):
        register_layer(driver, splits, None, io.BytesIO(blob[:30] + b"\0" * 64))


def test_a_verified_stream_is_recorded_under_its_diff_id_without_hashing_it_again(tmp_path, monkeypatch):
    data = gzip_looking_tar()
    splits = LayerSplits(str(tmp_path / "splits"))
    driver = MemoryDriver()
    hashed = []
    monkeypatch.setattr(HashingReader, "readinto", lambda self, buf: hashed.append(self) or 0)
    cache_id, diff_id, size = register_layer(driver, splits, None, io.BytesIO(data), sha256(data),
                                             decompress=False, verified=True)
    assert hashed == [] and driver.layers[cache_id] == data and size == len(data)
    assert diff_id == sha256(data) and splits.has(diff_id)
    with pytest.raises(ValueError, match="needs the diff ID"):
        register_layer(driver, splits, None, io.BytesIO(data), decompress=False, verified=True)


@pytest.mark.parametrize("driver, expected, error", [
    (MemoryDriver(fail=True), None, OSError),
    (MemoryDriver(), "sha256:" + "0" * 64, InvalidParameter),
])
def test_failed_layer_leaves_no_driver_layer_and_no_split(tmp_path, driver, expected, error):
    splits = LayerSplits(str(tmp_path / "splits"))
    with pytest.raises(error):
        register_layer(driver, splits, None, io.BytesIO(gzip_looking_tar()), expected, decompress=False)
    assert driver.layers == {} and os.listdir(splits.directory) == []


def test_verifying_reader_is_a_hashing_reader_that_checks_at_the_end():
    data = os.urandom(3000)
    hashing = HashingReader(io.BytesIO(data))
    assert hashing.read() == data and hashing.digest == sha256(data) and hashing.size == 3000
    verifying = VerifyingReader(io.BytesIO(data), sha256(data), expected_size=3000)
    assert isinstance(verifying, HashingReader)
    assert verifying.read(1000) == data[:1000] and not verifying.verified
    verifying.drain()
    assert verifying.verified
