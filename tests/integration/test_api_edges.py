"""The API edges real tools hit (issue 15), each checked against pydocker and, where Debian's
docker.io is installed, against dockerd with the same assertions (the `engine` fixture)."""

import copy
import hashlib
import io
import json
import os
import re
import socket
import tarfile
import time

import pytest

pytestmark = pytest.mark.kernel

SPEC = json.load(open(os.path.join(os.path.dirname(__file__), "..", "unit", "data", "api_v1.44.json")))


def one_file_tar(name, data):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def create(engine, name, *cmd, **host_config):
    body = {"Image": "busybox", "Cmd": list(cmd or ["true"]), "HostConfig": {"NetworkMode": "none", **host_config}}
    answer = engine.request("POST", f"/containers/create?name={name}", body)
    assert answer.status == 201, answer.body
    return answer.json()["Id"]


def assert_empty_success(answer, status=200):
    """dockerd's answer when a handler writes nothing: the status, Content-Length 0, no chunks."""
    assert answer.status == status, answer.body
    assert answer.body == b"" and not answer.chunked
    assert answer.headers.get("content-length") == "0"


# --- success statuses of routes whose job returns nothing ---------------------------------


def test_put_archive_answers_200(engine):
    cid = create(engine, "put-archive")
    try:
        answer = engine.request("PUT", f"/containers/{cid}/archive?path=/tmp", one_file_tar("f", b"x"),
                                {"Content-Type": "application/x-tar"})
        assert_empty_success(answer)
    finally:
        engine.cli("rm", "-f", cid)


def test_network_connect_and_disconnect_answer_200(engine):
    engine.cli("network", "create", "edges-net")
    cid = create(engine, "net-connect", NetworkMode="default")
    try:
        assert_empty_success(engine.request("POST", "/networks/edges-net/connect", {"Container": cid}))
        assert_empty_success(engine.request("POST", "/networks/edges-net/disconnect", {"Container": cid}))
    finally:
        engine.cli("rm", "-f", cid)
        engine.cli("network", "rm", "edges-net")


# --- every answer that is not a stream has a Content-Length --------------------------------


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/containers/nothing-here/json", 404),
    ("GET", "/containers/nothing-here/logs?stdout=1", 404),   # a stream route failing first
    ("POST", "/containers/nothing-here/start", 404),
    ("POST", "/volumes/create", 400),                          # an invalid name
    ("GET", "/no/such/route", 404),
])
def test_error_bodies_are_not_chunked(engine, method, path, status):
    answer = engine.request(method, path, {"Name": "in/valid"} if path == "/volumes/create" else None)
    assert answer.status == status and not answer.chunked
    assert int(answer.headers["content-length"]) == len(answer.body)
    assert answer.json()["message"]


def test_json_answers_are_not_chunked(engine):
    """Go's net/http sends a length when the handler's whole answer fits its 2 KiB buffer and
    chunks a longer one (dockerd's /info); pydocker sends a length always."""
    for path in ("/info", "/version", "/containers/json?all=1", "/images/json", "/networks", "/volumes"):
        answer = engine.request("GET", path)
        assert answer.status == 200, path
        if engine.kind == "pydocker" or len(answer.body) < 2048:
            assert not answer.chunked and int(answer.headers["content-length"]) == len(answer.body), path


# --- null in request bodies --------------------------------------------------------------


def with_null(base, path):
    """``base`` with the field at ``path`` ("A.B[].C") set to null, making what lies between."""
    body = copy.deepcopy(base)
    node = body
    parts = path.split(".")
    for part in parts[:-1]:
        if part.endswith("[]"):
            item = {}
            node[part[:-2]] = [item]
            node = item
        else:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
    node[parts[-1]] = None
    return body


