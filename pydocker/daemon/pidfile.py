"""The pid file: proof that one daemon owns this data root and socket."""

import os

from pydocker.daemon.options import ConfigError


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A recycled pid may belong to anything: only a pydocker daemon counts.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"pydocker" in f.read()
    except OSError:
        return False


def acquire(path):
    """Write our pid to ``path``; refuse when a live daemon holds it."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        text = ""
    except OSError as e:
        raise ConfigError(f"cannot read pid file {path}: {e.strerror}") from None
    if text.isdigit() and int(text) != os.getpid() and _alive(int(text)):
        raise ConfigError(f"pid file found ({path}): pydocker is already running as pid {text}. "
                          f"Stop it first, or remove the file if it is stale.")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def release(path):
    try:
        with open(path) as f:
            if f.read().strip() != str(os.getpid()):
                return
        os.unlink(path)
    except OSError:
        pass
