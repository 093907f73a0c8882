"""The Engine and its Jobs: every API request becomes a named job.

A job names a handler in one registry; the handler receives the Job (with its typed
request object and, for streaming jobs, an output) and returns a value or a Deferred.
The engine logs each job at debug level as ``+job name`` / ``-job name = OK|ERR (ms)``
so a trace of the daemon reads like a list of use cases, as in Docker 1.x.
"""

import functools
import itertools
import json
import time

from twisted.application import service
from twisted.internet import defer
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
    """One run of a named handler with a typed request; ``id`` ties its log lines
    (and the HTTP access log line of its request) together."""

    def __init__(self, engine, name, request, output=None, job_id=None):
        self.engine = engine
        self.name = name
        self.request = request
        self.output = output
        self.id = job_id

    def __repr__(self):
        return f"<Job {self.name} {self.id}>"


class Engine(service.Service):
    """The job registry and dispatcher: name -> handler, run with an id, timed and logged.

    It holds no services: each jobs module has one class naming the services its
    handlers need (see ``pydocker.jobs``). A service of the daemon's tree, started
    after the services the jobs use: at start it runs the start-up jobs (restore),
    at stop it lets running jobs finish within a bound. Reactor thread;
    ``run_blocking`` hands work to the worker pool.
    """

    name = "engine"
    log = Logger()

    def __init__(self, reactor, workers=None, startup_jobs=(), drain_seconds=10):
        self._reactor = reactor
        self._handlers = {}
        self._workers = workers
        self._running = set()
        self._ids = itertools.count(1)
        self._startup_jobs = list(startup_jobs)
        self._drain_seconds = drain_seconds

    @defer.inlineCallbacks
    def startService(self):
        super().startService()
        for name in self._startup_jobs:
            yield self.job(name)

    @defer.inlineCallbacks
    def stopService(self):
        yield super().stopService()
        yield self.drain(self._drain_seconds)

    # -- registry ---------------------------------------------------------
    def register(self, name, handler):
        if name in self._handlers:
            raise ValueError(f"job {name!r} registered twice")
        self._handlers[name] = handler

    def install(self, resource):
        """Register the jobs of ``resource``, a jobs module's class: ``resource.jobs()``
        maps each job name to a function ``handler(resource, job)``."""
        for name, handler in resource.jobs().items():
            self.register(name, functools.partial(handler, resource))

    def handlers(self):
        """Names of every registered job, sorted (the ``commands`` job)."""
        return sorted(self._handlers)

    # -- running ----------------------------------------------------------
    def new_job_id(self):
        """A short id, unique in this daemon's life, for a job about to run."""
        return f"{next(self._ids):x}"

    def job(self, name, request=None, output=None, job_id=None):
        """Run the job ``name``; return a Deferred of its result."""
        handler = self._handlers.get(name)
        if handler is None:
            return defer.fail(NotFound(f"no such job: {name}"))
        job = Job(self, name, request, output, job_id or self.new_job_id())
        started = time.monotonic()
        self.log.debug("+job {name} [{id}]", name=name, id=job.id)
        d = defer.maybeDeferred(handler, job)
        self._running.add(d)

        def done(result):
            self._running.discard(d)
            ms = (time.monotonic() - started) * 1000
            if not isinstance(result, Failure):
                self.log.debug("-job {name} [{id}] = OK ({ms:.1f} ms)", name=name, id=job.id, ms=ms)
            elif result.check(PydockerError):
                self.log.debug("-job {name} [{id}] = ERR ({ms:.1f} ms): {err}", name=name, id=job.id, ms=ms,
                               err=result.getErrorMessage())
            else:  # a bug or an unexpected failure: its traceback goes to the log
                self.log.failure("-job {name} [{id}] = ERR ({ms:.1f} ms)", result, name=name, id=job.id, ms=ms)
            return result

        d.addBoth(done)
        return d

    def run_blocking(self, f, *args, **kwargs):
        """Run blocking work (tar, mounts, copies, commands) in the bounded worker pool."""
        if self._workers is None:
            return defer.maybeDeferred(f, *args, **kwargs)
        return self._workers.run(f, *args, **kwargs)

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
