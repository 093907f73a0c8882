"""Networks, endpoints and their addresses in SQLite: functions ``f(conn,
...)`` the NetworkService runs on the db thread through ``Database.run``.

They take and return plain dicts (``Network.to_dict()``, ``Endpoint.to_dict()``):
the service hands the db thread snapshots, never the records it keeps
changing on the reactor.
"""

import json

from sqlalchemy import delete, insert, select, update

from pydocker.store.schema import ip_allocations, network_endpoints, networks

_COLUMNS = ("id", "name", "driver", "created")


def load(conn):
    """``(networks, endpoints)``: every network, oldest first, and every endpoint."""
    rows = conn.execute(select(networks).order_by(networks.c.created, networks.c.name))
    found = [dict(json.loads(r.config), id=r.id, name=r.name, driver=r.driver, created=r.created)
             for r in rows]
    endpoints = [json.loads(text) for (text,) in conn.execute(select(network_endpoints.c.config))]
    return found, endpoints


def save_network(conn, network):
    """Insert or replace a network (keyed by id)."""
    values = {k: network[k] for k in ("name", "driver", "created")}
    values["config"] = json.dumps({k: v for k, v in network.items() if k not in _COLUMNS})
    changed = conn.execute(update(networks).where(networks.c.id == network["id"]).values(**values))
    if changed.rowcount == 0:
        conn.execute(insert(networks).values(id=network["id"], **values))


def delete_network(conn, network_id):
    """Forget a network with its endpoints and addresses."""
    conn.execute(delete(networks).where(networks.c.id == network_id))


def add_endpoint(conn, endpoint):
    """Record an endpoint and, when it has one, its address (owned by it)."""
    if endpoint["ip_address"]:
        conn.execute(insert(ip_allocations).values(
            network_id=endpoint["network_id"], address=endpoint["ip_address"], owner=endpoint["endpoint_id"]))
    conn.execute(insert(network_endpoints).values(
        endpoint_id=endpoint["endpoint_id"], network_id=endpoint["network_id"], config=json.dumps(endpoint)))


def remove_endpoint(conn, endpoint):
    """Forget an endpoint and release its address (no error when absent)."""
    conn.execute(delete(network_endpoints).where(network_endpoints.c.endpoint_id == endpoint["endpoint_id"]))
    conn.execute(delete(ip_allocations).where(
        (ip_allocations.c.network_id == endpoint["network_id"]) & (ip_allocations.c.owner == endpoint["endpoint_id"])))


def remove_all_endpoints(conn):
    """At start, once the drivers removed what was left of them: no endpoint outlives the daemon."""
    conn.execute(delete(network_endpoints))
    conn.execute(delete(ip_allocations))
