"""Tar-split records: a layer tar rebuilt from its record and the extracted files must be
the original bytes, for every tar dialect a layer may arrive in; records are kept per diff ID
and removable."""

import hashlib
import io
import os
import tarfile

import pytest

from pydocker.errdefs import NotFound, SystemError_
from pydocker.images.tarsplit import ChunkReader, LayerSplits

LONG = "deep/" * 30 + "long-file-name-" + "x" * 60


def make_tar(fmt, members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(data, str):
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
            else:
                info.size = len(data)
                info.pax_headers = {"user.note": "é"} if fmt == tarfile.PAX_FORMAT else {}
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def record(data, splits, read_size=777):
    """Stream ``data`` through a recorder in odd-sized reads, as a consumer would."""
    recorder = splits.recorder(io.BytesIO(data))
    while recorder.read(read_size):
        pass
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    recorder.commit(diff_id)
    return diff_id


def extract(data, root):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(root, filter="tar")


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_rebuilt_tar_is_byte_identical(tmp_path, fmt):
    long_name = LONG if fmt != tarfile.USTAR_FORMAT else LONG[-95:]
    data = make_tar(fmt, [("etc", None), ("etc/a", b"a" * 511), ("etc/b", b"b" * 513),
                          ("empty", b""), (long_name, os.urandom(70_000)), ("etc/link", "etc/a")])
    splits = LayerSplits(str(tmp_path / "splits"))
    diff_id = record(data, splits)
    extract(data, tmp_path / "root")
    rebuilt = b"".join(splits.assemble(diff_id, str(tmp_path / "root")))
    assert rebuilt == data
    # The record holds headers, not file contents.
    assert os.path.getsize(splits.path(diff_id)) < 4096


def test_trailing_bytes_after_the_archive_are_kept(tmp_path):
    data = make_tar(tarfile.PAX_FORMAT, [("f", b"data")]) + b"\0" * 4096
    splits = LayerSplits(str(tmp_path / "splits"))
    diff_id = record(data, splits, read_size=100_000)
    extract(data, tmp_path / "root")
    assert b"".join(splits.assemble(diff_id, str(tmp_path / "root"))) == data


def test_changed_or_missing_files_and_records_are_errors(tmp_path):
    data = make_tar(tarfile.PAX_FORMAT, [("f", b"0123456789")])
    splits = LayerSplits(str(tmp_path / "splits"))
    diff_id = record(data, splits)
    root = tmp_path / "root"
    root.mkdir()
    (root / "f").write_bytes(b"short")
    with pytest.raises(SystemError_, match="shorter"):
        b"".join(splits.assemble(diff_id, str(root)))
    (root / "f").unlink()
    with pytest.raises(SystemError_, match="cannot read f"):
        b"".join(splits.assemble(diff_id, str(root)))
    with pytest.raises(NotFound):
        b"".join(splits.assemble("sha256:" + "0" * 64, str(root)))
    splits.remove(diff_id)
    assert not splits.has(diff_id) and os.listdir(splits.directory) == []
    splits.remove(diff_id)  # already gone: not an error


def test_discarded_recording_leaves_nothing(tmp_path):
    recorder = LayerSplits(str(tmp_path / "splits")).recorder(
        io.BytesIO(make_tar(tarfile.PAX_FORMAT, [("f", b"x")])))
    recorder.read(100)
    recorder.discard()
    assert os.listdir(tmp_path / "splits") == []


def test_chunk_reader_reads_sizes_and_closes_once(tmp_path):
    closed = []
    reader = ChunkReader([b"abc", b"", b"defg"], lambda: closed.append(1))
    assert reader.read(2) == b"ab" and reader.read(4) == b"cdef" and reader.read() == b"g"
    assert reader.read(5) == b""
    reader.close()
    reader.close()
    assert closed == [1]


def test_bytes_that_are_no_tar_are_kept_verbatim(tmp_path):
    data = b"not a tar header at all " * 100
    splits = LayerSplits(str(tmp_path / "splits"))
    diff_id = record(data, splits)
    assert b"".join(splits.assemble(diff_id, str(tmp_path))) == data
