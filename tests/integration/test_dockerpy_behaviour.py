"""What docker-py's own integration suite expects of dockerd and we first did
differently; each case here failed against pydocker before it was fixed."""

import os

import docker
import pytest

pytestmark = pytest.mark.kernel


@pytest.fixture
def api(busybox_daemon):
    client = docker.APIClient(base_url=busybox_daemon.host)
    made = []
    client.made = made
    yield client
    for cid in made:
        client.remove_container(cid, force=True)
    client.close()


def test_a_bad_load_is_an_error_message_in_a_200_stream(busybox_daemon):
    client = docker.DockerClient(base_url=busybox_daemon.host)
    try:
        with pytest.raises(docker.errors.ImageLoadError, match="not a valid tar archive"):
            client.images.load(b"abc")
    finally:
        client.close()


def test_commit_of_a_container_exiting_meanwhile(api):
    for _ in range(3):
        cid = api.create_container("busybox", ["touch", "/committed"])["Id"]
        api.made.append(cid)
        api.start(cid)
        image = api.commit(cid)["Id"]     # pause=True: the container may exit under it
        api.remove_image(image)


def test_log_config_is_completed_at_create(api):
    cid = api.create_container("busybox", "true")["Id"]
    api.made.append(cid)
    assert api.inspect_container(cid)["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {}}
    config = docker.types.LogConfig(type="json-file", config={"max-file": "100"})
    cid = api.create_container("busybox", "true", host_config=api.create_host_config(log_config=config))["Id"]
    api.made.append(cid)
    assert api.inspect_container(cid)["HostConfig"]["LogConfig"]["Config"] == {"max-file": "100"}


def test_tty_exec_started_without_tty_is_framed(api):
    cid = api.create_container("busybox", "cat", stdin_open=True)["Id"]
    api.made.append(cid)
    api.start(cid)
    exec_id = api.exec_create(cid, ["printf", "framed"], tty=True)
    assert api.exec_start(exec_id, tty=False) == b"framed"      # docker-py strips the frame
    exec_id = api.exec_create(cid, ["printf", "raw"], tty=True)
    assert api.exec_start(exec_id, tty=True) == b"raw"


def test_legacy_link_names_in_ps_and_their_removal(api):
    upstream = api.create_container("busybox", "cat", stdin_open=True, name="upstream-" + os.urandom(3).hex())
    api.made.append(upstream["Id"])
    api.start(upstream)
    upstream_name = api.inspect_container(upstream)["Name"][1:]
    linked = api.create_container("busybox", "cat", stdin_open=True, name="linked-" + os.urandom(3).hex(),
                                  host_config=api.create_host_config(links={upstream_name: "db"}))
    api.made.append(linked["Id"])
    api.start(linked)
    linked_name = api.inspect_container(linked)["Name"][1:]

    def names_of_upstream():
        return next(c["Names"] for c in api.containers(all=True) if c["Id"] == upstream["Id"])
    assert f"/{linked_name}/db" in names_of_upstream()
    api.remove_container(f"{linked_name}/db", link=True)
    assert names_of_upstream() == ["/" + upstream_name]
    assert not api.inspect_container(linked)["HostConfig"]["Links"]
    with pytest.raises(docker.errors.APIError, match="cannot remove the default link name"):
        api.remove_container(upstream_name, link=True)


def test_put_archive_is_a_success_for_docker_py(api):
    """docker-py (and Ansible's copy module on it) counts only a 200 as success (issue 15)."""
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("copied")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
    cid = api.create_container("busybox", "true")["Id"]
    api.made.append(cid)
    assert api.put_archive(cid, "/tmp", buf.getvalue()) is True


def test_an_error_on_a_stream_route_is_raised_by_docker_py(api):
    """A 404 on a streaming route comes with a length, so docker-py reads it as an error."""
    with pytest.raises(docker.errors.NotFound):
        api.logs("no-such-container", stream=True, follow=True)
    with pytest.raises(docker.errors.APIError, match="400"):
        api.pull("127.0.0.1:1/x", tag="1", platform="not a platform!")
