"""The last resort of a daemon stop: end the process when the ordered stop overruns.

The ordered stop runs on the reactor and ends by joining thread pools; a thread stuck
in a system call (a registry that accepts but never answers, a hung mount) would keep
the process alive for as long as it is stuck, and the interpreter joins such threads
again at exit. A daemon thread, armed when the stop begins, removes what would stop
the next daemon from starting (socket, pid file) and ends the process with
``os._exit`` once the deadline has passed.
"""

import os
import sys
import threading

EXIT_FORCED = 2


def arm(seconds, cleanup, exit_code=EXIT_FORCED):
    """From now, give the process ``seconds`` to end; then ``cleanup()`` and exit."""

    def expire():
        threading.Event().wait(seconds)
        print(f"pydocker: the daemon did not stop within {seconds:g}s (a thread is stuck): "
              f"exiting now", file=sys.stderr, flush=True)
        try:
            cleanup()
        finally:
            os._exit(exit_code)

    thread = threading.Thread(target=expire, name="pydocker-stop-deadline", daemon=True)
    thread.start()
    return thread
