"""The log writer thread's bookkeeping (runtime/logwriter.py): calls run in order off the
caller's thread, a backlog over the high-water mark pauses the container's output until it
drains, and ``follow`` answers after the writes queued before it. A ``StepThread`` stands
in for the writer thread (runs queued calls when the test says), the stand-in is said."""

import threading


from pydocker.logdrivers import jsonfile
from pydocker.runtime import logwriter
from pydocker.runtime.io import ContainerIO
from pydocker.runtime.logwriter import QueuedLogWriter, WriterThread
from test_flow_control import Reader


class StepThread:
    """A stand-in for WriterThread: queued calls run when ``run_all`` is called."""

    def __init__(self):
        self.queued = []
        self.call_in_reactor = lambda f, *args: f(*args)

    def submit(self, f, *args):
        self.queued.append((f, args))

    def run_all(self):
        while self.queued:
            f, args = self.queued.pop(0)
            f(*args)


class Recording:
    def __init__(self):
        self.writes = []
        self.closed = False

    def write(self, stream, data):
        self.writes.append((stream, data))

    def close(self):
        self.closed = True


def test_writes_wait_for_the_thread_and_keep_their_order():
    thread, inner = StepThread(), Recording()
    writer = QueuedLogWriter(inner, thread)
    assert writer.write("stdout", b"a\n") is None
    writer.write("stderr", b"b\n")
    writer.close()
    assert inner.writes == [] and not inner.closed   # nothing written on the caller's thread
    thread.run_all()
    assert inner.writes == [("stdout", b"a\n"), ("stderr", b"b\n")] and inner.closed


def test_a_backlog_over_the_high_water_mark_pauses_the_output_until_it_drains():
    thread = StepThread()
    io = ContainerIO(QueuedLogWriter(Recording(), thread))
    reader = Reader()
    io.output_producer(reader)
    chunk = b"x" * (64 << 10)
    for _ in range(logwriter.HIGH_WATER // len(chunk)):
        io.stdout(chunk)
    assert reader.calls == []            # at the mark, not over it
    io.stdout(chunk)
    assert reader.calls == ["pause"]
    thread.run_all()
    assert reader.calls == ["pause", "resume"]


def test_follow_answers_after_the_writes_before_it_with_an_exact_position(tmp_path):
    thread = StepThread()
    path = str(tmp_path / "c-json.log")
    writer = QueuedLogWriter(jsonfile.JSONFileWriter(path), thread)
    writer.write("stdout", b"before\n")
    seen = []
    answer = writer.follow(seen.append)
    writer.write("stdout", b"after\n")
    assert not answer.called
    thread.run_all()
    unsubscribe, position = answer.result
    assert [e["log"] for e in jsonfile.read_entries(path, limit=position)] == ["before\n"]
    assert [e["log"] for e in seen] == ["after\n"]


def test_the_real_thread_runs_calls_in_order_off_the_callers_thread():
    """WriterThread itself, with a real thread; results come back through the given call."""
    ran, done = [], threading.Event()
    thread = WriterThread(lambda f, *args: f(*args))
    for n in range(100):
        thread.submit(lambda n=n: ran.append((n, threading.get_ident())))
    flushed = thread.flushed()
    flushed.addCallback(lambda _: done.set())
    assert done.wait(30)
    assert [n for n, _ in ran] == list(range(100))
    assert {ident for _, ident in ran} != {threading.get_ident()}
