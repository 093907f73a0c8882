"""The chunked body decoder of streamed requests (pydocker/daemon/http/chunked.py), against
twisted.web's own decoder as the reference, and through a real HTTPChannel (the fixtures
of test_http_body.py: bytes fed by hand, no socket)."""

import random

import pytest
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web.http import _ChunkedTransferDecoder, _DataLoss, _MalformedChunkedDataError

from pydocker.daemon.http.body import BodyInterrupted
from pydocker.daemon.http.chunked import ChunkedBodyDecoder
from tests.unit.test_http_body import Reader, answer, channel_with


def framed(pieces, extension=b"", trailers=b""):
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in pieces)
    return out + b"0\r\n" + trailers + b"\r\n"


def decode(decoder_class, stream, splits):
    got, rests = [], []
    decoder = decoder_class(lambda data: got.append(data), rests.append)
    start = 0
    for end in list(splits) + [len(stream)]:
        if start < end:
            if rests:  # past the body: the channel has the bytes, not the decoder
                rests.append(stream[start:end])
            else:
                decoder.dataReceived(stream[start:end])
        start = end
    decoder.noMoreData()
    return got, rests


def views_as_bytes(calls):
    return b"".join(bytes(v) for views in calls for v in views)


@pytest.mark.parametrize("seed", range(40))
def test_any_split_of_the_stream_decodes_as_twisteds_decoder_does(seed):
    rng = random.Random(seed)
    pieces = [rng.randbytes(rng.choice([1, 2, 17, 4090, 32768])) for _ in range(rng.randint(1, 12))]
    extension = rng.choice([b"", b";name=value"])
    trailers = rng.choice([b"", b"X-Sum: 1\r\n"])
    stream = framed(pieces, extension, trailers) + b"GET /next HTTP/1.1\r\n"
    splits = sorted(rng.sample(range(1, len(stream)), min(len(stream) - 1, rng.randint(0, 30))))
    ours, our_rest = decode(ChunkedBodyDecoder, stream, splits)
    theirs, their_rest = decode(_ChunkedTransferDecoder, stream, splits)
    assert views_as_bytes(ours) == b"".join(theirs) == b"".join(pieces)
    assert b"".join(our_rest) == b"".join(their_rest) == b"GET /next HTTP/1.1\r\n"


def test_a_reads_chunks_go_on_in_one_call_as_views_of_the_bytes_read_not_copies():
    calls = []
    decoder = ChunkedBodyDecoder(calls.append, lambda rest: None)
    read = framed([b"a" * 100, b"b" * 200, b"c" * 300])
    decoder.dataReceived(read)
    assert len(calls) == 1 and [len(v) for v in calls[0]] == [100, 200, 300]
    assert all(v.obj is read for v in calls[0])


@pytest.mark.parametrize("stream", [
    b"zz\r\nab\r\n0\r\n\r\n",  # size not hexadecimal
    b"\r\n",  # no size at all
    b"2\r\nabXY0\r\n\r\n",  # data not followed by CRLF
    b"2\nab\r\n0\r\n\r\n",  # a size line ended by a bare LF
    b"1" * 2000,  # a size line over the limit, still unended
])
def test_malformed_framing_is_refused_with_twisteds_error(stream):
    decoder = ChunkedBodyDecoder(lambda views: None, lambda rest: None)
    with pytest.raises(_MalformedChunkedDataError):
        decoder.dataReceived(stream)


def test_a_body_without_its_last_chunk_is_data_loss():
    decoder = ChunkedBodyDecoder(lambda views: None, lambda rest: None)
    decoder.dataReceived(b"3\r\nabc\r\n")
    with pytest.raises(_DataLoss):
        decoder.noMoreData()


def test_a_streamed_chunked_body_goes_through_the_decoder_and_the_next_request_after_it_is_served():
    reader, seen = Reader(), []
    channel, transport = channel_with(reader, seen)
    channel.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert isinstance(channel._channel._transferDecoder, ChunkedBodyDecoder)  # the wrapped HTTPChannel
    channel.dataReceived(framed([b"x" * 5000, b"y" * 7]))
    reader.finish()
    assert reader.data == b"x" * 5000 + b"y" * 7
    status, _ = answer(transport)
    assert status == b"HTTP/1.1 200 OK"


class FailingReader(Reader):
    """Keeps the error its read() raised."""

    def job(self, job):
        stream, self.errors = job.request, []

        class Catching:
            def read(self_):
                try:
                    return stream.read()
                except BodyInterrupted as e:
                    self.errors.append(e)

        job.request = Catching()
        return super().job(job)


def test_malformed_framing_of_a_streamed_body_is_a_400_and_its_reader_fails():
    reader, seen = FailingReader(), []
    channel, transport = channel_with(reader, seen)
    channel.dataReceived(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nnothex\r\n")
    assert transport.value().startswith(b"HTTP/1.1 400 Bad Request") and transport.disconnecting
    channel.connectionLost(Failure(ConnectionDone()))  # what the closing transport does next
    reader.thread.join(10)
    assert not reader.thread.is_alive() and len(reader.errors) == 1
