"""Registering a layer: apply a tar stream with a graph driver while hashing it.

The diff ID is the sha256 of the *uncompressed* tar, so the stream is
decompressed here (unless the caller already did) and hashed on its way into
the driver; its tar-split is recorded on the way too, so every stored layer can
be given back byte for byte (push, save). A layer that fails to apply (corrupt
tar, escape attempt, digest mismatch) is removed from the driver and its split
dropped before the error propagates: nothing half-made stays behind.
"""

import bz2
import gzip
import hashlib
import io
import lzma
import zlib

import zstandard

from pydocker.errdefs import InvalidParameter
from pydocker.images.ids import new_cache_id

_MAGIC = ((b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
          (b"BZh", lambda f: bz2.BZ2File(f, mode="rb")),
          (b"\xfd7zXZ\x00", lambda f: lzma.LZMAFile(f, mode="rb")),
          (b"\x28\xb5\x2f\xfd", lambda f: io.BufferedReader(
              zstandard.ZstdDecompressor().stream_reader(f, closefd=False), _CHUNK)))
_CHUNK = 1 << 20
_CORRUPT_COMPRESSION = (gzip.BadGzipFile, zlib.error, lzma.LZMAError, EOFError, zstandard.ZstdError)


def decompressed(stream):
    """``stream`` with gzip, bzip2, xz or zstd compression removed (as ``docker import``
    and ``load`` accept)."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(_Raw(stream), _CHUNK)
    head = buffered.peek(6)[:6]
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener(buffered)
    return buffered


class _Raw(io.RawIOBase):
    def __init__(self, stream):
        self._stream = stream

    def readable(self):
        return True

    def readinto(self, buf):
        data = self._stream.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def drain(self):
        """Read to the end, so trailing padding after the tar's end counts too."""
        while self.read(_CHUNK):
            pass


class HashingReader(_Raw):
    """Hashes every byte read through it; ``digest`` is ``<algorithm>:<hex>``.

    Subclasses hear of the end of the stream through ``at_end`` (the registry's
    VerifyingReader checks the digest there)."""

    def __init__(self, stream, algorithm="sha256"):
        super().__init__(stream)
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def readinto(self, buf):
        n = super().readinto(buf)
        if n:
            self._hash.update(buf[:n])
            self.size += n
        else:
            self.at_end()
        return n

    def at_end(self):
        """Called each time the source reports its end."""

    @property
    def digest(self):
        return f"{self._hash.name}:{self._hash.hexdigest()}"


def register_written(driver, splits, parent_cache_id, cache_id):
    """Record layer ``cache_id``, already written on ``parent_cache_id`` (a build step's
    files): its diff is read once for the diff ID and the tar-split, never applied again;
    return (diff_id, size)."""
    diff = driver.diff(cache_id, parent_cache_id)
    try:
        recorder = splits.recorder(diff)
        try:
            reader = HashingReader(recorder)
            reader.drain()
            recorder.commit(reader.digest)
        except BaseException:
            recorder.discard()
            raise
    finally:
        diff.close()
    return reader.digest, driver.diff_size(cache_id, parent_cache_id)


def register_layer(driver, splits, parent_cache_id, stream, expected_diff_id=None, decompress=True,
                   verified=False):
    """Apply ``stream`` as a new layer on ``parent_cache_id``, recording its tar-split in
    ``splits`` (a LayerSplits); return (cache_id, diff_id, size).

    With ``expected_diff_id`` (load, pull) a mismatch is an error and the layer is removed.
    ``decompress=False`` is for a stream that is already the plain tar (a pull decompressed
    it by the blob's magic): its first bytes are then never taken for compression magic.
    ``verified=True``: the caller already hashed the stream's bytes to ``expected_diff_id``
    (a pull, while downloading), so they are not hashed a second time.
    """
    if verified and not expected_diff_id:
        raise ValueError("a verified layer stream needs the diff ID it was verified against")
    recorder = splits.recorder(decompressed(stream) if decompress else stream)
    cache_id = new_cache_id()
    try:
        driver.create(cache_id, parent_cache_id)
    except BaseException:
        recorder.discard()
        raise
    try:
        reader = _Raw(recorder) if verified else HashingReader(recorder)
        size = driver.apply_diff(cache_id, parent_cache_id, io.BufferedReader(reader, _CHUNK))
        reader.drain()
        diff_id = expected_diff_id if verified else reader.digest
        if expected_diff_id and diff_id != expected_diff_id:
            raise InvalidParameter(f"layer content does not match its diff ID: expected "
                                   f"{expected_diff_id}, got {diff_id}")
        recorder.commit(diff_id)
    except BaseException as exc:
        recorder.discard()
        driver.remove(cache_id)
        if isinstance(exc, _CORRUPT_COMPRESSION):
            raise InvalidParameter(f"the layer's compressed data is corrupt: {exc}") from exc
        raise
    return cache_id, diff_id, size
