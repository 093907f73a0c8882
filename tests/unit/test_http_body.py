"""Request bodies streamed to their job (pydocker/daemon/http/body.py), through a real
twisted.web HTTPChannel fed bytes by hand on a StringTransport (no socket). The reactor
the pipe calls back from its reader thread is a stub that queues the calls for the test
to run (this test plays the reactor thread)."""

import json
import threading

from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock, StringTransport

from pydocker.daemon.http import body as bodymod
from pydocker.daemon.http.body import BodyInterrupted, BodyPipe
from pydocker.daemon.http.resource import ApiResource, ApiSite
from pydocker.daemon.http.router import Route
from pydocker.engine.job import Engine


class QueuedCalls:
    """Stub reactor: ``callFromThread`` queues; the test runs the queue."""

    def __init__(self):
        self.calls = []

    def callFromThread(self, f, *args):
        self.calls.append((f, args))

    def run(self):
        calls, self.calls = self.calls, []
        for f, args in calls:
            f(*args)


class Transport(StringTransport):
    def __init__(self):
        super().__init__()
        self.reactor = QueuedCalls()


class Reader:
    """The job: reads its body in a thread, as a worker would; the test fires ``done``."""

    def __init__(self):
        self.started = threading.Event()
        self.data = None
        self.thread = None
        self.done = None

    def job(self, job):
        self.started.set()
        self.done = defer.Deferred()
        stream = job.request

        def read():
            self.data = stream.read()

        self.thread = threading.Thread(target=read)
        self.thread.start()
        return self.done

    def finish(self):
        self.thread.join(10)
        self.done.callback({"got": len(self.data)})


def channel_with(reader, whole_seen):
    engine = Engine(MemoryReactorClock())
    engine.register("upload", reader.job)
    engine.register("whole", lambda job: whole_seen.append(job.request) or {"got": len(job.request)})
    routes = [Route("POST", "/upload", "upload", lambda call: call.body, stream_body=True),
              Route("POST", "/whole", "whole", lambda call: call.body.read())]
    channel = ApiSite(ApiResource(engine, routes)).buildProtocol(None)
    transport = Transport()
    channel.makeConnection(transport)
    return channel, transport


def chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def answer(transport):
    head, _, payload = transport.value().partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], payload


def test_a_stream_body_route_starts_its_job_before_the_chunked_body_ends_and_answers_after_it():
    reader, seen = Reader(), []
    channel, transport = channel_with(reader, seen)
    channel.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"a" * 1000))
    assert reader.started.is_set(), "the job waited for the whole body"
    channel.dataReceived(chunk(b"b" * 2000) + b"0\r\n\r\n")
    reader.finish()
    assert reader.data == b"a" * 1000 + b"b" * 2000
    status, payload = answer(transport)
    assert status == b"HTTP/1.1 200 OK" and json.loads(payload) == {"got": 3000}


def test_content_length_bodies_stream_and_other_routes_still_get_theirs_whole():
    reader, seen = Reader(), []
    channel, transport = channel_with(reader, seen)
    channel.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
    assert reader.started.is_set()
    channel.dataReceived(b"67890")
    reader.finish()
    assert reader.data == b"1234567890"
    transport.clear()
    channel.dataReceived(b"POST /whole HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd")
    assert seen == [b"abcd"] and json.loads(answer(transport)[1]) == {"got": 4}


def test_a_job_that_ends_early_is_answered_once_the_rest_of_the_body_is_dropped():
    reader, seen = Reader(), []
    channel, transport = channel_with(reader, seen)
    channel.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    reader.done.errback(BodyInterrupted("refused early"))
    assert transport.value() == b"", "answered while the body was still arriving"
    reader.thread.join(10)  # the pipe was discarded: the reader sees its end
    channel.dataReceived(b"y" * 90)
    status, payload = answer(transport)
    assert status == b"HTTP/1.1 400 Bad Request" and json.loads(payload)["message"] == "refused early"


def test_the_pipe_pauses_the_transport_above_high_water_and_resumes_once_drained(monkeypatch):
    monkeypatch.setattr(bodymod, "HIGH_WATER", 100)
    monkeypatch.setattr(bodymod, "LOW_WATER", 40)
    reactor, events = QueuedCalls(), []
    pipe = BodyPipe(reactor, lambda: events.append("pause"), lambda: events.append("resume"))
    pipe.feed(b"x" * 60)
    assert events == []
    pipe.feed(b"x" * 60)
    assert events == ["pause"]
    got = bytearray(50)
    threading_read(lambda: pipe.readinto(got))
    assert reactor.calls == [], "resumed above low water"
    threading_read(lambda: pipe.readinto(got))
    reactor.run()
    assert events == ["pause", "resume"]


def test_a_client_gone_mid_body_fails_the_reader_and_an_ended_body_reads_to_its_end():
    reactor = QueuedCalls()
    pipe = BodyPipe(reactor, lambda: None, lambda: None)
    pipe.feed(b"abc")
    pipe.fail(BodyInterrupted("gone"))
    errors = []
    threading_read(lambda: _catch(errors, pipe.read))
    assert [str(e) for e in errors] == ["gone"]
    pipe = BodyPipe(reactor, lambda: None, lambda: None)
    pipe.feed(b"abc")
    pipe.end()
    out = []
    threading_read(lambda: out.append(pipe.read()))
    assert out == [b"abc"]


def _catch(errors, f):
    try:
        f()
    except BodyInterrupted as e:
        errors.append(e)


def threading_read(f):
    """Run ``f`` in a thread of its own, as a worker (a read on the reactor thread is refused)."""
    thread = threading.Thread(target=f)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_past_max_streamed_a_body_is_kept_whole_first_so_slow_clients_hold_few_workers(monkeypatch):
    monkeypatch.setattr(bodymod, "MAX_STREAMED", 1)
    reader, seen = Reader(), []
    channel, transport = channel_with(reader, seen)
    channel.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
    first = reader.thread
    other = channel.site.buildProtocol(None)  # a second connection to the same resource
    other.makeConnection(Transport())
    reader.started.clear()
    other.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ncd")
    assert not reader.started.is_set(), "a second body streamed while the first one still arrives"
    other.dataReceived(b"ef")
    assert reader.started.is_set()  # started once its body was whole, as twisted.web keeps it
    reader.finish()
    assert reader.data == b"cdef"
    channel.dataReceived(b"gh")
    first.join(10)
    assert not first.is_alive()


def test_a_client_that_sends_nothing_for_the_idle_time_gives_its_reader_back(monkeypatch):
    monkeypatch.setattr(bodymod, "IDLE_SECONDS", 0.1)
    pipe = BodyPipe(QueuedCalls(), lambda: None, lambda: None)
    errors = []
    threading_read(lambda: _catch(errors, pipe.read))
    assert [str(e) for e in errors] == ["no request body data for 0.1 s"]
