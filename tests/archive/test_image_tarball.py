"""pydocker.images.tarball on its own: writing both layouts and reading them back, and refusing
inconsistent or hostile tarballs before anything would be stored."""

import hashlib
import io
import json
import tarfile
import tempfile

import pytest

from pydocker.errdefs import InvalidParameter
from pydocker.images import tarball


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer(content):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("file")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def image(layers, refs, cmd):
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": cmd},
                         "rootfs": {"type": "layers", "diff_ids": [digest(d) for d in layers]}}).encode()
    opened = []

    def opener(data):
        def open_layer():
            opened.append(digest(data))
            return len(data), io.BytesIO(data)
        return open_layer
    return tarball.SavedImage(config, [tarball.SavedLayer(digest(d), opener(d)) for d in layers], refs), opened


def written(images):
    out = tempfile.TemporaryFile()
    tarball.write_tarball(images, out)
    out.seek(0)
    return out


def test_write_then_read_both_layouts():
    base, top = layer(b"base"), layer(b"top")
    first, opened_first = image([base], ["docker.io/library/one:1"], ["a"])
    second, opened_second = image([base, top], ["docker.io/library/two:2", "example.com/x/two:latest"], ["b"])
    f = written([first, second])
    bundle = tarball.Bundle(f)
    assert opened_first + opened_second == [digest(base), digest(top)], "a shared layer is written once"
    loaded = tarball.read_images(bundle)
    assert [(i.id, i.refs) for i in loaded] == [(first.id, ["one:1"]), (second.id, ["two:2", "example.com/x/two:latest"])]
    assert bundle.read(loaded[1].layers[1].path) == top
    index = bundle.read_json("index.json")
    assert [m["annotations"]["io.containerd.image.name"] for m in index["manifests"]] == [
        "docker.io/library/one:1", "docker.io/library/two:2", "example.com/x/two:latest"]
    assert bundle.read_json("repositories") == {"one": {"1": digest(base)[7:]}, "two": {"2": digest(top)[7:]},
                                                 "example.com/x/two": {"latest": digest(top)[7:]}}


def test_oci_index_alone_is_read():
    base = layer(b"base")
    one, _ = image([base], ["docker.io/library/one:1"], ["a"])
    source = tarball.Bundle(written([one]))
    out = tempfile.TemporaryFile()
    with tarfile.open(fileobj=out, mode="w") as tar:  # the same tarball without manifest.json
        source_file = written([one])
        with tarfile.open(fileobj=source_file) as original:
            for member in original:
                if member.name != "manifest.json":
                    tar.addfile(member, original.extractfile(member) if member.isreg() else None)
    out.seek(0)
    loaded = tarball.read_images(tarball.Bundle(out))
    assert [(i.id, i.refs) for i in loaded] == [(one.id, ["docker.io/library/one:1"])]
    assert source.read(loaded[0].layers[0].path) == base


def bundle_of(files):
    out = tempfile.TemporaryFile()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.seek(0)
    return tarball.Bundle(out)


@pytest.mark.parametrize("files, message", [
    ({"manifest.json": b"{}"}, "is not a list"),
    ({"manifest.json": b"[{]"}, "not valid JSON"),
    ({"manifest.json": json.dumps([{"Config": "../../etc/passwd", "Layers": []}]).encode()}, "has no file"),
    ({"manifest.json": json.dumps([{"Config": "c", "Layers": ["../l"]}]).encode(),
      "c": json.dumps({"rootfs": {"diff_ids": [digest(b"")]}}).encode()}, "has no layer file"),
    ({"manifest.json": json.dumps([{"Config": "c", "Layers": []}]).encode(),
      "c": json.dumps({"rootfs": {"diff_ids": [digest(b"")]}}).encode()}, "lists 0 layers"),
    ({"manifest.json": json.dumps([{"Config": "c", "Layers": [], "RepoTags": ["Bad:Name"]}]).encode(),
      "c": json.dumps({"rootfs": {"diff_ids": []}}).encode()}, "invalid reference"),
    ({"repositories": b"{}"}, "pre-1.10"),
    ({"other": b""}, "neither manifest.json nor index.json"),
    ({"index.json": json.dumps({"manifests": [{"mediaType": tarball.MEDIA_MANIFEST, "digest": "md5:x"}]}).encode()},
     "malformed digest"),
])
def test_inconsistent_tarballs_are_refused(files, message):
    with pytest.raises(InvalidParameter, match=message):
        tarball.read_images(bundle_of(files))


def test_not_a_tarball():
    f = tempfile.TemporaryFile()
    f.write(b"\x01" * 4096)
    f.seek(0)
    with pytest.raises(InvalidParameter, match="not a valid tar archive"):
        tarball.Bundle(f)


def test_a_deduplicated_save_reads_through_its_links():
    """docker save writes a layer shared by two images once; the other image's layer.tar is a
    symlink (relative, ../<id>/layer.tar) to it. A link leaving the tarball reads as missing."""
    shared = layer(b"shared")
    configs = [json.dumps({"config": {"Cmd": [c]}, "rootfs": {"type": "layers", "diff_ids": [digest(shared)]}}).encode()
               for c in ("a", "b")]
    manifest = [{"Config": "a.json", "RepoTags": ["one:1"], "Layers": ["aaa/layer.tar"]},
                {"Config": "b.json", "RepoTags": ["two:1"], "Layers": ["bbb/layer.tar"]},
                {"Config": "b.json", "RepoTags": ["three:1"], "Layers": ["ccc/layer.tar"]}]
    out = tempfile.TemporaryFile()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("a.json", configs[0]),
                           ("b.json", configs[1]), ("aaa/layer.tar", shared)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target, kind in (("bbb/layer.tar", "../aaa/layer.tar", tarfile.SYMTYPE),
                                   ("ccc/layer.tar", "bbb/layer.tar", tarfile.LNKTYPE),
                                   ("ddd/layer.tar", "../../../etc/passwd", tarfile.SYMTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
    out.seek(0)
    bundle = tarball.Bundle(out)
    loaded = tarball.read_images(bundle)
    assert [bundle.read(i.layers[0].path) for i in loaded] == [shared] * 3
    assert "ddd/layer.tar" not in bundle
