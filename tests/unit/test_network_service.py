"""Unit tests of the NetworkService on a memory reactor, with fake network
drivers (``pydocker.testing.networkdriver``) and a real SQLite store run
synchronously: networks, endpoints and addresses, owned by the service and
restored from the store. No root, no kernel.

The embedded DNS needs a container's network namespace: it is replaced here
by a recorder (``Sandboxes.ensure_dns``); its lookups have their own tests.
"""

import os
from types import SimpleNamespace

import pytest
from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock
from zope.interface.verify import verifyObject

from pydocker.containers.model import Container, ContainerIndex
from pydocker.drivers.network.interfaces import INetworkDriver
from pydocker.errdefs import Conflict, Forbidden, NotFound, SystemError_
from pydocker.networking.drivers import NetworkDrivers
from pydocker.networking.sandbox import Sandboxes
from pydocker.networking.service import NetworkService
from pydocker.store import networks as network_store
from pydocker.store.db import Database
from pydocker.testing.networkdriver import FakeNetworkDriver


def result_of(d):
    """The result of a Deferred that has fired (everything here runs synchronously)."""
    results = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


class Harness:
    """A NetworkService over fake bridge, host and null drivers and a real SQLite file."""

    def __init__(self, tmp_path, bridge="", drivers=None):
        self.tmp_path = tmp_path
        self.db = Database(str(tmp_path / "pydocker.db"), MemoryReactorClock())
        self.events = []
        self.containers = ContainerIndex()
        self.drivers = drivers or [FakeNetworkDriver(name="bridge", predefine="bridge", subnet="172.18.0.0/16"),
                                   FakeNetworkDriver(name="host", predefine="host", subnet=None),
                                   FakeNetworkDriver(name="null", predefine="none", subnet=None)]
        config = SimpleNamespace(bridge=bridge, dns=[], dns_search=[], dns_opts=[], data_root=str(tmp_path))
        self.service = NetworkService(
            reactor=MemoryReactorClock(),
            workers=SimpleNamespace(run=lambda f, *a, **kw: defer.maybeDeferred(f, *a, **kw)),
            store=SimpleNamespace(run=lambda f, *a: defer.maybeDeferred(self.db.run_sync, f, *a)),
            events=SimpleNamespace(publish=lambda *event: self.events.append(event[:3])),
            containers=self.containers, config=config,
            drivers=NetworkDrivers(None, None, loaded=self.drivers))
        result_of(self.service.startService())

    def driver(self, name):
        return next(d for d in self.drivers if d.name == name)

    def stored(self):
        return self.db.run_sync(network_store.load)

    def container(self, name, network="default", **endpoints):
        container = Container(id=name.encode().hex().ljust(64, "0"), name=name, image_id="sha256:x",
                              image_name="busybox", created=1, config={},
                              host_config={"NetworkMode": network})
        self.containers.add(container)
        os.makedirs(self.tmp_path / "containers" / container.id)
        self.service.on_create(container, {"EndpointsConfig": endpoints} if endpoints else None)
        return container

    def start(self, container, pid=4242):
        hook = self.service.hook(container)
        result_of(hook(pid))
        container.set_running(pid)
        return container


@pytest.fixture
def dns_started(monkeypatch):
    """Containers whose embedded DNS would have started."""
    started = []

    def ensure_dns(self, container, pid):
        if self._user_networks(container):
            started.append(container.name)
        return defer.succeed(None)

    monkeypatch.setattr(Sandboxes, "ensure_dns", ensure_dns)
    return started


def test_the_fake_driver_provides_the_interface():
    assert verifyObject(INetworkDriver, FakeNetworkDriver())


def test_start_stores_the_predefined_networks_and_a_restart_restores_them(tmp_path):
    first = Harness(tmp_path)
    assert [(n.name, n.driver) for n in first.service.networks()] == [
        ("bridge", "bridge"), ("host", "host"), ("none", "null")]
    ids = {n.name: n.id for n in first.service.networks()}
    stored, _ = first.stored()
    assert {n["name"]: n["id"] for n in stored} == ids
    again = Harness(tmp_path)  # a daemon restart on the same store
    assert {n.name: n.id for n in again.service.networks()} == ids
    assert again.driver("bridge").calls[0] == ("setup", ["bridge"], [])


