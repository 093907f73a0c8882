"""Debug mode's reactor stall monitor: any time the reactor thread is busy for more than
``THRESHOLD`` seconds at once, say for how long and what it was running.

A timer on the reactor measures its own lateness: it fires every ``INTERVAL`` seconds,
so a tick that comes late by more than the threshold ends a stall that long. What ran
meanwhile is seen from outside: a watcher thread notices the missing tick while the
stall lasts and reads the reactor thread's stack: the innermost pydocker frame, and the
job whose handler is on the stack (a ``job`` local holding a ``Job``).
"""

import sys
import threading
import time

from twisted.internet import task
from twisted.logger import Logger

from pydocker.engine.job import Job

THRESHOLD = 0.05
INTERVAL = 0.02
_PACKAGE_DIR = __file__.rsplit("/daemon/", 1)[0] + "/"

log = Logger()


def describe(frame):
    """"job NAME at FILE:LINE in FUNCTION" for the stack whose innermost frame is ``frame``."""
    where, job = None, None
    while frame is not None:
        code = frame.f_code
        if where is None and code.co_filename.startswith(_PACKAGE_DIR) \
                and not code.co_filename.endswith("/daemon/stalls.py"):
            where = f"{code.co_filename[len(_PACKAGE_DIR):]}:{frame.f_lineno} in {code.co_name}"
        if job is None and "job" in code.co_varnames:
            candidate = frame.f_locals.get("job")
            if isinstance(candidate, Job):
                job = candidate.name
        frame = frame.f_back
    return f"job {job or '(none)'} at {where or 'Twisted or the standard library'}"


class StallMonitor:
    """Started and stopped on the reactor thread; ``clock`` is the monotonic clock in seconds."""

    def __init__(self, reactor, threshold=THRESHOLD, interval=INTERVAL, clock=time.monotonic):
        self._reactor = reactor
        self._threshold = threshold
        self._interval = interval
        self._clock = clock
        self._last = None
        self._seen = None           # what the watcher saw during the current stall
        self._stopped = threading.Event()
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = reactor

    def start(self, watch=True):
        self._reactor_thread = threading.get_ident()
        self._last = self._clock()
        self._loop.start(self._interval, now=False)
        if watch:
            threading.Thread(target=self._watch, name="pydocker-stall-watch", daemon=True).start()

    def stop(self):
        self._stopped.set()
        if self._loop.running:
            self._loop.stop()

    def _tick(self):
        now = self._clock()
        late = now - self._last - self._interval
        self._last = now
        seen, self._seen = self._seen, None
        if late > self._threshold:
            log.debug("reactor stalled for {ms:.0f} ms: {what}", ms=late * 1000,
                      what=seen or "too short for the watcher to see")

    def _watch(self):
        """On its own thread: while a tick is overdue, read what the reactor runs."""
        while not self._stopped.wait(self._threshold / 2):
            if self._seen is None and self._clock() - self._last > self._interval + self._threshold:
                frame = sys._current_frames().get(self._reactor_thread)
                if frame is not None:
                    self._seen = describe(frame)
