"""A lean tar header reader for layer extraction.

``tarfile`` spends most of an extraction parsing headers field by field;
layers hold thousands of small entries, so this reader unpacks a header block
with one ``struct`` call.  It understands what layer tars contain: ustar and
GNU headers, PAX extended headers (per-file and global), GNU long names, and
GNU sparse files (old GNU format and PAX 0.1 / 1.0).  File data is left in
the source for the caller to copy (see :class:`.source.ForwardReader`).
"""

import struct

from pydocker.errdefs import InvalidParameter

BLOCK = 512
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s12x")
_CHECKSUM_BLANK = 8 * 0x20
_REGULAR = {b"0", b"\0", b"7"}
_GNU_SPARSE = b"S"
_PAX_HEADERS = {b"x", b"X"}
_PAX_GLOBAL = b"g"
_GNU_LONGNAME, _GNU_LONGLINK = b"L", b"K"
_DEVICES = {b"3", b"4"}


class Member:
    """One tar entry, with PAX and GNU extensions already folded in."""

    __slots__ = ("name", "type", "mode", "uid", "gid", "size", "mtime", "linkname", "devmajor", "devminor",
                 "pax", "sparse", "data_size")

    def isreg(self):
        return self.type in _REGULAR or self.type == _GNU_SPARSE

    def isdir(self):
        return self.type == b"5"

    def issym(self):
        return self.type == b"2"

    def islnk(self):
        return self.type == b"1"


def _number(field):
    """An octal field, or GNU base-256 when the high bit is set."""
    try:
        return int(field.rstrip(b"\0"), 8)  # the common case: digits, maybe spaces, NUL-padded
    except ValueError:
        pass
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * len(field) - 8)) if field[0] & 0x40 else value
    field = field.split(b"\0", 1)[0].strip()
    return int(field, 8) if field else 0


def _text(field):
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _padded(size):
    return (size + BLOCK - 1) & ~(BLOCK - 1)


def members(reader):
    """Yield each :class:`Member` of the tar read from ``reader``.

    ``reader`` is a :class:`.source.ForwardReader`; when a member is yielded
    the reader sits at the start of its data, and the caller may consume any
    part of it.  Raises :class:`InvalidParameter` for a corrupt archive.
    """
    global_pax = {}
    pending = {}
    offset = 0
    while True:
        reader.seek(offset)
        block = reader.read(BLOCK)
        if len(block) < BLOCK or not block.strip(b"\0"):
            return  # end of archive: EOF or the zero blocks
        fields = _HEADER.unpack(block)
        _check(block, fields[6], offset)
        size = _number(fields[4])
        data_start = offset + BLOCK
        offset = data_start + _padded(size)
        kind = fields[7]
        if kind in _PAX_HEADERS or kind == _PAX_GLOBAL:
            records = _pax_records(reader.read(size), data_start)
            (global_pax if kind == _PAX_GLOBAL else pending).update(records)
            continue
        if kind in (_GNU_LONGNAME, _GNU_LONGLINK):
            value = _text(reader.read(size))
            pending["path" if kind == _GNU_LONGNAME else "linkpath"] = value
            continue
        member = _member(fields, kind, size, {**global_pax, **pending} if global_pax else pending)
        pending = {}
        if kind == _GNU_SPARSE:
            offset += _old_gnu_sparse(member, block, reader)
        elif member.pax.get("GNU.sparse.major") == "1":
            _pax_sparse_map(member, reader)
        elif "GNU.sparse.map" in member.pax:
            numbers = [int(n) for n in member.pax["GNU.sparse.map"].split(",")]
            member.sparse = list(zip(numbers[::2], numbers[1::2]))
        yield member


def _check(block, stored, offset):
    try:
        expected = _number(stored)
    except ValueError:
        expected = -1
    if sum(block) - sum(block[148:156]) + _CHECKSUM_BLANK != expected:
        raise InvalidParameter(f"layer tar has a corrupt header at byte {offset} (bad checksum)")


def _member(fields, kind, size, pax):
    m = Member()
    name = _text(fields[0])
    prefix = _text(fields[15]) if fields[9] == b"ustar\0" and fields[15][0] else ""
    m.name = f"{prefix}/{name}" if prefix else name
    m.linkname = _text(fields[8])
    m.type = kind
    m.mode = _number(fields[1]) & 0o7777
    m.uid = _number(fields[2])
    m.gid = _number(fields[3])
    m.size = m.data_size = size
    m.mtime = _number(fields[5])
    is_device = kind in _DEVICES
    m.devmajor = _number(fields[13]) if is_device else 0
    m.devminor = _number(fields[14]) if is_device else 0
    m.pax = pax
    m.sparse = None
    if pax:
        _apply_pax(m, pax)
    return m


def _apply_pax(m, pax):
    """PAX records override the ustar fields they name."""
    m.name = pax.get("GNU.sparse.name") or pax.get("path") or m.name
    m.linkname = pax.get("linkpath") or m.linkname
    if "uid" in pax:
        m.uid = int(pax["uid"])
    if "gid" in pax:
        m.gid = int(pax["gid"])
    if "size" in pax:
        m.size = m.data_size = int(pax["size"])
    if "mtime" in pax:
        m.mtime = float(pax["mtime"])
    if "GNU.sparse.realsize" in pax or "GNU.sparse.size" in pax:
        m.size = int(pax.get("GNU.sparse.realsize") or pax["GNU.sparse.size"])


def _pax_records(data, offset):
    """Parse ``LEN key=value\\n`` records; values are UTF-8 with raw bytes kept."""
    records = {}
    pos = 0
    try:
        while pos < len(data) and data[pos] != 0:
            space = data.index(b" ", pos)
            length = int(data[pos:space])
            record = data[space + 1:pos + length - 1]
            key, _, value = record.partition(b"=")
            records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
            pos += length
    except ValueError:
        raise InvalidParameter(f"layer tar has a corrupt PAX header at byte {offset}") from None
    return records


def _sparse_entries(raw):
    """(offset, length) pairs from GNU sparse header slots of 24 bytes."""
    entries = []
    for pos in range(0, len(raw) - 23, 24):
        offset, length = _number(raw[pos:pos + 12]), _number(raw[pos + 12:pos + 24])
        if offset or length:
            entries.append((offset, length))
    return entries


def _old_gnu_sparse(member, block, reader):
    """Old GNU sparse: the map is in the header and in extension blocks that
    sit between header and data, outside the size.  Returns their length."""
    member.sparse = _sparse_entries(block[386:482])
    member.size = _number(block[483:495])
    extra = 0
    extended = block[482]
    while extended:
        ext = reader.read(BLOCK)
        if len(ext) < BLOCK:
            raise InvalidParameter("layer tar is truncated in a sparse map")
        member.sparse += _sparse_entries(ext[:504])
        extended = ext[504]
        extra += BLOCK
    return extra


def _pax_sparse_map(member, reader):
    """PAX sparse 1.0: the map is a text prefix of the data, in whole blocks."""
    text = b""
    numbers = []
    consumed = 0
    count = None
    while count is None or len(numbers) < 2 * count:
        if b"\n" not in text:
            chunk = reader.read(BLOCK)
            if not chunk:
                raise InvalidParameter("layer tar is truncated in a sparse map")
            consumed += len(chunk)
            text += chunk
            continue
        line, text = text.split(b"\n", 1)
        if count is None:
            count = int(line)
        else:
            numbers.append(int(line))
    member.sparse = list(zip(numbers[::2], numbers[1::2]))
    member.data_size -= consumed
