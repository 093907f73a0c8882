"""Decompression of layer blobs as they arrive, chosen by their magic bytes (as Docker does,
whatever the media type says): gzip, zstd, bzip2, xz, or a plain tar.

Push-style (``feed`` what came off the network, get what it decompresses to) so a download
thread can unpack a blob while it is still downloading."""

import bz2
import lzma
import zlib

import zstandard

from pydocker.errdefs import SystemError_

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"
_MAGIC_LENGTH = len(_XZ)
_ERRORS = (zlib.error, OSError, EOFError, lzma.LZMAError, zstandard.ZstdError)


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


class Decompressor:
    """``feed(data)`` returns the decompressed bytes ``data`` completes; ``finish()`` the rest,
    raising SystemError_ for a truncated stream. Concatenated gzip members are followed, as
    gzip(1) does. Corrupt data raises SystemError_ from either."""

    def __init__(self):
        self._head = b""            # bytes held until the magic can be told
        self._decompressor = None
        self._chosen = False
        self._members = False       # gzip: another member may follow the one that ended
        self._tail = b""            # bytes after an ended gzip member, too few to tell

    def feed(self, data):
        if not self._chosen:
            self._head += data
            if len(self._head) < _MAGIC_LENGTH:
                return b""
            data = self._choose()
        return self._checked(self._decompress, data)

    def finish(self):
        data = self._choose() if not self._chosen else b""
        out = self._checked(self._decompress, data)
        if self._decompressor is None:
            return out
        if not self._decompressor.eof:
            out += self._checked(getattr(self._decompressor, "flush", bytes))
            if not self._decompressor.eof:
                raise SystemError_("layer decompression failed: compressed stream is truncated")
        return out

    def _choose(self):
        data, self._head = self._head, b""
        self._decompressor = _decompressor_for(data)
        self._members = data.startswith(_GZIP)
        self._chosen = True
        return data

    def _decompress(self, data):
        if self._decompressor is None:
            return data
        out = []
        while data:
            if self._decompressor.eof:
                data = self._next_member(data)
                continue
            out.append(self._decompressor.decompress(data))
            data = self._decompressor.unused_data if self._decompressor.eof else b""
        return b"".join(out)

    def _next_member(self, data):
        """After a gzip member: the next member's bytes, or b"" (held until its magic can be
        told, or trailing bytes, ignored as gzip(1) ignores them)."""
        if not self._members:
            return b""
        self._tail += data
        if len(self._tail) < len(_GZIP):
            return b""
        data, self._tail = self._tail, b""
        if not data.startswith(_GZIP):
            self._members = False
            return b""
        self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return data

    @staticmethod
    def _checked(step, *args):
        try:
            return step(*args)
        except _ERRORS as exc:
            raise SystemError_(f"layer decompression failed: {exc}") from exc
