"""The input side of a layer tar: decompression and forward-only reading.

A layer arrives as a regular file (a downloaded blob), a pipe or a socket,
maybe gzip-compressed.  :class:`ForwardReader` gives the tar reader one
interface over all of them: ``read``, a ``seek`` that only moves forward,
and ``copy_to`` for file data.  From an uncompressed regular file, headers
are read with ``pread`` and data is copied by offset with
``copy_file_range``, inside the kernel; anything else is read through one
large buffer.
"""

import errno
import fcntl
import gzip
import io
import os
import stat
import zlib

from pydocker.errdefs import InvalidParameter

_GZIP_MAGIC = b"\x1f\x8b"
_NO_COPY_RANGE = (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)
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
    """A :class:`ForwardReader` of the (un-gzipped) tar in file object ``stream``."""
    _widen_pipe(stream)
    fd = _regular_fd(stream)
    if fd is not None:
        start = stream.tell()
        if os.pread(fd, 2, start) != _GZIP_MAGIC:
            return ForwardReader(None, direct_fd=fd, base=start)
    buffered = io.BufferedReader(_RawAdapter(stream), _CHUNK)
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return ForwardReader(_Gunzip(buffered))
    return ForwardReader(buffered)


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
    """Reads a layer tar front to back; ``seek`` may only move forward."""

    def __init__(self, stream, direct_fd=None, base=0):
        self._stream = stream
        self._direct_fd = direct_fd
        self._base = base
        self._pos = 0
        self._buf = bytearray(_CHUNK)

    def read(self, size):
        """Exactly ``size`` bytes, or b"" at the end; anything between is a truncated layer."""
        if self._direct_fd is not None:
            data = os.pread(self._direct_fd, size, self._base + self._pos)
        else:
            data = self._stream.read(size)
        self._pos += len(data)
        if 0 < len(data) < size:
            raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
        return data

    def seek(self, offset):
        """Move to absolute ``offset`` (never backwards)."""
        if offset < self._pos:
            raise io.UnsupportedOperation("layer tar streams only seek forward")
        self._skip(offset - self._pos)

    def _skip(self, count):
        if self._direct_fd is not None:
            self._pos += count  # reads are by offset: nothing to move
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

    def copy_to(self, fd, count, digest=None):
        """Copy the next ``count`` bytes of the tar into file descriptor ``fd``; ``digest``
        (a hashlib object) is updated with them on the way."""
        if self._direct_fd is not None:
            if digest is None:
                self._copy_direct(fd, count)
            else:
                self._copy_by_pread(fd, count, digest)
            return
        view = memoryview(self._buf)
        while count:
            got = self._stream.readinto(view[:min(count, _CHUNK)])
            if not got:
                raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
            if digest is not None:
                digest.update(view[:got])
            _write_all(fd, view[:got])
            self._pos += got
            count -= got

    def _copy_direct(self, fd, count):
        while count:
            try:
                done = os.copy_file_range(self._direct_fd, fd, count, self._base + self._pos)
            except OSError as e:
                if e.errno not in _NO_COPY_RANGE:
                    raise
                self._copy_by_pread(fd, count)  # another filesystem (EXDEV) or one without support
                return
            if not done:
                raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
            self._pos += done
            count -= done

    def _copy_by_pread(self, fd, count, digest=None):
        while count:
            data = os.pread(self._direct_fd, min(count, _CHUNK), self._base + self._pos)
            if not data:
                raise TruncatedLayer(f"layer tar is truncated at byte {self._pos}")
            if digest is not None:
                digest.update(data)
            _write_all(fd, memoryview(data))
            self._pos += len(data)
            count -= len(data)


def _write_all(fd, view):
    while view:
        view = view[os.write(fd, view):]
