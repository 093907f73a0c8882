"""Fixtures shared by the integration tests that need a registry or a busybox tarball."""

import pytest

from pydocker.testing.images import find_busybox, make_rootfs_tar
from pydocker.testing.registry import TEST_PASSWORD, TEST_USER, htpasswd_line


@pytest.fixture(scope="module")
def busybox_tar(tmp_path_factory):
    if find_busybox() is None:
        pytest.skip("Debian's busybox-static is not installed")
    return make_rootfs_tar(str(tmp_path_factory.mktemp("busybox") / "rootfs.tar"))


@pytest.fixture
def registries(make_registry, tmp_path):
    """Factory of registries (``htpasswd=True`` for one that wants a login); killed after."""

    def start(name="registry", htpasswd=False, port=None):
        auth = None
        if htpasswd:
            workdir = tmp_path / name
            workdir.mkdir(exist_ok=True)
            (workdir / "htpasswd").write_text(htpasswd_line(TEST_USER, TEST_PASSWORD))
            auth = {"htpasswd": {"realm": "pydocker-test", "path": str(workdir / "htpasswd")}}
        return make_registry(auth=auth, name=name, port=port)

    return start


@pytest.fixture
def registry(registries):
    return registries()
