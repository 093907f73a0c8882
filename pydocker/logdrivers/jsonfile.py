"""The json-file log driver, in Docker's on-disk format.

Each line a container writes becomes ``{"log": "...\\n", "stream": "stdout",
"attrs": {...}, "time": "<RFC 3339 nanos>"}`` in ``<id>-json.log`` (``attrs``
only when --log-opt names labels or env); ``max-size``/``max-file`` rotate it
to ``.1``, ``.2``... The writer runs on the daemon's log thread
(``runtime/logwriter.py``), readers in worker threads.
"""

import json
import os
from json.encoder import encode_basestring

from zope.interface import implementer

from pydocker.errdefs import InvalidParameter
from pydocker.logdrivers import attributes
from pydocker.logdrivers.interfaces import ILogDriver
from pydocker.timeutil import parse_rfc3339, rfc3339

RECORD_HEAD = b'{"log": '
MAX_LINE = 16 * 1024  # a longer line is logged in pieces of this size, as Docker does

UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def parse_size(text):
    text = text.strip().lower()
    number = text.rstrip("kmgb")
    unit = text[len(number):]
    try:
        return int(float(number) * UNITS[unit])
    except (ValueError, KeyError):
        raise InvalidParameter(f"invalid log size {text!r}") from None


def parse_options(options):
    """max-size / max-file from --log-opt; unknown keys are refused."""
    attributes.validate(options)
    max_size, max_file = None, 1
    for key, value in options.items():
        if key == "max-size":
            max_size = parse_size(value)
        elif key == "max-file":
            try:
                max_file = int(value)
            except ValueError:
                raise InvalidParameter(f"invalid value for max-file: {value!r}") from None
            if max_file < 1:
                raise InvalidParameter("max-file cannot be less than 1")
        elif key not in attributes.OPTIONS + ("compress", "tag", "mode", "max-buffer-size"):
            raise InvalidParameter(f"unknown log opt '{key}' for json-file log driver")
    return max_size, max_file   # max-file without max-size is accepted and unused, as dockerd does


class JSONFileWriter:
    """Appends a container's output to its json log, rotating by size."""

    def __init__(self, path, max_size=None, max_file=1, attrs=None):
        self.path = path
        self.attrs = attrs or None
        self.max_size = max_size
        self.max_file = max_file
        self._followers = set()  # callables(entry or None at close), for `logs -f`
        self._partial = {"stdout": b"", "stderr": b""}
        self._file = open(path, "ab")
        self._size = self._file.tell()

    def write(self, stream, data):
        buf = self._partial[stream] + data if self._partial[stream] else data
        end = buf.rfind(b"\n") + 1
        texts = [line + "\n" for line in buf[:end - 1].decode("utf-8", "replace").split("\n")] if end else []
        partial = buf[end:]
        if len(partial) >= MAX_LINE:
            texts.append(partial.decode("utf-8", "replace"))
            partial = b""
        self._partial[stream] = partial
        if texts and max(map(len, texts)) > MAX_LINE:
            texts = [text[i:i + MAX_LINE] for text in texts for i in range(0, len(text), MAX_LINE)]
        if texts:
            self._emit(stream, texts)

    def follow(self, callback):
        """Deliver each new entry to ``callback`` (``None`` once the log closes).

        Returns (unsubscribe, position): the entries already on disk are those of the
        rotated files and the first ``position`` bytes of the current file, so a reader
        can replay the file up to there and lose or repeat nothing.
        """
        self._followers.add(callback)
        return (lambda: self._followers.discard(callback)), self._size

    def close(self):
        for stream, rest in self._partial.items():
            if rest:
                self._emit(stream, [rest.decode("utf-8", "replace")])
        self._partial = {"stdout": b"", "stderr": b""}
        self._file.close()
        followers, self._followers = self._followers, set()
        for callback in followers:
            callback(None)

    def _emit(self, stream, texts):
        """One entry per text, all stamped with one time (they came in one read) and written
        at once. The records are put together as ``json.dumps`` of the entry would write them:
        only the text needs encoding."""
        now = rfc3339()
        attrs = ', "attrs": ' + json.dumps(self.attrs, ensure_ascii=False) if self.attrs else ""
        tail = f', "stream": "{stream}"{attrs}, "time": "{now}"}}\n'.encode()
        pieces = []  # joined once: the records are not copied one by one
        for text in texts:
            log = encode_basestring(text).encode()
            size = len(RECORD_HEAD) + len(log) + len(tail)
            if self.max_size and self._size + size > self.max_size and self._size > 0:
                self._file.write(b"".join(pieces))
                pieces = []
                self._rotate()
            pieces += (RECORD_HEAD, log, tail)
            self._size += size
        self._file.write(b"".join(pieces))
        self._file.flush()
        for text in texts if self._followers else ():
            entry = {"log": text, "stream": stream, "time": now}
            if self.attrs:
                entry["attrs"] = self.attrs
            for callback in list(self._followers):
                callback(entry)

    def _rotate(self):
        self._file.close()
        if self.max_file > 1:
            for n in range(self.max_file - 1, 0, -1):
                older = f"{self.path}.{n}"
                if os.path.exists(older):
                    if n + 1 < self.max_file:
                        os.replace(older, f"{self.path}.{n + 1}")
                    else:
                        os.unlink(older)
            os.replace(self.path, f"{self.path}.1")
        else:
            os.unlink(self.path)
        self._file = open(self.path, "ab")
        self._size = 0


def log_files(path):
    """The log files oldest first: path.N ... path.1, path."""
    rotated = []
    n = 1
    while os.path.exists(f"{path}.{n}"):
        rotated.append(f"{path}.{n}")
        n += 1
    return list(reversed(rotated)) + ([path] if os.path.exists(path) else [])


def read_entries(path, since_ns=None, until_ns=None, tail=None, limit=None):
    """Entries from the log files, oldest first, filtered by time and tail count;
    ``limit`` bytes of the current file at most (see ``JSONFileWriter.follow``)."""
    entries = []
    for name in log_files(path):
        with open(name, "rb") as f:
            data = f.read(limit) if name == path and limit is not None else f.read()
            for raw in data.splitlines():
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue  # a torn last line after a crash
                entries.append(entry)
    if since_ns or until_ns:
        entries = [e for e in entries if _in_range(e, since_ns, until_ns)]
    if tail is not None and tail >= 0:
        entries = entries[-tail:] if tail else []
    return entries


def _in_range(entry, since_ns, until_ns):
    t = parse_rfc3339(entry.get("time", ""))
    return (not since_ns or t >= since_ns) and (not until_ns or t <= until_ns)


@implementer(ILogDriver)
class JSONFileDriver:
    name = "json-file"
    readable = True

    def validate(self, options):
        parse_options(options)

    def open(self, container, log_path, options):
        max_size, max_file = parse_options(options)
        return JSONFileWriter(log_path, max_size, max_file, attributes.of_container(container.config, options))
