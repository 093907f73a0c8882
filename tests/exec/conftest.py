"""Fixtures for the native exec driver tests: a busybox rootfs, a driver on
the real reactor, and a cgroup parent removed after each test."""

import os
import uuid

import pytest
from twisted.internet import reactor
from zope.interface import implementer

from pydocker.drivers.exec import spec as specs
from pydocker.drivers.exec.cgroups import fs as cgroupfs, v1
from pydocker.drivers.exec.interfaces import IContainerIO
from pydocker.testing.images import find_busybox, make_rootfs
from exec_reactor import spin, stop, wait


@implementer(IContainerIO)
class Recorder:
    """Collects a container's output; ``pid``/``stdin`` once it started."""

    def __init__(self):
        self.out = b""
        self.err = b""
        self.pid = None
        self.stdin = None

    def started(self, pid, stdin):
        self.pid = pid
        self.stdin = stdin

    def stdout(self, data):
        self.out += data

    def stderr(self, data):
        self.err += data

    @property
    def text(self):
        return self.out.decode(errors="replace")


@pytest.fixture(scope="session", autouse=True)
def _reactor_shutdown():
    yield
    stop()


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the native exec driver needs root")
    if find_busybox() is None:
        pytest.skip("no static busybox (install busybox-static)")
    path = make_rootfs(str(tmp_path_factory.mktemp("rootfs")))
    os.chmod(path, 0o755)     # as in any image; mktemp makes it 0700
    return path


@pytest.fixture
def cgroup_parent():
    """A parent cgroup per test; after the test it must be empty, then it is removed."""
    name = "pydocker-test-" + uuid.uuid4().hex[:8]
    yield name
    own = cgroupfs.own_cgroups()
    leftovers = []
    for controller, root in v1.hierarchies().items():
        path = os.path.join(root, cgroupfs.container_path(own.get(controller, "/"), name, "")
                            .strip("/"))
        if os.path.isdir(path):
            leftovers += [os.path.join(path, d) for d in os.listdir(path)
                          if os.path.isdir(os.path.join(path, d))]
            for child in leftovers:
                cgroupfs.remove(child)
            cgroupfs.remove(path)
    assert leftovers == [], "container cgroups were left behind"


@pytest.fixture
def driver(tmp_path, rootfs):
    from pydocker.drivers.exec.native.driver import NativeDriver
    return NativeDriver(str(tmp_path / "native"), {}, reactor)


@pytest.fixture
def make_spec(rootfs, cgroup_parent):
    def make(args, **kwargs):
        kwargs.setdefault("id", "c" + uuid.uuid4().hex[:12])
        kwargs.setdefault("cgroup_parent", cgroup_parent)
        kwargs.setdefault("hostname", "testbox")
        kwargs.setdefault("env", ["PATH=/bin"])
        return specs.ContainerSpec(rootfs=rootfs, args=args, **kwargs)
    return make


@pytest.fixture
def run(driver, make_spec):
    """Run a container to completion: returns (ExitStatus, Recorder)."""
    def run_container(args, **kwargs):
        io = Recorder()
        status = wait(driver.run(make_spec(args, **kwargs), io))
        return status, io
    return run_container


@pytest.fixture
def start(driver, make_spec):
    """Start a container and wait until its command runs: returns
    (spec, Recorder, Deferred of its ExitStatus). Kills leftovers afterwards."""
    started = []

    def start_container(args, **kwargs):
        io = Recorder()
        spec = make_spec(args, **kwargs)
        d = driver.run(spec, io)
        outcome = []
        d.addBoth(outcome.append)
        spin(lambda: io.pid is not None or outcome)
        started.append((spec.id, outcome))
        return spec, io, outcome
    yield start_container
    for container_id, outcome in started:
        if not outcome:
            driver.terminate(container_id)
            spin(lambda: outcome)

