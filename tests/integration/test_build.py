"""POST /build end to end: the docker CLI 28's classic builder (DOCKER_BUILDKIT=0), docker-py's
images.build and our own client against a real daemon, from a busybox image made at test time."""

import io
import json
import os
import tarfile
import time

import pytest

from pydocker.testing.cli import docker

pytestmark = pytest.mark.kernel

CLASSIC = dict(os.environ, DOCKER_BUILDKIT="0")


def write(directory, files):
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content) if isinstance(content, str) else path.write_bytes(content)
    return directory


def build(cli, d, context, *args, check=True, input=""):
    return docker(cli, d, "build", *args, str(context), check=check, env=CLASSIC, input=input)


def run(cli, d, *args):
    return docker(cli, d, "run", "--rm", *args).stdout


def inspect(cli, d, name):
    return json.loads(docker(cli, d, "image", "inspect", name).stdout)[0]


def containers(cli, d):
    return docker(cli, d, "ps", "-aq").stdout.split()


def test_cli_build_runs_each_instruction_and_streams_like_dockerd(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {
        "Dockerfile": (
            "FROM busybox\n"
            "LABEL org.test=one other=\"two words\"\n"
            "ENV GREETING=hello TARGET=world\n"
            "WORKDIR /app\n"
            "COPY hello.txt .\n"
            "COPY dir /app/dir/\n"
            "RUN echo \"$GREETING $TARGET\" > made.txt && cat made.txt\n"
            "EXPOSE 8080 53/udp\n"
            "USER daemon\n"
            "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
            "CMD [\"cat /app/made.txt /app/hello.txt /app/dir/sub/inner.txt\"]\n"),
        "hello.txt": "from the context\n",
        "dir/sub/inner.txt": "inner\n",
    })
    out = build(docker_cli, d, ctx, "-t", "built:one")
    text = out.stdout
    assert "Step 1/11 : FROM busybox" in text
    assert "Step 7/11 : RUN echo \"$GREETING $TARGET\" > made.txt && cat made.txt" in text
    assert " ---> Running in " in text and "hello world\n" in text
    assert "Removing intermediate container" in text
    assert "Successfully built " in text and "Successfully tagged built:one" in text
    image = inspect(docker_cli, d, "built:one")
    assert text.split("Successfully built ")[1][:12] == image["Id"].split(":")[1][:12]
    config = image["Config"]
    assert config["Labels"] == {"org.test": "one", "other": "two words"}
    assert "GREETING=hello" in config["Env"] and "TARGET=world" in config["Env"]
    assert config["WorkingDir"] == "/app" and config["User"] == "daemon"
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert config["Entrypoint"] == ["/bin/sh", "-c"]
    assert run(docker_cli, d, "built:one") == "hello world\nfrom the context\ninner\n"
    assert containers(docker_cli, d) == []
    history = docker(docker_cli, d, "history", "--no-trunc", "--format", "{{.CreatedBy}}", "built:one").stdout
    assert "/bin/sh -c #(nop)  USER daemon" in history
    assert "/bin/sh -c #(nop) WORKDIR /app" in history
    assert "/bin/sh -c echo \"$GREETING $TARGET\" > made.txt && cat made.txt" in history


