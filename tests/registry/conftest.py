"""Fixtures for the registry client tests: Debian's docker-registry on 127.0.0.1
(``make_registry`` is in tests/conftest.py)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from pydocker.registry import RegistryService  # noqa: E402
from pydocker.testing.images import find_busybox, make_rootfs_tar  # noqa: E402


@pytest.fixture
def registry(make_registry):
    """A plain-HTTP registry without auth."""
    return make_registry()


@pytest.fixture
def service(tmp_path):
    """Default settings (loopback is insecure, as in Docker) with a private certs.d."""
    certs = tmp_path / "certs.d"
    certs.mkdir()
    return RegistryService(certs_dir=str(certs), tmpdir=str(tmp_path))


@pytest.fixture
def store(tmp_path):
    from registry_images import TarStoreTarget
    return TarStoreTarget(str(tmp_path / "layers"))


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory):
    if find_busybox() is None:
        pytest.skip("Debian's busybox-static is not installed")
    return make_rootfs_tar(str(tmp_path_factory.mktemp("busybox") / "rootfs.tar"))
