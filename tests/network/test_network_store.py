"""Networks and endpoints in SQLite (``store/networks.py``) on a real database
file: round trips, a reopen (a daemon restart), what deleting a network takes
with it, and the migrations that brought the tables to their shape."""

import json

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from pydocker.drivers.network.model import Endpoint, Network, PortBinding
from pydocker.store import migrations, networks as store
from pydocker.store.db import open_engine
from pydocker.store.schema import networks as networks_table


def network(network_id="n1", name="net1", subnet="172.30.0.0/16", **kw):
    return Network(id=network_id, name=name, driver="bridge", created=int(network_id[1:]),
                   subnet=subnet, gateway=subnet.replace("0/16", "1"), data={"bridge": f"br-{network_id}"}, **kw)


def endpoint(endpoint_id="e1", network_id="n1", ip="172.30.0.2"):
    return Endpoint(endpoint_id=endpoint_id, network_id=network_id, ip_address=ip, prefix_len=16,
                    gateway="172.30.0.1", mac_address="02:42:ac:1e:00:02", aliases=["web"],
                    ports=[PortBinding(80, "tcp", "0.0.0.0", 8080)])


@pytest.fixture
def db(tmp_path):
    engine = open_engine(str(tmp_path / "pydocker.db"))
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


def run(engine, f, *args):
    with engine.begin() as conn:
        return f(conn, *args)


def loaded(engine):
    networks, endpoints = run(engine, store.load)
    return [Network.from_dict(n) for n in networks], [Endpoint.from_dict(e) for e in endpoints]


def test_networks_and_endpoints_round_trip_and_survive_a_reopen(db, tmp_path):
    run(db, store.save_network, network(labels={"a": "b"}, options={"o": "1"}).to_dict())
    run(db, store.add_endpoint, endpoint().to_dict())
    db.dispose()
    again = open_engine(str(tmp_path / "pydocker.db"))
    try:
        [found], [ep] = loaded(again)
        assert found == network(labels={"a": "b"}, options={"o": "1"})
        assert ep == endpoint() and ep.ports[0].host_port == 8080
    finally:
        again.dispose()


def test_saving_again_replaces_the_record_in_place(db):
    run(db, store.save_network, network().to_dict())
    run(db, store.save_network, network("n2", "net2", "172.31.0.0/16").to_dict())
    run(db, store.save_network, network(internal=True).to_dict())
    found, _ = loaded(db)
    assert [(n.name, n.internal) for n in found] == [("net1", True), ("net2", False)]  # oldest first


def test_an_address_is_held_once_per_network(db):
    """The service's AddressBook hands no address out twice; the database refuses it too."""
    run(db, store.save_network, network().to_dict())
    run(db, store.add_endpoint, endpoint().to_dict())
    with pytest.raises(IntegrityError):
        run(db, store.add_endpoint, endpoint("e2").to_dict())
    assert [e.endpoint_id for e in loaded(db)[1]] == ["e1"]
    run(db, store.remove_endpoint, endpoint().to_dict())
    run(db, store.remove_endpoint, endpoint().to_dict())  # absent: no error
    run(db, store.add_endpoint, endpoint("e2").to_dict())
    assert [e.endpoint_id for e in loaded(db)[1]] == ["e2"]


def test_deleting_a_network_takes_its_endpoints_and_addresses(db):
    run(db, store.save_network, network().to_dict())
    run(db, store.save_network, network("n2", "net2", "172.31.0.0/16").to_dict())
    run(db, store.add_endpoint, endpoint().to_dict())
    run(db, store.add_endpoint, endpoint("e2", "n2", "172.31.0.2").to_dict())
    run(db, store.delete_network, "n1")
    found, endpoints = loaded(db)
    assert [n.id for n in found] == ["n2"] and [e.endpoint_id for e in endpoints] == ["e2"]
    run(db, store.remove_all_endpoints)
    assert loaded(db)[1] == []
    assert run(db, lambda conn: conn.execute(text("SELECT count(*) FROM ip_allocations")).scalar()) == 0


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


def test_version_5_gives_networks_of_every_driver_one_shape(tmp_path):
    """Networks stored by a version 4 daemon: the bridge driver's fields flat,
    host and none with nothing but their name."""
    engine = open_engine(str(tmp_path / "v4.db"))
    migrations.upgrade(engine, migrations.MIGRATIONS[:4])
    old_bridge = {"id": "b" * 64, "name": "bridge", "bridge": "pydocker0", "subnet": "172.18.0.0/16",
                  "gateway": "172.18.0.1", "ip_range": "", "internal": False, "icc": True,
                  "ip_masquerade": True, "mtu": 1500, "host_binding_ipv4": "0.0.0.0", "labels": {},
                  "options": {"com.docker.network.bridge.name": "pydocker0"}, "default": True,
                  "created_bridge": True, "container_gateway": "172.18.0.254"}
    with engine.begin() as conn:
        for network_id, name, driver, config in (("b" * 64, "bridge", "bridge", old_bridge),
                                                 ("h" * 64, "host", "host", {"name": "host"})):
            conn.execute(networks_table.insert().values(id=network_id, name=name, driver=driver, created=1,
                                                        config=json.dumps(config)))
        store.add_endpoint(conn, endpoint(network_id="b" * 64, ip="172.18.0.2").to_dict())
    migrations.upgrade(engine)
    (bridge, host), endpoints = loaded(engine)
    assert bridge.data == {"bridge": "pydocker0", "icc": True, "ip_masquerade": True, "mtu": 1500,
                           "host_binding_ipv4": "0.0.0.0", "created_bridge": True,
                           "container_gateway": "172.18.0.254"}
    assert (bridge.subnet, bridge.gateway, bridge.reserved, bridge.default) == (
        "172.18.0.0/16", "172.18.0.1", ["172.18.0.254"], True)
    assert (host.name, host.driver, host.default, host.subnet) == ("host", "host", True, "")
    assert endpoints == []
    engine.dispose()
