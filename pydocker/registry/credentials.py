"""Registry credentials: the docker CLI's ``config.json`` (``auths``, ``credsStore``,
``credHelpers`` with ``docker-credential-NAME`` helpers) and the Engine API's
``X-Registry-Auth`` header, both read into one AuthConfig.
"""

import base64
import binascii
import json
import os
import subprocess
from dataclasses import asdict, dataclass

from pydocker.errdefs import InvalidParameter, NotFound, SystemError_

INDEX_SERVER = "https://index.docker.io/v1/"
_DOCKER_IO_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", INDEX_SERVER}
_HELPER_NOT_FOUND = "credentials not found in native keychain"
_TOKEN_USERNAME = "<token>"


@dataclass
class AuthConfig:
    """The Engine API's AuthConfig (field names as in its JSON, lower-cased)."""

    username: str = ""
    password: str = ""
    auth: str = ""
    email: str = ""
    serveraddress: str = ""
    identitytoken: str = ""
    registrytoken: str = ""

    @classmethod
    def from_json(cls, data):
        fields = {k.lower(): v for k, v in (data or {}).items() if isinstance(v, str)}
        config = cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})
        if config.auth and not config.username:
            config.username, config.password = _decode_basic(config.auth)
        return config

    @property
    def anonymous(self):
        return not (self.username or self.identitytoken or self.registrytoken)

    def to_json(self):
        return {k: v for k, v in asdict(self).items() if v}


def _decode_basic(value):
    try:
        text = base64.b64decode(value, validate=False).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"invalid auth entry: {exc}") from exc
    user, sep, password = text.partition(":")
    if not sep:
        raise InvalidParameter("invalid auth entry: expected base64 of username:password")
    return user, password


def decode_registry_auth(header):
    """Decode an ``X-Registry-Auth`` header (base64url JSON); empty, or JSON null as Go reads
    it, means anonymous."""
    if not header:
        return AuthConfig()
    padded = header.strip() + "=" * (-len(header.strip()) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameter(f"invalid X-Registry-Auth header: {exc}") from exc
    if data is None:
        return AuthConfig()
    if not isinstance(data, dict):
        raise InvalidParameter("invalid X-Registry-Auth header: expected a JSON object")
    return AuthConfig.from_json(data)


def encode_registry_auth(config):
    """The inverse of decode_registry_auth (used by our client)."""
    return base64.urlsafe_b64encode(json.dumps(config.to_json()).encode()).decode()


def server_key(domain):
    """The key the docker CLI files a registry's credentials under."""
    return INDEX_SERVER if domain in _DOCKER_IO_ALIASES else domain


def _host_of(key):
    """``https://host:port/v1/`` → ``host:port``, so differently written keys match."""
    key = key.split("://", 1)[-1]
    return key.split("/", 1)[0]


class CredentialHelper:
    """A ``docker-credential-NAME`` program speaking the get/store/erase protocol."""

    def __init__(self, name):
        self.program = f"docker-credential-{name}"

    def _run(self, action, text):
        try:
            done = subprocess.run([self.program, action], input=text, capture_output=True,
                                  text=True, timeout=60)
        except FileNotFoundError as exc:
            raise SystemError_(f"credential helper {self.program} not found on PATH") from exc
        out = done.stdout.strip()
        if done.returncode != 0:
            if _HELPER_NOT_FOUND in out:
                raise NotFound(out)
            raise SystemError_(f"{self.program} {action} failed: {out or done.stderr.strip()}")
        return out

    def get(self, server):
        try:
            data = json.loads(self._run("get", server))
        except NotFound:
            return AuthConfig(serveraddress=server)
        except ValueError as exc:
            raise SystemError_(f"{self.program} get printed invalid JSON: {exc}") from exc
        user, secret = data.get("Username", ""), data.get("Secret", "")
        if user == _TOKEN_USERNAME:
            return AuthConfig(identitytoken=secret, serveraddress=server)
        return AuthConfig(username=user, password=secret, serveraddress=server)

    def store(self, server, config):
        user, secret = config.username, config.password
        if config.identitytoken:
            user, secret = _TOKEN_USERNAME, config.identitytoken
        self._run("store", json.dumps({"ServerURL": server, "Username": user, "Secret": secret}))

    def erase(self, server):
        try:
            self._run("erase", server)
        except NotFound:
            pass


class DockerConfig:
    """Credentials kept the docker CLI's way in ``$DOCKER_CONFIG/config.json``
    (default ``~/.docker``), so `docker login` and pydocker share them."""

    def __init__(self, config_dir=None):
        self.config_dir = config_dir or os.environ.get("DOCKER_CONFIG") or \
            os.path.join(os.path.expanduser("~"), ".docker")
        self.path = os.path.join(self.config_dir, "config.json")

    def _load(self):
        try:
            with open(self.path) as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise InvalidParameter(f"{self.path}: invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidParameter(f"{self.path}: expected a JSON object")
        return data

    def _save(self, data):
        os.makedirs(self.config_dir, mode=0o700, exist_ok=True)
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent="\t")
        os.replace(tmp, self.path)  # never leave a half-written config behind

    def _helper_for(self, data, server):
        helpers = data.get("credHelpers") or {}
        name = helpers.get(server) or helpers.get(_host_of(server)) or data.get("credsStore")
        return CredentialHelper(name) if name else None

    def get(self, domain):
        """Credentials for a registry domain (``docker.io``, ``host:port``); anonymous if none."""
        data = self._load()
        server = server_key(domain)
        helper = self._helper_for(data, server)
        if helper:
            return helper.get(server)
        for key, entry in (data.get("auths") or {}).items():
            if key == server or _host_of(key) == _host_of(server):
                config = AuthConfig.from_json(entry)
                config.serveraddress = server
                return config
        return AuthConfig(serveraddress=server)

    def store(self, domain, config):
        data = self._load()
        server = server_key(domain)
        helper = self._helper_for(data, server)
        auths = data.setdefault("auths", {})
        if helper:
            helper.store(server, config)
            auths[server] = {}
        else:
            entry = {}
            if config.username:
                entry["auth"] = base64.b64encode(
                    f"{config.username}:{config.password}".encode()).decode()
            if config.identitytoken:
                entry["identitytoken"] = config.identitytoken
            auths[server] = entry
        self._save(data)

    def erase(self, domain):
        data = self._load()
        server = server_key(domain)
        helper = self._helper_for(data, server)
        if helper:
            helper.erase(server)
        (data.get("auths") or {}).pop(server, None)
        self._save(data)
