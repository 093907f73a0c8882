"""The Engine and its Jobs: every API request becomes a named job.

A job names a handler in one registry; the handler receives the Job (with its typed
request object and, for streaming jobs, an output) and returns a value or a Deferred.
The engine logs each job at debug level as ``+job name`` / ``-job name = OK|ERR (ms)``
so a trace of the daemon reads like a list of use cases, as in Docker 1.x.
"""

import json
import time

from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.python.failure import Failure

from pydocker.errdefs import NotFound, PydockerError


class JobOutput:
    """Where a streaming job writes: bytes, or JSON messages one per line.

    The HTTP layer supplies a subclass that writes to the response; tests may
    collect into a list. ``closed`` is set when the reader went away, so a
    long-running stream (events, logs -f) can stop early.
    """

    closed = False

    def write(self, data):
        raise NotImplementedError

    def emit(self, message):
        """Write one JSON message followed by a newline (Docker's progress streams)."""
        self.write(json.dumps(message, separators=(",", ":")).encode() + b"\r\n")

    def flush_headers(self):
        """Send the response headers now (the wait endpoint needs this)."""

    def set_content_type(self, content_type):
        """Choose the content type before anything is written (logs: raw or multiplexed)."""

    def on_close(self, callback):
        """Call ``callback()`` once when the reader disconnects."""

    def set_header(self, name, value):
        """Add a response header; only before anything is written (docker cp's path stat)."""

    def when_writable(self):
        """A Deferred firing when the reader can take more: flow control for large streams."""
        return defer.succeed(None)


class Job:
    """One run of a named handler with a typed request."""

    def __init__(self, engine, name, request, output=None):
        self.engine = engine
        self.name = name
        self.request = request
        self.output = output

    def __repr__(self):
        return f"<Job {self.name}>"


class Engine:
    """Holds the handler registry, the shared services and the worker pool."""

    log = Logger()

    def __init__(self, reactor, worker_pool=None, services=None):
        self._reactor = reactor
        self._handlers = {}
        self._worker_pool = worker_pool
        self.services = dict(services or {})
        self._running = set()

    # -- registry ---------------------------------------------------------
    def register(self, name, handler):
        if name in self._handlers:
            raise ValueError(f"job {name!r} registered twice")
        self._handlers[name] = handler

    def handlers(self):
        """Names of every registered job, sorted (the ``commands`` job)."""
        return sorted(self._handlers)

    def install(self, module):
        """Let a jobs module register its handlers: ``module.install(self)``."""
        module.install(self)

    def __getattr__(self, name):
        # Shared services (store, graph, events, ...) read as attributes.
        try:
            return self.__dict__["services"][name]
        except KeyError:
            raise AttributeError(name) from None

    # -- running ----------------------------------------------------------
    def job(self, name, request=None, output=None):
        """Run the job ``name``; return a Deferred of its result."""
        handler = self._handlers.get(name)
        if handler is None:
            return defer.fail(NotFound(f"no such job: {name}"))
        job = Job(self, name, request, output)
        started = time.monotonic()
        self.log.debug("+job {name}", name=name)
        d = defer.maybeDeferred(handler, job)
        self._running.add(d)

        def done(result):
            self._running.discard(d)
            ms = (time.monotonic() - started) * 1000
            if isinstance(result, Failure):
                level = self.log.debug if result.check(PydockerError) else self.log.error
                level("-job {name} = ERR ({ms:.1f} ms): {err}", name=name, ms=ms,
                      err=result.getErrorMessage())
            else:
                self.log.debug("-job {name} = OK ({ms:.1f} ms)", name=name, ms=ms)
            return result

        d.addBoth(done)
        return d

    def run_blocking(self, f, *args, **kwargs):
        """Run blocking work (tar, mounts, copies, commands) in the bounded worker pool."""
        if self._worker_pool is None:
            return defer.maybeDeferred(f, *args, **kwargs)
        return threads.deferToThreadPool(self._reactor, self._worker_pool, f, *args, **kwargs)

    def call_from_thread(self, f, *args, **kwargs):
        """Run ``f`` on the engine's reactor thread, from any thread (results of threads
        that are not the worker pool's)."""
        self._reactor.callFromThread(f, *args, **kwargs)

    def call_later(self, delay, f, *args, **kwargs):
        """Schedule ``f`` on the engine's reactor (timers for jobs: events until, restarts)."""
        return self._reactor.callLater(delay, f, *args, **kwargs)

    def with_timeout(self, d, seconds):
        """``d``, cancelled after ``seconds`` on the engine's clock: then it fails with
        ``defer.TimeoutError`` (waits such as a container's exit within a stop timeout)."""
        return d.addTimeout(seconds, self._reactor)

    def drain(self, timeout):
        """A Deferred that fires when running jobs finish, or after ``timeout`` seconds."""
        pending = list(self._running)
        if not pending:
            return defer.succeed(None)
        all_done = defer.DeferredList(pending, consumeErrors=True)
        timer = defer.Deferred()
        call = self._reactor.callLater(timeout, timer.callback, None)
        first = defer.DeferredList([all_done, timer], fireOnOneCallback=True, consumeErrors=True)

        def cancel_timer(result):
            if call.active():
                call.cancel()
            return result

        return first.addBoth(cancel_timer)
