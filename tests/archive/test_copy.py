"""``docker cp`` helpers on a real directory tree: stat documents, archives out, extraction in,
and that neither a user's path nor a container's symlinks reach outside the root."""

import io
import os
import stat
import tarfile

import pytest

from pydocker.archive import path_stat, read_path, write_path
from pydocker.archive.copy import go_file_mode
from pydocker.errdefs import InvalidParameter, NotFound


def tar_bytes(*entries):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.uid = info.gid = 1234
            if kind == tarfile.SYMTYPE:
                info.linkname = payload
                tar.addfile(info)
            elif kind == tarfile.DIRTYPE:
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return io.BytesIO(out.getvalue())


@pytest.fixture
def container(root):
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0\n")
    (root / "srv" / "dir").mkdir(parents=True)
    (root / "srv" / "dir" / "f").write_text("inner\n")
    os.symlink("/srv/dir", root / "srv" / "link")
    os.symlink("/", root / "hostroot")
    return root


def test_go_file_mode_bits():
    assert go_file_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert go_file_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert go_file_mode(stat.S_IFCHR | 0o600) == (1 << 26) | (1 << 21) | 0o600


def test_path_stat_documents(container):
    doc = path_stat(str(container), "/etc/passwd")
    assert doc["name"] == "passwd" and doc["size"] == 11 and doc["mode"] == 0o644 and doc["linkTarget"] == ""
    assert doc["mtime"].endswith("Z")
    link = path_stat(str(container), "/srv/link")
    assert link["mode"] & (1 << 27) and link["linkTarget"] == "/srv/dir"
    assert path_stat(str(container), "/")["mode"] & (1 << 31)
    with pytest.raises(NotFound):
        path_stat(str(container), "/no/such")


def test_symlinks_resolve_inside_the_root(container, host):
    """/hostroot -> / means the container's /, never the host's."""
    with pytest.raises(NotFound):
        path_stat(str(container), f"/hostroot{host}/passwd")  # exists on the host only
    with pytest.raises(NotFound):
        path_stat(str(container), f"/../../../..{host}/passwd")
    assert path_stat(str(container), "/hostroot/etc/passwd")["size"] == 11


def read_all(document_and_stream):
    document, stream = document_and_stream
    with stream:
        data = stream.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return document, {m.name: (tar.extractfile(m).read() if m.isreg() else m.linkname) for m in tar}


def test_read_path_names_entries_after_the_path(container):
    document, entries = read_all(read_path(str(container), "/srv/dir"))
    assert document["name"] == "dir" and entries == {"dir": "", "dir/f": b"inner\n"}
    _, entries = read_all(read_path(str(container), "/etc/passwd"))
    assert entries == {"passwd": b"root:x:0:0\n"}
    _, entries = read_all(read_path(str(container), "/srv/link"))
    assert entries == {"link": "/srv/dir"}  # the link itself, not what it points to
    _, entries = read_all(read_path(str(container), "/srv/dir/."))
    assert entries["./f"] == b"inner\n"


def test_write_path_extracts_inside_and_owns_as_root(container):
    write_path(str(container), "/srv", tar_bytes(("new", tarfile.REGTYPE, b"hello")))
    assert (container / "srv" / "new").read_bytes() == b"hello"
    assert os.stat(container / "srv" / "new").st_uid == 0
    write_path(str(container), "/srv/link", tar_bytes(("kept", tarfile.REGTYPE, b"k")), keep_owners=True)
    assert os.stat(container / "srv" / "dir" / "kept").st_uid == 1234
    write_path(str(container), "/srv", tar_bytes((".wh.dir", tarfile.REGTYPE, b"")))
    assert (container / "srv" / "dir").is_dir(), "cp is not a layer: .wh. names are plain files"


def test_write_path_keeps_kinds_when_asked(container):
    with pytest.raises(InvalidParameter, match="cannot overwrite directory"):
        write_path(str(container), "/srv", tar_bytes(("dir", tarfile.REGTYPE, b"x")), keep_kinds=True)
    with pytest.raises(InvalidParameter, match="cannot overwrite non-directory"):
        write_path(str(container), "/etc", tar_bytes(("passwd", tarfile.DIRTYPE, b"")), keep_kinds=True)
    assert (container / "srv" / "dir" / "f").read_text() == "inner\n"
    write_path(str(container), "/srv", tar_bytes(("dir", tarfile.REGTYPE, b"x")))
    assert (container / "srv" / "dir").read_bytes() == b"x"


def test_write_path_never_leaves_the_root(container, host):
    with pytest.raises(InvalidParameter):
        write_path(str(container), "/srv", tar_bytes(("../../../../" + str(host / "passwd"), tarfile.REGTYPE, b"x")))
    with pytest.raises(NotFound):
        write_path(str(container), f"/hostroot{host}", tar_bytes(("passwd", tarfile.REGTYPE, b"x")))
    with pytest.raises(InvalidParameter):
        write_path(str(container), "/srv", tar_bytes(("esc", tarfile.SYMTYPE, str(host)),
                                                     ("esc/passwd", tarfile.REGTYPE, b"x")))
    with pytest.raises(InvalidParameter):
        write_path(str(container), "/etc/passwd", tar_bytes(("x", tarfile.REGTYPE, b"x")))
    assert (host / "passwd").read_text() == "original\n"