def test_failing_run_is_reported_in_band_and_leaves_no_container(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nRUN echo before\nRUN false\n"})
    out = build(docker_cli, d, ctx, check=False)
    assert out.returncode != 0
    assert "The command '/bin/sh -c false' returned a non-zero code: 1" in out.stderr
    assert containers(docker_cli, d) == []


def test_syntax_errors_answer_400_naming_the_line(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    cases = {
        "FROM busybox\nFROBNICATE x\n": "dockerfile parse error on line 2: unknown instruction: FROBNICATE",
        "FROM busybox\nRUN --mount=type=cache,target=/x true\n": "the --mount option requires BuildKit",
        "FROM busybox\nRUN cat <<EOF\nhello\nEOF\n": "dockerfile parse error on line 2: heredocs in RUN require BuildKit",
        "FROM busybox\nCOPY onlyone\n": "COPY requires at least two arguments",
    }
    for text, message in cases.items():
        ctx = write(tmp_path / f"ctx{len(text)}", {"Dockerfile": text})
        out = build(docker_cli, d, ctx, check=False)
        assert out.returncode != 0 and message in out.stderr, (text, out.stderr)
        assert "Step 1/" not in out.stdout


def test_copy_of_missing_or_outside_files_fails_naming_the_path(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nCOPY nope.txt /\n"})
    out = build(docker_cli, d, ctx, check=False)
    assert out.returncode != 0 and "COPY failed: file not found in build context" in out.stderr
    assert "nope.txt" in out.stderr
    ctx = write(tmp_path / "ctx2", {"Dockerfile": "FROM busybox\nCOPY ../secret /\n"})
    out = build(docker_cli, d, ctx, check=False)
    assert out.returncode != 0 and "Forbidden path outside the build context: ../secret" in out.stderr


def test_cache_hits_then_a_changed_file_invalidates_from_its_step(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {
        "Dockerfile": "FROM busybox\nENV A=1\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nCMD [\"cat\", \"/b.txt\"]\n",
        "a.txt": "one\n",
    })
    first = build(docker_cli, d, ctx, "-t", "cached").stdout
    assert "Using cache" not in first
    second = build(docker_cli, d, ctx, "-t", "cached").stdout
    assert second.count(" ---> Using cache") == 4 and "Running in" not in second
    assert first.split("Successfully built ")[1][:12] == second.split("Successfully built ")[1][:12]
    os.utime(ctx / "a.txt", (1, 1))  # a new mtime alone keeps the cache
    assert build(docker_cli, d, ctx).stdout.count("Using cache") == 4
    (ctx / "a.txt").write_text("two\n")
    third = build(docker_cli, d, ctx, "-t", "cached").stdout
    assert third.count(" ---> Using cache") == 1  # ENV only: the first miss ends the cache
    assert run(docker_cli, d, "cached") == "two\n"
    nocache = build(docker_cli, d, ctx, "--no-cache").stdout
    assert "Using cache" not in nocache
    # Intermediate images are kept as parents: shown by images -a only.
    listed = docker(docker_cli, d, "images", "-q").stdout.split()
    everything = docker(docker_cli, d, "images", "-aq").stdout.split()
    assert len(everything) > len(listed) + 3


def test_build_args_multi_stage_and_target(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {
        "Dockerfile": (
            "ARG BASE=busybox\n"
            "FROM ${BASE} AS builder\n"
            "ARG WHO=nobody\n"
            "ARG BASE\n"
            "RUN mkdir /out && echo \"built by $WHO from $BASE\" > /out/result\n"
            "FROM busybox AS second\n"
            "COPY --from=builder /out/result /result\n"
            "RUN echo second > /second\n"
            "FROM second\n"
            "COPY --from=0 /out /copied/\n"
            "COPY --from=busybox /etc/passwd /from-image/\n"
            "RUN [\"/bin/sh\", \"-c\", \"test -s /from-image/passwd\"]\n"
            "CMD cat /result /second /copied/result\n"),
    })
    out = build(docker_cli, d, ctx, "-t", "multi", "--build-arg", "WHO=tester", "--build-arg", "UNUSED=1")
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in out.stdout
    assert run(docker_cli, d, "multi") == ("built by tester from busybox\nsecond\n"
                                          "built by tester from busybox\n")
    history = docker(docker_cli, d, "history", "--no-trunc", "--format", "{{.CreatedBy}}",
                     "multi").stdout
    assert "|0 " not in history
    first_stage = docker(docker_cli, d, "history", "--no-trunc", "--format", "{{.CreatedBy}}",
                         build(docker_cli, d, ctx, "-q", "--build-arg", "WHO=tester", "--target", "builder")
                         .stdout.strip()).stdout
    assert "|2 BASE=busybox WHO=tester /bin/sh -c mkdir /out" in first_stage
    out = build(docker_cli, d, ctx, "--target", "second", "--build-arg", "WHO=tester", "-t", "second")
    assert "Step 9/" not in out.stdout
    assert docker(docker_cli, d, "run", "--rm", "second", "cat", "/second").stdout == "second\n"
    out = build(docker_cli, d, ctx, "--target", "nope", check=False)
    assert out.returncode != 0 and "failed to reach build target nope in Dockerfile" in out.stderr


def test_add_chown_wildcards_dockerignore_and_metadata(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = b"from the tar\n"
        member = tarfile.TarInfo("pkg/inside.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    ctx = write(tmp_path / "ctx", {
        "Dockerfile": (
            "FROM busybox\n"
            "MAINTAINER someone@example.com\n"
            "ADD bundle.tar.gz /opt/\n"
            "COPY --chown=daemon:nogroup *.txt /files/\n"
            "COPY --chown=1234 keep.txt /numeric\n"
            "COPY . /all/\n"
            "SHELL [\"/bin/sh\", \"-ec\"]\n"
            "RUN echo shell is $0\n"
            "VOLUME /data\n"
            "STOPSIGNAL SIGUSR1\n"
            "HEALTHCHECK --interval=5s --retries=2 CMD true\n"
            "ONBUILD RUN echo triggered > /trigger\n"),
        "bundle.tar.gz": archive.getvalue(),
        "keep.txt": "keep\n",
        "other.txt": "other\n",
        "ignored.log": "ignored\n",
        "secret/key": "secret\n",
        ".dockerignore": "*.log\nsecret\n",
    })
    out = build(docker_cli, d, ctx, "-t", "meta").stdout
    assert "shell is /bin/sh" in out
    listing = run(docker_cli, d, "meta", "sh", "-c",
                  "cat /opt/pkg/inside.txt; stat -c '%n %u:%g' /files/keep.txt /files/other.txt /numeric;"
                  " ls -a /all | sort | tr '\\n' ' '")
    assert "from the tar\n" in listing
    assert "/files/keep.txt 1:65534" in listing and "/files/other.txt 1:65534" in listing
    assert "/numeric 1234:1234" in listing
    assert "ignored.log" not in listing and "secret" not in listing and "keep.txt" in listing
    image = inspect(docker_cli, d, "meta")
    config = image["Config"]
    assert image["Author"] == "someone@example.com"
    assert config["Shell"] == ["/bin/sh", "-ec"] and config["StopSignal"] == "SIGUSR1"
    assert config["Volumes"] == {"/data": {}}
    assert config["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 2}
    assert config["OnBuild"] == ["RUN echo triggered > /trigger"]
    child = write(tmp_path / "child", {"Dockerfile": "FROM meta\nRUN cat /trigger\n"})
    out = build(docker_cli, d, child, "-t", "child").stdout
    assert "# Executing 1 build trigger" in out and "triggered" in out
    assert not inspect(docker_cli, d, "child")["Config"].get("OnBuild")


def test_quiet_iidfile_and_docker_py(busybox_daemon, docker_cli, tmp_path):
    docker_py = pytest.importorskip("docker")
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nRUN echo hi > /hi\nCMD [\"cat\", \"/hi\"]\n"})
    out = build(docker_cli, d, ctx, "-q", "--iidfile", str(tmp_path / "iid"))
    image_id = (tmp_path / "iid").read_text().strip()
    assert out.stdout.strip() == image_id and image_id.startswith("sha256:")
    client = docker_py.DockerClient(base_url=d.host)
    try:
        image, logs = client.images.build(path=str(ctx), tag="frompy:1", rm=True)
        assert image.id == image_id  # the same steps: all from the cache
        assert any("Using cache" in entry.get("stream", "") for entry in logs)
        assert client.containers.run("frompy:1", remove=True) == b"hi\n"
        with pytest.raises(docker_py.errors.BuildError) as caught:
            client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 3\n"))
        assert "returned a non-zero code: 3" in str(caught.value)
    finally:
        client.close()


def test_our_client_builds_from_a_directory_stdin_and_outside_dockerfile(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {
        "Dockerfile": "FROM busybox\nARG WHAT\nCOPY . /ctx/\nRUN echo \"$WHAT\" > /what\n",
        "data.txt": "data\n", "skip.tmp": "no\n", ".dockerignore": "*.tmp\n",
    })
    out = d.client("build", "-t", "mine:1", "-t", "mine:2", "--build-arg", "WHAT=argued", "--label", "l=v",
                   "--iidfile", str(tmp_path / "iid"), str(ctx)).stdout
    assert out.startswith("Sending build context to Docker daemon")
    assert "Successfully tagged mine:1" in out and "Successfully tagged mine:2" in out
    image = inspect(docker_cli, d, "mine:2")
    assert image["Id"] == (tmp_path / "iid").read_text()
    assert image["Config"]["Labels"] == {"l": "v"}
    files = run(docker_cli, d, "mine:1", "sh", "-c", "ls -A /ctx | sort | tr '\\n' ' '; cat /what")
    assert files == ".dockerignore Dockerfile data.txt argued\n"
    quiet = d.client("build", "-q", "--build-arg", "WHAT=argued", "--label", "l=v", str(ctx)).stdout
    assert quiet.strip() == image["Id"]
    outside = write(tmp_path / "elsewhere", {"Other.dockerfile": "FROM busybox\nCOPY data.txt /d\n"})
    out = d.client("build", "-f", str(outside / "Other.dockerfile"), "-t", "outside", str(ctx)).stdout
    assert run(docker_cli, d, "outside", "cat", "/d") == "data\n"
    out = d.client("build", "-t", "fromstdin", "-", input="FROM busybox\nRUN echo piped > /p\n").stdout
    assert run(docker_cli, d, "fromstdin", "cat", "/p") == "piped\n"
    failed = d.client("build", str(write(tmp_path / "bad", {"Dockerfile": "FROM busybox\nRUN exit 7\n"})),
                      check=False)
    assert failed.returncode != 0 and "returned a non-zero code: 7" in failed.stderr


def raw_build(d, query, body, headers=()):
    from tests.integration.test_images import api
    return api(d, "POST", "/build" + query, body, headers=(("Content-Type", "application/x-tar"), *headers))


def context_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_refusals_answer_a_status_before_the_stream(busybox_daemon):
    d = busybox_daemon
    body = context_tar({"Dockerfile": "FROM busybox\n"})
    for query, status, message in [
        ("?version=2", 400, "BuildKit is not supported by this daemon"),
        ("?squash=1", 400, "squash is only supported with experimental mode"),
        ("?platform=windows/amd64", 400, "operating system is not supported"),
        ("?platform=linux/s390x", 400, "is not supported: this daemon builds for linux/"),
        ("?t=UPPER:case", 400, "repository name must be lowercase"),
        ("?buildargs=notjson", 400, "error reading build args"),
        ("?dockerfile=missing", 400, "Cannot locate specified Dockerfile: missing"),
        ("?remote=ftp://127.0.0.1/context.tar", 400, "is not supported (http(s) URLs and git repositories only)"),
    ]:
        got, _, payload = raw_build(d, query, body)
        assert (got, message in json.loads(payload)["message"]) == (status, True), (query, payload)
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    got, _, payload = raw_build(d, "", evil.getvalue())
    assert got == 400 and "escapes the extraction root" in json.loads(payload)["message"]
    got, _, payload = raw_build(d, "?version=1&rm=True&nocache=true&q=1", body)
    lines = [json.loads(line) for line in payload.decode().split("\r\n") if line.strip()]
    assert got == 200 and len(lines) == 1 and lines[0]["stream"].startswith("sha256:")  # -q: the ID only


def test_networkmode_none_extra_hosts_and_shm_size(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {"Dockerfile": (
        "FROM busybox\n"
        "RUN ls /sys/class/net | sort | tr '\\n' ' ' > /nets; grep -c buildhost /etc/hosts > /hosts;"
        " df -k /dev/shm | tail -1 | awk '{print $2}' > /shm\n")})
    build(docker_cli, d, ctx, "-t", "isolated", "--network", "none", "--add-host", "buildhost:10.1.2.3",
          "--shm-size", "8m")
    assert run(docker_cli, d, "isolated", "cat", "/nets", "/hosts", "/shm") == "lo 1\n8192\n"


def test_remote_context_and_add_url_from_a_local_http_server(busybox_daemon, docker_cli, tmp_path):
    import functools
    import http.server
    import threading
    d = busybox_daemon
    served = write(tmp_path / "served", {
        "context.tar": context_tar({"Dockerfile": "FROM busybox\nADD http://127.0.0.1:{port}/file.txt /dl/\n",
                                    "unused": "x"}),
        "file.txt": "downloaded\n",
        "Dockerfile.plain": "FROM busybox\nRUN echo plain > /plain\n",
    })
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    (served / "context.tar").write_bytes(context_tar({
        "Dockerfile": f"FROM busybox\nADD http://127.0.0.1:{port}/file.txt /dl/\n"}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        build(docker_cli, d, f"http://127.0.0.1:{port}/context.tar", "-t", "remote")
        assert run(docker_cli, d, "remote", "sh", "-c", "cat /dl/file.txt; stat -c %a /dl/file.txt") == \
            "downloaded\n600\n"
        build(docker_cli, d, f"http://127.0.0.1:{port}/Dockerfile.plain", "-t", "plain")
        assert run(docker_cli, d, "plain", "cat", "/plain") == "plain\n"
    finally:
        server.shutdown()
        server.server_close()


def test_disconnect_cancels_the_running_step_and_leaves_no_container(busybox_daemon, docker_cli, tmp_path):
    import socket
    import time
    d = busybox_daemon
    body = context_tar({"Dockerfile": "FROM busybox\nRUN echo started; sleep 300\n"})
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.socket)
    s.sendall(b"POST /build HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    seen = b""
    while b'{"stream":"started' not in seen:
        chunk = s.recv(65536)
        assert chunk, seen
        seen += chunk
    assert len(containers(docker_cli, d)) == 1
    s.close()
    deadline = time.monotonic() + 30
    while containers(docker_cli, d):
        assert time.monotonic() < deadline, "the cancelled step's container was left behind" + d.log()[-5000:]
        time.sleep(0.2)
    while os.listdir(os.path.join(d.root, "tmp")):  # removed once the job has answered
        assert time.monotonic() < deadline, "the build's context was left behind"
        time.sleep(0.2)
    assert docker(docker_cli, d, "version").returncode == 0


def test_two_builds_of_one_tag_both_finish_and_the_later_wins(busybox_daemon, docker_cli, tmp_path):
    """Which build tags last is up to the scheduler: the daemon's tag events say, and the
    tag must name the image of the last one."""
    import subprocess
    d = busybox_daemon
    since = "%.3f" % time.time()
    procs = []
    for n in (1, 2):
        ctx = write(tmp_path / f"ctx{n}", {"Dockerfile": f"FROM busybox\nRUN sleep {n} && echo {n} > /n\n"})
        procs.append(subprocess.Popen([docker_cli, "-H", d.host, "build", "-t", "same", str(ctx)], env=CLASSIC,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    events = docker(docker_cli, d, "events", "--since", since, "--until", "%.3f" % time.time(), "--filter",
                    "type=image", "--filter", "event=tag", "--format", "{{.ID}} {{.Actor.Attributes.name}}").stdout
    tagged = [line.split()[0] for line in events.splitlines() if line.split()[1] in ("same", "same:latest")]
    assert len(set(tagged)) == 2, events  # both builds tagged their own image
    assert inspect(docker_cli, d, "same")["Id"] == tagged[-1]
    assert run(docker_cli, d, "same", "cat", "/n") in ("1\n", "2\n")


def test_compose_builds_an_image(busybox_daemon, tmp_path):
    import shutil
    import subprocess
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    d = busybox_daemon
    write(tmp_path, {
        "docker-compose.yml": ("version: \"3.8\"\nservices:\n  app:\n    build:\n      context: ./app\n"
                               "      args: {WHO: compose}\n    image: composed:latest\n"),
        "app/Dockerfile": "FROM busybox\nARG WHO\nRUN echo \"built by $WHO\" > /who\nCMD [\"cat\", \"/who\"]\n",
    })
    for cli_build in ("0", "1"):
        env = dict(os.environ, DOCKER_HOST=d.host, COMPOSE_PROJECT_NAME="pyb", COMPOSE_DOCKER_CLI_BUILD=cli_build,
                   DOCKER_BUILDKIT="0")
        result = subprocess.run(["docker-compose", "build", "--no-cache"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        assert run("docker", d, "composed") == "built by compose\n"


def test_built_image_through_a_registry_serves_as_cache_from(registry, make_daemon, docker_cli, tmp_path):
    if registry is None:
        pytest.skip("no registry")
    env = dict(CLASSIC, DOCKER_CONFIG=str(tmp_path / "config"))
    first, second = make_daemon("first"), make_daemon("second")
    first.import_busybox()  # one base image on both sides, as a pulled base would be
    docker(docker_cli, first, "save", "-o", str(tmp_path / "busybox.tar"), "busybox:latest")
    docker(docker_cli, second, "load", "-i", str(tmp_path / "busybox.tar"))
    ctx = write(tmp_path / "ctx", {
        "Dockerfile": "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nENV DONE=1\nCMD [\"cat\", \"/b.txt\"]\n",
        "a.txt": "through the registry\n"})
    name = f"{registry.host}/built/app:1"
    docker(docker_cli, first, "build", "-t", name, str(ctx), env=env)
    docker(docker_cli, first, "push", name, env=env)
    docker(docker_cli, second, "pull", name, env=env)
    assert docker(docker_cli, second, "run", "--rm", name, env=env).stdout == "through the registry\n"
    # A pulled image has no local build chain: its history is what serves as cache.
    warm = docker(docker_cli, second, "build", "--cache-from", name, "-t", "again", str(ctx), env=env).stdout
    assert warm.count(" ---> Using cache") == 4, warm
    pulled = inspect(docker_cli, second, name)
    rebuilt = inspect(docker_cli, second, "again")
    assert rebuilt["RootFS"]["Layers"] == pulled["RootFS"]["Layers"]
    assert docker(docker_cli, second, "run", "--rm", "again").stdout == "through the registry\n"


def test_system_df_counts_the_build_cache_and_builder_prune_drops_the_stale_part(busybox_daemon, docker_cli,
                                                                                 tmp_path):
    d = busybox_daemon
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nCOPY a.txt /a\nRUN cp /a /b\nCMD [\"cat\", \"/b\"]\n",
                                   "a.txt": "old\n"})
    build(docker_cli, d, ctx, "-t", "pruned")
    (ctx / "a.txt").write_text("new\n")
    build(docker_cli, d, ctx, "-t", "pruned")  # the old chain is now stale
    df = json.loads(docker(docker_cli, d, "system", "df", "--format", "{{json .}}").stdout.splitlines()[-1])
    assert df["Type"] == "Build Cache" and int(df["TotalCount"]) == 4  # two intermediates per chain
    before = set(docker(docker_cli, d, "images", "-aq").stdout.split())
    failed = "failed to prune build cache: "  # dockerd 20.10's words (it answers 500 for the last two)
    for query, message in [("filters=%7B%22foo%22%3A%5B%22x%22%5D%7D", failed + "Invalid filter 'foo'"),
                           ("filters=%7B%22until%22%3A%5B%221h%22%5D%2C%22unused-for%22%3A%5B%221h%22%5D%7D",
                            failed + 'conflicting filters: "until" and "unused-for"'),
                           ("filters=%7B%22until%22%3A%5B%22soon%22%5D%7D", failed +
                            "\"until\" filter expects a duration (e.g., '24h'): time: invalid duration \"soon\""),
                           ("keep-storage=lots", "keep-storage is in bytes and expects an integer, got lots: "
                                                 "strconv.Atoi: parsing \"lots\": invalid syntax")]:
        got, _, payload = raw_build(d, "/prune?" + query, b"")
        assert (got, json.loads(payload)["message"]) == (400, message)
    # What the filters and keep-storage leave: the stale chain is minutes old, unlabelled, small.
    for flags in (("--filter", "until=24h"), ("--filter", "label=stage=old"), ("--filter", "id=ffff"),
                  ("--keep-storage", "1gb"), ("--all", "--filter", "inuse=true")):
        out = docker(docker_cli, d, "builder", "prune", "-f", *flags).stdout
        assert set(docker(docker_cli, d, "images", "-aq").stdout.split()) == before, (flags, out)
    out = docker(docker_cli, d, "builder", "prune", "-f", "--filter", "until=0s", "--filter", "label!=stage=old").stdout
    assert "Total reclaimed space" in out
    after = set(docker(docker_cli, d, "images", "-aq").stdout.split())
    assert len(before - after) == 3  # the old chain: its two intermediates and its final image
    assert run(docker_cli, d, "pruned") == "new\n"
    assert build(docker_cli, d, ctx).stdout.count("Using cache") == 3


def test_git_remote_context_with_ref_and_subdirectory(busybox_daemon, docker_cli, tmp_path):
    import shutil
    import socket
    import subprocess
    import time
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    d = busybox_daemon
    repo = write(tmp_path / "served" / "repo", {"app/Dockerfile": "FROM busybox\nCOPY hello /hello\n",
                                                "app/hello": "from git\n", "README": "top\n"})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "one"], ["tag", "v1"]):
        subprocess.run(git + args, cwd=repo, check=True)
    (repo / "app" / "hello").write_text("changed later\n")
    subprocess.run(git + ["commit", "-qam", "two"], cwd=repo, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                               f"--port={port}", f"--base-path={tmp_path / 'served'}", str(tmp_path / "served")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/repo"], capture_output=True).returncode:
            assert time.monotonic() < deadline, "git daemon did not answer"
            time.sleep(0.2)
        # The docker CLI clones a git context itself; our client leaves it to the daemon.
        d.client("build", "-t", "fromgit", f"git://127.0.0.1:{port}/repo#v1:app")
        assert run(docker_cli, d, "fromgit", "cat", "/hello") == "from git\n"
        d.client("build", "-t", "fromgit", f"git://127.0.0.1:{port}/repo#main:app")
        assert run(docker_cli, d, "fromgit", "cat", "/hello") == "changed later\n"
        got, _, payload = raw_build(d, f"?remote=git://127.0.0.1:{port}/repo%23main:../..", b"")
        assert got == 400 and "is outside the repository" in json.loads(payload)["message"]
    finally:
        daemon.terminate()
        daemon.wait()


def test_from_pulls_a_missing_base_with_the_credentials_of_x_registry_config(registries, busybox_daemon,
                                                                             docker_cli, tmp_path):
    from pydocker.testing.registry import TEST_PASSWORD, TEST_USER
    d = busybox_daemon
    registry = registries("private", htpasswd=True)
    env = dict(CLASSIC, DOCKER_CONFIG=str(tmp_path / "config"))
    name = f"{registry.host}/private/base:1"
    docker(docker_cli, d, "login", "-u", TEST_USER, "--password-stdin", registry.host, input=TEST_PASSWORD, env=env)
    docker(docker_cli, d, "tag", "busybox", name)
    docker(docker_cli, d, "push", name, env=env)
    docker(docker_cli, d, "rmi", name)
    ctx = write(tmp_path / "ctx", {"Dockerfile": f"FROM {name}\nRUN echo pulled > /p\n"})
    out = docker(docker_cli, d, "build", "-t", "onpulled", str(ctx), env=env).stdout
    assert "Pulling from private/base" in out or "Downloaded newer image" in out, out
    assert run(docker_cli, d, "onpulled", "cat", "/p") == "pulled\n"
    docker(docker_cli, d, "logout", registry.host, env=env)
    docker(docker_cli, d, "rmi", name)
    out = docker(docker_cli, d, "build", str(ctx), env=env, check=False)
    assert out.returncode != 0 and ("unauthorized" in out.stderr.lower() or "authentication" in out.stderr.lower())


def _chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def _extracted(d, name):
    """Paths of ``name`` in the build contexts under the daemon's scratch directory."""
    scratch = os.path.join(d.root, "tmp")
    return [os.path.join(scratch, entry, name) for entry in os.listdir(scratch)
            if os.path.exists(os.path.join(scratch, entry, name))]


def test_the_context_is_extracted_while_it_arrives_and_a_half_sent_one_leaves_nothing(busybox_daemon, docker_cli):
    """The body goes to the extraction as it comes (chunked, as the CLI sends it): the first
    file is on the daemon's disk while the client still holds back the rest of the tar. A
    client that then goes away leaves no context behind and the daemon serves on."""
    import socket
    d = busybox_daemon
    body = context_tar({"first.txt": "first\n", "Dockerfile": "FROM busybox\nCOPY first.txt /\n",
                        "second.bin": os.urandom(1 << 20)})
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.socket)
    s.sendall(b"POST /build?t=half HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n" + _chunk(body[:4096]))
    deadline = time.monotonic() + 30
    while not _extracted(d, "first.txt"):
        assert time.monotonic() < deadline, "nothing of the context was extracted before its end arrived" + d.log()[-4000:]
        time.sleep(0.05)
    with open(_extracted(d, "first.txt")[0]) as f:
        assert f.read() == "first\n"
    s.close()
    while os.listdir(os.path.join(d.root, "tmp")):
        assert time.monotonic() < deadline, "the half-sent context was left behind"
        time.sleep(0.05)
    assert docker(docker_cli, d, "version").returncode == 0
    got, _, payload = raw_build(d, "?t=whole", body)  # the same context sent whole builds
    assert got == 200 and b"Successfully tagged whole:latest" in payload, payload


def test_a_refused_build_with_a_large_context_answers_after_the_body_without_keeping_it(busybox_daemon):
    """A query refused before any work is still answered once the body has been read (and
    dropped), on a connection that then serves the next request."""
    import socket
    d = busybox_daemon
    body = context_tar({"Dockerfile": "FROM busybox\n", "big.bin": os.urandom(24 << 20)})
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.socket)
    s.sendall(b"POST /build?version=2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
              + b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    seen = b""
    while b"\r\n\r\nOK" not in seen:
        chunk = s.recv(65536)
        assert chunk, seen
        seen += chunk
    s.close()
    assert seen.startswith(b"HTTP/1.1 400") and b"BuildKit is not supported" in seen  # then the ping's OK


def test_from_platform_is_checked_the_host_one_builds_another_is_pulled_for(registry, busybox_daemon, docker_cli,
                                                                           tmp_path):
    """FROM --platform: one that does not parse, or not Linux, is a 400 naming the line before
    any work; the host's own builds from the local image; another is what dockerd does without
    the image for it: a pull for that platform (here from a registry that has only the host's),
    whose image is refused when it is not of that platform."""
    d = busybox_daemon
    for platform, message in [("bogus", "dockerfile parse error on line 2: FROM --platform=bogus: invalid platform"),
                              ("windows/amd64", "line 2: FROM --platform=windows/amd64: \"windows/amd64\": "
                                                "operating system is not supported")]:
        got, _, payload = raw_build(d, "", context_tar({"Dockerfile": f"# x\nFROM --platform={platform} busybox\n"}))
        assert (got, message in json.loads(payload)["message"]) == (400, True), payload
    host = docker(docker_cli, d, "version", "-f", "{{.Server.Os}}/{{.Server.Arch}}").stdout.strip()
    ctx = write(tmp_path / "ctx", {"Dockerfile": f"ARG P={host}\nFROM --platform=$P busybox\nRUN echo built\n"})
    assert "built" in build(docker_cli, d, ctx, "-t", "native").stdout
    bad = write(tmp_path / "bad", {"Dockerfile": "ARG P=plan9\nFROM --platform=$P busybox\n"})
    out = build(docker_cli, d, bad, check=False)
    assert out.returncode != 0 and "dockerfile line 2: FROM --platform=plan9" in out.stderr + out.stdout
    if registry is None:
        pytest.skip("no registry for the pull of another platform")
    other = "linux/s390x" if host != "linux/s390x" else "linux/amd64"
    name = f"{registry.host}/only/host:1"
    env = dict(CLASSIC, DOCKER_CONFIG=str(tmp_path / "config"))
    docker(docker_cli, d, "tag", "busybox", name)
    docker(docker_cli, d, "push", name, env=env)
    ctx = write(tmp_path / "other", {"Dockerfile": f"FROM --platform={other} {name}\nRUN echo never\n"})
    out = docker(docker_cli, d, "build", str(ctx), check=False, env=env)
    assert out.returncode != 0 and "never" not in out.stdout
    # A registry with one manifest gives the host's image: refused as dockerd's GetImage does.
    assert f"does not match the specified platform: wanted {other}" in out.stderr + out.stdout, out
