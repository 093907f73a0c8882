"""Black box: pull, push, login and search through a real daemon against Debian's
docker-registry, driven by the docker CLI, docker-py, pydocker's own client and skopeo."""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
import time

import pytest

from pydocker.testing.registry import (REGISTRY_BINARY, TEST_PASSWORD, TEST_USER, SlowProxy, layer_tar,
                                       push_test_image)

USER, PASSWORD = TEST_USER, TEST_PASSWORD

pytestmark = pytest.mark.skipif(REGISTRY_BINARY is None,
                                reason="Debian's docker-registry is not installed")


@pytest.fixture
def daemons(make_daemon, tmp_path):
    """Factory of daemons on their own roots (a fresh one proves a pull downloads it all)."""
    env = dict(os.environ, PYDOCKER_CERTS_DIR=str(tmp_path / "certs.d"))

    def start(name):
        return make_daemon(name, env=env)

    return start


@pytest.fixture
def daemon(daemons):
    return daemons("daemon")


@pytest.fixture
def cli_env(tmp_path):
    config = tmp_path / "docker-config"
    config.mkdir()
    return dict(os.environ, DOCKER_CONFIG=str(config))


def run(args, d, env=None, check=True, input="", timeout=120):
    """Run a client; stdin is empty unless given, so nothing waits for a prompt."""
    proc = subprocess.run(args, capture_output=True, text=True, env=env, input=input,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}\n"
                             f"{proc.stdout}\n{d.log()[-3000:]}")
    return proc


def docker(cli, d, *args, **kw):
    return run([cli, "-H", d.host, *args], d, **kw)


def inspect(cli, d, name):
    return json.loads(docker(cli, d, "image", "inspect", name).stdout)[0]


def graph_entries(cli, d):
    driver = docker(cli, d, "info", "--format", "{{.Driver}}").stdout.strip()
    home = os.path.join(d.root, driver)
    return sorted(os.listdir(home)) if os.path.isdir(home) else []


# -- the docker CLI --------------------------------------------------------------------------

def test_cli_push_then_a_fresh_daemon_pulls_the_same_image(docker_cli, registries, daemons,
                                                          busybox_tar, cli_env):
    registry = registries()
    first, second, third = daemons("first"), daemons("second"), daemons("third")
    name = f"{registry.host}/team/busybox:1.0"
    docker(docker_cli, first, "import", busybox_tar, name, env=cli_env)
    pushed = docker(docker_cli, first, "push", name, env=cli_env).stdout
    assert "Pushed" in pushed and "1.0: digest: sha256:" in pushed
    digest = pushed.split("digest: ")[1].split()[0]
    original = inspect(docker_cli, first, name)
    assert f"{registry.host}/team/busybox@{digest}" in original["RepoDigests"]

    pulled = docker(docker_cli, second, "pull", name, env=cli_env).stdout
    assert "Pull complete" in pulled and f"Digest: {digest}" in pulled
    assert f"Status: Downloaded newer image for {name}" in pulled
    copy = inspect(docker_cli, second, name)
    assert copy["Id"] == original["Id"]  # the same config bytes, so the same image ID
    assert copy["RootFS"]["Layers"] == original["RootFS"]["Layers"]
    listing = docker(docker_cli, second, "images", "--digests", "--format",
                     "{{.Repository}} {{.Tag}} {{.Digest}}").stdout.split()
    assert listing == [f"{registry.host}/team/busybox", "1.0", digest]

    again = docker(docker_cli, second, "pull", name, env=cli_env).stdout
    assert f"Status: Image is up to date for {name}" in again
    repush = docker(docker_cli, second, "push", name, env=cli_env).stdout
    assert "Layer already exists" in repush and digest in repush

    # A pulled layer pushed elsewhere is rebuilt from its tar-split: a third daemon's pull
    # (which checks every diff ID) gets the same image again, and by digest too.
    elsewhere = f"{registries('other').host}/copy/busybox:1.0"
    docker(docker_cli, second, "tag", name, elsewhere)
    assert "Pushed" in docker(docker_cli, second, "push", elsewhere, env=cli_env).stdout
    by_digest = f"{elsewhere.rsplit(':', 1)[0]}@{digest}"
    docker(docker_cli, third, "pull", by_digest, env=cli_env)
    assert inspect(docker_cli, third, by_digest)["Id"] == original["Id"]


