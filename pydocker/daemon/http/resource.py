"""The twisted.web side of the API: one leaf resource that routes every request.

It knows HTTP and nothing of containers: it matches the route, binds the
typed request, runs the named job on the engine, and writes the result as
JSON, as a stream, or as an error ``{"message": ...}`` with the status from
``errmap``.
"""

import json
from urllib.parse import parse_qs

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import resource, server

from pydocker import API_VERSION, __version__
from pydocker.daemon.http import errmap, websocket
from pydocker.daemon.http.binding import Query, parse_json_body
from pydocker.daemon.http import body as request_body
from pydocker.daemon.http.body import READ_SIZE, ApiRequest, BodyPipe
from pydocker.daemon.http.flow import WriteFlow
from pydocker.daemon.http.hijack import hijack
from pydocker.daemon.http.router import Router
from pydocker.errdefs import PydockerError
from pydocker.engine.job import JobOutput

SERVER_HEADER = f"pydocker/{__version__} (linux)"


class ApiCall:
    """What a binder sees of one HTTP request."""

    def __init__(self, request, args, version, query_args=None, body=None):
        self._request = request
        self.args = args
        self.version = version
        self.query = Query(request.args if query_args is None else query_args)
        self._body = body

    def header(self, name, default=None):
        value = self._request.getHeader(name)
        return default if value is None else value

    @property
    def body(self):
        """The body as a binary file object (uploads: load, import, archive); for a route
        with ``stream_body``, a ``BodyPipe`` a worker thread reads while it arrives."""
        if self._body is not None:
            return self._body
        self._request.content.seek(0)
        return self._request.content

    def json(self, required=True):
        self._request.content.seek(0)
        return parse_json_body(self._request.content.read(), required)


class HttpJobOutput(JobOutput):
    """A streaming job's output written into a chunked HTTP response."""

    def __init__(self, request, content_type, held=False):
        self._request = request
        self._content_type = content_type
        self.headers_sent = False
        self._held = [] if held else None  # writes kept until the request was read whole
        self._close_callbacks = []
        self._flow = WriteFlow(lambda producer: request.registerProducer(producer, True),
                               request.unregisterProducer)
        request.notifyFinish().addBoth(self._finished)

    def set_content_type(self, content_type):
        self._content_type = content_type.encode() if isinstance(content_type, str) else content_type

    def release(self):
        """The request has been read whole: send what was held."""
        held, self._held = self._held or [], None
        for data in held:
            self.write(data) if data is not None else self.flush_headers()

    def flush_headers(self):
        if self._held is not None:
            self._held.append(None)
            return
        if not self.headers_sent and not self.closed:
            self.headers_sent = True
            self._request.setHeader(b"Content-Type", self._content_type)
            # An empty write makes twisted.web send the status line and headers now.
            self._request.write(b"")

    def write(self, data):
        if self.closed:
            return
        if self._held is not None:
            self._held.append(data)
            return
        self.flush_headers()
        if data:
            self._request.write(data)

    def on_close(self, callback):
        if self.closed:
            callback()
        else:
            self._close_callbacks.append(callback)

    def set_header(self, name, value):
        self._request.setHeader(name, value)

    def when_writable(self):
        if self.closed or self._held is not None:
            return defer.succeed(None)
        return self._flow.when_writable()

    def finish(self):
        """End the response (unregistering the producer first, as twisted.web requires)."""
        self._flow.finish()
        self._request.finish()

    def _finished(self, _):
        self.closed = True
        self._flow.resumeProducing()
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            callback()


class Upgrader(JobOutput):
    """The output of a hijacking job (attach, exec start): the job validates its request,
    then calls ``upgrade()`` to take the connection over and gets the raw stream."""

    def __init__(self, request, content_type):
        self._request = request
        self._content_type = content_type
        self.stream = None

    def set_content_type(self, content_type):
        self._content_type = content_type.encode() if isinstance(content_type, str) else content_type

    def upgrade(self):
        if self.stream is None:
            self.stream = hijack(self._request, self._content_type)
        return self.stream

    def finish(self):
        """The job ended: close the stream, or answer plainly if it never upgraded (exec -d)."""
        if self.stream is not None:
            self.stream.close()
        else:
            write_whole(self._request, 200, None, b"")

    def fail(self, failure, respond):
        """Before the upgrade an error is an HTTP response; after it, the stream just closes."""
        if self.stream is None:
            respond()
        else:
            Logger().debug("hijacked job failed: {err}", err=failure.getErrorMessage())
            self.stream.close()


