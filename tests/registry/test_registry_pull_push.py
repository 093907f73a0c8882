"""Push and pull round trips against Debian's docker-registry (plain HTTP on loopback)."""

import io
import json
import os
import random
import signal

import pytest
from pydocker.testing.registry import (bytes_layer, file_layer, file_sha256, image_of, layer_tar,
                                       sha256)
from registry_proxy import FaultyProxy

from pydocker.errdefs import NotFound
from pydocker.registry import (DigestMismatch, Platform, PushLayer, RegistryService,
                               parse_reference)
from pydocker.registry.client import RegistryClient
from pydocker.registry.endpoints import Endpoint
from pydocker.registry.errors import RegistryUnavailable


def small_image(tag=b"one", oci=False, **config):
    """The same image for the same ``tag``; its second layer is incompressible."""
    noise = random.Random(tag).randbytes(200_000)
    return image_of([bytes_layer(layer_tar({"etc/hello": b"hello " + tag})),
                     bytes_layer(layer_tar({"data/" + tag.decode(): noise}))],
                    oci=oci, **config)


def statuses(messages):
    return [m.get("status") for m in messages]


def test_busybox_round_trip_by_content_hash(service, store, registry, busybox_tar):
    image = image_of([file_layer(busybox_tar)])
    pushed_messages, pulled_messages = [], []
    pushed = service.push(f"{registry.host}/test/busybox:1.0", image,
                          progress=pushed_messages.append)
    result = service.pull(f"{registry.host}/test/busybox:1.0", store,
                          progress=pulled_messages.append)

    assert result.digest == pushed.digest
    assert result.image_id == sha256(image.config)
    assert result.config == image.config
    assert file_sha256(store.path_of(result.layers[0].diff_id)) == file_sha256(busybox_tar)
    assert store.leftovers() == []
    assert pushed_messages[-1]["aux"] == {"Tag": "1.0", "Digest": pushed.digest,
                                          "Size": pushed.size}
    assert f"1.0: digest: {pushed.digest} size: {pushed.size}" in statuses(pushed_messages)
    assert {"Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete",
            "Extracting", "Pull complete"} <= set(statuses(pulled_messages))
    downloading = [m for m in pulled_messages if m.get("status") == "Downloading"]
    assert downloading[-1]["progressDetail"] == {"current": result.layers[0].size,
                                                 "total": result.layers[0].size}
    assert downloading[-1]["id"] == result.layers[0].digest.split(":")[1][:12]
    assert statuses(pulled_messages)[-2:] == [
        f"Digest: {pushed.digest}",
        f"Status: Downloaded newer image for {registry.host}/test/busybox:1.0"]


def test_second_pull_reports_existing_layers(service, store, registry):
    service.push(f"{registry.host}/test/again", small_image())
    first = service.pull(f"{registry.host}/test/again", store)
    store.images.add(first.image_id)
    messages = []
    result = service.pull(f"{registry.host}/test/again", store, progress=messages.append)
    assert result.downloaded == []
    assert statuses(messages).count("Already exists") == 2
    assert statuses(messages)[-1] == \
        f"Status: Image is up to date for {registry.host}/test/again:latest"


def test_pull_by_digest_and_oci_manifest(service, store, registry):
    pushed = service.push(f"{registry.host}/test/oci:v1", small_image(oci=True))
    assert json.loads(pushed.manifest)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    result = service.pull(f"{registry.host}/test/oci@{pushed.digest}", store)
    assert result.manifest_digest == pushed.digest
    assert result.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert len(store.applied) == 2


def test_missing_tag_is_not_found(service, store, registry):
    service.push(f"{registry.host}/test/present:v1", small_image())
    with pytest.raises(NotFound, match="manifest for .*present:nope not found"):
        service.pull(f"{registry.host}/test/present:nope", store)
    assert store.applied == []


def test_push_skips_existing_and_mounts_across_repositories(service, registry):
    first = service.push(f"{registry.host}/test/source:v1", small_image())
    known = [(layer.digest, f"{registry.host}/test/source") for layer in first.layers]

    again = []
    service.push(f"{registry.host}/test/source:v2", small_image(), progress=again.append)
    assert statuses(again).count("Layer already exists") == 2

    mounted = []
    image = small_image()
    for layer, blobs in zip(image.layers, known):
        layer.known_blobs = [blobs]
    result = service.push(f"{registry.host}/test/target:v1", image, progress=mounted.append)
    assert statuses(mounted).count("Mounted from test/source") == 0  # not docker.io: full name
    assert statuses(mounted).count(f"Mounted from {registry.host}/test/source") == 2
    assert [layer.outcome for layer in result.layers] == ["mounted", "mounted"]


