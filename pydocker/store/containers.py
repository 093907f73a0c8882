"""Persisting container records: the whole record is written after each change.

``record(container)`` snapshots a container on the reactor thread, which owns the
live ``Container`` objects; the db thread writes that snapshot
(``db.run(insert_record|save_record, record(container))``) and never sees the
live object, which the reactor may change meanwhile."""

import json

from sqlalchemy import delete, insert, select, update

from pydocker.containers.model import Container
from pydocker.store.schema import containers, exec_instances

_JSON_FIELDS = ("config", "host_config", "state", "network_settings", "mounts")


def record(container):
    row = {
        "id": container.id, "name": container.name, "image_id": container.image_id,
        "image_name": container.image_name, "created": container.created, "rw_layer": container.rw_layer,
        "restart_count": container.restart_count,
    }
    for key in _JSON_FIELDS:
        row[key] = json.dumps(getattr(container, key))
    return row


def insert_record(conn, row):
    conn.execute(insert(containers).values(**row))


def save_record(conn, row):
    conn.execute(update(containers).where(containers.c.id == row["id"]).values(**row))


def delete_container(conn, container_id):
    conn.execute(delete(exec_instances).where(exec_instances.c.container_id == container_id))
    conn.execute(delete(containers).where(containers.c.id == container_id))


def load_all(conn):
    result = []
    for row in conn.execute(select(containers)).mappings():
        values = dict(row)
        for key in _JSON_FIELDS:
            values[key] = json.loads(values[key])
        result.append(Container(**values))
    return result
