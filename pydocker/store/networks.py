"""Networks, endpoints and IP allocations in SQLite: the bridge driver's
``IAllocationStore`` and the rows ``network ls`` shows.

The driver calls its store from worker threads, in the middle of an
all-or-nothing connect, while it holds its own lock. Hopping to the daemon's
db thread through the reactor for each call would cost two thread switches
per query and deadlock if ever called on the reactor thread. So this store
opens its own connection to the same database file (WAL lets two connections
coexist; each write is one ``BEGIN IMMEDIATE`` transaction) and serialises
its callers with a lock, since one SQLite connection serves one thread at a
time.
"""

import json
import threading
import time

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from zope.interface import implementer

from pydocker.drivers.network.interfaces import IAllocationStore
from pydocker.drivers.network.model import Endpoint, NetworkRecord
from pydocker.errdefs import Conflict
from pydocker.store.db import open_engine
from pydocker.store.schema import ip_allocations, network_endpoints, networks


class NetworkRow:
    """One row of the networks table, for every driver (bridge, host, null)."""

    def __init__(self, id, name, driver, created, config):
        self.id, self.name, self.driver, self.created = id, name, driver, created
        self.config = config  # dict: a NetworkRecord's fields for bridge networks

    @property
    def record(self):
        """The bridge driver's NetworkRecord (bridge networks only)."""
        return NetworkRecord.from_dict(self.config) if self.driver == "bridge" else None


@implementer(IAllocationStore)
class NetworkStore:
    """``driver`` is the driver whose records ``list_networks`` returns."""

    def __init__(self, path, driver="bridge"):
        self._engine = open_engine(path)
        self._driver = driver
        self._lock = threading.Lock()

    def close(self):
        self._engine.dispose()

    def _run(self, f, *args):
        with self._lock, self._engine.begin() as conn:
            return f(conn, *args)

    # -- IAllocationStore -------------------------------------------------

    def allocations(self, network_id):
        def query(conn):
            rows = conn.execute(select(ip_allocations.c.address, ip_allocations.c.owner)
                                .where(ip_allocations.c.network_id == network_id))
            return dict(rows.all())
        return self._run(query)

    def add_endpoint(self, endpoint):
        def add(conn):
            conn.execute(insert(ip_allocations).values(
                network_id=endpoint.network_id, address=endpoint.ip_address,
                owner=endpoint.endpoint_id))
            conn.execute(insert(network_endpoints).values(
                endpoint_id=endpoint.endpoint_id, network_id=endpoint.network_id,
                config=json.dumps(endpoint.to_dict())))
        try:
            self._run(add)
        except IntegrityError:
            raise Conflict(f"address {endpoint.ip_address} is already in use on network "
                           f"{endpoint.network_id[:12]}") from None

    def remove_endpoint(self, endpoint):
        def remove(conn):
            conn.execute(delete(network_endpoints).where(
                network_endpoints.c.endpoint_id == endpoint.endpoint_id))
            conn.execute(delete(ip_allocations).where(
                (ip_allocations.c.network_id == endpoint.network_id)
                & (ip_allocations.c.address == endpoint.ip_address)))
        self._run(remove)

    def release(self, network_id, ip):
        self._run(lambda conn: conn.execute(delete(ip_allocations).where(
            (ip_allocations.c.network_id == network_id) & (ip_allocations.c.address == ip))))

    def list_networks(self):
        return [row.record for row in self.rows() if row.driver == self._driver]

    def save_network(self, record):
        self._run(_upsert_network, record.id, record.name, self._driver, record.to_dict())

    def delete_network(self, network_id):
        self._run(lambda conn: conn.execute(delete(networks).where(networks.c.id == network_id)))

    def list_endpoints(self):
        def query(conn):
            return [Endpoint.from_dict(json.loads(text))
                    for (text,) in conn.execute(select(network_endpoints.c.config))]
        return self._run(query)

    # -- every driver's networks -------------------------------------------

    def rows(self):
        """Every network as a NetworkRow, oldest first."""
        def query(conn):
            result = conn.execute(select(networks).order_by(networks.c.created, networks.c.name))
            return [NetworkRow(r.id, r.name, r.driver, r.created, json.loads(r.config))
                    for r in result]
        return self._run(query)

    def ensure_network(self, network_id, name, driver):
        """A network only the daemon knows (``host``, ``none``): kept under
        ``name``; returns its id (the stored one when it already exists)."""
        def ensure(conn):
            found = conn.execute(select(networks.c.id).where(networks.c.name == name)).first()
            if found:
                return found[0]
            _upsert_network(conn, network_id, name, driver, {"name": name})
            return network_id
        return self._run(ensure)


def _upsert_network(conn, network_id, name, driver, config):
    """Insert, or update keeping the creation time."""
    values = {"name": name, "driver": driver, "config": json.dumps(config)}
    changed = conn.execute(update(networks).where(networks.c.id == network_id).values(**values))
    if changed.rowcount == 0:
        try:
            conn.execute(insert(networks).values(id=network_id, created=time.time_ns(), **values))
        except IntegrityError:
            raise Conflict(f"network with name {name} already exists") from None
