"""Streaming decompression of layer blobs, chosen by their magic bytes (as Docker does,
whatever the media type says): gzip, zstd, bzip2, xz, or a plain tar."""

import bz2
import lzma
import zlib

import zstandard

from pydocker.errdefs import SystemError_

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"
CHUNK = 1 << 16


def _decompressor_for(head):
    if head.startswith(_GZIP):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if head.startswith(_ZSTD):
        return zstandard.ZstdDecompressor().decompressobj()
    if head.startswith(_BZIP2):
        return bz2.BZ2Decompressor()
    if head.startswith(_XZ):
        return lzma.LZMADecompressor()
    return None


class DecompressingReader:
    """A file-like ``read()`` over the decompressed bytes of ``source`` (itself file-like).
    Concatenated gzip members are followed, as gzip(1) does."""

    def __init__(self, source):
        self._source = source
        self._pending = source.read(CHUNK)
        self._decompressor = _decompressor_for(self._pending)
        self._buffer = b""
        self._eof = False

    def _fill(self):
        if self._pending:
            data, self._pending = self._pending, b""
        else:
            data = self._source.read(CHUNK)
        if not data:
            self._eof = True
            if self._decompressor is not None and hasattr(self._decompressor, "flush"):
                self._buffer += self._decompressor.flush()
            return
        if self._decompressor is None:
            self._buffer += data
            return
        self._buffer += self._decompressor.decompress(data)
        unused = getattr(self._decompressor, "unused_data", b"")
        if unused and unused.startswith(_GZIP):
            self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._pending = unused

    def _fill_checked(self):
        try:
            self._fill()
        except (zlib.error, OSError, EOFError, lzma.LZMAError, zstandard.ZstdError) as exc:
            raise SystemError_(f"layer decompression failed: {exc}") from exc
        if self._eof and getattr(self._decompressor, "eof", True) is False:
            raise SystemError_("layer decompression failed: compressed stream is truncated")

    def read(self, size=-1):
        while not self._eof and (size is None or size < 0 or len(self._buffer) < size):
            self._fill_checked()
        if size is None or size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readable(self):
        return True