def test_the_nulls_ansible_sends_create_a_container(engine):
    body = {"Image": "busybox", "Cmd": ["true"], "Env": None, "Labels": {"a": None},
            "HostConfig": {"NetworkMode": "none", "RestartPolicy": {"Name": None, "MaximumRetryCount": None},
                           "PidMode": None, "IpcMode": None, "UTSMode": None,
                           "Ulimits": [{"Name": "nofile", "Soft": None, "Hard": 1024}]}}
    answer = engine.request("POST", "/containers/create?name=nulls", body)
    assert answer.status == 201, answer.body
    try:
        doc = engine.request("GET", "/containers/nulls/json").json()
        assert doc["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0} or \
            doc["HostConfig"]["RestartPolicy"] == {"Name": "", "MaximumRetryCount": 0}
        assert doc["Config"]["Labels"] == {"a": ""}
        assert doc["HostConfig"]["Ulimits"] == [{"Name": "nofile", "Soft": 0, "Hard": 1024}]
    finally:
        engine.cli("rm", "-f", "nulls")


def names_a_field(message, paths):
    """Whether ``message`` names one of ``paths`` ("A.B[].C") or a parent of one ("A.B"), whole
    or by its last components ("B.C", "C"), as dockerd's JSON errors name the Go struct field;
    array indices in the message ("B[0]") count as the array's name. The wrappers HostConfig and
    NetworkingConfig alone name none of their fields."""
    message = re.sub(r"\[\d*\]", "", message)
    for path in paths:
        parts = path.replace("[]", "").split(".")
        for end in range(len(parts), 0, -1):
            for start in range(end):
                if len(parts) > 1 and parts[start:end] in (["HostConfig"], ["NetworkingConfig"]):
                    continue
                if re.search(r"(?<![\w.])" + re.escape(".".join(parts[start:end])) + r"(?![\w])", message):
                    return True
    return False


def spec_fields(route):
    return [f for f in SPEC["bodies"][route]["fields"] if not f.startswith("ClusterVolumeSpec")]


def test_every_create_field_accepts_null(engine):
    base = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}}
    failures = {}
    for i, path in enumerate(spec_fields("POST /containers/create")):
        if path in ("Image", "HostConfig", "HostConfig.NetworkMode"):
            continue  # their zero values are a create without an image or with the default network
        answer = engine.request("POST", f"/containers/create?name=null-{i}", with_null(base, path))
        if answer.status >= 500:
            failures[path] = answer.body
        if answer.status == 201:
            engine.request("DELETE", f"/containers/null-{i}")
    assert not failures


# A null item of an array of scalars is the zero value of its items ("", 0), as Go decodes it;
# then each field does with "" what dockerd does: run, or refuse at create or at start.
NULL_ITEM_OUTCOMES = {
    "Cmd": "runs", "Entrypoint": "runs", "Healthcheck.Test": "runs", "OnBuild": "runs", "Shell": "runs",
    "HostConfig.ConsoleSize": "runs", "HostConfig.Dns": "runs", "HostConfig.DnsOptions": "runs",
    "HostConfig.DnsSearch": "runs", "HostConfig.MaskedPaths": "runs", "HostConfig.ReadonlyPaths": "runs",
    "Env": "create", "HostConfig.Binds": "create", "HostConfig.ExtraHosts": "create", "HostConfig.Links": "create",
    "HostConfig.VolumesFrom": "create", "HostConfig.SecurityOpt": "create", "HostConfig.CapAdd": "create",
    "HostConfig.CapDrop": "create", "HostConfig.GroupAdd": "start", "HostConfig.DeviceCgroupRules": "start",
}
# Where pydocker differs, and why: a device cgroup rule's format is checked at create (dockerd
# checks it first when it builds the spec at start, a 500).
PYDOCKER_OUTCOMES = {"HostConfig.DeviceCgroupRules": "create"}


@pytest.mark.parametrize("path", sorted(NULL_ITEM_OUTCOMES))
def test_a_null_item_of_an_array_of_scalars_is_its_zero_value(engine, path):
    assert path in SPEC["bodies"]["POST /containers/create"]["arrays"]
    body = {"Image": "busybox", "Cmd": ["sh", "-c", "echo ran"], "HostConfig": {"NetworkMode": "none"}}
    node, parts = body, path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = ["echo", None, "x"] if path == "Cmd" else [None]
    expected = PYDOCKER_OUTCOMES.get(path, NULL_ITEM_OUTCOMES[path]) if engine.kind == "pydocker" \
        else NULL_ITEM_OUTCOMES[path]
    created = engine.request("POST", "/containers/create?name=null-item", body)
    try:
        if expected == "create":
            assert created.status >= 400 and created.json()["message"], created.body
            if engine.kind == "pydocker":
                assert created.status == 400, created.body
            return
        assert created.status == 201, created.body
        started = engine.request("POST", "/containers/null-item/start")
        if expected == "start":
            assert started.status >= 400 and started.json()["message"], started.body
            return
        assert started.status == 204, started.body
        assert engine.request("POST", "/containers/null-item/wait").json()["StatusCode"] == 0
        logs = engine.cli("logs", "null-item").stdout
        assert logs == (" x\n" if path == "Cmd" else "ran\n")
        doc = engine.request("GET", "/containers/null-item/json").json()
        stored = doc["HostConfig"] if parts[0] == "HostConfig" else doc["Config"]
        if path == "Healthcheck.Test":
            stored = stored["Healthcheck"]
        zero = {"Entrypoint": None, "HostConfig.ConsoleSize": [0, 0], "Cmd": ["echo", "", "x"]}.get(path, [""])
        assert stored[parts[-1]] == zero
    finally:
        engine.request("DELETE", "/containers/null-item?force=1")


