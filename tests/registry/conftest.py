"""Fixtures for the registry client tests: Debian's docker-registry on 127.0.0.1."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from pydocker.testing.registry import REGISTRY_BINARY, RegistryProcess  # noqa: E402

from pydocker.registry import RegistryService  # noqa: E402
from pydocker.testing.images import find_busybox, make_rootfs_tar  # noqa: E402


@pytest.fixture
def make_registry(tmp_path):
    """Factory: start a registry with the given auth/tls sections; all are killed after."""
    if REGISTRY_BINARY is None:
        pytest.skip("Debian's docker-registry is not installed")
    started = []

    def start(auth=None, tls=None, name="registry", port=None):
        workdir = tmp_path / name
        workdir.mkdir(exist_ok=True)
        registry = RegistryProcess(str(workdir), port=port, auth=auth, tls=tls).start()
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


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