def test_create_stores_the_network_and_refuses_a_taken_name(tmp_path):
    h = Harness(tmp_path)
    network = result_of(h.service.create("apps", {"driver": "bridge", "subnet": "10.9.0.0/24",
                                                  "labels": {"a": "b"}}))
    assert (network.gateway, network.data, network.labels) == ("10.9.0.1", {"made by": "bridge"}, {"a": "b"})
    assert h.service.find("apps") is network and h.service.find(network.id[:10]) is network
    assert ("create_network", "apps") in h.driver("bridge").calls
    assert ("network", "create", network.id) in h.events
    stored, _ = h.stored()
    assert [n for n in stored if n["name"] == "apps"][0]["subnet"] == "10.9.0.0/24"
    with pytest.raises(Conflict, match="already exists"):
        result_of(h.service.create("apps", {"driver": "bridge"}))
    with pytest.raises(Conflict, match="taken"):  # the driver's own refusal: nothing kept
        result_of(h.service.create("other", {"driver": "bridge", "subnet": "10.9.0.0/24"}))
    assert [n.name for n in h.service.networks()] == ["bridge", "host", "none", "apps"]


def test_a_network_names_its_driver_and_an_unknown_one_is_not_found(tmp_path):
    extra = FakeNetworkDriver(name="recording")
    h = Harness(tmp_path, drivers=None)
    h.service._drivers = NetworkDrivers(None, None, loaded=[*h.drivers, extra])
    network = result_of(h.service.create("rec", {"driver": "recording", "subnet": "10.7.0.0/24"}))
    assert network.driver == "recording"
    assert extra.calls == [("setup", [], []), ("create_network", "rec")]  # set up on first use
    result_of(h.service.create("rec2", {"driver": "recording", "subnet": "10.8.0.0/24"}))
    assert [c[0] for c in extra.calls] == ["setup", "create_network", "create_network"]
    with pytest.raises(NotFound, match='plugin "nosuchdriver" not found'):
        result_of(h.service.create("x", {"driver": "nosuchdriver"}))
    assert h.service.network_named("x") is None


def test_networks_cannot_be_created_with_networking_disabled(tmp_path):
    h = Harness(tmp_path, bridge="none")
    assert [n.name for n in h.service.networks()] == ["host", "none"]
    with pytest.raises(Forbidden, match="disabled"):
        result_of(h.service.create("apps", {"driver": "bridge"}))


def test_addresses_are_taken_lowest_first_and_given_back_after_the_release(tmp_path, dns_started):
    h = Harness(tmp_path)
    one, two = h.start(h.container("one")), h.start(h.container("two"))
    assert one.network_settings["IPAddress"] == "172.18.0.2"
    assert two.network_settings["Networks"]["bridge"]["IPAddress"] == "172.18.0.3"
    assert h.driver("bridge").calls[-1] == ("connect", "bridge", "172.18.0.3", 4242)
    _, endpoints = h.stored()
    assert sorted(e["ip_address"] for e in endpoints) == ["172.18.0.2", "172.18.0.3"]
    result_of(h.service.release(one))
    assert one.network_settings["IPAddress"] == "" and h.service.endpoints_of(one.id) == {}
    assert h.driver("bridge").calls[-1] == ("disconnect", "bridge", "172.18.0.2")
    three = h.start(h.container("three"))
    assert three.network_settings["IPAddress"] == "172.18.0.2"  # the freed address again
    assert dns_started == []  # the default bridge has no embedded DNS
    hosts = (tmp_path / "containers" / three.id / "hosts").read_text()
    assert f"172.18.0.2\t{three.id[:12]}\n" in hosts


def test_a_failed_connect_gives_its_address_back(tmp_path, dns_started):
    h = Harness(tmp_path)
    h.driver("bridge").fail_next("connect", SystemError_("no veth today"))
    container = h.container("one")
    with pytest.raises(SystemError_, match="no veth"):
        h.start(container)
    assert h.service.endpoints_of(container.id) == {} and h.stored()[1] == []
    assert h.start(h.container("two")).network_settings["IPAddress"] == "172.18.0.2"


