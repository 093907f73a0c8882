"""Containers' log output written off the reactor: one writer thread, in order, bounded.

A log driver's writer blocks: json-file writes and rotates files (a slow or full
disk), syslog sends on a socket (a server that stops reading). The reactor hands
each call to one writer thread, in the order the output came, and goes on. A
container with more than ``HIGH_WATER`` bytes waiting has its output paused (as a
slow attached client pauses it) until the backlog is under ``LOW_WATER``: memory
stays bounded and nothing is lost.
"""

import queue
import threading

from twisted.internet import defer
from twisted.logger import Logger

HIGH_WATER = 1 << 20
LOW_WATER = HIGH_WATER // 4

log = Logger()


class WriterThread:
    """Runs the calls it is given one at a time, in order, on one thread of its own
    (started on first use; a daemon thread, so a stuck disk cannot hold the exit).
    ``call_in_reactor`` is ``reactor.callFromThread``: how results come back."""

    def __init__(self, call_in_reactor, name="pydocker-logs"):
        self.call_in_reactor = call_in_reactor
        self._name = name
        self._queue = queue.SimpleQueue()
        self._thread = None

    def submit(self, f, *args):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._queue.put((f, args))

    def _run(self):
        while True:
            f, args = self._queue.get()
            try:
                f(*args)
            except Exception:
                log.failure("writing a container's log failed")

    def flushed(self):
        """A Deferred that fires once every call submitted so far has run."""
        done = defer.Deferred()
        self.submit(self.call_in_reactor, done.callback, None)
        return done


class QueuedLogWriter:
    """A log driver's writer whose calls run on a ``WriterThread``; called on the reactor."""

    def __init__(self, writer, thread):
        self._writer = writer
        self._thread = thread
        self._call_in_reactor = thread.call_in_reactor
        self._lock = threading.Lock()   # held for counting only, never across I/O
        self._pending = 0
        self._writable = None

    def write(self, stream, data):
        """Queue ``data``; returns None, or a Deferred that fires once the backlog is
        low again when it is over the high-water mark (the caller pauses until then)."""
        with self._lock:
            self._pending += len(data)
            if self._pending > HIGH_WATER and self._writable is None:
                self._writable = defer.Deferred()
            writable = self._writable
        self._thread.submit(self._write, stream, data)
        return writable

    def _write(self, stream, data):
        """On the writer thread."""
        try:
            self._writer.write(stream, data)
        finally:
            with self._lock:
                self._pending -= len(data)
                ready = self._writable if self._pending <= LOW_WATER else None
                if ready is not None:
                    self._writable = None
            if ready is not None:
                self._call_in_reactor(ready.callback, None)

    def follow(self, callback):
        """A Deferred of the writer's ``follow(callback)`` answer, taken after every write
        queued before it (so its position is exact); ``callback`` runs on the reactor."""
        answered = defer.Deferred()

        def subscribe():
            unsubscribe, position = self._writer.follow(
                lambda entry: self._call_in_reactor(callback, entry))
            self._call_in_reactor(answered.callback,
                                  (lambda: self._thread.submit(unsubscribe), position))
        self._thread.submit(subscribe)
        return answered

    def close(self):
        self._thread.submit(self._writer.close)
