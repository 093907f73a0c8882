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
def make_daemon(tmp_path):
    """Factory of running daemons, each on its own root ``tmp_path/<name>``; keyword
    arguments go to ``DaemonProcess``. Each is stopped and checked after the test."""
    started = []

    def start(name="daemon", **kwargs):
        d = DaemonProcess(tmp_path / name, **kwargs).start()
        started.append(d)
        return d

    yield start
    for d in started:
        assert d.stop() == 0, d.log()


@pytest.fixture
def make_registry(tmp_path):
    """Factory: start Debian's docker-registry with the given auth/tls sections; all are
    killed after."""
    from pydocker.testing.registry import REGISTRY_BINARY, RegistryProcess

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


@pytest.fixture
def dockerd(tmp_path):
    """Docker's own dockerd (Debian docker.io) on a private root, no bridge and no iptables;
    skipped where it is not installed."""
    from pydocker.testing import dockerd as docker_daemon
    missing = docker_daemon.available()
    if missing:
        pytest.skip(missing)
    d = docker_daemon.Dockerd(tmp_path / "dockerd").start()
    yield d
    d.stop()
