"""Back-pressure bookkeeping without a kernel: the container-side fan-out (runtime.io.Outputs)
and the client-side producer (daemon.http.flow.WriteFlow), with a recording producer and
Deferreds standing in for the transport's pause and resume."""

from twisted.internet import defer

from pydocker.daemon.http.flow import WriteFlow
from pydocker.runtime.io import ContainerIO, Outputs


class Reader:
    """Records what the io asks of the driver's reader."""

    def __init__(self):
        self.calls = []

    def pauseProducing(self):
        self.calls.append("pause")

    def resumeProducing(self):
        self.calls.append("resume")


def test_output_pauses_while_any_consumer_is_full_and_resumes_when_all_drained():
    outputs, reader = Outputs(), Reader()
    first, second = (lambda stream, data: None), (lambda stream, data: None)
    outputs.add(first)
    outputs.add(second)
    outputs.drive(reader)
    first_full, second_full = defer.Deferred(), defer.Deferred()
    outputs.hold(first, first_full)
    outputs.hold(second, second_full)
    assert reader.calls == ["pause"]
    first_full.callback(None)
    assert reader.calls == ["pause"]  # the second is still over its mark
    second_full.callback(None)
    assert reader.calls == ["pause", "resume"]


def test_a_consumer_that_leaves_releases_its_hold():
    outputs, reader = Outputs(), Reader()
    consumer = lambda stream, data: None  # noqa: E731
    outputs.add(consumer)
    outputs.drive(reader)
    outputs.hold(consumer, defer.Deferred())  # never drains
    outputs.discard(consumer)
    assert reader.calls == ["pause", "resume"]


def test_a_writable_stream_or_an_unknown_consumer_holds_nothing():
    outputs, reader = Outputs(), Reader()
    consumer = lambda stream, data: None  # noqa: E731
    outputs.drive(reader)
    outputs.hold(consumer, defer.Deferred())  # not added: the replay of old logs
    outputs.add(consumer)
    outputs.hold(consumer, defer.succeed(None))
    assert reader.calls == []


def test_a_new_reader_starts_paused_while_a_client_is_full():
    """A restarted container gets a new reader: it must not run ahead of a full client."""
    outputs = Outputs()
    consumer = lambda stream, data: None  # noqa: E731
    outputs.add(consumer)
    outputs.hold(consumer, defer.Deferred())
    io, reader = ContainerIO(outputs=outputs), Reader()
    io.output_producer(reader)
    assert reader.calls == ["pause"]


def test_output_reaches_the_log_and_every_consumer():
    written, seen = [], []

    class Log:
        def write(self, stream, data):
            written.append((stream, data))

    io = ContainerIO(Log())
    io.outputs.add(lambda stream, data: seen.append((stream, data)))
    io.stdout(b"out")
    io.stderr(b"err")
    assert written == seen == [("stdout", b"out"), ("stderr", b"err")]


def test_write_flow_registers_on_first_use_and_steps_down_before_the_close():
    registered = []
    flow = WriteFlow(registered.append, lambda: registered.append("unregistered"))
    assert flow.when_writable().called and registered == [flow]
    flow.pauseProducing()
    waiter = flow.when_writable()
    assert not waiter.called
    flow.resumeProducing()
    assert waiter.called
    flow.pauseProducing()
    waiter = flow.when_writable()
    flow.finish()  # a transport closes only once its producer is gone
    assert registered == [flow, "unregistered"] and waiter.called
    assert flow.when_writable().called and registered == [flow, "unregistered"]  # for good


def test_write_flow_releases_waiters_when_the_connection_is_lost():
    flow = WriteFlow(lambda producer: None, lambda: None)
    flow.when_writable()
    flow.pauseProducing()
    waiter = flow.when_writable()
    flow.stopProducing()
    assert waiter.called
