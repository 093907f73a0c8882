import os
import shutil

import pytest

from pydocker.testing.daemon import DaemonProcess

ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config, items):
    if ROOT:
        return
    skip = pytest.mark.skip(reason="needs root and the real kernel (namespaces, mounts, cgroups)")
    for item in items:
        if "kernel" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def daemon(tmp_path):
    """A running pydocker daemon on a temporary root; stopped and checked after the test."""
    d = DaemonProcess(tmp_path / "daemon").start()
    yield d
    status = d.stop()
    assert status == 0, d.log()
    assert not os.path.exists(d.socket), "the daemon left its socket behind"
    assert not os.path.exists(d.pidfile), "the daemon left its pid file behind"


@pytest.fixture
def docker_cli():
    path = shutil.which("docker")
    if path is None:
        pytest.skip("the docker CLI is not installed")
    return path


@pytest.fixture
def busybox_daemon(daemon):
    """A running daemon that has a busybox:latest image."""
    daemon.import_busybox()
    return daemon
