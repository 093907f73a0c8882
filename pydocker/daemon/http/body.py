"""Request bodies handed to their job while they still arrive.

twisted.web keeps a whole request body (``Request.gotLength`` opens a BytesIO or a
temporary file, ``handleContentChunk`` writes each piece the Content-Length or chunked
decoder hands it) and calls the resource only once the body has ended. A route that
declares ``stream_body`` (a build context, an imported layer, a ``docker cp`` upload)
instead gets its job started as soon as the headers are in, with a ``BodyPipe`` as its
body: the reactor feeds the pipe, a worker thread reads it, so receiving, extracting and
hashing are one pass; a chunked body's framing is decoded without copying its data
(``chunked.py``). The transport stops reading while the pipe holds more than
``HIGH_WATER`` bytes and reads again once the worker has taken it below ``LOW_WATER``.

The answer waits until the whole body was received (twisted.web cannot answer a request
it is still reading): ``ApiResource.render`` answers with the job it finds started. A job
that ends without reading all of the body lets the rest be discarded.
"""

import collections
import io
import threading

from twisted.python.threadable import isInIOThread
from twisted.web import server
from twisted.web.http import _ChunkedTransferDecoder

from pydocker.daemon.http.chunked import ChunkedBodyDecoder
from pydocker.errdefs import InvalidParameter

HIGH_WATER = 8 << 20
LOW_WATER = 2 << 20
READ_SIZE = 256 << 10  # what the transport reads at once while a body streams (a larger buffer costs
# more: each read allocates it anew; 256 KiB used the least reactor CPU of 128 KiB to 1 MiB)
# A reader holds a worker thread while it waits for the client: at most this many bodies
# stream at once (the others are kept whole first, as twisted.web does), and a client that
# sends nothing for IDLE_SECONDS gives its worker back.
MAX_STREAMED = 2
IDLE_SECONDS = 120


class BodyInterrupted(InvalidParameter):
    """The client went away before its request body ended."""


class BodyPipe(io.RawIOBase):
    """A request body in transit: ``feed``/``end``/``fail``/``discard`` on the reactor
    thread, reads on one worker thread (a read on the reactor would wait for itself)."""

    def __init__(self, reactor, pause, resume):
        super().__init__()
        self._reactor = reactor
        self._pause = pause
        self._resume = resume
        self._ready = threading.Condition()
        self._chunks = collections.deque()
        self._size = 0
        self._ended = False
        self._error = None
        self._discarding = False
        self._paused = False
        self._resume_pending = False
        self.received = 0

    # -- the reactor's side ---------------------------------------------------------
    def feed(self, *pieces):
        """The next bytes-like pieces of the body, in order (the views of one read come
        in one call, so the reader is woken once per read)."""
        with self._ready:
            if self._discarding:
                return
            size = sum(map(len, pieces))
            self._chunks.extend(pieces)
            self._size += size
            self.received += size
            full = self._size > HIGH_WATER
            self._paused = self._paused or full
            self._ready.notify()
        if full:
            self._pause()

    def end(self):
        """The body has ended."""
        with self._ready:
            self._ended = True
            self._ready.notify()

    def fail(self, error):
        """The body will not end: the reader gets ``error``."""
        with self._ready:
            self._error = error
            self._ready.notify()
        self.discard()

    def discard(self):
        """Nobody reads any more: drop what is buffered and what still comes."""
        with self._ready:
            self._discarding = True
            self._chunks.clear()
            self._size = 0
            self._ready.notify()
        self._resume_if_drained()

    def _resume_if_drained(self):
        with self._ready:
            self._resume_pending = False
            drained = self._paused and self._size <= LOW_WATER
            self._paused = self._paused and not drained
        if drained:
            self._resume()

    # -- the worker's side ----------------------------------------------------------
    def readable(self):
        return True

    def readinto(self, buf):
        if isInIOThread():
            raise RuntimeError("a streamed request body is read from a worker thread, never the reactor")
        view = memoryview(buf).cast("B")
        with self._ready:
            while not self._chunks and not self._ended and self._error is None and not self._discarding:
                if not self._ready.wait(IDLE_SECONDS) and not self._chunks:
                    self._error = BodyInterrupted(f"no request body data for {IDLE_SECONDS} s")
            if self._error is not None:
                raise self._error
            done = 0
            while self._chunks and done < len(view):
                chunk = self._chunks[0]
                take = min(len(chunk), len(view) - done)
                view[done:done + take] = chunk[:take]
                done += take
                if take == len(chunk):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
            self._size -= done
            wake = self._paused and self._size <= LOW_WATER and not self._resume_pending
            self._resume_pending = self._resume_pending or wake
        if wake:
            self._reactor.callFromThread(self._resume_if_drained)
        return done


class ApiRequest(server.Request):
    """A twisted.web request whose body may go to its job as it arrives.

    Once the headers are in, the site's resource is asked (``start_streaming``) whether
    the route takes its body as a stream (and fewer than MAX_STREAMED do); if it does,
    the job starts now with a
    ``BodyPipe`` and the body never touches ``self.content``. The method and URI are
    not on the request yet: twisted.web's channel holds them (``_command``, ``_path``);
    without them the body is kept whole, as for any other route."""

    streamed = None  # what start_streaming returned: an object with a ``body`` pipe

    def gotLength(self, length):
        start = getattr(self.channel.site.resource, "start_streaming", None)
        command, uri = getattr(self.channel, "_command", None), getattr(self.channel, "_path", None)
        if start is not None and command is not None and uri is not None:
            self.streamed = start(self, command, uri)
        if self.streamed is None:
            super().gotLength(length)
        else:
            self.content = io.BytesIO()
            self._decode_without_copies()

    def _decode_without_copies(self):
        """A chunked body's framing is decoded by ``ChunkedBodyDecoder`` in place of
        twisted's (the channel's ``_transferDecoder``; left alone if it is not there)."""
        decoder = getattr(self.channel, "_transferDecoder", None)
        if isinstance(decoder, _ChunkedTransferDecoder):
            pipe = self.streamed.body
            self.channel._transferDecoder = ChunkedBodyDecoder(lambda views: pipe.feed(*views),
                                                               decoder.finishCallback)

    def handleContentChunk(self, data):
        if self.streamed is None:
            super().handleContentChunk(data)
        else:
            self.streamed.body.feed(data)

    def requestReceived(self, command, path, version):
        if self.streamed is not None:
            self.streamed.body_ended()
        super().requestReceived(command, path, version)

    def connectionLost(self, reason):
        if self.streamed is not None:
            self.streamed.connection_lost(BodyInterrupted("the client closed the connection before the "
                                                          "request body ended"))
        super().connectionLost(reason)