class ApiResource(resource.Resource):
    isLeaf = True
    log = Logger()

    def __init__(self, engine, routes, cors_origin=""):
        super().__init__()
        self._engine = engine
        self._router = Router(routes)
        self._cors_origin = cors_origin
        self._streaming = set()  # the _StreamedCalls whose body is still arriving

    def render(self, request):
        request.setHeader(b"Server", SERVER_HEADER)
        request.setHeader(b"Api-Version", API_VERSION)
        request.setHeader(b"Docker-Experimental", b"false")
        request.setHeader(b"Ostype", b"linux")
        if self._cors_origin:
            request.setHeader(b"Access-Control-Allow-Origin", self._cors_origin)
            request.setHeader(b"Access-Control-Allow-Headers",
                              b"Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth")
            request.setHeader(b"Access-Control-Allow-Methods", b"HEAD, GET, POST, DELETE, PUT, OPTIONS")
            if request.method == b"OPTIONS":
                return b""
        streamed = getattr(request, "streamed", None)
        if streamed is not None:
            streamed.answer()
            return server.NOT_DONE_YET
        job_id = request.job_id = self._engine.new_job_id()
        try:
            route, args, version = self._router.match(request.method.decode(), request.path.decode("utf-8", "replace"))
            job_request = route.bind(ApiCall(request, args, version)) if route.bind else None
        except Exception as e:
            self._error(request, e)
            return server.NOT_DONE_YET
        if route.kind == "websocket":
            def start(stream):
                d = self._engine.job(route.job, job_request, stream, job_id)
                d.addBoth(lambda _: stream.close())
            return websocket.serve(request, start)
        _, answer = self._start(request, route, job_request, job_id)
        answer()
        return server.NOT_DONE_YET

    def start_streaming(self, request, command, uri):
        """Called by ``ApiRequest`` once a request's headers are in: a route with
        ``stream_body`` gets its job started now, its body a ``BodyPipe`` (see body.py).
        None for every other request (``render`` deals with it, errors included)."""
        reactor = getattr(request.channel.transport, "reactor", None)
        path, _, query = uri.partition(b"?")
        try:
            route, args, version = self._router.match(command.decode(), path.decode("utf-8", "replace"))
        except Exception:
            return None
        if not route.stream_body or route.kind not in ("json", "stream") or reactor is None:
            return None  # a hijack or websocket takes the connection over: never mid-body
        if len(self._streaming) >= request_body.MAX_STREAMED:
            return None
        transport = request.channel.transport
        transport.bufferSize = max(getattr(transport, "bufferSize", 0), READ_SIZE)  # fewer, larger reads
        body = BodyPipe(reactor, transport.pauseProducing, transport.resumeProducing)
        return _StreamedCall(self, request, route, ApiCall(request, args, version, parse_qs(query, 1), body),
                             self._streaming)

    def _start(self, request, route, job_request, job_id, held=False):
        """Start the route's job: (its Deferred, a function that answers the request with
        its result). ``held``: the request is still being read, the answer must wait."""
        if route.kind == "hijack":
            output = Upgrader(request, route.content_type.encode())
            d = self._engine.job(route.job, job_request, output, job_id)
            callbacks = (lambda _: output.finish(), lambda f: output.fail(f, lambda: self._error(request, f.value)))
        elif route.kind == "stream":
            output = HttpJobOutput(request, route.content_type.encode(), held)
            d = self._engine.job(route.job, job_request, output, job_id)
            callbacks = (lambda _: self._end_stream(request, output),
                         lambda f: self._stream_failed(request, output, route, f))
        else:
            output = None
            d = self._engine.job(route.job, job_request, job_id=job_id)
            callbacks = None

        def answer():
            if output is not None and held:
                output.release()
            if callbacks is None:
                gone = _watch_disconnect(request)
                d.addCallbacks(lambda result: gone() or self._respond(request, route, result),
                               lambda f: gone() or self._error(request, f.value))
            else:
                d.addCallbacks(*callbacks)
            d.addErrback(lambda f: self.log.failure("writing a response failed", f))
        return d, answer

    def _respond(self, request, route, result):
        """The route's own success status; a result of None is an empty body, not a 204."""
        for name, value in route.headers:
            request.setHeader(name, value)
        if route.kind == "text":
            write_whole(request, route.status, route.content_type, result.encode())
        elif route.status == 204 or result is None:
            write_whole(request, route.status, None, b"")
        else:
            # Compact, as Go encodes it: the largest answers (ps -a, images) go out faster
            # and parse faster.
            body = json.dumps(result, separators=(",", ":")).encode() + b"\n"
            write_whole(request, route.status, b"application/json", body)

    def _error(self, request, exc):
        status = errmap.status_for(exc)
        if status >= 500 and not isinstance(exc, PydockerError):
            self.log.error("internal error: {exc!r}", exc=exc)
        message = str(exc) if isinstance(exc, PydockerError) else f"internal error: {exc}"
        write_whole(request, status, b"application/json", json.dumps({"message": message}).encode() + b"\n")

    def _end_stream(self, request, output):
        if not output.closed:
            output.flush_headers()
            output.finish()

    def _stream_failed(self, request, output, route, failure):
        if output.closed:
            return
        if not output.headers_sent:
            self._error(request, failure.value)
            return
        if route.content_type == "application/json":
            message = str(failure.value)
            output.emit({"errorDetail": {"message": message}, "error": message})
        output.finish()



