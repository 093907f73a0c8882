"""The input side of a layer tar: decompression and forward-only reading.

``tarfile`` in stream mode copies every byte through its own buffer.  Giving
it a file object that can only *seek forward* lets us use the faster
random-access reader on pipes and sockets too, and lets file data be copied
straight from the source: with ``copy_file_range`` in the kernel when the
source is an uncompressed regular file, with one reused buffer otherwise.
"""

import fcntl
import gzip
import io
import os
import stat
import zlib

from pydocker.engine.errors import InvalidParameter

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class TruncatedLayer(InvalidParameter):
    """The layer tar ended in the middle of a header or of file data."""


class _Gunzip:
    """gzip decompression that reports a damaged stream as bad input, not as a host error."""

    def __init__(self, stream):
        self._gzip = gzip.GzipFile(fileobj=stream, mode="rb")

    def read(self, size=-1):
        try:
            return self._gzip.read(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise TruncatedLayer(f"compressed layer is corrupt or truncated: {e}") from None

    def readinto(self, buf):
        try:
            return self._gzip.readinto(buf)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise TruncatedLayer(f"compressed layer is corrupt or truncated: {e}") from None


def open_layer(stream):
    """Wrap ``stream`` (file object) for tarfile, un-gzipping it if needed."""
    _widen_pipe(stream)
    direct_fd = _regular_fd(stream)
    # A regular file is read in place; anything else gets one large buffer in front.
    buffered = stream if direct_fd is not None else io.BufferedReader(_RawAdapter(stream), _CHUNK)
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return ForwardReader(_Gunzip(buffered), direct_fd=None)
    return ForwardReader(buffered, direct_fd=direct_fd)


class _RawAdapter(io.RawIOBase):
    """Lets ``io.BufferedReader`` sit on any object with ``read()`` (or ``readinto1()``)."""

    def __init__(self, stream):
        self._stream = stream

    def readable(self):
        return True

    def readinto(self, buf):
        readinto1 = getattr(self._stream, "readinto1", None)
        if readinto1 is not None:
            return readinto1(buf)  # takes what the stream has buffered, else one large raw read
        data = self._stream.read(len(buf))
        buf[:len(data)] = data
        return len(data)


def _widen_pipe(stream):
    """Fewer, larger transfers from a producer process: grow a pipe's buffer."""
    try:
        fd = stream.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _CHUNK)
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass  # not a pipe, or over the system's pipe-max-size: fine either way


def _regular_fd(stream):
    """The fd of ``stream`` if it is a regular file we may read by offset."""
    try:
        fd = stream.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode) and stream.seekable():
            return fd
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    return None


class ForwardReader:
    """A read-only file object whose ``seek`` only moves forward."""

    def __init__(self, stream, direct_fd):
        self._stream = stream
        self._direct_fd = direct_fd
        self._base = stream.tell() if direct_fd is not None else 0
        self._pos = 0
        self._buf = bytearray(_CHUNK)

    def tell(self):
        return self._pos

    def read(self, size=-1):
        self._sync()
        data = self._stream.read(size)
        self._pos += len(data)
        if 0 < size != len(data) and data:
            raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
        return data

    def seek(self, offset, whence=io.SEEK_SET):
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise io.UnsupportedOperation("layer tar streams only seek forward")
        self._skip(target - self._pos)
        return self._pos

    def _skip(self, count):
        if self._direct_fd is not None:
            self._pos += count  # positioned lazily by _sync()
            return
        while count:
            got = self._stream.readinto(memoryview(self._buf)[:min(count, _CHUNK)])
            if not got:
                raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
            self._pos += got
            count -= got

    def check_complete(self):
        """Fail if the last skip went past the end of a regular-file source."""
        if self._direct_fd is not None and os.fstat(self._direct_fd).st_size < self._base + self._pos:
            raise TruncatedLayer(f"layer tar is truncated before byte {self._pos}")

    def _sync(self):
        if self._direct_fd is not None:
            self._stream.seek(self._base + self._pos)

    def copy_to(self, fd, count):
        """Copy the next ``count`` bytes of the tar into file descriptor ``fd``."""
        if self._direct_fd is not None:
            self._copy_direct(fd, count)
            return
        view = memoryview(self._buf)
        while count:
            got = self._stream.readinto(view[:min(count, _CHUNK)])
            if not got:
                raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
            _write_all(fd, view[:got])
            self._pos += got
            count -= got

    def _copy_direct(self, fd, count):
        while count:
            done = os.copy_file_range(self._direct_fd, fd, count, self._base + self._pos)
            if not done:
                raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
            self._pos += done
            count -= done


def _write_all(fd, view):
    while view:
        view = view[os.write(fd, view):]
