"""The route table walked against moby's v1.44 API description (an extract made by
scripts/api_spec_extract.py, tests/unit/data/api_v1.44.json): every route's success status,
and the request-body decoding rule (null as Go reads it) checked against the body schemas."""

import json
import os
import re

import pytest

from pydocker.daemon.http.binding import ARRAY_ITEMS, MAP_FIELDS, STRUCT_ARRAYS, go_nulls, parse_json_body
from pydocker.daemon.http.router import Router
from pydocker.daemon.http.routes import all_routes
from pydocker.errdefs import InvalidParameter, NotFound

SPEC = json.load(open(os.path.join(os.path.dirname(__file__), "data", "api_v1.44.json")))
ROUTER = Router(all_routes())

# Endpoints of the description pydocker does not serve, and why.
UNSERVED = {
    "POST /build": "the classic builder (issue 16) is another helper's; until it lands, 404",
    "GET /distribution/{name}/json": "not implemented",
    "PUT /volumes/{name}": "cluster volumes need swarm mode",
    "POST /session": "BuildKit sessions: no BuildKit",
}
UNSERVED_PREFIXES = ("/plugins",)
# Routes pydocker serves beyond the description, and why.
EXTRA = {
    "DELETE /containers/{name:[^/]+/[^/]+}": "legacy links are removed by /<container>/<alias> (docker rm -l)",
    "GET /debug/commands": "pydocker's own, for debugging: the registered jobs (the commands job)",
}


def sample_path(path):
    return re.sub(r"\{\w+\}", "x", path)


def served(method, path):
    try:
        return ROUTER.match(method, sample_path(path))[0]
    except NotFound:
        return None


SPEC_ROUTES = [pytest.param(m, p, s, id=f"{m} {p}") for m, p, s in SPEC["routes"]
               if f"{m} {p}" not in UNSERVED and not p.startswith(UNSERVED_PREFIXES)]


@pytest.mark.parametrize("method,path,statuses", SPEC_ROUTES)
def test_every_route_of_the_description_is_served_with_its_success_status(method, path, statuses):
    route = served(method, path)
    assert route is not None, f"{method} {path} is not served"
    if route.job == "swarm.inactive":
        return  # answers 503 as a dockerd outside any swarm does
    if route.kind == "hijack" or route.kind == "websocket":
        assert {101, 200} & set(statuses)  # 101 with Upgrade, else 200 (exec start -d)
    else:
        assert route.status in statuses, f"{method} {path}: {route.status}, the description says {statuses}"


def test_unserved_endpoints_are_not_served():
    for key in UNSERVED:
        method, path = key.split(" ", 1)
        if method == "POST" and path == "/build" and served(method, path):
            continue  # the builder has landed
        assert served(method, path) is None, key


def test_every_served_route_is_in_the_description():
    described = set()
    for method, path, _ in SPEC["routes"]:
        route = served(method, path)
        if route is not None:
            described.add(id(route))
    extra = {f"{r.method} {r.pattern}" for r in ROUTER_ROUTES if id(r) not in described
             and r.job != "swarm.inactive"}
    assert extra <= set(EXTRA), extra - set(EXTRA)


ROUTER_ROUTES = [route for routes in ROUTER._by_method.values() for route in routes]


# --- null in request bodies -------------------------------------------------------------


def served_bodies():
    """The bodies of served routes, without ClusterVolumeSpec (swarm mode only)."""
    def kept(table):
        return {p: k for p, k in table.items() if not p.startswith("ClusterVolumeSpec")}
    return {key: {"fields": [f for f in body["fields"] if not f.startswith("ClusterVolumeSpec")],
                  "maps": kept(body["maps"]), "arrays": kept(body["arrays"])}
            for key, body in SPEC["bodies"].items() if served(*key.split(" ", 1))}


def test_map_fields_are_the_maps_of_the_bodies_we_serve():
    """Every map of a served body is in MAP_FIELDS with its value kind, and no entry of
    MAP_FIELDS names a struct of any served body."""
    wanted = {}
    for key, body in served_bodies().items():
        for path, kind in body["maps"].items():
            wanted[path] = kind
    assert {p: MAP_FIELDS.get(p) for p in wanted} == wanted
    structs = {path for body in served_bodies().values() for path in body["fields"]} - set(wanted)
    for path in MAP_FIELDS:
        if "*" not in path:
            assert path not in structs, f"{path} is a struct in some body"


