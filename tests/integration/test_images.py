"""Images and container archives end to end with the docker CLI 28: import, images, inspect, tag,
rmi, history, save/load (both layouts), commit, export, diff, cp and system df."""

import gzip
import hashlib
import io
import json
import os
import socket
import tarfile
import time

import pytest

from pydocker.testing.cli import docker

pytestmark = pytest.mark.kernel


def image_ids(cli, d):
    return sorted(docker(cli, d, "images", "-q", "--no-trunc").stdout.split())


def members(path):
    with tarfile.open(path) as tar:
        return {m.name.rstrip("/"): (tar.extractfile(m).read() if m.isreg() else None) for m in tar}


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def api(d, method, path, body=b"", headers=()):
    """(status, headers dict, body) of one raw HTTP/1.0 request on the daemon's socket."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(d.socket)
    head = f"{method} {path} HTTP/1.0\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    s.sendall(head.encode() + body)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    raw_head, _, payload = data.partition(b"\r\n\r\n")
    lines = raw_head.decode().split("\r\n")
    found = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in found.items()}, payload


def driver_dir(d):
    info = json.loads(docker("docker", d, "info", "--format", "{{json .}}").stdout)
    return os.path.join(d.root, info["Driver"])


# -- import, images, inspect, tag, rmi, history ---------------------------------------------

def test_import_with_changes_then_list_inspect_tag_history_rmi(daemon, docker_cli, tmp_path):
    from pydocker.testing.images import make_rootfs_tar
    rootfs = make_rootfs_tar(str(tmp_path / "rootfs.tar"))
    image_id = docker(docker_cli, daemon, "import", "-c", "ENV A=1", "-c", 'CMD ["/bin/sh"]',
                      "-c", "LABEL team=core", "-m", "first", rootfs, "base:1").stdout.strip()
    assert image_id.startswith("sha256:")
    config = json.loads(docker(docker_cli, daemon, "image", "inspect", "base:1", "--format", "{{json .Config}}").stdout)
    assert config["Env"] == ["A=1"] and config["Cmd"] == ["/bin/sh"] and config["Labels"] == {"team": "core"}
    docker(docker_cli, daemon, "tag", "base:1", "other/name:two")
    listed = docker(docker_cli, daemon, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert sorted(listed) == ["base:1", "other/name:two"]
    assert docker(docker_cli, daemon, "images", "-f", "label=team=core", "-q").stdout.split() == [image_id[7:19]] * 2
    assert docker(docker_cli, daemon, "images", "-f", "reference=nothing*", "-q").stdout == ""
    history = docker(docker_cli, daemon, "history", "--no-trunc", "--format", "{{.ID}} {{.Comment}}", "base:1").stdout
    assert history.split() == [image_id, "first"]
    assert "Untagged: other/name:two" in docker(docker_cli, daemon, "rmi", "other/name:two").stdout
    out = docker(docker_cli, daemon, "rmi", "base:1").stdout
    assert f"Deleted: {image_id}" in out
    assert image_ids(docker_cli, daemon) == []


# -- save and load --------------------------------------------------------------------------

def test_save_writes_both_layouts_and_load_restores_the_same_ids(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    docker(docker_cli, d, "run", "--name", "maker", "busybox", "sh", "-c", "echo made > /made")
    committed = docker(docker_cli, d, "commit", "maker", "made:v1").stdout.strip()
    docker(docker_cli, d, "rm", "maker")
    before = image_ids(docker_cli, d)
    saved = str(tmp_path / "two.tar")
    docker(docker_cli, d, "save", "-o", saved, "busybox:latest", "made:v1")
    files = members(saved)
    manifest = json.loads(files["manifest.json"])
    assert sorted(tag for item in manifest for tag in item["RepoTags"]) == ["busybox:latest", "made:v1"]
    for item in manifest:
        config = files[item["Config"]]
        assert sha256(config) in before
        diff_ids = json.loads(config)["rootfs"]["diff_ids"]
        assert [sha256(files[path]) for path in item["Layers"]] == diff_ids
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    names = {m["annotations"]["io.containerd.image.name"]: m for m in index["manifests"]}
    assert set(names) == {"docker.io/library/busybox:latest", "docker.io/library/made:v1"}
    oci = json.loads(files["blobs/sha256/" + names["docker.io/library/made:v1"]["digest"][7:]])
    assert oci["config"]["digest"] == committed and len(oci["layers"]) == 2
    assert json.loads(files["repositories"])["made"]["v1"] == oci["layers"][-1]["digest"][7:]

    docker(docker_cli, d, "rmi", "made:v1", "busybox:latest")
    assert image_ids(docker_cli, d) == []
    out = docker(docker_cli, d, "load", "-i", saved).stdout
    assert "Loaded image: busybox:latest" in out and "Loaded image: made:v1" in out
    assert image_ids(docker_cli, d) == before
    assert docker(docker_cli, d, "run", "--rm", "made:v1", "cat", "/made").stdout == "made\n"
    again = str(tmp_path / "again.tar")
    docker(docker_cli, d, "save", "-o", again, "made:v1")
    assert members(again)["blobs/sha256/" + oci["layers"][-1]["digest"][7:]] == files[
        "blobs/sha256/" + oci["layers"][-1]["digest"][7:]], "a loaded layer saves byte for byte"


def test_save_by_id_loads_untagged(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    image_id = image_ids(docker_cli, d)[0]
    saved = str(tmp_path / "by-id.tar")
    docker(docker_cli, d, "save", "-o", saved, image_id[7:19])
    assert json.loads(members(saved)["manifest.json"])[0]["RepoTags"] is None
    docker(docker_cli, d, "rmi", "busybox")
    compressed = tmp_path / "by-id.tar.gz"
    with open(saved, "rb") as f:
        compressed.write_bytes(gzip.compress(f.read(), 1))
    assert docker(docker_cli, d, "load", "-i", str(compressed)).stdout.strip() == f"Loaded image ID: {image_id}"


def test_bad_tarballs_are_refused_and_leave_nothing(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    saved = str(tmp_path / "good.tar")
    docker(docker_cli, d, "save", "-o", saved, "busybox")
    docker(docker_cli, d, "rmi", "busybox")
    layers_before = sorted(os.listdir(driver_dir(d)))

    corrupt = str(tmp_path / "corrupt.tar")
    with tarfile.open(saved) as src, tarfile.open(corrupt, "w") as dst:
        for m in src:
            data = src.extractfile(m).read() if m.isreg() else None
            if data is not None and m.size > 100_000:
                data = data[:100_000] + bytes([data[100_000] ^ 1]) + data[100_001:]  # one flipped bit in a file
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    proc = docker(docker_cli, d, "load", "-i", corrupt, check=False)
    assert proc.returncode != 0 and "does not match its diff ID" in proc.stderr

    not_tar = tmp_path / "not.tar"
    not_tar.write_bytes(b"this is not a tarball" * 100)
    proc = docker(docker_cli, d, "load", "-i", str(not_tar), check=False)
    assert proc.returncode != 0 and "not a valid tar archive" in proc.stderr

    missing = str(tmp_path / "missing-layer.tar")
    with tarfile.open(saved) as src, tarfile.open(missing, "w") as dst:
        for m in src:
            if not (m.isreg() and m.size > 100_000):
                dst.addfile(m, src.extractfile(m) if m.isreg() else None)
    proc = docker(docker_cli, d, "load", "-i", missing, check=False)
    assert proc.returncode != 0 and "has no layer file" in proc.stderr

    assert image_ids(docker_cli, d) == []
    assert sorted(os.listdir(driver_dir(d))) == layers_before, "no layer may be left behind"


def _oci_layout(rootfs_tar, name):
    """An OCI image layout only (no manifest.json): gzip'd layer, nested index, containerd name."""
    blobs = {}

    def blob(data):
        blobs[sha256(data)] = data
        return {"digest": sha256(data), "size": len(data)}

    with open(rootfs_tar, "rb") as f:
        layer = f.read()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": dict(blob(config), mediaType="application/vnd.oci.image.config.v1+json"),
                           "layers": [dict(blob(gzip.compress(layer, 1)),
                                           mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode()
    nested = json.dumps({"schemaVersion": 2, "manifests": [dict(
        blob(manifest), mediaType="application/vnd.oci.image.manifest.v1+json",
        platform={"architecture": "amd64", "os": "linux"})]}).encode()
    index = {"schemaVersion": 2, "manifests": [dict(blob(nested), mediaType="application/vnd.oci.image.index.v1+json",
                                                    annotations={"io.containerd.image.name": name})]}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", json.dumps(index).encode())] + \
                [("blobs/sha256/" + digest[7:], data) for digest, data in blobs.items()]:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue(), sha256(config)


def test_load_plain_oci_layout(daemon, docker_cli, tmp_path):
    from pydocker.testing.images import make_rootfs_tar
    import platform
    if platform.machine() != "x86_64":
        pytest.skip("the hand-made OCI layout is for amd64")
    data, config_digest = _oci_layout(make_rootfs_tar(str(tmp_path / "rootfs.tar")), "localhost:5000/oci/app:1.0")
    path = tmp_path / "oci.tar"
    path.write_bytes(data)
    assert "Loaded image: localhost:5000/oci/app:1.0" in docker(docker_cli, daemon, "load", "-i", str(path)).stdout
    assert image_ids(docker_cli, daemon) == [config_digest]
    assert docker(docker_cli, daemon, "run", "--rm", "localhost:5000/oci/app:1.0", "echo", "ok").stdout == "ok\n"


def test_load_progress_stream_and_quiet(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    saved = str(tmp_path / "bb.tar")
    docker(docker_cli, d, "save", "-o", saved, "busybox")
    docker(docker_cli, d, "rmi", "busybox")
    with open(saved, "rb") as f:
        body = f.read()
    status, _, payload = api(d, "POST", "/v1.44/images/load", body, [("Content-Type", "application/x-tar")])
    messages = [json.loads(line) for line in payload.decode().split("\r\n") if line.strip()]
    assert status == 200
    progress = [m for m in messages if m.get("status") == "Loading layer"]
    assert progress and progress[-1]["progressDetail"]["current"] == progress[-1]["progressDetail"]["total"]
    assert messages[-1] == {"stream": "Loaded image: busybox:latest\n"}
    status, _, payload = api(d, "POST", "/v1.44/images/load?quiet=1", body)
    assert [json.loads(line) for line in payload.decode().split("\r\n") if line] == [
        {"stream": "Loaded image: busybox:latest\n"}]


# -- commit, export, diff ------------------------------------------------------------------

def test_commit_running_container_with_changes(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "live", "busybox", "sh", "-c",
           "echo data > /data.txt; rm /bin/ls; sleep 300")
    deadline = time.monotonic() + 30
    while "D /bin/ls" not in (diff := docker(docker_cli, d, "diff", "live").stdout.splitlines()):
        assert time.monotonic() < deadline, diff  # the command's last change is made
        time.sleep(0.1)
    assert "A /data.txt" in diff and "D /bin/ls" in diff and "C /bin" in diff
    image_id = docker(docker_cli, d, "commit", "-a", "Ada <ada@example.com>", "-m", "snapshot",
                      "-c", "ENV STAGE=two", "-c", "EXPOSE 8080", "-c", 'CMD ["cat", "/data.txt"]',
                      "live", "snap:1").stdout.strip()
    assert json.loads(docker(docker_cli, d, "inspect", "live", "--format", "{{json .State}}").stdout)["Running"]
    doc = json.loads(docker(docker_cli, d, "image", "inspect", image_id).stdout)[0]
    assert doc["Author"] == "Ada <ada@example.com>" and doc["Comment"] == "snapshot"
    assert "STAGE=two" in doc["Config"]["Env"] and "8080/tcp" in doc["Config"]["ExposedPorts"]
    assert doc["Parent"] == json.loads(docker(docker_cli, d, "image", "inspect", "busybox").stdout)[0]["Id"]
    assert len(doc["RootFS"]["Layers"]) == 2
    assert docker(docker_cli, d, "run", "--rm", "snap:1").stdout == "data\n"
    proc = docker(docker_cli, d, "run", "--rm", "snap:1", "ls", check=False)
    assert proc.returncode == 127  # the deletion was committed too
    deadline = time.monotonic() + 30
    while True:
        events = docker(docker_cli, d, "events", "--since", "1h", "--until", "0s", "--filter", "container=live",
                        "--format", "{{.Action}}").stdout.split()
        if "unpause" in events or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert events.index("pause") < events.index("commit") and "unpause" in events, events
    history = docker(docker_cli, d, "history", "--format", "{{.Comment}}", "snap:1").stdout.split("\n")
    assert history[0] == "snapshot"
    docker(docker_cli, d, "rm", "-f", "live")


def test_commit_without_changes_adds_an_empty_history_entry(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "create", "--name", "idle", "busybox", "true")
    image_id = docker(docker_cli, d, "commit", "-c", "bogus thing", "idle", "x", check=False)
    assert image_id.returncode != 0 and "not a valid change command" in image_id.stderr
    docker(docker_cli, d, "commit", "idle", "same:1")
    doc = json.loads(docker(docker_cli, d, "image", "inspect", "same:1").stdout)[0]
    assert len(doc["RootFS"]["Layers"]) == 1


def test_export_is_the_merged_rootfs(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    docker(docker_cli, d, "run", "--name", "ex", "busybox", "sh", "-c", "echo mine > /root/mine; rm /etc/group")
    out = str(tmp_path / "ex.tar")
    docker(docker_cli, d, "export", "-o", out, "ex")
    files = members(out)
    assert files["root/mine"] == b"mine\n" and "etc/group" not in files
    assert "bin/busybox" in files and "etc/passwd" in files
    assert not any(name.startswith(".wh.") or "/.wh." in name for name in files)
    proc = docker(docker_cli, d, "export", "-o", out, "no-such-container", check=False)
    assert proc.returncode != 0 and "No such container" in proc.stderr


# -- cp ---------------------------------------------------------------------------------------

def test_cp_out_and_in(busybox_daemon, docker_cli, tmp_path):
    d = busybox_daemon
    docker(docker_cli, d, "run", "-d", "--name", "box", "busybox", "sh", "-c",
           "mkdir -p /srv/dir && echo inner > /srv/dir/f && ln -s /srv/dir /srv/link && sleep 300")
    docker(docker_cli, d, "exec", "box", "true", check=False)
    docker(docker_cli, d, "cp", "box:/etc/passwd", str(tmp_path / "passwd"))
    assert (tmp_path / "passwd").read_text().startswith("root:")
    docker(docker_cli, d, "cp", "box:/srv/dir", str(tmp_path / "copied"))
    assert (tmp_path / "copied" / "f").read_text() == "inner\n"
    (tmp_path / "in.txt").write_text("into the box\n")
    docker(docker_cli, d, "cp", str(tmp_path / "in.txt"), "box:/srv/")
    docker(docker_cli, d, "cp", str(tmp_path / "in.txt"), "box:/srv/link/")  # through a symlink, inside
    assert docker(docker_cli, d, "exec", "box", "cat", "/srv/in.txt", "/srv/dir/in.txt").stdout == "into the box\n" * 2
    assert docker(docker_cli, d, "exec", "box", "stat", "-c", "%u", "/srv/in.txt").stdout.strip() == "0"
    proc = docker(docker_cli, d, "cp", "box:/no/such/file", str(tmp_path / "x"), check=False)
    assert proc.returncode != 0 and "Could not find the file" in proc.stderr
    docker(docker_cli, d, "rm", "-f", "box")


def test_cp_stat_header_and_traversal_refused(busybox_daemon, docker_cli, tmp_path):
    import base64
    d = busybox_daemon
    docker(docker_cli, d, "create", "--name", "tt", "busybox", "true")
    status, headers, _ = api(d, "HEAD", "/containers/tt/archive?path=/bin")
    assert status == 200
    stat = json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))
    assert stat["name"] == "bin" and stat["mode"] & (1 << 31)  # Go's os.ModeDir
    # A tar climbing out with '..'; a symlink to the host directory, then a write through it.
    canary = tmp_path / "canary"
    climbing = tar_of([("../../../../../../" + str(canary).lstrip("/"), tarfile.REGTYPE, "")])
    through_link = tar_of([("escape", tarfile.SYMTYPE, str(tmp_path)), ("escape/canary", tarfile.REGTYPE, "")])
    for body in (climbing, through_link):
        status, _, payload = api(d, "PUT", "/containers/tt/archive?path=/tmp", body)
        assert status == 400, payload
        assert not canary.exists(), "a tar entry was written outside the container"
    out = io.BytesIO(climbing)
    status, _, _ = api(d, "PUT", "/containers/tt/archive?path=/etc/passwd", out.getvalue())
    assert status == 400  # not a directory
    status, _, _ = api(d, "PUT", "/containers/tt/archive?path=/nope", out.getvalue())
    assert status == 404
    docker(docker_cli, d, "rm", "tt")


def tar_of(entries):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, target in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            info.size = 4 if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(b"evil") if kind == tarfile.REGTYPE else None)
    return out.getvalue()


# -- system df -------------------------------------------------------------------------------

def test_system_df_counts_images_and_containers(busybox_daemon, docker_cli):
    d = busybox_daemon
    docker(docker_cli, d, "run", "--name", "writer", "busybox", "sh", "-c", "head -c 50000 /bin/busybox > /blob")
    docker(docker_cli, d, "commit", "writer", "derived:1")
    df = json.loads(docker(docker_cli, d, "system", "df", "-v", "--format", "{{json .}}").stdout)
    images = {i["Repository"]: i for i in df["Images"]}
    assert set(images) == {"busybox", "derived"}
    assert images["busybox"]["Containers"] == "1"
    containers = df["Containers"]
    assert len(containers) == 1 and containers[0]["Names"] == "writer"
    status, _, payload = api(d, "GET", "/v1.44/system/df")
    raw = json.loads(payload)
    assert raw["Volumes"] == [] and raw["BuildCache"] == []
    by_tag = {i["RepoTags"][0]: i for i in raw["Images"]}
    base = by_tag["busybox:latest"]
    assert by_tag["derived:1"]["SharedSize"] == base["Size"] == base["SharedSize"]
    assert by_tag["derived:1"]["Size"] >= base["Size"] + 50000
    assert raw["LayersSize"] == by_tag["derived:1"]["Size"]
    assert raw["Containers"][0]["SizeRw"] >= 50000


# -- orphan layers ------------------------------------------------------------------------------

def test_ids_of_a_real_daemon_match_its_records(busybox_daemon, docker_cli):
    """What the orphan sweep relies on: after normal work every driver layer is known."""
    d = busybox_daemon
    docker(docker_cli, d, "create", "--name", "cc", "busybox", "true")
    entries = [e for e in os.listdir(driver_dir(d)) if e != "l" and not e.startswith("probe-")]
    container_id = docker(docker_cli, d, "inspect", "cc", "--format", "{{.Id}}").stdout.strip()
    assert container_id in entries and container_id + "-init" in entries
    assert len(entries) == 3  # the image's layer, the init layer, the rw layer


def test_skopeo_reads_both_layouts_of_a_save(busybox_daemon, docker_cli, tmp_path):
    import shutil
    import subprocess
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    d = busybox_daemon
    saved = str(tmp_path / "bb.tar")
    docker(docker_cli, d, "save", "-o", saved, "busybox")
    layers = json.loads(docker(docker_cli, d, "image", "inspect", "busybox").stdout)[0]["RootFS"]["Layers"]
    for transport in ("oci-archive", "docker-archive"):
        proc = subprocess.run(["skopeo", "copy", "-q", f"{transport}:{saved}", f"dir:{tmp_path / transport}"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        copied = json.loads((tmp_path / transport / "manifest.json").read_text())
        assert [layer["digest"] for layer in copied["layers"]] == layers
