"""Credentials: config.json like the docker CLI's, credential helpers (a real helper
program written here), and the X-Registry-Auth header."""

import base64
import json
import os
import stat
import sys

import pytest

from pydocker.errdefs import InvalidParameter
from pydocker.registry import AuthConfig, DockerConfig, decode_registry_auth, encode_registry_auth

HELPER = """#!{python}
import json, os, sys
path = os.environ["PYDOCKER_TEST_HELPER_DB"]
db = json.load(open(path)) if os.path.exists(path) else {{}}
action, data = sys.argv[1], sys.stdin.read()
if action == "get":
    if data not in db:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps({{"ServerURL": data, **db[data]}}))
elif action == "store":
    entry = json.loads(data)
    db[entry["ServerURL"]] = {{"Username": entry["Username"], "Secret": entry["Secret"]}}
elif action == "erase":
    db.pop(data, None)
json.dump(db, open(path, "w"))
"""


def test_auths_entries_round_trip(tmp_path):
    config = DockerConfig(str(tmp_path))
    config.store("127.0.0.1:5000", AuthConfig(username="alice", password="pa:ss"))
    config.store("docker.io", AuthConfig(username="hub", password="x"))
    data = json.loads((tmp_path / "config.json").read_text())
    assert base64.b64decode(data["auths"]["127.0.0.1:5000"]["auth"]) == b"alice:pa:ss"
    assert "https://index.docker.io/v1/" in data["auths"]
    assert oct(os.stat(tmp_path / "config.json").st_mode & 0o777) == "0o600"
    got = config.get("127.0.0.1:5000")
    assert (got.username, got.password) == ("alice", "pa:ss")
    assert config.get("docker.io").username == "hub"
    assert config.get("other:1").anonymous
    config.erase("127.0.0.1:5000")
    assert config.get("127.0.0.1:5000").anonymous


def test_reads_keys_written_with_a_scheme(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {
        "https://myreg:5000/v2/": {"auth": base64.b64encode(b"u:p").decode()},
        "tok:1": {"identitytoken": "refresh-me"}}}))
    config = DockerConfig(str(tmp_path))
    assert config.get("myreg:5000").password == "p"
    assert config.get("tok:1").identitytoken == "refresh-me"


def test_docker_config_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert DockerConfig().path == str(tmp_path / "config.json")


def test_broken_config_is_a_clear_error_and_untouched(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(InvalidParameter, match="invalid JSON"):
        DockerConfig(str(tmp_path)).store("h:1", AuthConfig(username="a", password="b"))
    assert (tmp_path / "config.json").read_text() == "{not json"


@pytest.fixture
def helper(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    program = bindir / "docker-credential-pytest"
    program.write_text(HELPER.format(python=sys.executable))
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("PYDOCKER_TEST_HELPER_DB", str(tmp_path / "helper-db.json"))
    return tmp_path / "helper-db.json"


@pytest.mark.parametrize("key", ["credsStore", "credHelpers"])
def test_credential_helpers(tmp_path, helper, key):
    conf = tmp_path / "conf"
    conf.mkdir()
    setting = "pytest" if key == "credsStore" else {"127.0.0.1:5000": "pytest"}
    (conf / "config.json").write_text(json.dumps({key: setting}))
    config = DockerConfig(str(conf))
    assert config.get("127.0.0.1:5000").anonymous
    config.store("127.0.0.1:5000", AuthConfig(username="alice", password="s3cret"))
    assert json.loads(helper.read_text())["127.0.0.1:5000"] == {"Username": "alice",
                                                                "Secret": "s3cret"}
    assert json.loads((conf / "config.json").read_text())["auths"]["127.0.0.1:5000"] == {}
    assert config.get("127.0.0.1:5000").password == "s3cret"
    config.store("127.0.0.1:5000", AuthConfig(identitytoken="tok"))
    assert config.get("127.0.0.1:5000").identitytoken == "tok"
    config.erase("127.0.0.1:5000")
    assert json.loads(helper.read_text()) == {}


def test_x_registry_auth_header():
    header = base64.urlsafe_b64encode(json.dumps(
        {"username": "a", "password": "b?>", "serveraddress": "h:1"}).encode()).decode().rstrip("=")
    auth = decode_registry_auth(header)
    assert (auth.username, auth.password, auth.serveraddress) == ("a", "b?>", "h:1")
    assert decode_registry_auth(encode_registry_auth(auth)) == auth
    assert decode_registry_auth("").anonymous
    assert decode_registry_auth(base64.urlsafe_b64encode(b"null").decode()).anonymous  # Go's zero value
    capitalised = base64.urlsafe_b64encode(b'{"Username":"x","Password":"y"}').decode()
    assert decode_registry_auth(capitalised).password == "y"
    with pytest.raises(InvalidParameter, match="invalid X-Registry-Auth header"):
        decode_registry_auth("!!notbase64")
    with pytest.raises(InvalidParameter, match="invalid X-Registry-Auth header"):
        decode_registry_auth(base64.urlsafe_b64encode(b"[1]").decode())
