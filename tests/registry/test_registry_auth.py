"""Basic auth (htpasswd) and Bearer tokens (a token server written here) against a real
docker-registry; login checks; identity tokens."""

import pytest
from pydocker.testing.registry import bytes_layer, htpasswd_line, image_of, layer_tar
from registry_proxy import FaultyProxy
from registry_tokens import ISSUER, SERVICE, TokenServer

from pydocker.errdefs import NotFound, Unauthorized
from pydocker.registry import AuthConfig


def tiny_image():
    return image_of([bytes_layer(layer_tar({"hello": b"auth test"}))])


@pytest.fixture
def basic_registry(make_registry, tmp_path):
    path = tmp_path / "htpasswd"
    path.write_text(htpasswd_line("alice", "s3cret"))
    return make_registry(auth={"htpasswd": {"realm": "basic-realm", "path": str(path)}})


@pytest.fixture
def token_server():
    server = TokenServer({"bob": "hunter2"}, anonymous_pull=True).start()
    yield server
    server.stop()


@pytest.fixture
def token_registry(make_registry, token_server, tmp_path):
    bundle = token_server.write_bundle(str(tmp_path / "token-root.pem"))
    return make_registry(auth={"token": {"realm": token_server.realm, "service": SERVICE,
                                         "issuer": ISSUER, "rootcertbundle": bundle}})


ALICE = AuthConfig(username="alice", password="s3cret")
BOB = AuthConfig(username="bob", password="hunter2")


def test_basic_auth_push_and_pull(service, store, basic_registry):
    name = f"{basic_registry.host}/private/app"
    pushed = service.push(name, tiny_image(), auth=ALICE)
    assert service.pull(name, store, auth=ALICE).digest == pushed.digest


def test_basic_auth_wrong_password_is_a_clear_401(service, store, basic_registry):
    name = f"{basic_registry.host}/private/app"
    service.push(name, tiny_image(), auth=ALICE)
    with pytest.raises(Unauthorized, match="unauthorized: authentication required"):
        service.pull(name, store, auth=AuthConfig(username="alice", password="wrong"))
    with pytest.raises(NotFound, match="pull access denied for .*private/app"):
        service.pull(name, store)
    assert store.applied == []


def test_basic_login(service, basic_registry):
    auth = AuthConfig(username="alice", password="s3cret", serveraddress=basic_registry.host)
    assert service.login(auth).to_json() == {"Status": "Login Succeeded", "IdentityToken": ""}
    bad = AuthConfig(username="alice", password="nope", serveraddress=basic_registry.host)
    with pytest.raises(Unauthorized, match=f"login to {basic_registry.host} failed: unauthorized"):
        service.login(bad)


def test_bearer_tokens_anonymous_pull_and_authenticated_push(service, store, token_registry,
                                                             token_server):
    name = f"{token_registry.host}/team/app"
    with pytest.raises(Unauthorized):
        service.push(name, tiny_image())  # anonymous gets pull only
    pushed = service.push(name, tiny_image(), auth=BOB)
    pushed_scopes = [scopes for method, scopes, account in token_server.requests
                     if account == "bob"]
    assert ["repository:team/app:pull,push"] in pushed_scopes

    token_server.requests.clear()
    result = service.pull(name, store)  # anonymous pull is granted
    assert result.digest == pushed.digest
    # One token for the whole pull: cached per scope and shared by the download threads.
    assert [(m, s) for m, s, _ in token_server.requests] == [("GET", ["repository:team/app:pull"])]


def test_bearer_wrong_password(service, store, token_registry):
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        service.pull(f"{token_registry.host}/team/app", store,
                     auth=AuthConfig(username="bob", password="bad"))


def test_bearer_login_returns_identity_token_that_pulls(service, store, token_registry,
                                                        token_server):
    name = f"{token_registry.host}/team/idtoken"
    service.push(name, tiny_image(), auth=BOB)
    result = service.login(AuthConfig(username="bob", password="hunter2",
                                      serveraddress=token_registry.host))
    assert result.status == "Login Succeeded"
    assert result.identity_token in token_server.refresh_tokens

    token_server.anonymous_pull = False
    token_server.requests.clear()
    pulled = service.pull(name, store, auth=AuthConfig(identitytoken=result.identity_token))
    assert pulled.layers and store.applied
    assert token_server.requests[0][0] == "POST"  # the OAuth2 refresh-token grant

    with pytest.raises(Unauthorized, match="unknown refresh token"):
        service.pull(name, store, auth=AuthConfig(identitytoken="forged"))


def test_blob_redirect_to_another_host_drops_authorization(service, store, basic_registry):
    name = "private/redirected"
    service.push(f"{basic_registry.host}/{name}", tiny_image(), auth=ALICE)
    proxy = FaultyProxy(basic_registry.host).start()
    try:
        proxy.redirect_blobs = True
        result = service.pull(f"{proxy.host}/{name}", store, auth=ALICE)
    finally:
        proxy.stop()
    assert len(store.applied) == 1
    # The config and the layer both came from storage, without the registry's credentials.
    assert len(proxy.storage.received_headers) == 2
    assert all("Authorization" not in headers for headers in proxy.storage.received_headers)
    # ...while the registry itself did get them for the same blobs.
    assert any(result.layers[0].digest in path for path in proxy.authorized_paths)
