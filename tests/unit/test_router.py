import pytest

from pydocker.daemon.http import errmap
from pydocker.daemon.http.router import Route, Router, split_version
from pydocker import errdefs


def make_router():
    return Router([
        Route("GET", "/containers/{name}/json", "container.inspect"),
        Route("GET", "/images/{name:.*}/json", "image.inspect"),
        Route("GET", "/info", "info"),
    ])


def test_bare_path_is_newest_version():
    route, args, version = make_router().match("GET", "/info")
    assert route.job == "info" and args == {} and version == (1, 44)


def test_versioned_path_and_params():
    route, args, version = make_router().match("GET", "/v1.41/containers/abc/json")
    assert route.job == "container.inspect" and args == {"name": "abc"} and version == (1, 41)


def test_image_names_may_hold_slashes():
    _, args, _ = make_router().match("GET", "/v1.44/images/127.0.0.1:5000/a/b:tag/json")
    assert args == {"name": "127.0.0.1:5000/a/b:tag"}


def test_params_are_decoded_after_matching():
    _, args, _ = make_router().match("GET", "/v1.44/containers/test%2001/json")
    assert args == {"name": "test 01"}
    _, args, _ = make_router().match("GET", "/v1.44/images/a%2Fb/json")
    assert args == {"name": "a/b"}


def test_too_new_version_is_400():
    with pytest.raises(errdefs.InvalidParameter, match="1.45 is too new. Maximum supported API version is 1.44"):
        split_version("/v1.45/info")


def test_too_old_version_is_400():
    with pytest.raises(errdefs.InvalidParameter, match="too old. Minimum supported API version is 1.24"):
        split_version("/v1.23/info")


def test_oldest_supported_version_accepted():
    assert split_version("/v1.24/info") == ((1, 24), "/info")


def test_unknown_route_and_wrong_method_are_404():
    with pytest.raises(errdefs.NotFound):
        make_router().match("GET", "/nope")
    with pytest.raises(errdefs.NotFound):
        make_router().match("POST", "/info")


@pytest.mark.parametrize("exc, status", [
    (errdefs.InvalidParameter("x"), 400), (errdefs.Unauthorized("x"), 401), (errdefs.Forbidden("x"), 403),
    (errdefs.NotFound("x"), 404), (errdefs.Conflict("x"), 409), (errdefs.NotModified("x"), 304),
    (errdefs.NotImplementedYet("x"), 501), (errdefs.Unavailable("x"), 503), (errdefs.SystemError_("x"), 500),
    (ValueError("x"), 500),
])
def test_error_kinds_map_to_status(exc, status):
    assert errmap.status_for(exc) == status
