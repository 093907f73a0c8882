"""Schema versions and the migrations between them.

Version 1 is the first schema. Each later version appends one function to
``MIGRATIONS`` that upgrades the previous version in place; the runner applies
the missing ones in one transaction each, so a crash leaves the database at a
whole version. A daemon refuses a database newer than it knows.
"""

import json

from sqlalchemy import select

from pydocker.errdefs import PydockerError
from pydocker.store import schema


class SchemaTooNew(PydockerError):
    """The database was written by a newer pydocker."""


def create_v1(conn):
    schema.metadata.create_all(conn)


def add_network_endpoints(conn):
    """Version 2: the bridge driver's endpoints, so a restarted daemon can remove
    the veths, rules and addresses of containers that died with it. (A fresh
    database already has the table: version 1 creates the newest schema.)"""
    schema.network_endpoints.create(conn, checkfirst=True)


def add_layer_blobs(conn):
    """Version 3: the registry blobs each layer was pulled from or pushed to, so a push
    can skip or mount layers the registry already holds."""
    schema.layer_blobs.create(conn, checkfirst=True)


def add_container_mounts(conn):
    """Version 4: each container's resolved mount points (binds and volumes)."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(containers)")}
    if "mounts" not in columns:
        conn.exec_driver_sql("ALTER TABLE containers ADD COLUMN mounts TEXT NOT NULL DEFAULT '[]'")


def split_network_config(conn):
    """Version 5: networks of every driver in one shape (``model.Network``): the
    bridge driver's own fields move under ``data``, ``--default-gateway`` is a
    reserved address, the predefined networks are marked ``default``; endpoints
    of the last run are dropped (none outlives the daemon)."""
    bridge_keys = ("bridge", "icc", "ip_masquerade", "mtu", "host_binding_ipv4", "created_bridge",
                   "container_gateway")
    for network_id, driver, text in conn.execute(select(schema.networks.c.id, schema.networks.c.driver,
                                                        schema.networks.c.config)).all():
        config = json.loads(text)
        if "data" in config:
            continue
        config.pop("id", None)
        config.pop("name", None)
        if driver == "bridge":
            config["data"] = {k: config.pop(k) for k in bridge_keys if k in config}
            gateway = config["data"].get("container_gateway")
            config["reserved"] = [gateway] if gateway else []
        else:
            config = {"default": True, "data": {}}
        conn.execute(schema.networks.update().where(schema.networks.c.id == network_id)
                     .values(config=json.dumps(config)))
    conn.execute(schema.network_endpoints.delete())
    conn.execute(schema.ip_allocations.delete())


# (version, upgrade function from version-1). Append; never edit a released entry.
MIGRATIONS = [
    (1, create_v1),
    (2, add_network_endpoints),
    (3, add_layer_blobs),
    (4, add_container_mounts),
    (5, split_network_config),
]


def current_version(conn):
    if not conn.dialect.has_table(conn, "meta"):
        return 0
    row = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def upgrade(engine, migrations=MIGRATIONS):
    """Bring the database to the newest version in ``migrations``; return it."""
    newest = migrations[-1][0]
    with engine.connect() as conn:
        found = current_version(conn)
    if found > newest:
        raise SchemaTooNew(
            f"the metadata database is at schema version {found}, but this pydocker knows "
            f"versions up to {newest}: it was written by a newer pydocker; run that version "
            f"or move the data root away")
    for version, step in migrations:
        if version <= found:
            continue
        with engine.begin() as conn:
            step(conn)
            _set_version(conn, version)
    return newest


def _set_version(conn, version):
    table = schema.meta
    conn.execute(table.delete().where(table.c.key == "schema_version"))
    conn.execute(table.insert().values(key="schema_version", value=str(version)))