def test_chunked_upload(service, store, registry):
    payload = os.urandom(3 << 20)  # incompressible, so four 1 MiB PATCHes
    image = image_of([bytes_layer(layer_tar({"big": payload}))])
    proxy = FaultyProxy(registry.host).start()
    try:
        pushed = service.push(f"{proxy.host}/test/chunked", image, chunk_size=1 << 20)
    finally:
        proxy.stop()
    methods = [method for method, path, _ in proxy.requests if "/blobs/uploads/" in path]
    assert methods.count("PATCH") == 4
    assert methods[-1] == "PUT"
    service.pull(f"{registry.host}/test/chunked", store)
    assert file_sha256(store.path_of(image.layers[0].diff_id)) == image.layers[0].diff_id
    assert pushed.layers[0].size > 3 << 20


def test_multi_platform_index_resolves_to_platform(service, store, registry):
    name = f"{registry.host}/test/multi"
    amd64 = service.push(name, small_image(b"amd64", architecture="amd64"))
    arm64 = service.push(name, small_image(b"arm64", architecture="arm64", variant="v8"))
    index = service.push_index(f"{name}:latest", [(amd64, Platform("linux", "amd64")),
                                                  (arm64, Platform("linux", "arm64", "v8"))])
    result = service.pull(name, store)
    assert result.digest == index.digest
    assert result.manifest_digest == amd64.digest
    assert json.loads(result.config)["architecture"] == "amd64"

    result = service.pull(name, store, platform="linux/arm64")
    assert result.manifest_digest == arm64.digest
    with pytest.raises(NotFound, match="no matching manifest for linux/s390x"):
        service.pull(name, store, platform="linux/s390x")


def test_corrupted_blob_fails_and_nothing_is_kept(service, store, registry):
    service.push(f"{registry.host}/test/corrupt", small_image())
    proxy = FaultyProxy(registry.host).start()
    try:
        proxy.flip_blob_byte = True
        with pytest.raises(DigestMismatch):
            service.pull(f"{proxy.host}/test/corrupt", store)
    finally:
        proxy.stop()
    assert store.applied == []
    assert os.listdir(store.directory) == []


