"""Black box with the docker CLI: ``docker rmi`` with tags, digest references and IDs as
Docker 28 behaves, tar-splits living and dying with their layers, and ``docker import``
from a URL (served on loopback by the test)."""

import gzip
import hashlib
import json
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pydocker.testing.cli import docker
from pydocker.testing.registry import REGISTRY_BINARY


@pytest.fixture
def served(tmp_path):
    """A tiny HTTP server on loopback over ``tmp_path / "www"``; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def inspect(cli, d, name):
    return json.loads(docker(cli, d, "image", "inspect", name).stdout)[0]


def lines(proc):
    return proc.stdout.strip().splitlines()


def splits(d):
    directory = os.path.join(d.root, "image", "tarsplit")
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def split_name(diff_id):
    return diff_id.replace(":", "-") + ".json.gz"


@pytest.mark.skipif(REGISTRY_BINARY is None, reason="Debian's docker-registry is not installed")
def test_rmi_tags_digest_references_and_ids(docker_cli, daemon, registry, busybox_tar):
    repo = f"{registry.host}/team/bb"
    docker(docker_cli, daemon, "import", busybox_tar, f"{repo}:1.0")
    pushed = docker(docker_cli, daemon, "push", f"{repo}:1.0").stdout
    digest = pushed.split("digest: ")[1].split()[0]
    image = inspect(docker_cli, daemon, f"{repo}:1.0")
    image_id, diff_id = image["Id"], image["RootFS"]["Layers"][0]
    assert image["RepoDigests"] == [f"{repo}@{digest}"]
    assert splits(daemon) == [split_name(diff_id)]  # recorded when the layer was imported
    docker(docker_cli, daemon, "tag", f"{repo}:1.0", f"{repo}:2.0")
    docker(docker_cli, daemon, "tag", f"{repo}:1.0", "other/x:1")

    refused = docker(docker_cli, daemon, "rmi", image_id[7:19], check=False)
    assert refused.returncode != 0
    assert (f"conflict: unable to delete {image_id[7:19]} (must be forced) - image is referenced "
            "in one or more repositories") in refused.stderr

    # One tag of the repository goes; its digest reference stays while a tag of it remains.
    assert lines(docker(docker_cli, daemon, "rmi", f"{repo}:1.0")) == [f"Untagged: {repo}:1.0"]
    assert inspect(docker_cli, daemon, image_id)["RepoDigests"] == [f"{repo}@{digest}"]
    # The repository's last tag takes its digest references along; other/x keeps the image.
    assert lines(docker(docker_cli, daemon, "rmi", f"{repo}:2.0")) == [
        f"Untagged: {repo}:2.0", f"Untagged: {repo}@{digest}"]
    kept = inspect(docker_cli, daemon, image_id)
    assert kept["RepoTags"] == ["other/x:1"] and kept["RepoDigests"] == []
    assert lines(docker(docker_cli, daemon, "rmi", "other/x:1")) == [
        "Untagged: other/x:1", f"Deleted: {image_id}"]
    assert docker(docker_cli, daemon, "image", "inspect", image_id, check=False).returncode != 0
    assert splits(daemon) == []  # the split went with the last layer of its content

    # repo@digest names a pulled image; removing it leaves the tag (and the image).
    docker(docker_cli, daemon, "pull", f"{repo}:1.0")
    assert splits(daemon) == [split_name(diff_id)]  # a pulled layer records its split too
    assert lines(docker(docker_cli, daemon, "rmi", f"{repo}@{digest}")) == [
        f"Untagged: {repo}@{digest}"]
    assert inspect(docker_cli, daemon, f"{repo}:1.0")["RepoDigests"] == []
    # One repository with one tag: the ID alone removes it, no -f needed.
    assert lines(docker(docker_cli, daemon, "rmi", image_id)) == [
        f"Untagged: {repo}:1.0", f"Deleted: {image_id}"]

    # Pulled by digest only: rmi repo@digest deletes the image.
    docker(docker_cli, daemon, "pull", f"{repo}@{digest}")
    assert lines(docker(docker_cli, daemon, "rmi", f"{repo}@{digest}")) == [
        f"Untagged: {repo}@{digest}", f"Deleted: {image_id}"]
    missing = docker(docker_cli, daemon, "rmi", f"{repo}@{digest}", check=False)
    assert missing.returncode != 0 and "No such image" in missing.stderr

    # Several repositories: -f removes every reference and the image.
    docker(docker_cli, daemon, "pull", f"{repo}:1.0")
    docker(docker_cli, daemon, "tag", f"{repo}:1.0", "other/x:1")
    assert sorted(lines(docker(docker_cli, daemon, "rmi", "-f", image_id[7:19]))) == sorted([
        f"Untagged: {repo}:1.0", f"Untagged: {repo}@{digest}", "Untagged: other/x:1",
        f"Deleted: {image_id}"])
    assert splits(daemon) == [] and docker(docker_cli, daemon, "images", "-q").stdout == ""


def test_rmi_refuses_a_reference_a_container_needs(docker_cli, daemon, busybox_tar):
    image_id = docker(docker_cli, daemon, "import", busybox_tar, "keep:1").stdout.strip()
    container = docker(docker_cli, daemon, "create", "keep:1", "true").stdout.strip()
    refused = docker(docker_cli, daemon, "rmi", "keep:1", check=False)
    assert refused.returncode != 0
    assert (f'conflict: unable to remove repository reference "keep:1" (must force) - container '
            f"{container[:12]} is using its referenced image {image_id[7:19]}") in refused.stderr
    by_id = docker(docker_cli, daemon, "rmi", image_id, check=False)
    assert (f"conflict: unable to delete {image_id[7:19]} (must be forced) - image is being used "
            f"by stopped container {container[:12]}") in by_id.stderr
    assert inspect(docker_cli, daemon, "keep:1")["Id"] == image_id
    docker(docker_cli, daemon, "rm", container)
    assert lines(docker(docker_cli, daemon, "rmi", "keep:1")) == ["Untagged: keep:1", f"Deleted: {image_id}"]


def test_rmi_prunes_the_parents_it_leaves_dangling(docker_cli, daemon, busybox_tar):
    base = docker(docker_cli, daemon, "import", busybox_tar, "base:1").stdout.strip()
    container = docker(docker_cli, daemon, "create", "base:1", "true").stdout.strip()
    child = docker(docker_cli, daemon, "commit", container, "child:1").stdout.strip()
    docker(docker_cli, daemon, "rm", container)
    # The child holds its parent: untagging base:1 keeps the image.
    assert lines(docker(docker_cli, daemon, "rmi", "base:1")) == ["Untagged: base:1"]
    assert inspect(docker_cli, daemon, base)["RepoTags"] == []
    assert lines(docker(docker_cli, daemon, "rmi", "child:1")) == [
        "Untagged: child:1", f"Deleted: {child}", f"Deleted: {base}"]
    assert docker(docker_cli, daemon, "images", "-aq").stdout == "" and splits(daemon) == []


def test_import_from_a_url(docker_cli, daemon, busybox_tar, served):
    www, base = served
    with open(busybox_tar, "rb") as f:
        data = f.read()
    (www / "rootfs.tar.gz").write_bytes(gzip.compress(data))
    out = docker(docker_cli, daemon, "import", "-m", "from the web", f"{base}/rootfs.tar.gz", "web:1")
    image_id = out.stdout.strip().splitlines()[-1]
    image = inspect(docker_cli, daemon, "web:1")
    assert image["Id"] == image_id and image["Comment"] == "from the web"
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    assert image["RootFS"]["Layers"] == [diff_id]
    assert split_name(diff_id) in splits(daemon)

    missing = docker(docker_cli, daemon, "import", f"{base}/nothing.tar", "web:2", check=False)
    assert missing.returncode != 0
    assert f"failed to GET {base}/nothing.tar with status 404" in missing.stderr
    refused = docker(docker_cli, daemon, "import", "http://127.0.0.1:1/x.tar", "web:3", check=False)
    assert refused.returncode != 0 and "Connection refused" in refused.stderr
    assert docker(docker_cli, daemon, "images", "-q", "--no-trunc").stdout.split() == [image_id]