@pytest.mark.parametrize("size,stored", [([5], [5, 0]), ([5, 6, 7], [5, 6]), ([None, 3], [0, 3])])
def test_console_size_is_two_items_as_gos_array(engine, size, stored):
    answer = engine.request("POST", "/containers/create?name=console-size",
                            {"Image": "busybox", "HostConfig": {"NetworkMode": "none", "ConsoleSize": size}})
    try:
        assert answer.status == 201, answer.body
        doc = engine.request("GET", "/containers/console-size/json").json()
        assert doc["HostConfig"]["ConsoleSize"] == stored
    finally:
        engine.request("DELETE", "/containers/console-size?force=1")


def test_null_items_in_an_exec(engine):
    engine.cli("run", "-d", "--network", "none", "--name", "exec-nulls", "busybox", "sleep", "100")
    try:
        wait_running(engine, "exec-nulls")
        created = engine.request("POST", "/containers/exec-nulls/exec", {
            "Cmd": ["sh", "-c", "echo \"[$1]\" ${A-unset}", "sh", None], "Env": [None], "AttachStdout": True,
            "ConsoleSize": [None]})
        assert created.status == 201, created.body
        started = engine.request("POST", f"/exec/{created.json()['Id']}/start", {"Detach": False, "Tty": False,
                                                                                 "ConsoleSize": [None]})
        assert started.status == 200 and started.body.endswith(b"[] unset\n"), started.body
    finally:
        engine.cli("rm", "-f", "exec-nulls")


# Nulls dockerd itself answers with a 500 (a network without a name, an IPAM config without a
# subnet); pydocker's is a 400.
DOCKERD_500 = {"Name", "IPAM.Config[].AuxiliaryAddresses", "IPAM.Config[].Gateway", "IPAM.Config[].IPRange",
               "IPAM.Config[].Subnet"}


@pytest.mark.parametrize("route,base", [
    ("POST /containers/{id}/update", {}),
    ("POST /networks/create", {"Name": "null-net"}),
    ("POST /volumes/create", {"Name": "null-vol"}),
    ("POST /commit", {}),
])
def test_every_field_of_other_bodies_accepts_null(engine, route, base):
    cid = create(engine, "null-target")
    method, path = route.split(" ")
    path = path.replace("{id}", cid) + (f"?container={cid}" if path == "/commit" else "")
    failures = {}
    try:
        for field in spec_fields(route):
            answer = engine.request(method, path, with_null(base, field))
            if answer.status >= 500 and not (engine.kind == "dockerd" and field in DOCKERD_500):
                failures[field] = answer.body
            if route == "POST /networks/create" and answer.status == 201:
                engine.request("DELETE", "/networks/null-net")
            if route == "POST /volumes/create" and answer.status == 201:
                engine.request("DELETE", "/volumes/null-vol")
            if route == "POST /commit" and answer.status == 201:
                engine.request("DELETE", "/images/" + answer.json()["Id"])
    finally:
        engine.cli("rm", "-f", cid)
    assert not failures


# --- binding files --------------------------------------------------------------------


def test_binding_a_file_socket_device_or_fifo(engine, tmp_path):
    regular = tmp_path / "config"
    regular.write_text("from the host\n")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "sock"))
    missing = tmp_path / "missing" / "dir"
    try:
        out = engine.cli(
            "run", "--rm", "--network", "none", "-v", f"{regular}:/etc/app.conf:ro", "-v", "/dev/null:/x/null",
            "-v", f"{fifo}:/x/fifo", "-v", f"{tmp_path / 'sock'}:/var/run/docker.sock", "-v", f"{missing}:/x/dir",
            "busybox", "sh", "-c",
            "cat /etc/app.conf; test -c /x/null && test -p /x/fifo && test -S /var/run/docker.sock "
            "&& test -d /x/dir && echo kinds-kept").stdout
    finally:
        listener.close()
    assert out == "from the host\nkinds-kept\n"
    assert missing.is_dir()


