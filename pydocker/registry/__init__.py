"""The Registry HTTP API v2 client: references, auth, pull, push, login.

Blocking library code for the jobs layer's worker threads (no Twisted here). Start with
``RegistryService``; the layer store plugs in through ``IPullTarget`` (pull) and
``PushLayer``/``PushImage`` (push). See ``interfaces.IPullTarget`` for the staging contract
that keeps unverified layer data out of the store. ``search`` speaks the v1 index search API.
A push's layer bytes come from the layer store (``pydocker.images.tarsplit`` rebuilds them).
"""

from pydocker.registry.credentials import (AuthConfig, DockerConfig, decode_registry_auth,
                                           encode_registry_auth)
from pydocker.registry.endpoints import DEFAULT_CERTS_DIR, RegistryConfig
from pydocker.registry.errors import DigestMismatch, RegistryUnavailable
from pydocker.registry.image import LayerInfo, chain_ids
from pydocker.registry.interfaces import IPullTarget, IPushLayer
from pydocker.registry.login import LoginResult
from pydocker.registry.platform import Platform
from pydocker.registry.pull import PullResult
from pydocker.registry.push import PushedLayer, PushImage, PushLayer, PushResult
from pydocker.reference import Reference, parse_reference, parse_repository
from pydocker.registry.service import RegistryService

__all__ = [
    "AuthConfig", "DockerConfig", "decode_registry_auth", "encode_registry_auth",
    "DEFAULT_CERTS_DIR", "RegistryConfig", "DigestMismatch", "RegistryUnavailable",
    "LayerInfo", "chain_ids", "IPullTarget", "IPushLayer", "LoginResult", "Platform",
    "PullResult", "PushedLayer", "PushImage", "PushLayer", "PushResult", "Reference",
    "parse_reference", "parse_repository", "RegistryService",
]
