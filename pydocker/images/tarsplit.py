"""Reproducing a layer tar byte for byte, so a pushed or saved layer still hashes to its diff ID.

A graph driver can give back a layer's files, but a tar written from them again differs
from the tar the layer came from (member order, headers, padding), and the image config
names the layer by the sha256 of the *original* tar. Docker keeps "tar-split" data for this;
so do we, in our own format: while a layer tar streams into the store, ``SplitRecorder``
writes everything except regular files' contents (headers, PAX records, padding, the end
blocks) to a gzip'd JSON-lines file, and for each file's contents only its path and size.
``LayerSplits.assemble`` later interleaves those records with the files read from the
stored layer.

Records: ``{"raw": "<base64>"}`` or ``{"file": "<path in the layer>", "size": N}``.
"""

import base64
import gzip
import json
import os
import tempfile

from pydocker.errdefs import NotFound, SystemError_

BLOCK = 512
_FILE_TYPES = (b"0", b"\0", b"7")
_COPY = 1 << 16
_STAGING_PREFIX = "staging-"


class LayerSplits:
    """The split records of the stored layers, one file per diff ID under ``directory``
    (the same content is the same tar, so layers sharing a diff ID share a record)."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)

    def path(self, diff_id):
        return os.path.join(self.directory, diff_id.replace(":", "-") + ".json.gz")

    def recorder(self, stream):
        """A reader over ``stream`` (an uncompressed layer tar) recording its split."""
        return SplitRecorder(stream, self)

    def has(self, diff_id):
        return os.path.exists(self.path(diff_id))

    def remove(self, diff_id):
        try:
            os.unlink(self.path(diff_id))
        except FileNotFoundError:
            pass

    def assemble(self, diff_id, root):
        """Yield the original tar's bytes: the records of ``diff_id`` with file contents read
        from the layer's root filesystem ``root``. Raises NotFound without a record and
        SystemError_ when a file is missing or has changed size."""
        try:
            records = gzip.open(self.path(diff_id), "rb")
        except FileNotFoundError:
            raise NotFound(f"no tar-split record for layer {diff_id}") from None
        with records:
            for line in records:
                entry = json.loads(line)
                if "raw" in entry:
                    yield base64.b64decode(entry["raw"])
                else:
                    yield from _file_contents(root, entry["file"], entry["size"], diff_id)


def _octal_or_binary(field):
    if field[:1] and field[0] & 0x80:  # GNU base-256 for sizes of 8 GiB and more
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    text = field.split(b"\0", 1)[0].strip(b" \0")
    return int(text, 8) if text else 0


def _pax_records(data):
    """The key/value records of a PAX extended header (``"<len> key=value\\n"`` each)."""
    records, pos = {}, 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        length = int(data[pos:space])
        key, _, value = data[space + 1:pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class _Splitter:
    """A push parser over the tar's bytes, writing the records as it goes."""

    def __init__(self, out):
        self._out = out
        self._buffer = bytearray()
        self._raw = bytearray()
        self._pending = 0         # bytes left in the current member's data (with padding)
        self._skipping = False    # the data is a regular file's contents: not recorded
        self._padding = 0         # the padding after those contents (recorded raw)
        self._meta = bytearray()  # a PAX header's or GNU long name's data being collected
        self._meta_kind = None
        self._meta_size = 0
        self._next_name = None
        self._next_size = None
        self._ended = False

    def feed(self, data):
        self._buffer += data
        while self._buffer:
            if self._ended:
                self._raw += self._buffer
                self._buffer.clear()
            elif self._pending:
                self._take_data()
            elif len(self._buffer) >= BLOCK:
                block = bytes(self._buffer[:BLOCK])
                del self._buffer[:BLOCK]
                self._header(block)
            else:
                break
        if len(self._raw) >= _COPY:
            self._flush_raw()

    def _take_data(self):
        n = min(self._pending, len(self._buffer))
        chunk = bytes(self._buffer[:n])
        del self._buffer[:n]
        self._pending -= n
        if self._skipping:
            if not self._pending:
                self._skipping, self._pending = False, self._padding
            return
        self._raw += chunk
        if self._meta_kind:
            self._meta += chunk
            if not self._pending:
                self._finish_meta()

    def _header(self, block):
        self._raw += block
        if block == bytes(BLOCK):
            self._ended = True
            return
        kind = block[156:157]
        try:
            size = _octal_or_binary(block[124:136])
        except ValueError:
            # Not a tar header: keep the rest verbatim and let the graph driver judge the tar.
            self._ended = True
            return
        extension = kind in (b"x", b"g", b"L", b"K")
        if not extension and self._next_size is not None:
            size = self._next_size
        padded = -(-size // BLOCK) * BLOCK
        if kind in _FILE_TYPES and size:
            name = self._next_name or self._ustar_name(block)
            self._flush_raw()
            self._record({"file": name.lstrip("/").removeprefix("./"), "size": size})
            self._pending, self._skipping, self._padding = size, True, padded - size
        else:
            self._pending = padded
        if kind in (b"x", b"L"):
            self._meta_kind, self._meta_size = kind, size
            self._meta.clear()
            if not size:
                self._finish_meta()
        elif not extension:
            self._next_name = self._next_size = None

    @staticmethod
    def _ustar_name(block):
        name = block[0:100].split(b"\0", 1)[0]
        if block[257:262] == b"ustar":
            prefix = block[345:500].split(b"\0", 1)[0]
            if prefix:
                name = prefix + b"/" + name
        return name.decode("utf-8", "surrogateescape")

    def _finish_meta(self):
        data = bytes(self._meta[:self._meta_size])
        if self._meta_kind == b"x":
            records = _pax_records(data)
            if "path" in records:
                self._next_name = records["path"]
            if "size" in records:
                self._next_size = int(records["size"])
        else:  # GNU long name: NUL-terminated
            self._next_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        self._meta_kind = None

    def _flush_raw(self):
        if self._raw:
            self._record({"raw": base64.b64encode(bytes(self._raw)).decode()})
            self._raw.clear()

    def _record(self, entry):
        self._out.write(json.dumps(entry, separators=(",", ":")).encode() + b"\n")

    def close(self):
        self._raw += self._buffer
        self._buffer.clear()
        self._flush_raw()


def remove_staging(directory):
    """Remove the staging files a killed process left in ``directory``; returns how many
    (call only when no recorder can be running: at daemon start)."""
    try:
        names = [n for n in os.listdir(directory) if n.startswith(_STAGING_PREFIX)]
    except FileNotFoundError:
        return 0
    for name in names:
        os.unlink(os.path.join(directory, name))
    return len(names)


class SplitRecorder:
    """A reader over a layer's uncompressed tar that records its split while it is read.

    Nothing is kept unless ``commit(diff_id)`` is called after the stream was read to the
    end and verified; ``discard()`` drops the staging file."""

    def __init__(self, stream, splits):
        self._stream = stream
        self._splits = splits
        fd, self._staging = tempfile.mkstemp(prefix=_STAGING_PREFIX, dir=splits.directory)
        self._file = os.fdopen(fd, "wb")
        self._gzip = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=1, mtime=0)
        self._splitter = _Splitter(self._gzip)

    def readable(self):
        return True

    def read(self, size=-1):
        data = self._stream.read(size)
        if data:
            self._splitter.feed(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def commit(self, diff_id):
        self._splitter.close()
        self._gzip.close()
        self._file.close()
        os.replace(self._staging, self._splits.path(diff_id))

    def discard(self):
        self._gzip.close()
        self._file.close()
        try:
            os.unlink(self._staging)
        except FileNotFoundError:
            pass


def _file_contents(root, name, size, diff_id):
    path = os.path.join(root, name)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise SystemError_(f"layer {diff_id}: cannot read {name} to rebuild its tar: {exc}") from exc
    with f:
        left = size
        while left:
            chunk = f.read(min(left, _COPY))
            if not chunk:
                raise SystemError_(f"layer {diff_id}: {name} is shorter than the {size} bytes "
                                   "its tar recorded")
            left -= len(chunk)
            yield chunk


class ChunkReader:
    """A file object over an iterator of byte strings, with a close callback."""

    def __init__(self, chunks, on_close=None):
        self._chunks = iter(chunks)
        self._buffer = b""
        self._on_close = on_close

    def readable(self):
        return True

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close(self):
        if self._on_close:
            callback, self._on_close = self._on_close, None
            callback()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
