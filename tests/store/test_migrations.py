"""The metadata store on real SQLite files."""


import pytest
from sqlalchemy import inspect, select, text

from pydocker.store import migrations, schema
from pydocker.store.db import Database, open_engine


def test_fresh_database_is_at_newest_version(tmp_path):
    engine = open_engine(str(tmp_path / "a.db"))
    assert migrations.upgrade(engine) == migrations.MIGRATIONS[-1][0]
    with engine.connect() as conn:
        assert migrations.current_version(conn) == migrations.MIGRATIONS[-1][0]
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    tables = set(inspect(engine).get_table_names())
    assert {"images", "layers", "references", "containers", "exec_instances", "volumes",
            "networks", "ip_allocations", "meta"} <= tables


def add_notes_column(conn):
    conn.execute(text("ALTER TABLE containers ADD COLUMN notes TEXT NOT NULL DEFAULT ''"))


def test_older_database_is_upgraded_keeping_data(tmp_path):
    path = str(tmp_path / "b.db")
    engine = open_engine(path)
    migrations.upgrade(engine, migrations.MIGRATIONS[:1])  # the first released schema
    with engine.begin() as conn:
        conn.execute(schema.networks.insert().values(id="n1", name="bridge", driver="bridge", created=1, config="{}"))
    engine.dispose()
    nxt = migrations.MIGRATIONS[-1][0] + 1
    newer = migrations.MIGRATIONS + [(nxt, add_notes_column)]
    engine = open_engine(path)
    assert migrations.upgrade(engine, newer) == nxt
    with engine.connect() as conn:
        assert migrations.current_version(conn) == nxt
        assert conn.execute(select(schema.networks.c.name)).scalar() == "bridge"
    assert "notes" in {c["name"] for c in inspect(engine).get_columns("containers")}


def test_newer_database_is_refused(tmp_path):
    path = str(tmp_path / "c.db")
    engine = open_engine(path)
    migrations.upgrade(engine, migrations.MIGRATIONS + [(migrations.MIGRATIONS[-1][0] + 1, add_notes_column)])
    engine.dispose()
    with pytest.raises(migrations.SchemaTooNew, match="written by a newer pydocker"):
        migrations.upgrade(open_engine(path), migrations.MIGRATIONS)


def test_failed_migration_leaves_previous_version(tmp_path):
    path = str(tmp_path / "d.db")
    engine = open_engine(path)
    migrations.upgrade(engine)

    def broken(conn):
        conn.execute(text("ALTER TABLE containers ADD COLUMN half TEXT"))
        raise RuntimeError("crash in the middle")

    newest = migrations.MIGRATIONS[-1][0]
    with pytest.raises(RuntimeError):
        migrations.upgrade(engine, migrations.MIGRATIONS + [(newest + 1, broken)])
    with engine.connect() as conn:
        assert migrations.current_version(conn) == newest
    assert "half" not in {c["name"] for c in inspect(engine).get_columns("containers")}


def test_foreign_keys_are_enforced(tmp_path):
    from sqlalchemy.exc import IntegrityError
    engine = open_engine(str(tmp_path / "e.db"))
    migrations.upgrade(engine)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(schema.references.insert().values(name="busybox:latest", image_id="sha256:missing"))


def test_database_runs_on_its_own_thread(tmp_path):
    import threading
    from twisted.internet import reactor
    db = Database(str(tmp_path / "f.db"), reactor)
    db.startService()
    try:
        seen = []
        d = db.run(lambda conn: threading.current_thread().name)
        d.addCallback(seen.append)
        import time
        deadline = time.time() + 5
        while not seen and time.time() < deadline:
            reactor.iterate(0.01)
        assert seen and "pydocker-db" in seen[0]
    finally:
        db.stopService()