def test_cli_push_mounts_from_another_repository(docker_cli, registry, daemon, busybox_tar,
                                                 cli_env):
    docker(docker_cli, daemon, "import", busybox_tar, f"{registry.host}/a/one:1", env=cli_env)
    docker(docker_cli, daemon, "push", f"{registry.host}/a/one:1", env=cli_env)
    docker(docker_cli, daemon, "tag", f"{registry.host}/a/one:1", f"{registry.host}/b/two:1")
    out = docker(docker_cli, daemon, "push", f"{registry.host}/b/two:1", env=cli_env).stdout
    assert f"Mounted from {registry.host}/a/one" in out


def test_cli_login_then_push_and_pull(docker_cli, registries, daemons, busybox_tar, cli_env,
                                      tmp_path):
    registry = registries("private", htpasswd=True)
    first, second = daemons("first"), daemons("second")
    bad = docker(docker_cli, first, "login", "-u", USER, "--password-stdin", registry.host,
                 env=cli_env, input="wrong\n", check=False)
    assert bad.returncode != 0 and "unauthorized" in bad.stderr.lower()
    assert not os.path.exists(os.path.join(cli_env["DOCKER_CONFIG"], "config.json")) or \
        registry.host not in open(os.path.join(cli_env["DOCKER_CONFIG"], "config.json")).read()

    good = docker(docker_cli, first, "login", "-u", USER, "--password-stdin", registry.host,
                  env=cli_env, input=PASSWORD + "\n")
    assert "Login Succeeded" in good.stdout
    name = f"{registry.host}/private/busybox:latest"
    docker(docker_cli, first, "import", busybox_tar, name, env=cli_env)
    assert "digest: sha256:" in docker(docker_cli, first, "push", name, env=cli_env).stdout

    anonymous = dict(cli_env, DOCKER_CONFIG=str(tmp_path / "nobody"))
    refused = docker(docker_cli, second, "pull", name, env=anonymous, check=False)
    assert refused.returncode != 0 and "pull access denied" in refused.stderr
    assert docker(docker_cli, second, "images", "-q").stdout.strip() == ""
    docker(docker_cli, second, "pull", name, env=cli_env)
    assert inspect(docker_cli, second, name)["Id"] == inspect(docker_cli, first, name)["Id"]


def test_cli_pull_all_tags_and_events(docker_cli, registry, daemon, cli_env):
    for tag, content in (("v1", b"one"), ("v2", b"two")):
        push_test_image(f"{registry.host}/multi/app:{tag}", [layer_tar({"f": content})])
    out = docker(docker_cli, daemon, "pull", "-a", f"{registry.host}/multi/app",
                 env=cli_env).stdout
    assert "Pull complete" in out
    tags = docker(docker_cli, daemon, "images", "--format", "{{.Tag}}").stdout.split()
    assert sorted(tags) == ["v1", "v2"]
    docker(docker_cli, daemon, "push", f"{registry.host}/multi/app:v1", env=cli_env)
    time.sleep(1.1)  # the CLI sends --until in whole seconds: let this second pass
    events = docker(docker_cli, daemon, "events", "--since", "2m", "--until", "0s",
                    "--filter", "type=image", "--format", "{{.Action}} {{.Actor.ID}}").stdout
    lines = events.splitlines()
    assert f"pull {registry.host}/multi/app:v1" in lines
    assert f"pull {registry.host}/multi/app:v2" in lines
    assert f"push {registry.host}/multi/app:v1" in lines


