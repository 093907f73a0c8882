"""Archive tests extract as root: owners, device nodes and trusted xattrs need it."""

import os

import pytest


@pytest.fixture(autouse=True)
def _needs_root():
    if os.geteuid() != 0:
        pytest.skip("layer extraction tests need root (lchown, mknod, trusted xattrs)")


@pytest.fixture
def root(tmp_path):
    """An empty extraction root."""
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def host(tmp_path):
    """A directory standing for the host outside the root, with a file layers must never touch."""
    path = tmp_path / "host"
    path.mkdir()
    (path / "passwd").write_text("original\n")
    return path
