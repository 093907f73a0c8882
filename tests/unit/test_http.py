"""The API resource driven with twisted.web's DummyRequest (a stand-in for a real connection;
the black-box tests in tests/integration use real sockets)."""

import io
import json

from twisted.internet.testing import MemoryReactorClock
from twisted.web.test.requesthelper import DummyRequest

from pydocker.daemon.http.binding import Query
from pydocker.engine.fields import Fields
from pydocker.daemon.http.resource import ApiResource
from pydocker.daemon.http.router import Route
from pydocker.errdefs import Conflict
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
    body = Fields(call.json())
    return {"Name": body.get("Name", str), "Size": body.get("Size", int)}


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
