"""Image references and the registry credentials that go with them."""

import base64
import json

DEFAULT_INDEX = "https://index.docker.io/v1/"
DOCKER_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io")


def split_reference(ref):
    """``name[:tag][@digest]`` -> ``(name, tag_or_digest)``; the tag defaults to ""."""
    if "@" in ref:
        name, digest = ref.split("@", 1)
        return name, digest
    last_slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > last_slash:
        return ref[:colon], ref[colon + 1:]
    return ref, ""


def registry_of(name):
    """The registry host of a repository name ("docker.io" for Hub names)."""
    first, sep, _ = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def config_key(registry):
    """The key ``config.json`` files use for a registry's credentials."""
    if registry in DOCKER_HUB_NAMES or registry == DEFAULT_INDEX:
        return DEFAULT_INDEX
    return registry


def _urlsafe(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def auth_header(config_file, registry):
    """The ``X-Registry-Auth`` value for ``registry`` from the docker-format config."""
    entry = config_file.auths.get(config_key(registry)) or {}
    auth = {}
    if entry.get("auth"):
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        auth = {"username": user, "password": password}
    if entry.get("identitytoken"):
        auth["identitytoken"] = entry["identitytoken"]
    if auth:
        auth["serveraddress"] = registry
    return _urlsafe(auth)


def store_credentials(config_file, registry, username, password, token=None):
    entry = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    if token:
        entry = {"auth": base64.b64encode(f"{username}:".encode()).decode(),
                 "identitytoken": token}
    config_file.auths[config_key(registry)] = entry
    config_file.save()
