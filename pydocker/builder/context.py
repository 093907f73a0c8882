"""The build context on the daemon's disk: received, cleaned, searched and hashed.

The context tar (plain, gzip, bzip2 or xz) is hostile input and goes through the
same safe extraction as a layer, read as it arrives; each file's content is hashed
while it is written, so the COPY/ADD cache keys cost no second read. A body that is
no tar is a lone Dockerfile, as dockerd accepts from a remote URL. Blocking code for
worker threads.
"""

import fnmatch
import hashlib
import io
import os
import posixpath
import stat

from pydocker.archive import apply_layer, contentdigest
from pydocker.builder.dockerignore import Ignore
from pydocker.errdefs import InvalidParameter, NotFound
from pydocker.images.layers import decompressed

_TAR_MAGIC_OFFSET = 257
_CHUNK = 1 << 20
_WILDCARDS = set("*?[")


def receive(stream, directory, dockerfile_name, digests=None):
    """Extract the context read from ``stream`` into ``directory``; a body that is not a
    tar becomes ``dockerfile_name`` there. ``digests`` (a dict) receives the content
    digest of each file by its path in the context. The stream is read to its end (what follows
    the tar is dropped). Returns the number of bytes written."""
    if isinstance(stream, io.RawIOBase):
        stream = io.BufferedReader(stream, _CHUNK)
    plain = decompressed(stream)
    head = plain.peek(_TAR_MAGIC_OFFSET + 5)[:_TAR_MAGIC_OFFSET + 5] if hasattr(plain, "peek") else b""
    if len(head) > _TAR_MAGIC_OFFSET and head[_TAR_MAGIC_OFFSET:_TAR_MAGIC_OFFSET + 5] == b"ustar":
        written = apply_layer(directory, plain, whiteouts=None, digests=digests)
        while plain.read(_CHUNK):
            pass
        return written
    data = plain.read()
    if not data:
        return 0
    with open(os.path.join(directory, _inside(dockerfile_name)), "wb") as f:
        f.write(data)
    return len(data)


def _inside(name):
    """A context path as a clean relative path; refuses one that leaves the context."""
    clean = posixpath.normpath("/" + name).lstrip("/") if name.startswith("/") else posixpath.normpath(name)
    if clean == ".." or clean.startswith("../"):
        raise InvalidParameter(f"Forbidden path outside the build context: {name} ()")
    return "" if clean == "." else clean


def read_dockerfile(directory, name):
    """The Dockerfile's bytes; then the ignore rules are applied to the context."""
    rel = _inside(name or "Dockerfile")
    path = os.path.join(directory, rel)
    if not os.path.isfile(path) and not name:
        lower = os.path.join(directory, "dockerfile")
        path = lower if os.path.isfile(lower) else path
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise InvalidParameter(f"Cannot locate specified Dockerfile: {name or 'Dockerfile'}") from None
    Ignore.read(directory).prune(directory)
    return data


class Sources:
    """Source paths of COPY/ADD in a root (the context, or another image's rootfs)."""

    def __init__(self, root, what="build context"):
        self.root = os.path.realpath(root)
        self.what = what

    def resolve(self, pattern):
        """[(host path, context-relative path)] of one source; wildcards expand."""
        rel = _inside(pattern)
        if _WILDCARDS & set(rel):
            found = sorted(self._glob(rel))
            return [(self._checked(r, pattern), r) for r in found]
        path = self._checked(rel, pattern)
        if not os.path.lexists(path):
            raise NotFound(f"file not found in {self.what} or excluded by .dockerignore: stat {pattern}: "
                           f"file does not exist")
        return [(path, rel)]

    def _checked(self, rel, original):
        """The host path of ``rel``, its symlinks followed but kept inside the root."""
        path = os.path.realpath(os.path.join(self.root, rel))
        if path != self.root and not path.startswith(self.root + "/"):
            raise InvalidParameter(f"Forbidden path outside the build context: {original} ()")
        return path

    def _glob(self, rel):
        parts = rel.split("/")
        matches = [""]
        for part in parts:
            next_matches = []
            for base in matches:
                directory = os.path.join(self.root, base)
                if not (_WILDCARDS & set(part)):
                    if os.path.lexists(os.path.join(directory, part)):
                        next_matches.append(posixpath.join(base, part) if base else part)
                    continue
                try:
                    names = sorted(os.listdir(directory))
                except (NotADirectoryError, FileNotFoundError):
                    continue
                next_matches += [posixpath.join(base, n) if base else n for n in names
                                 if fnmatch.fnmatchcase(n, part)]
            matches = next_matches
        return matches


class ContentHashes:
    """The cache keys of COPY/ADD sources under ``root``: ``file:<sha256>`` or
    ``dir:<sha256>`` over names, modes and contents, not times, so touching a file keeps
    the cache and changing it does not. ``digests`` holds the content digests of files
    taken while the context was extracted (path relative to ``root``); a file without
    one (an ADD download) is read."""

    def __init__(self, root, digests=None):
        self.root = os.path.realpath(root)
        self.digests = digests or {}

    def key(self, path):
        h = hashlib.sha256()
        if not os.path.isdir(path) or os.path.islink(path):
            self._entry(h, path, "")
            return "file:" + h.hexdigest()
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                self._entry(h, full, os.path.relpath(full, path))
        return "dir:" + h.hexdigest()

    def _entry(self, h, path, rel):
        st = os.lstat(path)
        h.update(f"{rel}\0{stat.S_IMODE(st.st_mode):o}\0{stat.S_IFMT(st.st_mode):o}\0".encode())
        if stat.S_ISLNK(st.st_mode):
            h.update(os.readlink(path).encode())
        elif stat.S_ISREG(st.st_mode):
            h.update(self._file_digest(path).encode())
        h.update(b"\0")

    def _file_digest(self, path):
        known = self.digests.get(os.path.relpath(path, self.root))
        return known if known is not None else contentdigest.of_file(path)


def sources_hash(hashes):
    """One cache key for several sources (dockerd's ``multi:`` form)."""
    if len(hashes) == 1:
        return hashes[0]
    return "multi:" + hashlib.sha256(",".join(hashes).encode()).hexdigest()