def test_null_member_of_a_struct_is_absent():
    body = parse_json_body(json.dumps({
        "Image": "busybox", "Cmd": None,
        "HostConfig": {"RestartPolicy": {"Name": None, "MaximumRetryCount": None}, "PidMode": None,
                       "Ulimits": [{"Name": "nofile", "Soft": None, "Hard": 10}]},
    }).encode())
    assert body == {"Image": "busybox", "HostConfig": {"RestartPolicy": {}, "Ulimits": [{"Name": "nofile", "Hard": 10}]}}


def test_null_value_in_a_map_is_the_zero_value_of_its_kind():
    body = go_nulls({"Labels": {"a": None, "b": "x"}, "ExposedPorts": {"80/tcp": None},
                     "HostConfig": {"PortBindings": {"80/tcp": None}, "LogConfig": {"Config": {"k": None}}},
                     "NetworkingConfig": {"EndpointsConfig": {"net": None, "other": {"DriverOpts": {"o": None},
                                                                                    "Aliases": None}}}})
    assert body == {"Labels": {"a": "", "b": "x"}, "ExposedPorts": {"80/tcp": {}},
                    "HostConfig": {"PortBindings": {"80/tcp": []}, "LogConfig": {"Config": {"k": ""}}},
                    "NetworkingConfig": {"EndpointsConfig": {"net": {}, "other": {"DriverOpts": {"o": ""}}}}}


def test_zero_values_are_fresh_objects():
    body = go_nulls({"ExposedPorts": {"80/tcp": None, "81/tcp": None}})
    body["ExposedPorts"]["80/tcp"]["x"] = 1
    assert body["ExposedPorts"]["81/tcp"] == {}


def test_a_null_item_of_an_array_is_the_zero_value_of_its_kind():
    assert go_nulls({"Env": [None, "A=1"], "Cmd": ["echo", None], "HostConfig": {"ConsoleSize": [None, 80]},
                     "NetworkingConfig": {"EndpointsConfig": {"n": {"Aliases": [None]}}}}) == \
        {"Env": ["", "A=1"], "Cmd": ["echo", ""], "HostConfig": {"ConsoleSize": [0, 80]},
         "NetworkingConfig": {"EndpointsConfig": {"n": {"Aliases": [""]}}}}
    body = go_nulls({"DeviceRequests": [{"Capabilities": [None, None]}]})
    body["DeviceRequests"][0]["Capabilities"][0].append("gpu")
    assert body == {"DeviceRequests": [{"Capabilities": [["gpu"], []]}]}


def test_array_items_are_the_arrays_of_scalars_of_the_bodies_we_serve():
    """Every array of a served body whose items are not objects is in ARRAY_ITEMS with the
    kind of its items, and every entry of ARRAY_ITEMS names one (in a map of structs, ``*``)."""
    wanted = {}
    for body in served_bodies().values():
        wanted.update(body["arrays"])
    assert {p: ARRAY_ITEMS.get(p) for p in wanted} == wanted
    endpoint = {p.split(".", 1)[1]: kind for p, kind in wanted.items() if p.startswith("EndpointConfig.")}
    extra = {p: kind for p, kind in ARRAY_ITEMS.items() if p not in wanted}
    assert extra == {"NetworkingConfig.EndpointsConfig.*." + p: kind for p, kind in endpoint.items()}


def test_struct_arrays_are_the_arrays_of_objects_of_the_bodies_we_serve():
    wanted = set()
    for body in served_bodies().values():
        for field in body["fields"]:
            parts = field.split(".")
            wanted |= {".".join(parts[:i] + [part[:-2]]) for i, part in enumerate(parts[:-1]) if part.endswith("[]")}
    assert set(STRUCT_ARRAYS) == wanted


def test_an_item_of_an_array_of_structs_is_a_zero_struct_or_an_object():
    assert go_nulls({"IPAM": {"Config": [None, {"Subnet": None}]}}) == {"IPAM": {"Config": [{}, {}]}}
    for item in ("x", 1, ["x"]):
        with pytest.raises(InvalidParameter, match="IPAM.Config"):
            go_nulls({"IPAM": {"Config": [item]}})


def test_a_null_body_is_an_empty_object():
    assert parse_json_body(b"null") == {}
