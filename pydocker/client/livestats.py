"""The samples behind ``stats``: one streaming request per container, each read
by its own thread, so a redraw shows every container's latest sample at once
(one-shot samples take the daemon a full interval each, too slow to poll)."""

import threading

from .errors import ClientError


class StatsFeeds:
    """Latest stats message per container, kept up to date in the background."""

    def __init__(self, api, stream=True):
        self._api = api
        self._stream = stream
        self._lock = threading.Lock()
        self._latest = {}     # name -> message (None until the first arrives)
        self._errors = {}     # name -> ClientError that ended its feed
        self._threads = {}

    def follow(self, names):
        """Feed exactly ``names`` (in this order) from now on."""
        with self._lock:
            for gone in set(self._latest) - set(names):
                del self._latest[gone]
                self._threads.pop(gone, None)
            for name in names:
                if name not in self._threads:
                    self._latest[name] = None
                    thread = threading.Thread(target=self._read, args=(name,), daemon=True)
                    self._threads[name] = thread
                    thread.start()
        self._order = list(names)

    def _read(self, name):
        try:
            for message in self._api.stream_json("GET", f"/containers/{name}/stats",
                                                 {"stream": self._stream}):
                with self._lock:
                    if name not in self._latest:
                        return      # no longer followed
                    self._latest[name] = message
        except ClientError as e:
            with self._lock:
                self._errors[name] = e

    def wait(self):
        """One-shot mode: block until every feed has delivered or failed."""
        for thread in list(self._threads.values()):
            thread.join()

    def samples(self):
        """[(name, message)] for the containers that have delivered, in order."""
        with self._lock:
            return [(n, self._latest[n]) for n in self._order if self._latest.get(n) is not None]

    def first_error(self):
        with self._lock:
            return next(iter(self._errors.values()), None)
