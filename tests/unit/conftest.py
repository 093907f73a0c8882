"""Unit-test scaffolding: a Runtime on a memory reactor.

Fakes stand in for the kernel-facing parts (``pydocker.testing.fakes``: the exec
and graph drivers) and for the network service (``StandInNetwork``); what is real:
the Runtime, the container records in SQLite, the volume service, the json-file
log driver, the event bus and the engine.
"""

import time

import pytest
from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock

from pydocker.containers.model import Container, ContainerIndex
from pydocker.daemon import config as daemon_config
from pydocker.engine.events import EventBus
from pydocker.engine.job import Engine
from pydocker.logdrivers.jsonfile import JSONFileDriver
from pydocker.runtime.monitor import Runtime
from pydocker.store import containers as cstore
from pydocker.store import images as istore
from pydocker.store.db import Database
from pydocker.testing.fakes import FakeExecDriver, FakeGraphDriver, InlineLogThread, InlineStore, InlineWorkers
from pydocker.volumes.service import VolumeService


IMAGE_ID = "sha256:" + "0" * 64


class StandInNetwork:
    """A stand-in for the network service: containers get no network."""

    def on_create(self, container, networking):
        pass

    def hook(self, container):
        return None

    def link_env(self, container):
        return []

    def write_files(self, container, directory):
        pass

    def release(self, container):
        return defer.succeed(None)


class World:
    def __init__(self, tmp_path):
        self.clock = MemoryReactorClock()
        (tmp_path / "daemon.json").write_text("{}")
        self.config = daemon_config.load(["--data-root", str(tmp_path / "root"),
                                          "--exec-root", str(tmp_path / "exec"),
                                          "--config-file", str(tmp_path / "daemon.json")])
        self.execdriver = FakeExecDriver()
        self.graph = FakeGraphDriver(str(tmp_path / "graph"))
        database = Database(str(tmp_path / "db"), self.clock)
        database.run_sync(istore.insert_image, istore.ImageRow(IMAGE_ID, b"{}", None, None, 0))
        self.store = InlineStore(database)
        self.events = EventBus()
        self.index = ContainerIndex()
        volumes = VolumeService(self.clock, self.store, self.events, self.index, self.config.data_root)
        self.engine = Engine(self.clock)
        self.volumes = volumes
        self.logdrivers = {"json-file": JSONFileDriver()}
        self.network = StandInNetwork()
        self.runtime = Runtime(self.clock, InlineWorkers(), self.execdriver, self.graph, self.network, volumes,
                               self.logdrivers, InlineLogThread(), self.store, self.events, self.index,
                               self.config)

    def container(self, name="c1", **host_config):
        container = Container(id=name.encode().hex().ljust(64, "0"), name=name, image_id=IMAGE_ID,
                              image_name="busybox", created=time.time_ns(), config={"Cmd": ["true"]},
                              host_config={"LogConfig": {"Type": "json-file", "Config": {}}, **host_config})
        self.graph.create(container.id)
        self.index.add(container)
        self.store.run(cstore.insert_record, cstore.record(container))
        return container

    def actions(self, container):
        return [e["Action"] for e in self.events.history() if e["Actor"]["ID"] == container.id]



@pytest.fixture
def world(tmp_path):
    return World(tmp_path)
