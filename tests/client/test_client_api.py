"""The client against a stand-in API server (tests/client/standin.py, not a daemon):
negotiation, errors as the docker CLI prints them, streams and the hijack."""

import json
import os

import pytest

from pydocker.client.stdcopy import STDERR, STDOUT, Demuxer, frame

VERSION = {"Version": "9.9", "ApiVersion": "1.44", "MinAPIVersion": "1.24", "Os": "linux",
           "Arch": "amd64", "GoVersion": "none", "GitCommit": "abc", "BuildTime": "",
           "Platform": {"Name": "Stand-in Engine"}}


def test_negotiates_down_to_an_older_server(standin, run_cli):
    standin.api_version = "1.41"
    standin.json("GET", "/version", dict(VERSION, ApiVersion="1.41"))
    result = run_cli("-H", standin.url, "version")
    assert result.status == 0, result.err
    assert [r["path"] for r in standin.requests] == ["/_ping", "/v1.41/version"]
    assert "API version:       1.41 (downgraded from 1.44)" in result.out
    assert "Server: Stand-in Engine" in result.out


def test_never_negotiates_above_our_maximum(standin, run_cli):
    standin.api_version = "1.99"
    standin.json("GET", "/version", VERSION)
    run_cli("-H", standin.url, "version", "--format", "{{.Server.Version}}")
    assert standin.requests[-1]["path"] == "/v1.44/version"


def test_pinned_version_skips_the_ping(standin, run_cli, monkeypatch):
    standin.json("GET", "/version", VERSION)
    monkeypatch.setenv("DOCKER_API_VERSION", "1.30")
    result = run_cli("-H", standin.url, "version", "-f", "{{.Client.ApiVersion}}")
    assert result.out == "1.30\n"
    assert [r["path"] for r in standin.requests] == ["/v1.30/version"]


def test_daemon_errors_are_printed_like_the_docker_cli(standin, run_cli):
    standin.json("GET", "/containers/nope/json", {"message": "No such container: nope"}, 404)
    result = run_cli("-H", standin.url, "logs", "nope")
    assert result.status == 1
    assert result.err == "Error response from daemon: No such container: nope\n"


def test_connection_failure_names_the_address(run_cli, tmp_path):
    sock = tmp_path / "absent.sock"
    result = run_cli("-H", f"unix://{sock}", "ps")
    assert result.status == 1
    assert result.err == (f"Cannot connect to the pydocker daemon at unix://{sock}. "
                          "Is the daemon running?\n")


def test_filters_and_flags_reach_the_query_string(standin, run_cli):
    standin.json("GET", "/containers/json", [
        {"Id": "a" * 64, "Names": ["/web"], "Image": "busybox", "Command": "top",
         "Created": 0, "State": "running", "Status": "Up 1 second", "Ports": []}])
    result = run_cli("-H", standin.url, "ps", "-a", "--filter", "status=running",
                     "--format", "{{.Names}} {{.ID}}")
    assert result.out == "web " + "a" * 12 + "\n"
    query = standin.requests[-1]["query"]
    assert "all=1" in query
    assert "filters=%7B%22status%22%3A%7B%22running%22%3Atrue%7D%7D" in query


def test_progress_stream_error_fails_the_command(standin, run_cli):
    @standin.route("POST", "/images/create")
    def create(handler, body):
        handler.reply_chunked([
            json.dumps({"status": "Pulling from library/x", "id": "latest"}).encode() + b"\n",
            json.dumps({"errorDetail": {"message": "manifest unknown"},
                        "error": "manifest unknown"}).encode() + b"\n"])

    result = run_cli("-H", standin.url, "pull", "localhost:5000/x")
    assert result.status == 1
    assert "latest: Pulling from library/x" in result.out
    assert result.err == "manifest unknown\n"
    assert standin.requests[-1]["query"] == "fromImage=localhost%3A5000%2Fx&tag=latest"
    assert "X-Registry-Auth" in standin.requests[-1]["headers"]


