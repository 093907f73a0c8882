"""A chunked request body decoded without copying its data.

twisted.web's decoder appends every read to one buffer and copies each chunk out of it,
one call per chunk: for a build context (the docker CLI sends 32 KiB chunks) that was
most of the reactor's time. This one hands the chunks' data on as views of the bytes
the transport read, all of one read in one call, and copies only a chunk-size line or
a CRLF split between two reads. It keeps twisted's decoder's interface and limits and
raises its error for malformed framing, so the channel answers 400 as before.
"""

from twisted.web.http import _DataLoss, _MalformedChunkedDataError

MAX_SIZE_LINE = 1024  # twisted's maxChunkSizeLineLength
MAX_TRAILERS = 1 << 16
_HEX = frozenset(b"0123456789abcdefABCDEF")

_SIZE, _DATA, _DATA_END, _TRAILER, _FINISHED = range(5)


class ChunkedBodyDecoder:
    """``dataReceived`` decodes; ``deliver(views)`` gets the data of each read (a list
    of memoryviews), ``finish(rest)`` the bytes after the body, once."""

    def __init__(self, deliver, finish):
        self._deliver = deliver
        self._finish = finish
        self._state = _SIZE
        self._remaining = 0  # of the current chunk's data
        self._partial = b""  # the start of a line split between reads
        self._trailers = 0

    def dataReceived(self, data):
        view = memoryview(data)
        views = []
        pos, end = 0, len(data)
        while pos < end and self._state != _FINISHED:
            if self._state == _DATA:
                take = min(self._remaining, end - pos)
                views.append(view[pos:pos + take])
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._state = _DATA_END
                continue
            eol = data.find(b"\n", pos)
            if eol < 0:
                self._keep_partial(data[pos:])
                break
            line, self._partial = self._partial + data[pos:eol + 1], b""
            pos = eol + 1
            self._line(line)
        if views:
            self._deliver(views)
        if self._state == _FINISHED and self._finish is not None:
            finish, self._finish = self._finish, None
            finish(bytes(view[pos:]))

    def noMoreData(self):
        if self._state != _FINISHED:
            raise _DataLoss("the chunked request body ended before its last chunk")

    def _keep_partial(self, piece):
        self._partial += piece
        if len(self._partial) > (MAX_TRAILERS if self._state == _TRAILER else MAX_SIZE_LINE):
            raise _MalformedChunkedDataError("chunk framing line too long")

    def _line(self, line):
        if not line.endswith(b"\r\n"):
            raise _MalformedChunkedDataError("chunk framing line does not end with CRLF")
        if self._state == _DATA_END:
            if line != b"\r\n":
                raise _MalformedChunkedDataError("chunk data did not end with CRLF")
            self._state = _SIZE
        elif self._state == _SIZE:
            self._size_line(line)
        elif line == b"\r\n":
            self._state = _FINISHED
        else:
            self._trailers += len(line)
            if self._trailers > MAX_TRAILERS:
                raise _MalformedChunkedDataError("chunked body trailers too long")

    def _size_line(self, line):
        if len(line) > MAX_SIZE_LINE:
            raise _MalformedChunkedDataError("chunk size line too long")
        digits = line[:-2].split(b";", 1)[0]
        if not digits or not _HEX.issuperset(digits):
            raise _MalformedChunkedDataError("chunk size is not a hexadecimal number")
        self._remaining = int(digits, 16)
        self._state = _DATA if self._remaining else _TRAILER
