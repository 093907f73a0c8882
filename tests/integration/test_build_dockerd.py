"""The classic builder beside Docker's own dockerd (Debian's docker.io): the same Dockerfile
through the same CLI gives the same steps, history and config, and an image built here moves
to dockerd (save/load) and runs the same there.

Both start from one busybox image (saved by pydocker, loaded into dockerd); dockerd runs in the
test's namespaces with no bridge, so its RUN steps use --network none, as ours do here.
"""

import json
import os
import re

import pytest

from pydocker.testing.cli import docker_at as cli

pytestmark = [pytest.mark.kernel, pytest.mark.dockerd]

CLASSIC = dict(os.environ, DOCKER_BUILDKIT="0")

DOCKERFILE = """\
FROM busybox
LABEL a=1 b="two words"
ENV GREETING=hello
ARG WHO=nobody
WORKDIR /app
COPY files/ ./files/
COPY one.txt /app/
RUN echo "$GREETING $WHO" > made.txt
EXPOSE 80/tcp 53/udp
VOLUME /data
USER daemon
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s CMD true
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/made.txt /app/one.txt /app/files/two.txt"]
"""


def steps(output):
    return [line for line in output.splitlines() if line.startswith("Step ")]


def stream_shape(output):
    """The stream's step lines with IDs made alike: what a user reads step by step."""
    kinds = ("Step ", " ---> Running in ", "Removing intermediate container ", " ---> ")
    return [re.sub(r"\b[0-9a-f]{12}\b", "ID", line) for line in output.splitlines() if line.startswith(kinds)]


def history_ids(host, name):
    """Which rows of ``docker history`` name an image (dockerd keeps the parents a build made)."""
    ids = cli(host, "history", "-q", name).stdout.split()
    known = set(cli(host, "images", "-aq").stdout.split())
    assert all(i in known for i in ids if i != "<missing>"), (ids, known)
    return [i != "<missing>" for i in ids]


def history(host, name):
    lines = cli(host, "history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}", name).stdout.splitlines()
    return [re.sub(r"(file|dir):[0-9a-f]{64}", "HASH", line.split("|")[0]) for line in lines]


def test_same_dockerfile_same_steps_history_and_config_as_dockerd(busybox_daemon, dockerd, tmp_path):
    ours, theirs = busybox_daemon.host, dockerd.host
    cli(ours, "save", "-o", str(tmp_path / "busybox.tar"), "busybox:latest")
    cli(theirs, "load", "-i", str(tmp_path / "busybox.tar"))
    ctx = tmp_path / "ctx"
    (ctx / "files").mkdir(parents=True)
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "one.txt").write_text("one\n")
    (ctx / "files" / "two.txt").write_text("two\n")
    args = ("build", "--network", "none", "--build-arg", "WHO=both", "-t", "same:1", str(ctx))
    out_ours = cli(ours, *args, env=CLASSIC).stdout
    out_theirs = cli(theirs, *args, env=CLASSIC).stdout
    assert steps(out_ours) == steps(out_theirs)
    assert stream_shape(out_ours) == stream_shape(out_theirs)
    assert history(ours, "same:1") == history(theirs, "same:1")
    assert history_ids(ours, "same:1") == history_ids(theirs, "same:1")
    config_ours = json.loads(cli(ours, "image", "inspect", "same:1").stdout)[0]["Config"]
    config_theirs = json.loads(cli(theirs, "image", "inspect", "same:1").stdout)[0]["Config"]
    for key in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes",
                "StopSignal", "Healthcheck", "OnBuild", "Shell"):
        assert config_ours.get(key) == config_theirs.get(key), key
    expected = "hello both\none\ntwo\n"
    assert cli(ours, "run", "--rm", "same:1").stdout == expected
    assert cli(theirs, "run", "--rm", "--network", "none", "same:1").stdout == expected
    # The cache on a rebuild: the same steps hit on both sides.
    again_ours = cli(ours, *args, env=CLASSIC).stdout
    again_theirs = cli(theirs, *args, env=CLASSIC).stdout
    assert again_ours.count("Using cache") == again_theirs.count("Using cache") == len(steps(out_ours)) - 1
    # Built here, run there: save/load keeps the ID.
    image_id = json.loads(cli(ours, "image", "inspect", "same:1").stdout)[0]["Id"]
    cli(ours, "save", "-o", str(tmp_path / "built.tar"), "same:1")
    cli(theirs, "rmi", "same:1")
    cli(theirs, "load", "-i", str(tmp_path / "built.tar"))
    assert cli(theirs, "image", "inspect", "same:1", "--format", "{{.Id}}").stdout.strip() == image_id
    assert cli(theirs, "run", "--rm", "--network", "none", "same:1").stdout == expected


