"""An IAllocationStore whose endpoint writes happen behind the caller's back.

A commit costs a millisecond or more on a busy daemon, twice per container
(connect and disconnect), on the path of its start and of its exit. The
bridge driver does not need it there: it keeps networks, endpoints and taken
addresses in memory and checks addresses itself, it is the only writer of
its endpoints, and every endpoint dies with the daemon (the next start
removes whatever the store still lists). So endpoint writes go in order to
one thread; network writes and every read wait for them first, so the store
never shows an older state than the one written.
"""

import logging
import queue
import threading

from zope.interface import implementer

from .interfaces import IAllocationStore

log = logging.getLogger(__name__)


@implementer(IAllocationStore)
class WriteBehindStore:
    """Wraps ``store``. An endpoint write that fails in the background (the
    address taken after all) is logged: the driver has already checked it."""

    def __init__(self, store):
        self._store = store
        self._queue = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._write_loop, name="network-store-writer",
                                        daemon=True)
        self._thread.start()

    def _later(self, method, *args):
        with self._idle:
            self._pending += 1
        self._queue.put((method, args))

    def _write_loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            method, args = item
            try:
                method(*args)
            except Exception:
                log.exception("network store: %s%r failed", method.__name__, args)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def flush(self):
        """Wait until every queued write is in the store."""
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0)

    def close(self):
        """Flush and stop the writer; the wrapped store stays open."""
        self.flush()
        self._queue.put(None)
        self._thread.join()

    # -- writes that wait for no one ---------------------------------------

    def add_endpoint(self, endpoint):
        self._later(self._store.add_endpoint, endpoint)

    def remove_endpoint(self, endpoint):
        self._later(self._store.remove_endpoint, endpoint)

    def release(self, network_id, ip):
        self._later(self._store.release, network_id, ip)

    # -- everything else, after them -----------------------------------------

    def _after_writes(name):
        def call(self, *args):
            self.flush()
            return getattr(self._store, name)(*args)
        call.__name__ = name
        return call

    allocations = _after_writes("allocations")
    list_networks = _after_writes("list_networks")
    save_network = _after_writes("save_network")
    delete_network = _after_writes("delete_network")
    list_endpoints = _after_writes("list_endpoints")
    del _after_writes