def test_import_streams_the_file_as_a_chunked_body(standin, run_cli, tmp_path):
    @standin.route("POST", "/images/create")
    def create(handler, body):
        standin.received = body
        handler.reply(200, b'{"status":"sha256:feed"}\r\n')

    tarball = tmp_path / "rootfs.tar"
    tarball.write_bytes(b"x" * 200000)
    result = run_cli("-H", standin.url, "import", "-c", "CMD [\"sh\"]", str(tarball), "img:1")
    assert result.status == 0, result.err
    assert result.out == "sha256:feed\n"
    assert standin.received == b"x" * 200000
    query = standin.requests[-1]["query"]
    assert "fromSrc=-" in query and "repo=img" in query and "tag=1" in query
    assert "changes=CMD" in query


def _upgrade(handler):
    handler.wfile.write(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: "
                        b"application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n"
                        b"Upgrade: tcp\r\n\r\n")
    handler.wfile.flush()


def test_run_hijacks_demuxes_half_closes_and_returns_the_exit_code(standin, run_cli):
    """run: create, attach, wait and start in the docker CLI's order; stdin EOF is a
    half-close (the server still answers after it); the exit status is the container's."""
    order = []
    standin.json("POST", "/containers/create", {"Id": "c1", "Warnings": []}, 201)

    @standin.route("POST", "/containers/c1/attach")
    def attach(handler, body):
        order.append("attach")
        _upgrade(handler)
        received = b""
        while True:
            data = handler.connection.recv(4096)
            if not data:
                break  # the client's shutdown(SHUT_WR)
            received += data
        handler.wfile.write(frame(STDOUT, received.upper()) + frame(STDERR, b"warn\n"))
        handler.wfile.flush()
        handler.close_connection = True

    @standin.route("POST", "/containers/c1/wait")
    def wait(handler, body):
        order.append("wait")
        handler.reply(200, {"StatusCode": 3})

    @standin.route("POST", "/containers/c1/start")
    def start(handler, body):
        order.append("start")
        handler.reply(204, b"")

    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"hello\n")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as stdin:
        result = run_cli("-H", standin.url, "run", "-i", "busybox", "cat", stdin=stdin)
    assert result.status == 3
    assert result.out == "HELLO\n"
    assert result.err == "warn\n"
    assert order == ["attach", "wait", "start"]
    attach_request = [r for r in standin.requests if r["path"].endswith("/attach")][0]
    assert attach_request["headers"]["Upgrade"] == "tcp"
    assert attach_request["body"] == b""  # a body would reach the container's stdin
    create = json.loads([r for r in standin.requests if r["path"].endswith("/create")][0]["body"])
    assert create["Image"] == "busybox" and create["Cmd"] == ["cat"] and create["OpenStdin"]


def test_demuxer_handles_frames_split_anywhere():
    data = frame(STDOUT, b"out") + frame(STDERR, b"err") + frame(STDOUT, b"")
    demux = Demuxer()
    frames = []
    for i in range(len(data)):
        frames += demux.feed(data[i:i + 1])
    assert frames == [(STDOUT, b"out"), (STDERR, b"err"), (STDOUT, b"")]
    assert demux.leftover == b""


def test_events_stream_prints_each_event_as_it_arrives(standin, run_cli):
    events = [{"Type": "container", "Action": "start", "Actor": {"ID": "abc", "Attributes":
               {"name": "web", "image": "busybox"}}, "time": 1700000000,
               "timeNano": 1700000000123456789}]

    @standin.route("GET", "/events")
    def stream(handler, body):
        handler.reply_chunked([json.dumps(e).encode() + b"\n" for e in events])

    result = run_cli("-H", standin.url, "events", "--since", "1h",
                     "--format", "{{.Action}} {{.Actor.Attributes.name}}")
    assert result.out == "start web\n"
    plain = run_cli("-H", standin.url, "events")
    assert plain.out.endswith(" container start abc (image=busybox, name=web)\n")
    assert ".123456789" in plain.out


