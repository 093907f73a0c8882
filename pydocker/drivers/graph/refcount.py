"""Reference counts of mounted layers, shared by every driver's get()/put()."""

import threading


class RefCounts:
    """Counts get()s per layer id; the caller mounts on the first and unmounts on the last."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {}

    def increment(self, id):
        """Count one more user; returns the new count (1 means: mount now)."""
        with self._lock:
            self._counts[id] = self._counts.get(id, 0) + 1
            return self._counts[id]

    def decrement(self, id):
        """Count one user fewer; returns the new count (0 means: unmount now)."""
        with self._lock:
            count = self._counts.get(id, 0) - 1
            if count <= 0:
                self._counts.pop(id, None)
                return 0
            self._counts[id] = count
            return count

    def active(self):
        with self._lock:
            return list(self._counts)

    def drop(self, id):
        with self._lock:
            self._counts.pop(id, None)