def test_cli_errors_are_clear(docker_cli, registry, daemon, cli_env):
    missing = docker(docker_cli, daemon, "pull", f"{registry.host}/no/such:1", env=cli_env,
                     check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr
    unknown = docker(docker_cli, daemon, "push", f"{registry.host}/not/local:1", env=cli_env,
                     check=False)
    assert "An image does not exist locally with the tag" in unknown.stderr
    search = docker(docker_cli, daemon, "search", f"{registry.host}/busybox", env=cli_env,
                    check=False)
    assert search.returncode != 0 and "does not support search" in search.stderr


# -- failures leave nothing behind -----------------------------------------------------------

def test_corrupted_blob_leaves_no_image_and_no_layer(docker_cli, registry, daemon, cli_env):
    name = f"{registry.host}/broken/app:1"
    result = push_test_image(name, [layer_tar({"base": os.urandom(300_000)}),
                                    layer_tar({"top": os.urandom(300_000)})])
    blob = registry.blob_path(json.loads(result.manifest)["layers"][1]["digest"])
    good = open(blob, "rb").read()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    before = graph_entries(docker_cli, daemon)
    with open(blob, "wb") as f:
        f.write(damaged)
    failed = docker(docker_cli, daemon, "pull", name, env=cli_env, check=False)
    assert failed.returncode != 0 and "verification failed" in failed.stderr + failed.stdout
    assert docker(docker_cli, daemon, "images", "-a", "-q").stdout.strip() == ""
    assert graph_entries(docker_cli, daemon) == before

    with open(blob, "wb") as f:  # the registry repaired: the retried pull works
        f.write(good)
    docker(docker_cli, daemon, "pull", name, env=cli_env)
    assert len(inspect(docker_cli, daemon, name)["RootFS"]["Layers"]) == 2


def test_registry_stopped_mid_pull_then_retried(registries, daemon, docker_cli, cli_env):
    docker_py = pytest.importorskip("docker")
    registry = registries("flaky")
    push_test_image(f"{registry.host}/big/app:1", [layer_tar({"blob": os.urandom(6 << 20)})])
    proxy = SlowProxy(registry.host, rate=1 << 20).start()
    api = docker_py.APIClient(base_url=daemon.host, version="1.44", timeout=120)
    try:
        name = f"{proxy.host}/big/app"
        messages = []
        for message in api.pull(name, tag="1", stream=True, decode=True):
            messages.append(message)
            if message.get("status") == "Downloading" and registry.process.poll() is None:
                registry.stop()  # the registry dies part-way through the download
        assert "error" in messages[-1], messages[-3:]
        assert docker(docker_cli, daemon, "images", "-a", "-q").stdout.strip() == ""
        registries("flaky", port=registry.port)  # back on the same port and storage
        final = list(api.pull(name, tag="1", stream=True, decode=True))
        assert "error" not in final[-1] and "Downloaded newer image" in final[-1]["status"]
    finally:
        api.close()
        proxy.stop()


# -- docker-py, pydocker's own client, skopeo ------------------------------------------------

def test_docker_py_login_push_pull(registries, daemons, busybox_tar):
    docker_py = pytest.importorskip("docker")
    registry = registries("private", htpasswd=True)
    first, second = daemons("first"), daemons("second")
    one = docker_py.DockerClient(base_url=first.host, version="1.44")
    two = docker_py.DockerClient(base_url=second.host, version="1.44")
    try:
        with pytest.raises(docker_py.errors.APIError) as refused:
            one.login(USER, "wrong", registry=registry.host, reauth=True)
        assert refused.value.status_code == 401
        assert one.login(USER, PASSWORD, registry=registry.host)["Status"] == "Login Succeeded"
        repo = f"{registry.host}/py/busybox"
        one.api.import_image_from_file(busybox_tar, repository=repo, tag="7")
        messages = list(one.images.push(repo, tag="7", stream=True, decode=True))
        aux = [m["aux"] for m in messages if "aux" in m]
        assert aux and aux[-1]["Tag"] == "7" and aux[-1]["Digest"].startswith("sha256:")
        credentials = {"username": USER, "password": PASSWORD}
        image = two.images.pull(repo, tag="7", auth_config=credentials)
        assert image.id == one.images.get(f"{repo}:7").id
        assert f"{repo}@{aux[-1]['Digest']}" in image.attrs["RepoDigests"]
    finally:
        one.close()
        two.close()


def test_pydocker_client_login_push_pull(registries, daemons, busybox_tar, cli_env):
    registry = registries("private", htpasswd=True)
    first, second = daemons("first"), daemons("second")

    def pydocker(d, *args, **kw):
        return run([sys.executable, "-m", "pydocker", "-H", d.host, *args], d, env=cli_env, **kw)

    refused = pydocker(first, "login", "-u", USER, "--password-stdin", registry.host,
                       input="wrong\n", check=False)
    assert refused.returncode != 0
    assert "Login Succeeded" in pydocker(first, "login", "-u", USER, "--password-stdin",
                                         registry.host, input=PASSWORD + "\n").stdout
    name = f"{registry.host}/own/busybox:2"
    pydocker(first, "import", busybox_tar, name)
    assert "digest: sha256:" in pydocker(first, "push", name).stdout
    pulled = pydocker(second, "pull", name).stdout
    assert f"Status: Downloaded newer image for {name}" in pulled
    ids = [json.loads(pydocker(d, "image", "inspect", name).stdout)[0]["Id"]
           for d in (first, second)]
    assert ids[0] == ids[1]


def test_skopeo_reads_our_pushes_and_we_pull_its_oci_copies(docker_cli, registry, daemons,
                                                            busybox_tar, cli_env, tmp_path):
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        pytest.skip("skopeo is not installed")
    first, second = daemons("first"), daemons("second")
    name = f"{registry.host}/interop/busybox:1"
    docker(docker_cli, first, "import", busybox_tar, name, env=cli_env)
    docker(docker_cli, first, "push", name, env=cli_env)

    out = tmp_path / "skopeo-dir"
    run([skopeo, "copy", "--src-tls-verify=false", f"docker://{name}", f"dir:{out}"], first)
    manifest = json.loads((out / "manifest.json").read_text())
    config = json.loads((out / manifest["config"]["digest"].split(":")[1]).read_text())
    for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
        data = gzip.decompress((out / layer["digest"].split(":")[1]).read_bytes())
        assert "sha256:" + hashlib.sha256(data).hexdigest() == diff_id  # byte-faithful tar

    oci_name = f"{registry.host}/interop/oci:1"
    run([skopeo, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "oci",
         f"docker://{name}", f"docker://{oci_name}"], first)
    oci_manifest = json.loads(run([skopeo, "inspect", "--raw", "--tls-verify=false",
                                   f"docker://{oci_name}"], first).stdout)
    assert oci_manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    docker(docker_cli, second, "pull", oci_name, env=cli_env)
    pulled = inspect(docker_cli, second, oci_name)
    assert pulled["Id"] == oci_manifest["config"]["digest"]  # skopeo rewrote the config
    assert pulled["RootFS"]["Layers"] == inspect(docker_cli, first, name)["RootFS"]["Layers"]


class SearchIndex:
    """A registry with the v1 search API (as Docker Hub's index has), answering from a
    fixed list and recording the queries it got."""

    RESULTS = [{"name": "team/busybox", "description": "small", "star_count": 5,
                "is_official": False, "is_automated": False},
               {"name": "team/busy-tools", "description": "tools", "star_count": 1,
                "is_official": False, "is_automated": False},
               {"name": "busybox", "description": "official", "star_count": 9,
                "is_official": True, "is_automated": False}]

    def __init__(self):
        index = self
        self.queries = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/v1/search":
                    index.queries.append(parse_qs(url.query))
                    body = json.dumps({"num_results": 3, "query": "busy",
                                       "results": index.RESULTS}).encode()
                elif url.path == "/v2/":
                    body = b"{}"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_search_through_a_v1_index(docker_cli, daemon, cli_env):
    index = SearchIndex()
    try:
        out = docker(docker_cli, daemon, "search", "--limit", "10", "--filter", "stars=2",
                     "--format", "{{.Name}} {{.StarCount}} {{.IsOfficial}}",
                     f"{index.host}/busy", env=cli_env).stdout
        assert [line.split()[:2] for line in out.splitlines()] == [["team/busybox", "5"],
                                                                   ["busybox", "9"]]
        assert out.splitlines()[1].endswith("[OK]")  # the CLI marks official images
        assert index.queries[-1] == {"q": ["busy"], "n": ["10"]}
        official = docker(docker_cli, daemon, "search", "--filter", "is-official=true",
                          "--format", "{{.Name}}", f"{index.host}/busy", env=cli_env).stdout
        assert official.split() == ["busybox"]
        bad = docker(docker_cli, daemon, "search", "--limit", "500", f"{index.host}/busy",
                     env=cli_env, check=False)
        assert bad.returncode != 0 and "outside the range" in bad.stderr
    finally:
        index.stop()