def test_connect_and_disconnect_a_running_container(tmp_path, dns_started):
    h = Harness(tmp_path)
    apps = result_of(h.service.create("apps", {"driver": "bridge", "subnet": "10.9.0.0/24"}))
    web = h.start(h.container("web"))
    h.start(h.container("db", "apps"))
    calls = len(h.driver("bridge").calls)
    with pytest.raises(Conflict, match="already in use"):
        result_of(h.service.connect(web, "apps", {"IPAMConfig": {"IPv4Address": "10.9.0.2"}}))
    assert "apps" not in web.network_settings["Networks"] and len(h.driver("bridge").calls) == calls
    result_of(h.service.connect(web, "apps", {"Aliases": ["www"], "IPAMConfig": {"IPv4Address": "10.9.0.9"}}))
    settings = web.network_settings["Networks"]["apps"]
    assert settings["IPAddress"] == "10.9.0.9" and settings["DNSNames"] == ["web", "www", web.id[:12]]
    assert sorted(c.name for c, _ in h.service.containers_of(apps.id)) == ["db", "web"]
    assert dns_started == ["db", "web"]
    with pytest.raises(Forbidden, match="active endpoints"):
        result_of(h.service.remove("apps"))
    result_of(h.service.disconnect(web, "apps"))
    assert "apps" not in web.network_settings["Networks"]
    assert [c.name for c, _ in h.service.containers_of(apps.id)] == ["db"]
    assert ("network", "disconnect", apps.id) in h.events


def test_remove_forgets_the_network_in_the_driver_and_the_store(tmp_path, dns_started):
    h = Harness(tmp_path)
    result_of(h.service.create("apps", {"driver": "bridge", "subnet": "10.9.0.0/24"}))
    with pytest.raises(Forbidden, match="pre-defined"):
        result_of(h.service.remove("bridge"))
    result_of(h.service.remove("apps"))
    assert ("delete_network", "apps") in h.driver("bridge").calls
    assert "apps" not in [n["name"] for n in h.stored()[0]]
    with pytest.raises(NotFound):
        h.service.find("apps")


def test_a_restart_hands_the_endpoints_left_in_the_store_to_their_drivers(tmp_path, dns_started):
    h = Harness(tmp_path)
    apps = result_of(h.service.create("apps", {"driver": "bridge", "subnet": "10.9.0.0/24"}))
    container = h.start(h.container("web", "apps"))
    [endpoint] = h.service.endpoints_of(container.id).values()
    # The daemon dies with the container running: its endpoint is still stored.
    again = Harness(tmp_path)
    assert again.driver("bridge").calls[0] == ("setup", ["apps", "bridge"], [endpoint.endpoint_id])
    assert again.stored()[1] == []
    assert again.service.find("apps").id == apps.id
    assert again.start(again.container("db", "apps")).network_settings["Networks"]["apps"]["IPAddress"] \
        == "10.9.0.2"


def test_host_and_none_containers_get_their_networks_endpoint(tmp_path, dns_started):
    h = Harness(tmp_path)
    on_host, on_none = h.start(h.container("h", "host")), h.start(h.container("n", "none"))
    assert h.driver("host").calls[-1] == ("connect", "host", "", 4242)
    assert h.driver("null").calls[-1] == ("connect", "none", "", 4242)
    assert [c.name for c, _ in h.service.containers_of(h.service.find("none").id)] == ["n"]
    assert on_host.network_settings["Networks"]["host"]["EndpointID"]
    with pytest.raises(Forbidden, match="private"):
        result_of(h.service.connect(on_none, "bridge", {}))


def test_stop_releases_every_container_and_tears_each_driver_down(tmp_path, dns_started):
    h = Harness(tmp_path)
    result_of(h.service.create("apps", {"driver": "bridge", "subnet": "10.9.0.0/24"}))
    h.start(h.container("web", "apps"))
    result_of(h.service.stopService())
    assert h.driver("bridge").calls[-2:] == [("disconnect", "apps", "10.9.0.2"),
                                             ("teardown", ["apps", "bridge"])]
    assert h.driver("host").calls[-1] == ("teardown", ["host"])
