"""The SQLite database and the one thread that touches it.

SQLite connections belong to one thread; the daemon gives the store a
one-thread pool so every query runs there, off the reactor, in order.
WAL journaling keeps readers unblocked and makes every committed
transaction durable; foreign keys keep references consistent.
"""

import os

from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool
from twisted.application import service
from twisted.internet import threads
from twisted.python.threadpool import ThreadPool

from pydocker.store import migrations


def open_engine(path):
    """An SQLAlchemy engine on ``path`` with WAL and foreign keys on."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        # pysqlite opens transactions only before DML, so DDL in a migration would
        # autocommit; take transaction control ourselves (SQLAlchemy's documented recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database(service.Service):
    """Runs functions ``f(conn, ...)`` in one transaction each, on the db thread.

    The first service of the daemon's tree: the db thread owns the connection; it
    starts before and stops after every service that stores records.
    """

    name = "store"

    def __init__(self, path, reactor, migration_list=migrations.MIGRATIONS):
        self.path = path
        self._reactor = reactor
        self.engine = open_engine(path)
        self.schema_version = migrations.upgrade(self.engine, migration_list)
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="pydocker-db")

    def startService(self):
        super().startService()
        self._pool.start()

    def stopService(self):
        self._pool.stop()
        self.engine.dispose()
        return super().stopService()

    def run(self, f, *args, **kwargs):
        """Deferred result of ``f(conn, *args)`` inside a transaction on the db thread."""
        return threads.deferToThreadPool(self._reactor, self._pool, self.run_sync, f, *args, **kwargs)

    def run_from_worker(self, f, *args, **kwargs):
        """The result of ``f(conn, *args)`` for a worker thread, which waits for the db
        thread (the reactor must be free to pass the call on): never on the reactor."""
        return threads.blockingCallFromThread(self._reactor, self.run, f, *args, **kwargs)

    def run_sync(self, f, *args, **kwargs):
        """The same, on the calling thread: only before start() (daemon start-up) and in tests,
        since the connection is shared with the db thread."""
        with self.engine.begin() as conn:
            return f(conn, *args, **kwargs)
