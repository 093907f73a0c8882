"""Reading a Dockerfile into instruction lines, as the classic builder's parser does.

Parser directives (``# escape=``, ``# syntax=``) are read from the top; comments and
empty lines are skipped, also inside a line continuation (the escape character at the
end of a line). Each instruction keeps its line number so every later error can name it.
Heredocs and BuildKit-only flags are refused here with the line number.
"""

import json
import re
from dataclasses import dataclass, field

from pydocker.errdefs import InvalidParameter

BUILDKIT_HINT = "Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled"

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<-?\s*([\"']?)[A-Za-z_][A-Za-z0-9_]*\1")
_FLAG = re.compile(r"^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(.*))?$")


class DockerfileError(InvalidParameter):
    """A Dockerfile the builder cannot read; the message names the line."""

    def __init__(self, line, message):
        super().__init__(f"dockerfile parse error on line {line}: {message}" if line else message)
        self.line = line


@dataclass
class Line:
    """One instruction: its keyword (lower case), flags, the rest, and where it was."""

    keyword: str
    rest: str
    flags: dict = field(default_factory=dict)
    original: str = ""
    lineno: int = 0
    json_args: list = None  # the exec form (a JSON array of strings), else None

    def __str__(self):
        return self.original


@dataclass
class Dockerfile:
    lines: list
    escape: str = "\\"
    warnings: list = field(default_factory=list)


def parse(text):
    """The instruction lines of a Dockerfile's text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.lstrip("\ufeff")
    raw_lines = text.replace("\r\n", "\n").split("\n")
    escape = "\\"
    directives_open = True
    seen = set()
    result = Dockerfile([])
    i = 0
    while i < len(raw_lines):
        lineno = i + 1
        stripped = raw_lines[i].strip()
        i += 1
        if directives_open and stripped.startswith("#"):
            m = _DIRECTIVE.match(stripped)
            if m and m.group(1).lower() in ("escape", "syntax", "check"):
                name = m.group(1).lower()
                if name in seen:
                    raise DockerfileError(lineno, f"only one {name} parser directive can be used")
                seen.add(name)
                if name == "escape":
                    if m.group(2) not in ("\\", "`"):
                        raise DockerfileError(lineno, f"invalid escape token '{m.group(2)}' does not match ` or \\")
                    escape = m.group(2)
                continue
        directives_open = False
        if not stripped or stripped.startswith("#"):
            continue
        parts = []
        current = raw_lines[i - 1].lstrip()
        while True:
            body = current.rstrip()
            if body.endswith(escape):
                parts.append(body[:-1])
                # Continuation: the next lines that are not comments or empty.
                while i < len(raw_lines) and (not raw_lines[i].strip() or raw_lines[i].strip().startswith("#")):
                    i += 1
                if i >= len(raw_lines):
                    break
                current = raw_lines[i]
                i += 1
                continue
            parts.append(current)
            break
        result.lines.append(_instruction("".join(parts), lineno))
    result.escape = escape
    return result


def _instruction(text, lineno):
    text = text.strip()
    keyword, _, rest = text.partition(" ")
    if "\t" in keyword:
        keyword, _, more = keyword.partition("\t")
        rest = more + " " + rest
    rest = rest.strip()
    line = Line(keyword.lower(), rest, original=text, lineno=lineno)
    if line.keyword in ("run", "copy", "add") and _HEREDOC.search(rest):
        raise DockerfileError(lineno, f"heredocs in {keyword.upper()} require BuildKit. {BUILDKIT_HINT}")
    line.flags, line.rest = _flags(rest, lineno)
    line.json_args = _json_array(line.rest)
    return line


def _flags(rest, lineno):
    """Leading ``--name=value`` flags and the text after them."""
    flags = {}
    while rest.startswith("--"):
        word, _, after = rest.partition(" ")
        m = _FLAG.match(word)
        if not m:
            break
        flags.setdefault(m.group(1), []).append(m.group(2) if m.group(2) is not None else True)
        rest = after.lstrip()
    return flags, rest


def _json_array(rest):
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None