# --- prune answers -----------------------------------------------------------------------
# dockerd's report lists start as Go nil slices (null when nothing was deleted), except the
# volumes' (a made slice: [] when nothing was deleted); the description says arrays throughout.
# Clients index the lists only when non-empty, and docker-py passes them through: we send what
# dockerd sends.


def prune(engine, kind):
    answer = engine.request("POST", f"/{kind}/prune")
    assert answer.status == 200 and not answer.chunked, answer.body
    return answer.json()


def test_prune_answers_when_nothing_is_deleted(engine):
    for kind in ("containers", "images", "volumes", "networks"):
        prune(engine, kind)  # a clean slate
    assert prune(engine, "containers") == {"ContainersDeleted": None, "SpaceReclaimed": 0}
    assert prune(engine, "images") == {"ImagesDeleted": None, "SpaceReclaimed": 0}
    assert prune(engine, "volumes") == {"VolumesDeleted": [], "SpaceReclaimed": 0}
    assert prune(engine, "networks") == {"NetworksDeleted": None}


def test_prune_answers_when_something_is_deleted(engine):
    cid = create(engine, "to-prune")
    volume_user = engine.cli("create", "-v", "/data", "busybox").stdout.strip()
    volume = engine.cli("inspect", "-f", "{{(index .Mounts 0).Name}}", volume_user).stdout.strip()
    engine.cli("rm", volume_user)
    engine.cli("network", "create", "to-prune")
    engine.cli("tag", "busybox", "prunable:1")
    image = engine.cli("commit", cid).stdout.strip()  # a dangling image
    answer = prune(engine, "containers")
    assert answer["ContainersDeleted"] == [cid] and isinstance(answer["SpaceReclaimed"], int)
    answer = prune(engine, "images")
    assert [entry for entry in answer["ImagesDeleted"] if entry.get("Deleted") == image]
    answer = prune(engine, "volumes")
    assert answer["VolumesDeleted"] == [volume] and isinstance(answer["SpaceReclaimed"], int)
    assert prune(engine, "networks") == {"NetworksDeleted": ["to-prune"]}
    engine.cli("rmi", "prunable:1")


# --- pull with an invalid platform -------------------------------------------------------


@pytest.mark.parametrize("platform", ["not a platform!", "bogus", "linux/amd64/v8/extra", "linux//amd64"])
def test_pull_with_an_invalid_platform_is_400_before_dialling(engine, platform):
    from urllib.parse import quote
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    try:
        port = listener.getsockname()[1]
        answer = engine.request("POST", f"/images/create?fromImage=127.0.0.1:{port}/x&tag=1&platform={quote(platform)}")
        assert answer.status == 400 and not answer.chunked, answer.body
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody dialled the registry
    finally:
        listener.close()


# --- create with a platform --------------------------------------------------------------


