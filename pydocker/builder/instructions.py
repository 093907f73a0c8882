"""Instruction lines grouped into stages and checked before anything runs.

What dockerd refuses before it writes a byte (an unknown instruction, a flag of the
wrong instruction, a BuildKit-only flag, too few arguments, a bad stage name) is
refused here, so the API answers with a status rather than an in-band error.
"""

import re
from dataclasses import dataclass, field

from pydocker.builder.parser import BUILDKIT_HINT, DockerfileError, Line
from pydocker.builder.shellwords import split_keeping_quotes
from pydocker.errdefs import InvalidParameter
from pydocker.registry.platform import Platform

KEYWORDS = ("from", "run", "cmd", "label", "maintainer", "expose", "env", "add", "copy", "entrypoint",
            "volume", "user", "workdir", "arg", "onbuild", "stopsignal", "healthcheck", "shell")

# Flags each instruction takes; the BuildKit-only ones are refused with dockerd's message.
FLAGS = {
    "from": ("platform",),
    "copy": ("from", "chown"),
    "add": ("chown",),
    "healthcheck": ("interval", "timeout", "start-period", "start-interval", "retries"),
}
BUILDKIT_FLAGS = {
    "run": ("mount", "network", "security"),
    "copy": ("chmod", "link", "parents", "exclude"),
    "add": ("chmod", "link", "checksum", "keep-git-dir", "exclude"),
}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9._-]*$")


@dataclass
class Stage:
    base: str  # the FROM argument, unexpanded
    name: str = ""
    platform: str = ""
    line: Line = None
    commands: list = field(default_factory=list)


@dataclass
class Program:
    meta_args: list  # ARG lines before the first FROM
    stages: list

    def stage_index(self, name):
        """The index of the stage called ``name`` (or numbered), or None."""
        for index, stage in enumerate(self.stages):
            if stage.name and stage.name == name.lower():
                return index
        return None

    def step_count(self):
        return len(self.meta_args) + sum(1 + len(stage.commands) for stage in self.stages)


def check_line(line):
    """Refuse what the classic builder would refuse in ``line`` (raises DockerfileError)."""
    if line.keyword not in KEYWORDS:
        raise DockerfileError(line.lineno, f"unknown instruction: {line.original.split()[0].upper()}")
    for flag in line.flags:
        if flag in BUILDKIT_FLAGS.get(line.keyword, ()):
            raise DockerfileError(line.lineno, f"the --{flag} option requires BuildKit. {BUILDKIT_HINT}")
        if flag not in FLAGS.get(line.keyword, ()):
            raise DockerfileError(line.lineno, f"unknown flag: {flag}")
    for flag, values in line.flags.items():
        if any(value is True for value in values):
            raise DockerfileError(line.lineno, f"missing a value on flag: {flag}")
    _check_arguments(line)


def _check_arguments(line):
    name, rest = line.keyword.upper(), line.rest
    if name in ("COPY", "ADD"):
        count = len(line.json_args) if line.json_args is not None else len(rest.split())
        if count < 2:
            raise DockerfileError(line.lineno, f"{name} requires at least two arguments, but only one was provided. "
                                               "Destination could not be determined" if count == 1 else
                                  f"{name} requires at least two arguments")
    elif name == "FROM":
        words = rest.split()
        if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
            raise DockerfileError(line.lineno, "FROM requires either one or three arguments")
        if len(words) == 3 and not _STAGE_NAME.match(words[2].lower()):
            raise DockerfileError(line.lineno, f"invalid name for build stage: {words[2]!r}, name can't start "
                                               "with a number or contain symbols")
        platform = (line.flags.get("platform") or [""])[-1]
        if platform and "$" not in platform:  # one with a build arg is checked at its step
            try:
                build_platform(platform)
            except InvalidParameter as e:
                raise DockerfileError(line.lineno, f"FROM --platform={platform}: {e}") from None
    elif name == "ONBUILD":
        trigger = rest.split(None, 1)[0].lower() if rest.split() else ""
        if not trigger:
            raise DockerfileError(line.lineno, "ONBUILD requires at least one argument")
        if trigger in ("onbuild", "from", "maintainer"):
            raise DockerfileError(line.lineno, f"{trigger.upper()} isn't allowed as an ONBUILD trigger")
    elif name == "ARG":
        if len(rest.split()) != 1:
            raise DockerfileError(line.lineno, "ARG requires exactly one argument")
    elif name == "SHELL":
        if not line.json_args:
            raise DockerfileError(line.lineno, "SHELL requires the arguments to be in JSON form")
    elif name in ("ENV", "LABEL"):
        _check_pairs(line, name)
    elif name not in ("RUN", "CMD", "ENTRYPOINT") and not rest:
        raise DockerfileError(line.lineno, f"{name} requires at least one argument")


def build_platform(text):
    """A platform a build may name (the ``platform`` query, ``FROM --platform``): one that
    parses, for Linux; which architectures can be had is the image's business."""
    wanted = Platform.parse(text)
    if wanted.os != "linux":
        raise InvalidParameter(f"\"{text}\": operating system is not supported")
    return wanted


def _check_pairs(line, name):
    """ENV and LABEL: KEY=VALUE words, or the legacy ``KEY VALUE`` (ENV needs the value)."""
    words = split_keeping_quotes(line.rest)
    if not words:
        raise DockerfileError(line.lineno, f"{name} requires at least one argument")
    if "=" not in words[0]:
        if name == "ENV" and len(line.rest.split(None, 1)) < 2:
            raise DockerfileError(line.lineno, "ENV must have two arguments")
        return
    for word in words:
        key, eq, _ = word.partition("=")
        if not eq:
            raise DockerfileError(line.lineno, f"Syntax error - can't find = in \"{word}\". "
                                               f"Must be of the form: name=value")
        if not key:
            raise DockerfileError(line.lineno, f"{name} names can not be blank")


def group(dockerfile, name="Dockerfile"):
    """The Program of a parsed Dockerfile: meta ARGs, then one Stage per FROM."""
    meta_args, stages = [], []
    for line in dockerfile.lines:
        check_line(line)
        if line.keyword == "from":
            words = line.rest.split()
            name = words[2].lower() if len(words) == 3 else ""
            if name and any(stage.name == name for stage in stages):
                raise DockerfileError(line.lineno, f"duplicate name {name}")
            stages.append(Stage(words[0], name, (line.flags.get("platform") or [""])[-1], line))
        elif not stages:
            if line.keyword != "arg":
                raise DockerfileError(line.lineno, "no build stage in current context")
            meta_args.append(line)
        else:
            stages[-1].commands.append(line)
    if not stages:
        raise DockerfileError(0, f"the Dockerfile ({name}) cannot be empty" if not dockerfile.lines
                              else "no build stage in current context")
    return Program(meta_args, stages)
