"""The SQLite IAllocationStore on a real database file: the contract the bridge
driver relies on, persistence across a reopen (a daemon restart), and the
schema migration that adds the endpoints table."""

import threading

import pytest
from sqlalchemy import inspect, text
from zope.interface.verify import verifyObject

from pydocker.drivers.network.interfaces import IAllocationStore
from pydocker.drivers.network.model import Endpoint, NetworkRecord, PortBinding
from pydocker.drivers.network.writebehind import WriteBehindStore
from pydocker.errdefs import Conflict
from pydocker.store import migrations
from pydocker.store.db import open_engine
from pydocker.store.networks import NetworkStore


def record(network_id="n1", name="net1", subnet="172.30.0.0/16", **kw):
    return NetworkRecord(id=network_id, name=name, bridge=f"br-{network_id}", subnet=subnet,
                         gateway=subnet.replace("0/16", "1").replace(".0.1", ".0.1"), **kw)


def endpoint(endpoint_id="e1", network_id="n1", ip="172.30.0.2"):
    return Endpoint(endpoint_id=endpoint_id, network_id=network_id, ip_address=ip, prefix_len=16,
                    gateway="172.30.0.1", mac_address="02:42:ac:1e:00:02", host_veth="vethabc",
                    container_ifname="eth0", bridge="br-n1", netns="/proc/1/ns/net",
                    aliases=["web"], ports=[PortBinding(80, "tcp", "0.0.0.0", 8080)])


@pytest.fixture
def db_path(tmp_path):
    path = str(tmp_path / "pydocker.db")
    engine = open_engine(path)
    migrations.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def store(db_path):
    s = NetworkStore(db_path)
    yield s
    s.close()


def test_provides_the_interface(store):
    assert verifyObject(IAllocationStore, store)


def test_networks_round_trip_and_survive_a_reopen(store, db_path):
    store.save_network(record(labels={"a": "b"}, options={"com.docker.network.bridge.name": "br-n1"}))
    store.add_endpoint(endpoint())
    store.close()
    again = NetworkStore(db_path)
    try:
        [found] = again.list_networks()
        assert found == record(labels={"a": "b"}, options={"com.docker.network.bridge.name": "br-n1"})
        assert again.allocations("n1") == {"172.30.0.2": "e1"}
        [ep] = again.list_endpoints()
        assert ep == endpoint() and ep.ports[0].host_port == 8080
    finally:
        again.close()


def test_an_endpoint_with_a_taken_address_is_a_conflict_and_keeps_the_first(store):
    store.save_network(record())
    store.add_endpoint(endpoint())
    with pytest.raises(Conflict, match="already in use"):
        store.add_endpoint(endpoint("e2"))
    assert store.allocations("n1") == {"172.30.0.2": "e1"}
    assert [e.endpoint_id for e in store.list_endpoints()] == ["e1"]  # nothing of e2 stored
    store.remove_endpoint(endpoint())
    store.remove_endpoint(endpoint())  # absent: no error
    assert store.allocations("n1") == {} and store.list_endpoints() == []


def test_a_stale_allocation_is_released(store):
    store.save_network(record())
    store.add_endpoint(endpoint())
    store.release("n1", "172.30.0.2")
    store.release("n1", "172.30.0.2")  # absent: no error
    assert store.allocations("n1") == {}


def test_saving_again_updates_and_keeps_the_creation_time(store):
    store.save_network(record())
    [first] = store.rows()
    store.save_network(record(internal=True))
    [second] = store.rows()
    assert second.created == first.created and second.record.internal


def test_deleting_a_network_forgets_its_allocations_and_endpoints(store):
    store.save_network(record())
    store.save_network(record("n2", "net2", "172.31.0.0/16"))
    store.add_endpoint(endpoint())
    store.add_endpoint(endpoint("e2", "n2", "172.31.0.2"))
    store.delete_network("n1")
    assert [r.id for r in store.list_networks()] == ["n2"]
    assert store.allocations("n1") == {} and store.allocations("n2") == {"172.31.0.2": "e2"}
    assert [e.endpoint_id for e in store.list_endpoints()] == ["e2"]


def test_only_the_drivers_networks_are_listed_to_it(store):
    store.save_network(record())
    host_id = store.ensure_network("h" * 64, "host", "host")
    assert store.ensure_network("x" * 64, "host", "host") == host_id  # kept, not duplicated
    assert [r.id for r in store.list_networks()] == ["n1"]
    assert {(r.name, r.driver) for r in store.rows()} == {("net1", "bridge"), ("host", "host")}


def test_a_second_network_with_a_taken_name_is_refused(store):
    store.save_network(record())
    with pytest.raises(Conflict, match="already exists"):
        store.save_network(record("n2", "net1", "172.31.0.0/16"))
    assert [r.id for r in store.list_networks()] == ["n1"]


def test_threads_allocate_without_handing_out_an_address_twice(store):
    """The driver calls the store from several worker threads."""
    store.save_network(record())
    errors, wins = [], []

    def grab(owner):
        try:
            store.add_endpoint(endpoint(owner, ip="172.30.0.9"))
            wins.append(owner)
        except Conflict:
            pass
        except Exception as e:  # any other error is a failure of the store
            errors.append(e)

    threads = [threading.Thread(target=grab, args=(f"e{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(wins) == 1
    assert store.allocations("n1") == {"172.30.0.9": wins[0]}


def test_a_version_1_database_gains_the_endpoints_table(tmp_path):
    path = str(tmp_path / "old.db")
    engine = open_engine(path)
    migrations.upgrade(engine, migrations.MIGRATIONS[:1])
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE network_endpoints"))  # as version 1 really was
    assert "network_endpoints" not in inspect(engine).get_table_names()
    assert migrations.upgrade(engine) == migrations.MIGRATIONS[-1][0]
    assert "network_endpoints" in inspect(engine).get_table_names()
    engine.dispose()


def test_write_behind_keeps_order_and_reads_see_every_write(store, db_path, caplog):
    wrapped = WriteBehindStore(store)
    assert verifyObject(IAllocationStore, wrapped)
    wrapped.save_network(record())
    for i in range(20):
        wrapped.add_endpoint(endpoint(f"e{i}", ip=f"172.30.0.{i + 2}"))
    for i in range(0, 20, 2):
        wrapped.remove_endpoint(endpoint(f"e{i}", ip=f"172.30.0.{i + 2}"))
    wrapped.add_endpoint(endpoint("late", ip="172.30.0.3"))  # taken by e1: refused in the background
    assert sorted(e.endpoint_id for e in wrapped.list_endpoints()) == sorted(f"e{i}" for i in range(1, 20, 2))
    assert len(wrapped.allocations("n1")) == 10
    assert "already in use" in caplog.text
    wrapped.release("n1", "172.30.0.3")
    wrapped.close()
    assert "172.30.0.3" not in store.allocations("n1")  # close waited for the write
    again = NetworkStore(db_path)
    try:
        assert len(again.list_endpoints()) == 10
    finally:
        again.close()