def load_as_platform(engine, tmp_path, name, architecture, variant=None):
    """busybox saved, its config's platform rewritten, loaded back as ``name``: an image of
    another platform without any registry."""
    saved = tmp_path / "saved.tar"
    engine.cli("save", "-o", str(saved), "busybox:latest")
    members = {}
    with tarfile.open(saved) as tar:
        for member in tar.getmembers():
            members[member.name] = (member, tar.extractfile(member).read() if member.isfile() else None)
    manifest = json.loads(members["manifest.json"][1])
    config = json.loads(members[manifest[0]["Config"]][1])
    config["architecture"] = architecture
    if variant:
        config["variant"] = variant
    data = json.dumps(config).encode()
    config_name = hashlib.sha256(data).hexdigest() + ".json"
    manifest[0].update(Config=config_name, RepoTags=[name])
    replaced = {"manifest.json": json.dumps(manifest).encode(), config_name: data}
    out = tmp_path / "foreign.tar"
    with tarfile.open(out, "w") as tar:
        for member, content in members.values():
            if member.name in ("repositories", manifest[0]["Config"]) or member.name in replaced:
                continue
            tar.addfile(member, io.BytesIO(content) if content is not None else None)
        for member_name, content in replaced.items():
            info = tarfile.TarInfo(member_name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    engine.cli("load", "-i", str(out))
    return json.loads(data)


def create_on(engine, name, image, platform=None):
    from urllib.parse import quote
    query = f"?name={name}" + (f"&platform={quote(platform)}" if platform is not None else "")
    return engine.request("POST", "/containers/create" + query,
                          {"Image": image, "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}})


@pytest.mark.parametrize("platform", ["not a platform!", "linux//amd64", "linux/amd64/v8/extra", "linux/*"])
def test_create_with_an_invalid_platform_is_a_400(engine, platform):
    answer = create_on(engine, "bad-platform", "busybox", platform)
    assert answer.status == 400 and answer.json()["message"], answer.body
    assert engine.request("GET", "/containers/bad-platform/json").status == 404


def test_create_with_the_images_platform(engine):
    for platform in ("linux/amd64", "linux", "amd64", ""):
        answer = create_on(engine, "same-platform", "busybox", platform)
        assert answer.status == 201 and answer.json()["Warnings"] == [], (platform, answer.body)
        engine.request("DELETE", "/containers/same-platform")


def test_create_with_another_platform_than_the_images_is_not_found(engine):
    answer = create_on(engine, "other-platform", "busybox", "linux/arm64")
    assert answer.status == 404, answer.body
    assert "does not match the specified platform" in answer.json()["message"]
    assert engine.request("GET", "/containers/other-platform/json").status == 404
    # The CLI would pull the right image now; told not to, it reports the daemon's answer.
    run = engine.cli("run", "--pull", "never", "--rm", "--platform", "linux/arm64", "--network", "none",
                     "busybox", "true", check=False)
    assert run.returncode != 0 and "does not match the specified platform" in run.stderr, run.stderr


def test_an_image_of_another_platform(engine, tmp_path):
    load_as_platform(engine, tmp_path, "armbox:latest", "arm", "v6")
    try:
        answer = create_on(engine, "foreign", "armbox")        # no platform asked: a warning
        assert answer.status == 201, answer.body
        [warning] = answer.json()["Warnings"]
        assert "does not match the detected host platform" in warning and "linux/arm/v6" in warning
        engine.request("DELETE", "/containers/foreign")
        for platform, status in (("linux/arm/v7", 201), ("linux/arm/v6", 201), ("linux/arm/v5", 404),
                                 ("linux/amd64", 404)):
            answer = create_on(engine, "foreign", "armbox", platform)
            assert answer.status == status, (platform, answer.body)
            if status == 201:
                assert answer.json()["Warnings"] == [], (platform, answer.body)
                engine.request("DELETE", "/containers/foreign")
    finally:
        engine.cli("rmi", "armbox:latest")


@pytest.mark.parametrize("header", ["null", "bnVsbA==", "!!not base64"])
def test_a_pull_reads_unreadable_credentials_as_none(engine, header):
    """dockerd ignores an X-Registry-Auth it cannot read for a pull (JSON null is Go's zero
    value anyway): the pull goes on anonymously and fails only on the registry (nobody listens)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    answer = engine.request("POST", f"/images/create?fromImage=127.0.0.1:{port}/x&tag=1",
                            headers={"X-Registry-Auth": header})
    assert answer.status != 400, answer.body
    assert b"X-Registry-Auth" not in answer.body


# --- commit changes ----------------------------------------------------------------------


def test_commit_changes_joined_by_newlines(engine):
    cid = create(engine, "commit-changes")
    try:
        answer = engine.request("POST", f"/commit?container={cid}&changes=" + quote_all(
            'CMD ["echo", "hi"]\nEXPOSE 8080\n# a comment\nENV A=1 \\\n  B=2'))
        assert answer.status == 201, answer.body
        config = engine.request("GET", f"/images/{answer.json()['Id']}/json").json()["Config"]
        assert config["Cmd"] == ["echo", "hi"] and "8080/tcp" in config["ExposedPorts"]
        assert "A=1" in config["Env"] and "B=2" in config["Env"]
        engine.request("DELETE", f"/images/{answer.json()['Id']}")
    finally:
        engine.cli("rm", "-f", cid)


def quote_all(text):
    from urllib.parse import quote
    return quote(text, safe="")


# --- events ------------------------------------------------------------------------------


def container_events(engine, name, since):
    """(Action, attributes) of the container events for ``name`` since ``since``."""
    out = engine.cli("events", "--since", str(since), "--until", str(int(time.time()) + 1), "--filter",
                     f"container={name}", "--filter", "type=container", "--format", "{{json .}}").stdout
    found = []
    for line in out.splitlines():
        event = json.loads(line)
        attrs = {k: v for k, v in event["Actor"]["Attributes"].items() if k in ("exitCode", "signal")}
        found.append((event["Action"], attrs))
    return found


def wait_running(engine, name):
    engine.cli("exec", name, "true")


def wait_logged(engine, name, text, timeout=30):
    deadline = time.monotonic() + timeout
    while text not in engine.cli("logs", name).stdout:
        assert time.monotonic() < deadline, f"{engine.kind}: {name} never printed {text!r}"
        time.sleep(0.05)


TRAPS_TERM = ["sh", "-c", "trap 'exit 0' TERM; echo trapped; while true; do sleep 0.1; done"]
# (command, CLI actions, the container events dockerd emits). `sleep` as PID 1 ignores SIGTERM.
EVENT_SCENARIOS = {
    "stop": (["sleep", "100"], [["stop", "-t", "1", "{name}"]],
             [("kill", {"signal": "15"}), ("kill", {"signal": "9"}), ("die", {"exitCode": "137"}), ("stop", {})]),
    "stop of a process that exits on TERM": (TRAPS_TERM, [["stop", "{name}"]],
                                            [("kill", {"signal": "15"}), ("die", {"exitCode": "0"}), ("stop", {})]),
    "kill": (["sleep", "100"], [["kill", "{name}"]], [("kill", {"signal": "9"}), ("die", {"exitCode": "137"})]),
    "kill -s TERM ignored": (["sleep", "100"], [["kill", "-s", "TERM", "{name}"]], [("kill", {"signal": "15"})]),
    "rm -f": (["sleep", "100"], [["rm", "-f", "{name}"]],
              [("kill", {"signal": "9"}), ("die", {"exitCode": "137"}), ("destroy", {})]),
    "restart": (["sleep", "100"], [["restart", "-t", "1", "{name}"]],
                [("kill", {"signal": "15"}), ("kill", {"signal": "9"}), ("die", {"exitCode": "137"}), ("stop", {}),
                 ("start", {}), ("restart", {})]),
    "pause": (["sleep", "100"], [["pause", "{name}"], ["unpause", "{name}"]], [("pause", {}), ("unpause", {})]),
}


@pytest.mark.parametrize("scenario", list(EVENT_SCENARIOS))
def test_event_sequences(engine, scenario):
    cmd, actions, expected = EVENT_SCENARIOS[scenario]
    name = "ev-" + scenario.replace(" ", "-")
    engine.cli("run", "-d", "--network", "none", "--name", name, "busybox", *cmd)
    wait_running(engine, name)
    if cmd is TRAPS_TERM:
        wait_logged(engine, name, "trapped")  # PID 1 ignores TERM until its trap is set
    since = time.time()
    try:
        for action in actions:
            engine.cli(*[a.format(name=name) for a in action])
        got = container_events(engine, name, since)
    finally:
        engine.cli("rm", "-f", name, check=False)
    got = [e for e in got if not e[0].startswith("exec_")]
    assert got == expected, f"{engine.kind}: {got}"


def test_events_of_a_run_rm_exit(engine):
    since = time.time()
    engine.cli("run", "--rm", "--network", "none", "--name", "ev-rm", "busybox", "sh", "-c", "exit 3", check=False)
    got = container_events(engine, "ev-rm", since)
    assert [a for a, _ in got] == ["create", "attach", "start", "die", "destroy"]
    assert got[3][1] == {"exitCode": "3"}


def test_rm_f_of_a_paused_container(engine):
    engine.cli("run", "-d", "--network", "none", "--name", "ev-paused", "busybox", "sleep", "100")
    wait_running(engine, "ev-paused")
    engine.cli("pause", "ev-paused")
    since = time.time()
    engine.cli("rm", "-f", "ev-paused")
    got = container_events(engine, "ev-paused", since)
    assert got == [("kill", {"signal": "9"}), ("die", {"exitCode": "137"}), ("destroy", {})], f"{engine.kind}: {got}"


def test_events_of_a_health_check(engine):
    since = time.time()
    engine.cli("run", "-d", "--network", "none", "--name", "ev-health", "--health-cmd", "true",
               "--health-interval", "1s", "busybox", "sleep", "100")
    try:
        for _ in range(600):
            status = engine.cli("inspect", "-f", "{{.State.Health.Status}}", "ev-health").stdout.strip()
            if status == "healthy":
                break
            time.sleep(0.1)
        out = engine.cli("events", "--since", str(since), "--until", str(int(time.time()) + 1), "--filter",
                         "container=ev-health", "--format", "{{json .}}").stdout
    finally:
        engine.cli("rm", "-f", "ev-health")
    events = [json.loads(line) for line in out.splitlines()]
    actions = [e["Action"] for e in events if e["Type"] == "container"]
    assert actions[:2] == ["create", "start"], f"{engine.kind}: {actions}"
    probe = actions[2:5]
    assert probe == ["exec_create: /bin/sh -c true", "exec_start: /bin/sh -c true", "exec_die"], \
        f"{engine.kind}: {actions}"
    assert "health_status: healthy" in actions, f"{engine.kind}: {actions}"
    die = next(e for e in events if e["Action"] == "exec_die")
    assert die["Actor"]["Attributes"]["exitCode"] == "0" and die["Actor"]["Attributes"]["execID"]


def test_events_of_an_exec(engine):
    engine.cli("run", "-d", "--network", "none", "--name", "ev-exec", "busybox", "sleep", "100")
    try:
        wait_running(engine, "ev-exec")
        since = time.time()
        engine.cli("exec", "ev-exec", "sh", "-c", "exit 4", check=False)
        got = [(e["Action"], e["Actor"]["Attributes"].get("exitCode")) for e in map(json.loads, engine.cli(
            "events", "--since", str(since), "--until", str(int(time.time()) + 1), "--filter", "container=ev-exec",
            "--format", "{{json .}}").stdout.splitlines())]
    finally:
        engine.cli("rm", "-f", "ev-exec")
    assert got == [("exec_create: sh -c exit 4", None), ("exec_start: sh -c exit 4", None), ("exec_die", "4")]


# --- the terminal is the container's own -------------------------------------------------


def test_a_tty_is_a_pty_of_the_containers_devpts(engine):
    out = engine.cli("run", "--rm", "-t", "--network", "none", "busybox", "sh", "-c",
                     "tty; readlink /proc/self/fd/1; ls /dev/pts; test -c /dev/console && echo console; "
                     "stat -c '%u:%g:%a' /dev/console /dev/pts/0").stdout
    assert out.split() == ["/dev/pts/0", "/dev/pts/0", "0", "ptmx", "console", "0:5:620", "0:5:620"], \
        f"{engine.kind}: {out!r}"


def test_an_exec_tty_is_the_next_pty_of_the_containers_devpts(engine):
    engine.cli("run", "-d", "-t", "--network", "none", "--name", "tty-exec", "busybox", "sleep", "100")
    try:
        wait_running(engine, "tty-exec")
        out = engine.cli("exec", "-t", "tty-exec", "sh", "-c", "tty; ls /dev/pts").stdout
        assert out.split() == ["/dev/pts/1", "0", "1", "ptmx"], f"{engine.kind}: {out!r}"
    finally:
        engine.cli("rm", "-f", "tty-exec")


# --- wrong types are the client's error --------------------------------------------------


@pytest.mark.parametrize("route,base", [
    ("POST /containers/create", {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}}),
    ("POST /containers/{id}/update", {}),
    ("POST /networks/create", {"Name": "typed-net"}),
    ("POST /volumes/create", {"Name": "typed-vol"}),
])
def test_a_field_of_the_wrong_type_is_a_400(engine, route, base):
    """Every field set in turn to a string, an object, a negative number and a list of strings
    (most of them the wrong type or value): never a server error, and a 400 names the field.
    (Debian's dockerd 20.10 answers Go's JSON type errors with a 500; newer ones with a 400
    naming the Go struct field, as pydocker.)"""
    if engine.kind == "dockerd":
        pytest.skip("dockerd 20.10 answers a JSON type error with a 500")
    cid = create(engine, "typed-target")
    method, path = route.split(" ")
    path = path.replace("{id}", cid)
    failures = {}
    try:
        for field in spec_fields(route):
            for wrong in ("x", {"x": 1}, -1, ["x"]):
                body = with_null(base, field)
                node = body
                for part in field.split(".")[:-1]:
                    node = node[part[:-2]][0] if part.endswith("[]") else node[part]
                node[field.split(".")[-1]] = wrong
                if route == "POST /containers/create":
                    path = "/containers/create?name=typed-new"
                answer = engine.request(method, path, body)
                if answer.status >= 500 or answer.status == 400 and not names_a_field(answer.json()["message"],
                                                                                     [field]):
                    failures[f"{field}={wrong!r}"] = answer.body
                for kind, name in (("containers", "typed-new"), ("networks", "typed-net"), ("volumes", "typed-vol")):
                    if answer.status == 201:
                        engine.request("DELETE", f"/{kind}/{name}?force=1")
    finally:
        engine.cli("rm", "-f", cid)
    assert not failures, f"{engine.kind}: {failures}"


# What dockerd refuses at create (a 400), not first at start: pydocker too, naming the field.
CREATE_REFUSALS = {
    "CapAdd": {"HostConfig": {"CapAdd": ["FLY"]}}, "CapDrop": {"HostConfig": {"CapDrop": ["cap_swim"]}},
    "MemorySwappiness": {"HostConfig": {"MemorySwappiness": 200}},
    "MemoryReservation": {"HostConfig": {"MemoryReservation": 1000}},
    "OomScoreAdj": {"HostConfig": {"OomScoreAdj": 5000}}, "ShmSize": {"HostConfig": {"ShmSize": -1}},
    "CpusetCpus": {"HostConfig": {"CpusetCpus": "4096"}}, "CpusetMems": {"HostConfig": {"CpusetMems": "x"}},
    "StopSignal": {"StopSignal": "SIGFLY"}, "WorkingDir": {"WorkingDir": "relative"},
    "Tmpfs": {"HostConfig": {"Tmpfs": {"relative": ""}}},
}
# Refused by pydocker at create where Debian's dockerd 20.10 fails the start (a 500): newer
# dockerd refuses the first two at create too; a bad device cgroup rule is a config error,
# which dockerd's own start says must be refused at create.
PYDOCKER_CREATE_REFUSALS = {
    "Hostname": {"Hostname": "h" * 65}, "DeviceCgroupRules": {"HostConfig": {"DeviceCgroupRules": ["c 1:3"]}},
}


@pytest.mark.parametrize("field", sorted(CREATE_REFUSALS) + sorted(PYDOCKER_CREATE_REFUSALS))
def test_create_refuses_what_dockerd_refuses_at_create(engine, field):
    extra = CREATE_REFUSALS.get(field) or PYDOCKER_CREATE_REFUSALS[field]
    body = {"Image": "busybox", "Cmd": ["true"], **{k: v for k, v in extra.items() if k != "HostConfig"},
            "HostConfig": {"NetworkMode": "none", **extra.get("HostConfig", {})}}
    answer = engine.request("POST", "/containers/create?name=refused", body)
    try:
        if field in PYDOCKER_CREATE_REFUSALS and engine.kind == "dockerd":
            assert answer.status == 201, answer.body
            assert engine.request("POST", "/containers/refused/start").status == 500
            return
        assert answer.status == 400, answer.body
        if engine.kind == "pydocker":
            path = f"HostConfig.{field}" if "HostConfig" in extra and field in extra["HostConfig"] else field
            assert names_a_field(answer.json()["message"], [path]), answer.body
    finally:
        engine.request("DELETE", "/containers/refused?force=1")
    assert engine.request("GET", "/containers/refused/json").status == 404


def test_create_refuses_a_capability_the_daemon_does_not_hold(engine):
    """Newer dockerd refuses it at create; Debian's 20.10 lets runc fail the start (a 500)."""
    from pydocker.drivers.exec import capabilities
    missing = [name for name in capabilities.NAMES if name not in capabilities.held()]
    if not missing:
        pytest.skip("this daemon holds every capability")
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none", "CapAdd": [missing[0]]}}
    answer = engine.request("POST", "/containers/create?name=unheld", body)
    try:
        if engine.kind == "dockerd":
            assert answer.status == 201 and engine.request("POST", "/containers/unheld/start").status == 500
        else:
            assert answer.status == 400 and f'"CAP_{missing[0]}"' in answer.json()["message"], answer.body
    finally:
        engine.request("DELETE", "/containers/unheld?force=1")


@pytest.mark.parametrize("env", [["=x"], ["A=b\0c"]])
def test_an_exec_with_a_malformed_env_item(engine, env):
    """pydocker refuses it at the exec's create (400), as a container's create does; Debian's
    dockerd 20.10 lets runc fail the exec's start in-band (exit 126)."""
    engine.cli("run", "-d", "--network", "none", "--name", "exec-env", "busybox", "sleep", "100")
    try:
        wait_running(engine, "exec-env")
        created = engine.request("POST", "/containers/exec-env/exec",
                                 {"Cmd": ["true"], "Env": env, "AttachStdout": True})
        if engine.kind == "pydocker":
            assert created.status == 400 and "invalid environment variable" in created.json()["message"]
            return
        assert created.status == 201, created.body
        started = engine.request("POST", f"/exec/{created.json()['Id']}/start", {"Detach": False, "Tty": False})
        assert started.status == 200 and b"environment variable" in started.body, started.body
        assert engine.request("GET", f"/exec/{created.json()['Id']}/json").json()["ExitCode"] == 126
    finally:
        engine.cli("rm", "-f", "exec-env")
