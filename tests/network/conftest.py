"""Fixtures for the network driver tests: they need root and a private
network namespace (``unshare --net``), since they create bridges and
iptables rules; "containers" are ``unshare --net sleep`` processes."""

import os
import subprocess
import threading
import time

import pytest

from pydocker.drivers.network.bridge import BridgeDriver
from pydocker.drivers.network.config import NetworkConfig
from pydocker.testing.networkdriver import DriverHarness

from nethelpers import EchoServer, require_private_netns


@pytest.fixture
def host_resolv_conf(tmp_path):
    """A resolv.conf standing in for the host's, so subnet choice does not
    depend on this machine's nameservers."""
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 192.0.2.53\n")
    return str(path)


@pytest.fixture
def make_driver(host_resolv_conf):
    require_private_netns()
    drivers = []

    def make(proxy=None, stored=(), stale=(), **options):
        """A set-up bridge driver in a DriverHarness; ``stored`` networks and
        ``stale`` endpoints as a restarted daemon hands them over."""
        options.setdefault("resolv_conf", host_resolv_conf)
        driver = DriverHarness(BridgeDriver(NetworkConfig(**options), proxy), stored, stale)
        drivers.append(driver)
        return driver

    yield make
    for driver in reversed(drivers):
        try:
            driver.teardown()
        except Exception:  # a test may already have torn it down
            pass


@pytest.fixture
def make_container():
    """Processes in new network namespaces; returns their pids."""
    require_private_netns()
    procs = []

    def make():
        proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
        procs.append(proc)
        own = os.stat("/proc/self/ns/net").st_ino
        for _ in range(200):
            try:
                if os.stat(f"/proc/{proc.pid}/ns/net").st_ino != own:
                    return proc.pid
            except FileNotFoundError:
                pass
            time.sleep(0.005)
        raise RuntimeError("the container process did not enter its namespace")

    yield make
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.fixture
def echo_server():
    servers = []

    def start(pid, port, proto="tcp"):
        servers.append(EchoServer(pid, port, proto))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def reactor():
    """The global reactor, running in a thread, as the daemon's would while
    worker threads call the driver."""
    from twisted.internet import reactor as global_reactor
    thread = threading.Thread(target=global_reactor.run,
                              kwargs={"installSignalHandlers": False}, daemon=True)
    thread.start()
    yield global_reactor
    global_reactor.callFromThread(global_reactor.stop)
    thread.join(5)
