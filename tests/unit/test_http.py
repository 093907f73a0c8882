"""The API resource driven with twisted.web's DummyRequest (a stand-in for a real connection;
the black-box tests in tests/integration use real sockets)."""

import io

import pytest
import json

from twisted.internet.testing import MemoryReactorClock
from twisted.web.test.requesthelper import DummyRequest

from pydocker.daemon.http.binding import Query
from pydocker.fields import UINT_PAIR, check, naming, uint_pair
from pydocker.daemon.http.resource import ApiResource
from pydocker.daemon.http.router import Route
from pydocker.errdefs import Conflict, InvalidParameter
from pydocker.engine.job import Engine


class Request(DummyRequest):
    def __init__(self, method, path, body=b"", args=None):
        super().__init__(path.lstrip("/").split("/"))
        self.method = method.encode()
        self.path = path.encode()
        self.uri = self.path
        self.content = io.BytesIO(body)
        self.args = args or {}


def make_resource(cors=""):
    engine = Engine(MemoryReactorClock())

    def create(job):
        if job.request["Name"] == "taken":
            raise Conflict("the name is taken")
        return {"Id": "x", "Warnings": []}

    engine.register("create", create)
    engine.register("ping", lambda job: "OK")
    routes = [
        Route("POST", "/things/create", "create", lambda call: parse(call), status=201),
        Route("GET", "/_ping", "ping", kind="text", content_type=b"text/plain"),
    ]
    return ApiResource(engine, routes, cors)


def parse(call):
    body = check(call.json(), {"Name": str, "Size": int}, "")
    return {"Name": body.get("Name"), "Size": body.get("Size")}


def render(resource, request):
    resource.render(request)
    body = b"".join(request.written)
    return request.responseCode or 200, body


def test_json_result_has_status_and_headers():
    req = Request("POST", "/v1.44/things/create", json.dumps({"Name": "a"}).encode())
    status, body = render(make_resource(), req)
    assert status == 201
    assert json.loads(body) == {"Id": "x", "Warnings": []}
    assert req.responseHeaders.getRawHeaders(b"api-version") == [b"1.44"]
    assert req.responseHeaders.getRawHeaders(b"server")[0].startswith(b"pydocker/")


def test_malformed_json_is_400_with_message():
    status, body = render(make_resource(), Request("POST", "/things/create", b"{not json"))
    assert status == 400
    assert json.loads(body)["message"].startswith("malformed JSON in request body")


def test_wrong_type_names_the_field():
    status, body = render(make_resource(), Request("POST", "/things/create", b'{"Name": "a", "Size": "big"}'))
    assert status == 400
    assert json.loads(body)["message"] == "invalid type for field Size: expected integer, got string"


def test_a_readers_refusal_is_made_to_name_its_field():
    with pytest.raises(InvalidParameter, match=r"^bad value \(HostConfig.Binds\[0\]\)$"):
        with naming("HostConfig.Binds[0]"):
            raise InvalidParameter("bad value")


def test_a_uint_pair_is_gos_two_item_array():
    assert [uint_pair(v) for v in (None, [], [5], [5, 6], [5, 6, 7])] == [[0, 0], [0, 0], [5, 0], [5, 6], [5, 6]]
    for wrong in ([-1], ["x"], [True], "x"):
        with pytest.raises(InvalidParameter, match="ConsoleSize"):
            check({"ConsoleSize": wrong}, {"ConsoleSize": UINT_PAIR}, "HostConfig")


def test_error_kind_maps_to_status():
    status, body = render(make_resource(), Request("POST", "/things/create", b'{"Name": "taken"}'))
    assert status == 409 and json.loads(body) == {"message": "the name is taken"}


def test_unknown_route_is_json_404():
    status, body = render(make_resource(), Request("GET", "/v1.44/nothing/here"))
    assert status == 404 and json.loads(body) == {"message": "page not found"}


def test_too_new_version_is_json_400():
    status, body = render(make_resource(), Request("GET", "/v1.45/_ping"))
    assert status == 400 and "too new" in json.loads(body)["message"]


