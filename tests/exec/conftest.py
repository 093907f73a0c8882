"""Fixtures for the exec driver tests: a busybox rootfs, each driver (native
and lxc) on the real reactor, and a cgroup parent removed after each test.

Tests taking ``driver`` (or ``run``/``start``) run once per driver; what a
driver cannot do is skipped with ``skip_on(driver, name, reason)``."""

import os
import time
import uuid

import pytest
from twisted.internet import reactor
from zope.interface import implementer

from pydocker.drivers.exec import spec as specs
from pydocker.drivers.exec.cgroups import fs as cgroupfs
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
        self.producer = None

    def output_producer(self, producer):
        self.producer = producer

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


def _parent_dirs(name):
    """Every directory ``name`` may have as a parent cgroup, in every mounted
    hierarchy (LXC also uses the named systemd one and the v2 one)."""
    own = cgroupfs.own_cgroups()
    for mountpoint, fstype, options in cgroupfs.mountinfo():
        keys = [o.replace("name=", "") for o in options] if fstype == "cgroup" else [""]
        base = next((own[k] for k in keys if k in own), "/")
        for start in {base, "/"}:
            yield os.path.join(mountpoint, cgroupfs.container_path(start, name, "").strip("/"))


def _children_after_grace(path, grace=30.0):
    """Child cgroups of ``path``, once a container the test did not wait for has
    had time to exit (both drivers remove a container's cgroups before they report
    its exit; tests/exec/test_lxc_leftovers.py checks that at the moment of the report)."""
    deadline = time.monotonic() + grace
    while True:
        children = [os.path.join(path, d) for d in os.listdir(path)
                    if os.path.isdir(os.path.join(path, d))]
        if not children or time.monotonic() > deadline:
            return children
        time.sleep(0.05)


@pytest.fixture
def cgroup_parent():
    """A parent cgroup per test; after the test it must be empty, then it is removed."""
    name = "pydocker-test-" + uuid.uuid4().hex[:8]
    yield name
    leftovers = []
    for path in _parent_dirs(name):
        if os.path.isdir(path):
            children = _children_after_grace(path)
            leftovers += children
            for child in children:
                cgroupfs.remove(child)
            cgroupfs.remove(path)
    assert leftovers == [], "container cgroups were left behind"


def _make_driver(kind, home):
    if kind == "native":
        from pydocker.drivers.exec.native.driver import NativeDriver
        return NativeDriver(home, {}, reactor)
    from pydocker.drivers.exec.lxc.driver import LXCDriver
    from pydocker.errdefs import PrerequisiteMissing
    try:
        return LXCDriver(home, {}, reactor)
    except PrerequisiteMissing as e:
        pytest.skip("lxc driver unavailable: %s" % e)


@pytest.fixture(params=["native", "lxc"])
def driver(request, tmp_path, rootfs):
    made = _make_driver(request.param, str(tmp_path / request.param))
    yield made
    wait(made.shutdown())


def init_processes(driver):
    """Processes a driver adds to every container: lxc-execute always runs init.lxc."""
    return 1 if driver.name == "lxc" else 0


def skip_on(driver, name, reason):
    """Skip the current test for the driver called ``name`` (a real limit, stated)."""
    if driver.name == name:
        pytest.skip("%s driver: %s" % (name, reason))


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
        spec = make_spec(args, **kwargs)
        d = driver.run(spec, io)
        try:
            status = wait(d)
        except TimeoutError:    # leave no container behind a failed test
            driver.terminate(spec.id)
            wait(d)
            raise
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

