"""Image configs: building them (import, commit) and the ``--change`` instructions.

The config is serialised once, compactly and with sorted keys, and those exact
bytes are stored: the image ID is their sha256.
"""

import json
import platform
import shlex

from pydocker import __version__
from pydocker.builder import parser as dockerfile
from pydocker.errdefs import InvalidParameter
from pydocker.timeutil import rfc3339

GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}
CHANGE_INSTRUCTIONS = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL",
                       "USER", "VOLUME", "WORKDIR", "HEALTHCHECK")


def serialize(config):
    return json.dumps(config, separators=(",", ":"), sort_keys=True).encode()


def new_config(diff_ids, container_config, created_ns, history, author="", parent_config=None):
    """A fresh image config (import, commit) with the host's platform."""
    config = {
        "architecture": GO_ARCH.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": rfc3339(created_ns),
        "docker_version": __version__,
        "config": container_config,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": list(history),
    }
    if author:
        config["author"] = author
    return config


def child_config(parent_config, container_config, now, created_by, diff_id=None, author="", comment=""):
    """The config of an image made on ``parent_config`` (``{}`` for none): its layers and
    history plus one entry, ``empty_layer`` when no layer (``diff_id``) was added (commit, build)."""
    entry = {"created": rfc3339(now), "created_by": created_by}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    if diff_id is None:
        entry["empty_layer"] = True
    diff_ids = list((parent_config.get("rootfs") or {}).get("diff_ids") or [])
    if diff_id is not None:
        diff_ids.append(diff_id)
    history = list(parent_config.get("history") or []) + [entry]
    config = new_config(diff_ids, container_config, now, history, author)
    if parent_config.get("variant"):
        config["variant"] = parent_config["variant"]
    return config


def apply_changes(container_config, changes):
    """Apply Dockerfile instructions (``--change``) to a container config dict. As dockerd, the
    values are joined by newlines and read as a Dockerfile: one value may hold several lines,
    with continuations and comments."""
    config = dict(container_config or {})
    for line in dockerfile.parse("\n".join(changes)).lines:
        word, _, rest = line.original.partition(" ")
        instruction = word.upper()
        rest = rest.strip()
        if instruction not in CHANGE_INSTRUCTIONS:
            raise InvalidParameter(f"{word} is not a valid change command")
        _APPLY[instruction](config, rest)
    return config


def _json_or_shell(rest):
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", rest]


def _key_values(rest, instruction):
    if "=" not in rest.split(" ", 1)[0]:
        key, _, value = rest.partition(" ")
        if not key:
            raise InvalidParameter(f"{instruction} requires at least one argument")
        return [(key, value.strip())]
    pairs = []
    for token in shlex.split(rest):
        key, eq, value = token.partition("=")
        if not eq or not key:
            raise InvalidParameter(f"{instruction}: {token!r} is not KEY=VALUE")
        pairs.append((key, value))
    return pairs


def _cmd(config, rest):
    config["Cmd"] = _json_or_shell(rest)


def _entrypoint(config, rest):
    config["Entrypoint"] = _json_or_shell(rest)


def _env(config, rest):
    env = [e for e in config.get("Env") or []]
    for key, value in _key_values(rest, "ENV"):
        env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]
    config["Env"] = env


def _label(config, rest):
    labels = dict(config.get("Labels") or {})
    labels.update(_key_values(rest, "LABEL"))
    config["Labels"] = labels


def _expose(config, rest):
    ports = dict(config.get("ExposedPorts") or {})
    for port in rest.split():
        number, _, proto = port.partition("/")
        if not number.isdigit() or proto not in ("", "tcp", "udp", "sctp"):
            raise InvalidParameter(f"EXPOSE: invalid port {port!r}")
        ports[f"{number}/{proto or 'tcp'}"] = {}
    config["ExposedPorts"] = ports


def _volume(config, rest):
    paths = _json_or_shell(rest) if rest.startswith("[") else rest.split()
    if paths[:2] == ["/bin/sh", "-c"]:
        paths = rest.split()
    volumes = dict(config.get("Volumes") or {})
    volumes.update({p: {} for p in paths})
    config["Volumes"] = volumes


def _workdir(config, rest):
    import posixpath
    config["WorkingDir"] = posixpath.join(config.get("WorkingDir") or "/", rest)


def _user(config, rest):
    config["User"] = rest


def _stopsignal(config, rest):
    config["StopSignal"] = rest


def _onbuild(config, rest):
    config["OnBuild"] = list(config.get("OnBuild") or []) + [rest]


def _healthcheck(config, rest):
    if rest.upper() == "NONE":
        config["Healthcheck"] = {"Test": ["NONE"]}
        return
    word, _, command = rest.partition(" ")
    if word.upper() != "CMD":
        raise InvalidParameter("HEALTHCHECK: only HEALTHCHECK CMD ... and HEALTHCHECK NONE are supported")
    test = _json_or_shell(command.strip())
    config["Healthcheck"] = {"Test": ["CMD"] + test if command.strip().startswith("[") else ["CMD-SHELL", command.strip()]}


_APPLY = {
    "CMD": _cmd, "ENTRYPOINT": _entrypoint, "ENV": _env, "LABEL": _label, "EXPOSE": _expose,
    "VOLUME": _volume, "WORKDIR": _workdir, "USER": _user, "STOPSIGNAL": _stopsignal,
    "ONBUILD": _onbuild, "HEALTHCHECK": _healthcheck,
}
