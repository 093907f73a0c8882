"""POST /build end to end: the docker CLI 28's classic builder (DOCKER_BUILDKIT=0), docker-py's
images.build and our own client against a real daemon, from a busybox image made at test time."""

import io
import json
import os
import tarfile

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
