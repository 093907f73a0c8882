"""Debug mode's stall log end to end: a daemon held still (SIGSTOP) past the threshold
logs a reactor stall at least that long once it runs again."""

import os
import re
import signal
import time

import pytest

pytestmark = pytest.mark.kernel

HELD = 0.5  # seconds the daemon is stopped: ten times the 50 ms threshold


def stalls_after(daemon, offset):
    return [int(ms) for ms in re.findall(r"reactor stalled for (\d+) ms", daemon.log()[offset:])]


def test_a_held_reactor_is_logged_as_a_stall(daemon):
    offset = len(daemon.log())  # a busy machine may have logged stalls at start already
    os.kill(daemon.proc.pid, signal.SIGSTOP)
    time.sleep(HELD)  # the stall itself: the process cannot run while it is stopped
    os.kill(daemon.proc.pid, signal.SIGCONT)
    longest = HELD * 1000 - 50  # a tick's interval may fall inside the hold
    deadline = time.monotonic() + 60
    while not any(ms >= longest for ms in stalls_after(daemon, offset)):
        assert time.monotonic() < deadline, daemon.log()[offset:]
        time.sleep(0.05)
    assert daemon.ping()