def test_oversized_body_is_400():
    from pydocker.daemon.http import binding
    big = b"[" + b"0," * (binding.JSON_BODY_LIMIT // 2) + b"0]"
    status, body = render(make_resource(), Request("POST", "/things/create", big))
    assert status == 400 and "too large" in json.loads(body)["message"]


def test_cors_header_when_configured():
    req = Request("GET", "/_ping")
    status, body = render(make_resource(cors="*"), req)
    assert body == b"OK"
    assert req.responseHeaders.getRawHeaders(b"access-control-allow-origin") == [b"*"]


def test_query_readers_name_the_parameter():
    q = Query({b"all": [b"1"], b"limit": [b"x"], b"filters": [b'{"status":{"running":true}}']})
    assert q.bool("all") is True
    assert q.filters() == {"status": ["running"]}
    try:
        q.int("limit")
    except Exception as e:
        assert "'limit'" in str(e)
    else:
        raise AssertionError("a bad integer was accepted")


def test_query_booleans_read_as_dockerd_reads_them():
    """Only an empty value, 0, no, false and none (any case, spaces aside) are false."""
    q = Query({b"a": [b"yes"], b"b": [b"TRUE"], b"c": [b"t"], b"d": [b"2"], b"e": [b" No "],
               b"f": [b"FALSE"], b"g": [b"none"], b"h": [b""], b"i": [b"0"]})
    assert [q.bool(k) for k in "abcd"] == [True] * 4
    assert [q.bool(k, default=True) for k in "efghi"] == [False] * 5
    assert q.bool("absent") is False and q.bool("absent", default=True) is True


def raw_exchange(resource, request_bytes):
    """The bytes twisted.web writes for one request (a string transport stands in for the
    socket), so the framing (Content-Length or chunks) is what a client would read."""
    from twisted.internet.testing import StringTransport
    from twisted.web import server
    channel = server.Site(resource).buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(request_bytes)
    return transport.value()


def status_resource():
    engine = Engine(MemoryReactorClock())
    engine.register("nothing", lambda job: None)
    engine.register("fail", lambda job: (_ for _ in ()).throw(Conflict("no")))
    engine.register("ping", lambda job: "OK")
    return ApiResource(engine, [
        Route("PUT", "/containers/{name}/archive", "nothing"),
        Route("POST", "/containers/{name}/start", "nothing", status=204),
        Route("POST", "/images/{name}/tag", "nothing", status=201),
        Route("POST", "/fail", "fail"),
        Route("HEAD", "/_ping", "ping", kind="text", content_type=b"text/plain"),
    ])


def head_of(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("method,path,status", [
    ("PUT", "/v1.44/containers/c/archive", 200), ("POST", "/containers/c/start", 204),
    ("POST", "/images/i/tag", 201)])
def test_a_job_returning_nothing_answers_its_routes_status(method, path, status):
    raw = raw_exchange(status_resource(), f"{method} {path} HTTP/1.1\r\nHost: d\r\n\r\n".encode())
    code, headers, body = head_of(raw)
    assert code == status and body == b""
    assert b"transfer-encoding" not in headers
    if status != 204:
        assert headers[b"content-length"] == b"0"


def test_error_body_has_a_content_length_not_chunks():
    raw = raw_exchange(status_resource(), b"POST /fail HTTP/1.1\r\nHost: d\r\n\r\n")
    code, headers, body = head_of(raw)
    assert code == 409 and b"transfer-encoding" not in headers
    assert int(headers[b"content-length"]) == len(body) and json.loads(body) == {"message": "no"}
    raw = raw_exchange(status_resource(), b"GET /nowhere HTTP/1.1\r\nHost: d\r\n\r\n")
    code, headers, body = head_of(raw)
    assert code == 404 and int(headers[b"content-length"]) == len(body)


def test_head_ping_has_length_zero():
    code, headers, body = head_of(raw_exchange(status_resource(), b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\n"))
    assert code == 200 and headers[b"content-length"] == b"0" and body == b""
