"""Registering a layer: apply a tar stream with a graph driver while hashing it.

The diff ID is the sha256 of the *uncompressed* tar, so the stream is
decompressed here and hashed on its way into the driver. A layer that fails
to apply (corrupt tar, escape attempt, digest mismatch) is removed from the
driver before the error propagates: nothing half-made stays behind.
"""

import bz2
import gzip
import hashlib
import io
import lzma

from pydocker.engine.errors import InvalidParameter
from pydocker.images.ids import new_cache_id

_MAGIC = ((b"\x1f\x8b", gzip.GzipFile), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile))


def decompressed(stream):
    """``stream`` with gzip, bzip2 or xz compression removed (as ``docker import`` accepts)."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(_Raw(stream), 1 << 20)
    head = buffered.peek(6)[:6]
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener(buffered, mode="rb")
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


class HashingReader(io.RawIOBase):
    """Hashes every byte read through it; ``digest`` is ``sha256:<hex>``."""

    def __init__(self, stream):
        self._stream = stream
        self._hash = hashlib.sha256()
        self.size = 0

    def readable(self):
        return True

    def readinto(self, buf):
        data = self._stream.read(len(buf))
        n = len(data)
        buf[:n] = data
        self._hash.update(data)
        self.size += n
        return n

    def drain(self):
        """Read to the end, so trailing padding after the tar's end counts too."""
        while self.read(1 << 20):
            pass

    @property
    def digest(self):
        return "sha256:" + self._hash.hexdigest()


def register_layer(driver, parent_cache_id, stream, expected_diff_id=None):
    """Apply ``stream`` as a new layer on ``parent_cache_id``; return (cache_id, diff_id, size).

    With ``expected_diff_id`` (load, pull) a mismatch is an error and the layer is removed.
    """
    cache_id = new_cache_id()
    driver.create(cache_id, parent_cache_id)
    try:
        reader = HashingReader(decompressed(stream))
        size = driver.apply_diff(cache_id, parent_cache_id, io.BufferedReader(reader, 1 << 20))
        reader.drain()
        if expected_diff_id and reader.digest != expected_diff_id:
            raise InvalidParameter(f"layer content does not match its diff ID: expected "
                                   f"{expected_diff_id}, got {reader.digest}")
    except BaseException:
        driver.remove(cache_id)
        raise
    return cache_id, reader.digest, size
