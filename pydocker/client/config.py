"""The client's configuration directory: ``config.json`` and TLS files.

``$DOCKER_CONFIG`` (or ``--config``) names the directory, ``~/.docker`` by
default. ``config.json`` uses the docker CLI's format so credentials written
by one tool are read by the other.
"""

import os

CONFIG_FILE = "config.json"


def config_dir(override=None):
    return override or os.environ.get("DOCKER_CONFIG") or os.path.join(
        os.path.expanduser("~"), ".docker")


class ConfigFile:
    """``config.json``: registry auths and a few client settings."""

    def __init__(self, directory):
        self.path = os.path.join(directory, CONFIG_FILE)
        self.data = self._load()

    def _load(self):
        import json

        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            from .errors import ClientError

            raise ClientError(f"loading config file {self.path}: {exc}") from None

    @property
    def auths(self):
        return self.data.setdefault("auths", {})

    @property
    def detach_keys(self):
        """``detachKeys``: the user's default detach sequence, as the docker CLI reads it."""
        return self.data.get("detachKeys") or None

    def save(self):
        """Write atomically with mode 0600: the file holds credentials."""
        import json

        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.data, f, indent="\t")
            f.write("\n")
        os.replace(tmp, self.path)
