"""Queries on volumes."""

import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from pydocker.store.schema import volumes


@dataclass
class VolumeRow:
    name: str
    driver: str
    mountpoint: str
    created: int
    labels: dict
    options: dict
    anonymous: bool


def _row(values):
    values = dict(values)
    values["labels"] = json.loads(values["labels"])
    values["options"] = json.loads(values["options"])
    return VolumeRow(**values)


def get(conn, name):
    row = conn.execute(select(volumes).where(volumes.c.name == name)).mappings().first()
    return _row(row) if row else None


def all_volumes(conn):
    return [_row(r) for r in conn.execute(select(volumes).order_by(volumes.c.name)).mappings()]


def insert_volume(conn, v):
    conn.execute(insert(volumes).values(name=v.name, driver=v.driver, mountpoint=v.mountpoint, created=v.created,
                                        labels=json.dumps(v.labels), options=json.dumps(v.options),
                                        anonymous=v.anonymous))


def delete_volume(conn, name):
    conn.execute(delete(volumes).where(volumes.c.name == name))
