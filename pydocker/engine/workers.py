"""The bounded pool of worker threads that runs blocking work (tar, mounts, graph
drivers, commands) off the reactor.

A service of the daemon's tree: its threads start before and stop after every
service that hands it work. What runs here owns no reactor state: it receives its
inputs as arguments and returns its results through the Deferred.
"""

from twisted.application import service
from twisted.internet import threads
from twisted.python.threadpool import ThreadPool


class WorkerPool(service.Service):
    name = "workers"

    def __init__(self, reactor, size):
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=0, maxthreads=size, name="pydocker-workers")

    def startService(self):
        super().startService()
        self._pool.start()

    def stopService(self):
        self._pool.stop()
        return super().stopService()

    def run(self, f, *args, **kwargs):
        """A Deferred of ``f(*args, **kwargs)`` run in a worker thread."""
        return threads.deferToThreadPool(self._reactor, self._pool, f, *args, **kwargs)
