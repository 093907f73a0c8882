"""Layer tars written from directories and change lists, and change detection."""

import io
import os
import stat
import subprocess
import tarfile

import pytest

from pydocker.archive import Change, ChangeKind, apply_layer, changes, changes_size, diff_tar, tar_directory
from pydocker.testing.graphtest import base_layer_tar, tree_snapshot


def names(stream):
    with stream:
        data = stream.read()
    return [m.name for m in tarfile.open(fileobj=io.BytesIO(data))]


def test_tar_directory_round_trip(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    apply_layer(first, base_layer_tar().stream())
    with tar_directory(str(first)) as stream:
        apply_layer(second, stream)
    assert tree_snapshot(second) == tree_snapshot(first)
    assert os.lstat(second / "bin/tool").st_ino == os.lstat(second / "bin/tool2").st_ino


def test_overlay_whiteouts_become_tar_whiteouts(tmp_path):
    upper = tmp_path / "upper"
    (upper / "dir").mkdir(parents=True)
    os.mknod(upper / "gone", stat.S_IFCHR, os.makedev(0, 0))
    os.setxattr(upper / "dir", "trusted.overlay.opaque", b"y")
    (upper / "dir/new").write_text("n")
    listed = names(tar_directory(str(upper), "overlay"))
    assert sorted(listed) == [".wh.gone", "dir", "dir/.wh..wh..opq", "dir/new"]
    # and applied naively on a full copy, they delete
    target = tmp_path / "target"
    (target / "dir").mkdir(parents=True)
    (target / "gone").write_text("x")
    (target / "dir/old").write_text("o")
    apply_layer(target, tar_directory(str(upper), "overlay"))
    assert not (target / "gone").exists() and os.listdir(target / "dir") == ["new"]


def test_naive_changes_and_their_diff(tmp_path):
    parent, child = tmp_path / "parent", tmp_path / "child"
    parent.mkdir()
    apply_layer(parent, base_layer_tar().stream())
    subprocess.run(["cp", "-a", f"{parent}/.", str(child)], check=True)
    (child / "etc/passwd").write_text("changed\n")
    (child / "etc/new").write_text("new")
    (child / "doomed/a").unlink()
    subprocess.run(["rm", "-r", str(child / "keep")], check=True)
    os.chmod(child / "data", 0o700)
    found = changes(str(child), str(parent))
    assert found == sorted(found, key=lambda c: c.path)
    kinds = {c.path: c.kind for c in found}
    assert kinds == {"/etc": ChangeKind.MODIFY, "/etc/passwd": ChangeKind.MODIFY, "/etc/new": ChangeKind.ADD,
                     "/doomed": ChangeKind.MODIFY, "/doomed/a": ChangeKind.DELETE, "/keep": ChangeKind.DELETE,
                     "/data": ChangeKind.MODIFY}
    assert Change("/etc/new", ChangeKind.ADD).to_api() == {"Path": "/etc/new", "Kind": 1}
    assert changes_size(found, str(child)) == len("changed\n") + len("new")
    assert sorted(names(diff_tar(found, str(child)))) == [
        ".wh.keep", "data", "doomed", "doomed/.wh.a", "etc", "etc/new", "etc/passwd"]
    replay = tmp_path / "replay"
    subprocess.run(["cp", "-a", f"{parent}/.", str(replay)], check=True)
    apply_layer(replay, diff_tar(found, str(child)))
    assert {k: v[:6] for k, v in tree_snapshot(replay).items()} == {k: v[:6] for k, v in tree_snapshot(child).items()}


def test_overlay_changes(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc/passwd").write_text("old")
    (lower / "opq").mkdir()
    (lower / "opq/hidden").write_text("h")
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/passwd").write_text("new")
    (upper / "etc/added").write_text("a")
    (upper / "opq").mkdir()
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    (upper / "opq/fresh").write_text("f")
    os.mknod(upper / "etc/removed", stat.S_IFCHR, os.makedev(0, 0))
    kinds = {c.path: c.kind for c in changes(str(upper), [str(lower)], "overlay")}
    assert kinds == {"/etc": ChangeKind.MODIFY, "/etc/passwd": ChangeKind.MODIFY, "/etc/added": ChangeKind.ADD,
                     "/etc/removed": ChangeKind.DELETE, "/opq": ChangeKind.MODIFY, "/opq/hidden": ChangeKind.DELETE,
                     "/opq/fresh": ChangeKind.ADD}


def test_writer_errors_reach_the_reader(tmp_path):
    stream = tar_directory(str(tmp_path / "missing"), include_root=True)
    with pytest.raises(FileNotFoundError):
        stream.read()
    stream.close()


def test_closing_a_stream_early_stops_the_writer(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(20):
        (big / f"f{i}").write_bytes(os.urandom(1 << 20))
    stream = tar_directory(str(big))
    assert len(stream.read(1000)) == 1000
    stream.close()  # must return: the writer sees the closed pipe and stops
    assert not stream._thread.is_alive()