def test_inspect_reports_missing_objects_after_the_found_ones(standin, run_cli):
    standin.json("GET", "/containers/web/json", {"Id": "w", "Name": "/web",
                                                 "State": {"Pid": 7}})
    for path in ("/containers/nope/json", "/images/nope/json", "/networks/nope",
                 "/volumes/nope"):
        standin.json("GET", path, {"message": "not found"}, 404)
    result = run_cli("-H", standin.url, "inspect", "-f", "{{.State.Pid}}", "web", "nope")
    assert result.status == 1
    assert result.out == "7\n"
    assert result.err == "Error: No such object: nope\n"
    whole = run_cli("-H", standin.url, "inspect", "web")
    assert json.loads(whole.out) == [{"Id": "w", "Name": "/web", "State": {"Pid": 7}}]


def test_login_and_logout_keep_docker_format_credentials(standin, run_cli, tmp_path):
    standin.json("POST", "/auth", {"Status": "Login Succeeded"})
    config = tmp_path / "cfg"
    result = run_cli("--config", str(config), "-H", standin.url, "login", "-u", "me",
                     "--password-stdin", "registry.local:5000", stdin="s3cret\n")
    assert result.status == 0, result.err
    assert result.out == "Login Succeeded\n"
    saved = json.loads((config / "config.json").read_text())
    assert saved["auths"]["registry.local:5000"]["auth"] == "bWU6czNjcmV0"  # me:s3cret
    assert (config / "config.json").stat().st_mode & 0o777 == 0o600
    sent = json.loads(standin.requests[-1]["body"])
    assert sent == {"username": "me", "password": "s3cret",
                    "serveraddress": "registry.local:5000"}
    out = run_cli("--config", str(config), "logout", "registry.local:5000")
    assert out.out == "Removing login credentials for registry.local:5000\n"
    assert json.loads((config / "config.json").read_text())["auths"] == {}


def test_usage_errors_exit_125_and_help_exits_0(run_cli):
    bad = run_cli("ps", "--bogus")
    assert bad.status == 125
    assert bad.err == "unknown flag: --bogus\nSee 'pydocker ps --help'.\n"
    unknown = run_cli("frobnicate")
    assert unknown.status == 125 and "is not a pydocker command" in unknown.err
    helped = run_cli("run", "--help")
    assert helped.status == 0 and "--publish" in helped.out


@pytest.mark.parametrize("argv", [["version"], ["ps"], ["run", "--help"], ["images"]])
def test_client_path_imports_neither_twisted_nor_the_daemon(argv, tmp_path):
    import subprocess
    import sys

    code = ("import sys; from pydocker.__main__ import main; "
            f"main({['-H', f'unix://{tmp_path}/none.sock'] + argv!r}); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('twisted', 'sqlalchemy') "
            "or m.startswith(('pydocker.daemon', 'pydocker.engine', 'pydocker.jobs'))]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_run_without_stdin_needs_no_input_descriptor(standin, run_cli):
    """Output-only sessions work when the client has no usable stdin (e.g. under a
    test runner, or with stdin closed)."""
    standin.json("POST", "/containers/create", {"Id": "c2"}, 201)
    standin.json("POST", "/containers/c2/start", {}, 200)
    standin.json("POST", "/containers/c2/wait", {"StatusCode": 0})

    @standin.route("POST", "/containers/c2/attach")
    def attach(handler, body):
        _upgrade(handler)
        handler.wfile.write(frame(STDOUT, b"only output\n"))
        handler.wfile.flush()
        handler.close_connection = True

    result = run_cli("-H", standin.url, "run", "busybox", "echo")
    assert (result.status, result.out) == (0, "only output\n")


@pytest.mark.parametrize("build_time, shown", [
    ("", "  Built:            \n"),  # the daemon does not know: blank, as the docker CLI shows it
    ("2024-03-05T10:11:12.000000000+00:00", "  Built:            Tue Mar  5 10:11:12 2024\n"),
])
def test_version_shows_the_build_time_like_the_docker_cli(standin, run_cli, build_time, shown):
    standin.json("GET", "/version", dict(VERSION, BuildTime=build_time))
    result = run_cli("-H", standin.url, "version")
    assert result.status == 0, result.err
    assert [line for line in result.out.splitlines(True) if "Built:" in line] == [shown]
