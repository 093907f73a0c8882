"""Layer extraction keeps everything a layer carries, and fails cleanly on bad input."""

import gzip
import io
import os
import stat
import subprocess

import pytest

from pydocker.archive import apply_layer
from pydocker.errdefs import InvalidParameter
from pydocker.testing.graphtest import LayerTar, base_layer_tar

CAPABILITY = b"\x01\x00\x00\x02\x00\x20\x00\x00" + b"\x00" * 12  # cap_net_raw, permitted


def test_owners_modes_and_times(root):
    layer = (LayerTar(mtime=1_500_000_000)
             .dir("srv", mode=0o750, uid=33, gid=34)
             .file("srv/setuid", b"x", mode=0o4711, uid=0, gid=0)
             .file("srv/owned", b"y", mode=0o600, uid=1234, gid=5678)
             .symlink("srv/link", "owned", uid=7, gid=8))
    apply_layer(root, layer.stream())
    srv = os.lstat(root / "srv")
    assert (stat.S_IMODE(srv.st_mode), srv.st_uid, srv.st_gid) == (0o750, 33, 34)
    assert stat.S_IMODE(os.lstat(root / "srv/setuid").st_mode) == 0o4711
    owned = os.lstat(root / "srv/owned")
    assert (owned.st_uid, owned.st_gid, stat.S_IMODE(owned.st_mode)) == (1234, 5678, 0o600)
    link = os.lstat(root / "srv/link")
    assert (link.st_uid, link.st_gid) == (7, 8)
    # directory times are set after the children were written into them
    assert srv.st_mtime == 1_500_000_000
    assert owned.st_mtime == 1_500_000_000 and link.st_mtime == 1_500_000_000


def test_xattrs(root):
    layer = (LayerTar().file("ping", b"p", xattrs={"security.capability": CAPABILITY, "user.a": b"\xff\x00bin"})
             .symlink("link", "ping", xattrs={"trusted.note": b"on-the-link"})
             .dir("d", xattrs={"trusted.overlay.opaque": b"y", "user.b": b"1"}))
    apply_layer(root, layer.stream())
    assert os.getxattr(root / "ping", "security.capability") == CAPABILITY
    assert os.getxattr(root / "ping", "user.a") == b"\xff\x00bin"
    assert os.getxattr(root / "link", "trusted.note", follow_symlinks=False) == b"on-the-link"
    assert os.getxattr(root / "d", "user.b") == b"1"
    # a layer may not forge overlay's own metadata
    assert "trusted.overlay.opaque" not in os.listxattr(root / "d")


def test_device_nodes_fifos_and_hard_links(root):
    layer = (LayerTar().dir("dev").chardev("dev/null", 1, 3, mode=0o666).fifo("dev/fifo", mode=0o620)
             .blockdev("dev/loop0", 7, 0, mode=0o660)
             .file("a", b"shared").hardlink("b", "a").hardlink("dev/c", "/a"))
    apply_layer(root, layer.stream())
    null = os.lstat(root / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3) and stat.S_IMODE(null.st_mode) == 0o666
    loop = os.lstat(root / "dev/loop0")
    assert stat.S_ISBLK(loop.st_mode) and loop.st_rdev == os.makedev(7, 0)
    assert stat.S_ISFIFO(os.lstat(root / "dev/fifo").st_mode)
    a = os.lstat(root / "a")
    assert a.st_nlink == 3 and a.st_ino == os.lstat(root / "b").st_ino == os.lstat(root / "dev/c").st_ino


@pytest.mark.parametrize("tar_format", ["gnu", "posix"])
def test_sparse_files(root, tmp_path, tar_format):
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse", "wb") as f:
        f.write(b"head")
        f.seek(64 << 20)
        f.write(b"tail")
    layer = tmp_path / "sparse.tar"
    subprocess.run(["tar", f"--format={tar_format}", "-S", "-C", src, "-cf", layer, "sparse"], check=True)
    assert os.path.getsize(layer) < 1 << 20
    with open(layer, "rb") as f:
        apply_layer(root, f)
    out = root / "sparse"
    assert out.stat().st_size == (64 << 20) + 4
    assert out.stat().st_blocks * 512 < 1 << 20  # the hole stayed a hole
    with open(out, "rb") as f:
        assert f.read(4) == b"head"
        f.seek(64 << 20)
        assert f.read() == b"tail"