def write_whole(request, status, content_type, body):
    """A complete answer, sent as dockerd sends every answer that is not a stream: with a
    Content-Length, never chunked (a client's stream reader takes a chunked body for a
    stream). 204 and 304 have no body; a HEAD answer's length is 0, as dockerd's."""
    request.setResponseCode(status)
    if status in (204, 304):
        request.finish()
        return
    if request.method == b"HEAD":
        body = b""
    if content_type:
        request.setHeader(b"Content-Type", content_type)
    request.setHeader(b"Content-Length", b"%d" % len(body))
    if body:
        request.write(body)
    request.finish()


class _StreamedCall:
    """A request whose job started before its body ended (``ApiResource.start_streaming``):
    its answer waits for ``render``; the body's rest is dropped once the job has ended."""

    def __init__(self, resource, request, route, call, streaming):
        self.body = call.body
        self._answered = False
        self._streaming = streaming  # the resource's set of bodies in transit
        streaming.add(self)
        request.job_id = resource._engine.new_job_id()
        try:
            job_request = route.bind(call) if route.bind else None
        except Exception as e:
            self.body.discard()
            streaming.discard(self)
            self._job = None
            self._answer = lambda error=e: resource._error(request, error)
            return
        self._job, self._answer = resource._start(request, route, job_request, request.job_id, held=True)
        self._job.addBoth(self._job_ended)

    def _job_ended(self, result):
        self.body.discard()
        self._streaming.discard(self)
        return result

    def body_ended(self):
        self.body.end()
        self._streaming.discard(self)

    def answer(self):
        self._answered = True
        self._answer()

    def connection_lost(self, error):
        """The client went away mid-body: its reader fails; nobody will answer the job."""
        self.body.fail(error)
        self._streaming.discard(self)
        if not self._answered and self._job is not None:
            self._job.addErrback(lambda _: None)


def _watch_disconnect(request):
    """A function telling whether the client went away before the response was written."""
    state = {"gone": False}
    request.notifyFinish().addErrback(lambda _: state.update(gone=True))
    return lambda: state["gone"]


class ApiSite(server.Site):
    """The HTTP site; requests are logged at debug level, as dockerd does, with the id
    of the job that served them (its ``+job``/``-job`` lines carry the same id).
    Its requests may hand their body to the job as it arrives (``body.ApiRequest``)."""

    requestFactory = ApiRequest
    noisy = False
    displayTracebacks = False
    log_ = Logger()

    def log(self, request):
        self.log_.debug("{method} {uri} {code} [{job}]", method=request.method.decode(),
                        uri=request.uri.decode("utf-8", "replace"), code=request.code,
                        job=getattr(request, "job_id", "-"))
