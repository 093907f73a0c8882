""".dockerignore patterns, matched as the docker CLI and dockerd match them.

Each line is a pattern (``#`` lines and blank lines are skipped); ``!`` makes an
exception. ``*`` and ``?`` stay inside one path component, ``**`` crosses them, and
a pattern that matches a directory excludes what is under it. The last pattern that
matches a path decides. Used by our client when it sends a context and by the daemon
on the context it receives (as dockerd does for contexts it fetched itself).
"""

import os
import posixpath
import re
import shutil


class Pattern:
    def __init__(self, text):
        self.exception = text.startswith("!")
        text = text[1:].strip() if self.exception else text
        text = posixpath.normpath(text).lstrip("/") if text else text
        self.text = text
        self.regex = re.compile(_translate(text)) if text and text != "." else None

    def matches(self, relpath):
        """True if ``relpath`` or one of its parent directories matches."""
        if self.regex is None:
            return False
        parts = relpath.split("/")
        return any(self.regex.fullmatch("/".join(parts[:n])) for n in range(len(parts), 0, -1))


def _translate(pattern):
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i:i + 2] == "**":
                i += 2
                if pattern[i:i + 1] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body).replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


class Ignore:
    def __init__(self, patterns):
        self.patterns = [Pattern(p) for p in patterns]
        self.has_exceptions = any(p.exception for p in self.patterns)

    @classmethod
    def parse(cls, text):
        lines = [line.strip() for line in text.splitlines()]
        return cls([line for line in lines if line and not line.startswith("#")])

    @classmethod
    def read(cls, directory):
        path = os.path.join(directory, ".dockerignore")
        if not os.path.isfile(path):
            return cls([])
        with open(path, encoding="utf-8", errors="replace") as f:
            return cls.parse(f.read())

    def excluded(self, relpath):
        result = False
        for pattern in self.patterns:
            if pattern.matches(relpath):
                result = not pattern.exception
        return result

    def walk(self, root):
        """(relpath, is_dir) of every entry under ``root`` that is not excluded, parents first.

        An excluded directory is skipped whole unless an exception pattern may bring
        something under it back."""
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root)
            prefix = "" if rel_dir == "." else rel_dir + "/"
            kept = []
            for name in sorted(dirnames):
                rel = prefix + name
                if os.path.islink(os.path.join(dirpath, name)):
                    filenames.append(name)
                    continue
                if not self.excluded(rel):
                    yield rel, True
                    kept.append(name)
                elif self.has_exceptions:
                    kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                rel = prefix + name
                if not self.excluded(rel):
                    yield rel, False

    def prune(self, root, keep=()):
        """Delete what is excluded from the directory ``root`` (a context the daemon received)."""
        if not self.patterns:
            return
        for dirpath, dirnames, filenames in os.walk(root, topdown=True):
            rel_dir = os.path.relpath(dirpath, root)
            prefix = "" if rel_dir == "." else rel_dir + "/"
            for name in list(dirnames):
                rel = prefix + name
                if self.excluded(rel) and not self.has_exceptions and rel not in keep:
                    shutil.rmtree(os.path.join(dirpath, name))
                    dirnames.remove(name)
            for name in filenames:
                rel = prefix + name
                if self.excluded(rel) and rel not in keep:
                    os.unlink(os.path.join(dirpath, name))