def test_replaces_existing_entries_without_following_them(root, tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("keep")
    (root / "etc").mkdir()
    os.symlink(outside, root / "etc/conf")
    apply_layer(root, LayerTar().dir("etc").file("etc/conf", b"new").stream())
    assert (root / "etc/conf").read_bytes() == b"new" and not (root / "etc/conf").is_symlink()
    assert outside.read_text() == "keep"
    apply_layer(root, LayerTar().file("etc", b"now a file").stream())  # a file replaces a whole directory
    assert (root / "etc").read_bytes() == b"now a file"


def test_naive_whiteouts_delete(root):
    apply_layer(root, base_layer_tar().stream())
    layer = LayerTar().whiteout("doomed").whiteout("keep/x").dir("opaque").opaque("opaque").file("opaque/new", b"n")
    apply_layer(root, layer.stream())
    assert not (root / "doomed").exists() and not (root / "keep/x").exists() and (root / "keep/y").exists()
    assert sorted(os.listdir(root / "opaque")) == ["new"]


def test_overlay_whiteouts_are_converted(root):
    layer = LayerTar().whiteout("gone").dir("dir").opaque("dir").file("dir/kept", b"k")
    apply_layer(root, layer.stream(), "overlay")
    gone = os.lstat(root / "gone")
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert os.getxattr(root / "dir", "trusted.overlay.opaque") == b"y"
    assert (root / "dir/kept").read_bytes() == b"k"
    assert not any(name.startswith(".wh.") for _, dirs, files in os.walk(root) for name in dirs + files)


def test_gzip_layers_are_detected(root):
    data = gzip.compress(base_layer_tar().bytes())
    assert apply_layer(root, io.BytesIO(data)) > 5000
    assert (root / "etc/passwd").exists()


def test_piped_layers(root):
    data = base_layer_tar().bytes()
    reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader.stdin.write(data)
    reader.stdin.close()
    apply_layer(root, reader.stdout)
    reader.wait()
    assert (root / "bin/tool").stat().st_size == 5004


def test_empty_layer(root):
    assert apply_layer(root, io.BytesIO(b"\0" * 1024)) == 0
    assert apply_layer(root, io.BytesIO(b"")) == 0
    assert os.listdir(root) == []


@pytest.mark.parametrize("cut", [100, 700, 2500, 3684, 4200])  # headers at 0 and 3584
def test_truncated_layer_is_an_error(root, cut):
    data = LayerTar().file("a", b"1" * 3000).file("b", b"2" * 600).bytes()
    with pytest.raises(InvalidParameter, match="truncated"):
        apply_layer(root, io.BytesIO(data[:cut]))


def test_truncated_gzip_layer_is_an_error(root):
    data = gzip.compress(LayerTar().file("a", os.urandom(50000)).bytes())
    with pytest.raises(InvalidParameter, match="truncated"):
        apply_layer(root, io.BytesIO(data[: len(data) // 2]))


def test_corrupt_header_is_an_error(root):
    data = bytearray(LayerTar().file("a", b"1").file("b", b"2").bytes())
    data[1024 + 10] ^= 0x55  # inside the second member's header
    with pytest.raises(InvalidParameter, match="corrupt"):
        apply_layer(root, io.BytesIO(bytes(data)))
    with pytest.raises(InvalidParameter, match="corrupt"):
        apply_layer(root, io.BytesIO(b"this is not a tar archive at all" * 40))


def test_unknown_whiteout_format(root):
    with pytest.raises(InvalidParameter, match="whiteout format"):
        apply_layer(root, io.BytesIO(b""), "aufs")


def test_truncated_layer_file_is_an_error(root, tmp_path):
    data = LayerTar().file("a", b"1" * 3000).file("b", b"2" * 600).bytes()
    path = tmp_path / "cut.tar"
    path.write_bytes(data[:2500])  # a regular file: data is copied in the kernel, by offset
    with open(path, "rb") as f, pytest.raises(InvalidParameter, match="truncated"):
        apply_layer(root, f)


def test_many_directories_and_links_across_them(root):
    """More directories than the fd cache holds, with hard links reaching back to the first ones."""
    layer = LayerTar()
    for i in range(150):
        layer.dir(f"d{i}").file(f"d{i}/f", str(i).encode())
    for i in range(150):
        layer.hardlink(f"d{149 - i}/link", f"d{i}/f")
    apply_layer(root, layer.stream())
    for i in range(150):
        assert (root / f"d{149 - i}/link").read_bytes() == str(i).encode()
        assert os.lstat(root / f"d{i}/f").st_nlink == 2


@pytest.mark.parametrize("compress", [False, True])
def test_layer_files_read_in_place(root, tmp_path, compress):
    """Regular files (buffered or raw, plain or gzip), starting wherever the caller's position is."""
    data = base_layer_tar().bytes()
    path = tmp_path / "layer"
    path.write_bytes(b"JUNK" + (gzip.compress(data) if compress else data))
    with open(path, "rb", buffering=0) as f:
        f.seek(4)
        assert apply_layer(root, f) > 5000
    assert (root / "bin/tool").stat().st_size == 5004