def test_without_rm_the_same_intermediate_containers_stay_as_with_dockerd(busybox_daemon, dockerd, tmp_path):
    """dockerd makes a container for each metadata step and WORKDIR too (not for COPY/ADD):
    with --rm=false they all stay; with --force-rm a failed step's go as well."""
    ours, theirs = busybox_daemon.host, dockerd.host
    cli(ours, "save", "-o", str(tmp_path / "busybox.tar"), "busybox:latest")
    cli(theirs, "load", "-i", str(tmp_path / "busybox.tar"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nENV A=1\nWORKDIR /w\nCOPY Dockerfile /w/\nRUN true\nCMD [\"sh\"]\n")
    counts = []
    for host in (ours, theirs):
        out = cli(host, "build", "--rm=false", "--network", "none", str(ctx), env=CLASSIC).stdout
        assert "Removing intermediate container" not in out
        left = cli(host, "ps", "-aq").stdout.split()
        assert sorted(re.findall(r"Running in ([0-9a-f]{12})", out)) == sorted(left)
        counts.append(len(left))
    assert counts[0] == counts[1] == 4
    (ctx / "Dockerfile").write_text("FROM busybox\nLABEL x=1\nRUN false\n")
    for host in (ours, theirs):
        before = set(cli(host, "ps", "-aq").stdout.split())
        failed = cli(host, "build", "--force-rm", "--network", "none", str(ctx), env=CLASSIC, check=False)
        assert failed.returncode != 0
        assert set(cli(host, "ps", "-aq").stdout.split()) == before


def test_build_prune_refuses_bad_filters_in_dockerds_words_and_a_classic_cache_stays_on_dockerd(busybox_daemon,
                                                                                                 dockerd, tmp_path):
    """/build/prune's refusals read as dockerd 20.10's (which answers 500 where a duration or
    keep-storage does not parse; 400 here), and dockerd's prune, answered from BuildKit's
    cache, leaves the intermediate images of a classic build where they are."""
    from tests.integration.test_images import api
    for query, dockerd_status in [('filters={"foo":["x"]}', 400), ('filters={"until":["1h"],"unused-for":["1h"]}', 400),
                                  ('filters={"until":["soon"]}', 500), ("keep-storage=lots", 500)]:
        path = "/v1.41/build/prune?" + query.replace('"', "%22").replace("{", "%7B").replace("}", "%7D")
        ours, theirs = api(busybox_daemon, "POST", path), api(dockerd, "POST", path)
        assert (ours[0], theirs[0]) == (400, dockerd_status), query
        assert json.loads(ours[2])["message"] == json.loads(theirs[2])["message"], query
    cli(busybox_daemon.host, "save", "-o", str(tmp_path / "busybox.tar"), "busybox:latest")
    cli(dockerd.host, "load", "-i", str(tmp_path / "busybox.tar"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for value in ("1", "2"):  # the second build leaves the first one's chain stale
        (ctx / "Dockerfile").write_text(f"FROM busybox\nENV A={value}\nRUN true\n")
        cli(dockerd.host, "build", "--network", "none", "-t", "x", str(ctx), env=CLASSIC)
    before = sorted(cli(dockerd.host, "images", "-aq").stdout.split())  # its order ties on seconds
    assert len(before) == 5  # busybox and two chains of two
    status, _, payload = api(dockerd, "POST", "/v1.41/build/prune")
    assert (status, json.loads(payload)) == (200, {"CachesDeleted": None, "SpaceReclaimed": 0})
    assert sorted(cli(dockerd.host, "images", "-aq").stdout.split()) == before