def test_corrupted_layer_on_disk_fails_in_the_stream(service, store, registry):
    """A blob whose stored bytes changed hashes wrong; the target's staging file goes."""
    pushed = service.push(f"{registry.host}/test/ondisk", small_image())
    blob = registry.blob_path(pushed.layers[1].digest)
    data = bytearray(open(blob, "rb").read())
    data[len(data) // 2] ^= 0xFF
    with open(blob, "wb") as f:
        f.write(data)
    with pytest.raises(DigestMismatch, match=pushed.layers[1].digest):
        service.pull(f"{registry.host}/test/ondisk", store)
    assert len(store.applied) <= 1 and store.leftovers() == []
    assert not os.path.exists(store.path_of(pushed.layers[1].diff_id))


def test_a_tar_not_matching_its_diff_id_never_reaches_the_target(service, store, registry):
    """The download unpacks and verifies the tar, so the target is never offered it."""
    real = layer_tar({"etc/real": b"real"})
    claimed = PushLayer(sha256(layer_tar({"etc/claimed": b"claimed"})), lambda: io.BytesIO(real), [])
    service.push(f"{registry.host}/test/lying", image_of([claimed]))
    offered, apply = [], store.apply_layer
    store.apply_layer = lambda layer, stream: (offered.append(layer), apply(layer, stream))
    with pytest.raises(DigestMismatch, match=claimed.diff_id):
        service.pull(f"{registry.host}/test/lying", store)
    assert offered == [] and store.applied == [] and os.listdir(store.directory) == []


def test_broken_download_resumes_with_range(service, store, registry):
    service.push(f"{registry.host}/test/resume", small_image())
    proxy = FaultyProxy(registry.host).start()
    try:
        proxy.cuts_left, proxy.cut_after = 1, 50_000
        puller_options = {"retry_delay": 0.01, "max_concurrent_downloads": 1}
        result = service.pull(f"{proxy.host}/test/resume", store, **puller_options)
    finally:
        proxy.stop()
    assert len(store.applied) == 2
    ranges = [r for method, path, r in proxy.requests if r]
    assert ranges == ["bytes=50000-"]
    assert result.layers[1].size > 50_000


def test_registry_stopping_mid_pull_fails_then_next_pull_completes(service, store, make_registry,
                                                                   tmp_path):
    registry = make_registry()
    payload = os.urandom(24 << 20)
    service.push(f"{registry.host}/test/big", image_of([bytes_layer(layer_tar({"big": payload}))]))

    def kill_on_first_download(message):
        if message.get("status") == "Downloading" and registry.process.poll() is None:
            registry.process.send_signal(signal.SIGKILL)
            registry.process.wait()

    with pytest.raises(RegistryUnavailable):
        service.pull(f"{registry.host}/test/big", store, progress=kill_on_first_download,
                     retries=2, retry_delay=0.01)
    assert store.applied == [] and store.leftovers() == []
    assert not any(name.startswith("pydocker-pull-") for name in os.listdir(tmp_path))

    make_registry(port=registry.port)  # same storage directory, same port
    service.pull(f"{registry.host}/test/big", store)
    assert len(store.applied) == 1


def test_mirror_serves_docker_hub_names_with_fallback(tmp_path, store, make_registry):
    mirror = make_registry(name="mirror")
    plain = RegistryService(certs_dir=str(tmp_path))
    plain.push(f"{mirror.host}/library/busybox:latest", small_image())
    dead = make_registry(name="dead")
    dead.stop()
    service = RegistryService(mirrors=[f"http://{dead.host}", f"http://{mirror.host}"],
                              certs_dir=str(tmp_path))
    messages = []
    result = service.pull("busybox", store, progress=messages.append)
    assert result.reference == parse_reference("docker.io/library/busybox:latest")
    assert messages[0] == {"status": "Pulling from library/busybox", "id": "latest"}
    assert messages[-1]["status"] == "Status: Downloaded newer image for busybox:latest"


def test_plain_http_fallback_is_only_for_insecure_registries(tmp_path, registry):
    from pydocker.registry import RegistryConfig
    strict = RegistryConfig(certs_dir=str(tmp_path), default_insecure_cidrs=())
    assert [e.base_url for e in strict.endpoints(registry.host)] == [f"https://{registry.host}"]
    loose = RegistryConfig(certs_dir=str(tmp_path))
    assert [e.base_url for e in loose.endpoints(registry.host)] == [
        f"https://{registry.host}", f"http://{registry.host}"]
    listed = RegistryConfig(["myhost:5000", "10.0.0.0/8"], certs_dir=str(tmp_path),
                            default_insecure_cidrs=())
    assert listed.is_insecure("myhost:5000") and listed.is_insecure("10.1.2.3:443")
    assert not listed.is_insecure("11.1.2.3:443")
    with pytest.raises(RegistryUnavailable):
        RegistryClient(strict.endpoints(registry.host)[0]).ping()
    assert RegistryClient(Endpoint(f"http://{registry.host}")).ping() == "registry/2.0"


def test_same_blob_twice_in_one_image(service, store, registry):
    """Two identical layers (same blob) download side by side and apply in order."""
    data = layer_tar({"same": b"twice"})
    image = image_of([bytes_layer(data), bytes_layer(layer_tar({"x": b"y"})), bytes_layer(data)])
    service.push(f"{registry.host}/test/twice", image)
    result = service.pull(f"{registry.host}/test/twice", store, max_concurrent_downloads=3)
    assert [layer.diff_id for layer in store.applied] == [sha256(data), image.layers[1].diff_id,
                                                          sha256(data)]
    assert result.layers[0].chain_id != result.layers[2].chain_id


def test_failed_upload_is_retried_in_a_new_session(service, store, registry):
    proxy = FaultyProxy(registry.host).start()
    try:
        proxy.failing_uploads = 1
        messages = []
        pushed = service.push(f"{proxy.host}/test/retry", small_image(), progress=messages.append,
                              max_concurrent_uploads=1, retry_delay=0.01)
    finally:
        proxy.stop()
    assert "Retrying in 1 second" in statuses(messages)
    assert service.pull(f"{registry.host}/test/retry", store).digest == pushed.digest
