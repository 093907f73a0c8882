"""Drive the real global reactor from synchronous pytest tests.

The reactor cannot be restarted, so it is started once (with its signal
handlers, which process reaping needs) and iterated until a Deferred fires;
``stop`` shuts it down (and its thread pool, which would keep the process alive).
"""

import time

from twisted.internet import reactor
from twisted.python import failure

_started = False


def _ensure_started():
    global _started
    if not _started:
        reactor.startRunning(installSignalHandlers=True)
        _started = True


def wait(deferred, timeout=60.0):
    """Iterate the reactor until ``deferred`` fires; return its result or raise."""
    _ensure_started()
    outcome = []
    deferred.addBoth(outcome.append)
    deadline = time.monotonic() + timeout
    while not outcome:
        if time.monotonic() > deadline:
            raise TimeoutError("Deferred did not fire within %s s" % timeout)
        reactor.iterate(0.01)
    if isinstance(outcome[0], failure.Failure):
        outcome[0].raiseException()
    return outcome[0]


def spin(predicate, timeout=60.0):
    """Iterate the reactor until ``predicate()`` is true."""
    _ensure_started()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met within %s s" % timeout)
        reactor.iterate(0.01)


def stop():
    global _started
    if _started:
        reactor.fireSystemEvent("shutdown")
        _started = False
