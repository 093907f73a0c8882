"""The debug mode's reactor stall monitor (daemon/stalls.py) on a memory clock: a tick that
comes late by more than the threshold is logged with what the watcher saw the reactor run,
and the watcher names the job whose handler is on the stack."""

import sys

from twisted.internet.task import Clock
from twisted.logger import capturedLogs

from pydocker.daemon.stalls import StallMonitor, describe
from pydocker.engine.job import Engine


def stalls(events):
    return [e for e in events if e["log_format"].startswith("reactor stalled")]


def test_only_a_tick_later_than_the_threshold_is_a_stall():
    clock = Clock()
    monitor = StallMonitor(clock, threshold=0.05, interval=0.02, clock=clock.seconds)
    monitor.start(watch=False)
    with capturedLogs() as events:
        for _ in range(10):
            clock.advance(0.02)
        clock.advance(0.06)  # 40 ms late: under the threshold
        assert stalls(events) == []
        clock.advance(0.3)   # the reactor was busy for 280 ms past the tick
    found = stalls(events)
    assert len(found) == 1 and round(found[0]["ms"]) == 280
    assert found[0]["what"] == "too short for the watcher to see"
    monitor.stop()


def test_what_the_watcher_saw_is_reported_with_the_stall():
    clock = Clock()
    monitor = StallMonitor(clock, threshold=0.05, interval=0.02, clock=clock.seconds)
    monitor.start(watch=False)
    monitor._seen = "job container.start at runtime/monitor.py:1 in start"  # as the watcher sets it
    with capturedLogs() as events:
        clock.advance(0.5)
        clock.advance(0.02)
    found = stalls(events)
    assert [e["what"] for e in found] == ["job container.start at runtime/monitor.py:1 in start"]
    monitor.stop()


def test_describe_names_the_job_on_the_stack_and_the_innermost_pydocker_frame():
    engine, seen = Engine(Clock()), []
    engine.register("image.pull", lambda job: seen.append(describe(sys._getframe())))
    engine.job("image.pull")
    assert seen[0].startswith("job image.pull at engine/job.py:") and seen[0].endswith(" in job")


def test_describe_without_a_job_or_pydocker_frame():
    def outside():
        return describe(sys._getframe())
    assert outside() == "job (none) at Twisted or the standard library"
