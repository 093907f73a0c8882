"""The engine on a memory reactor (twisted.internet.testing.MemoryReactorClock stands in for the
real reactor: no worker pool, so blocking work runs inline)."""

import pytest
from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock

from pydocker.errdefs import Conflict, NotFound
from pydocker.engine.events import EventBus, EventFilter
from pydocker.engine.job import Engine


def results(d):
    out = []
    d.addBoth(out.append)
    return out


def test_job_runs_named_handler_with_request():
    engine = Engine(MemoryReactorClock())
    engine.register("echo", lambda job: (job.name, job.request))
    assert results(engine.job("echo", {"a": 1})) == [("echo", {"a": 1})]


def test_unknown_job_fails_with_not_found():
    engine = Engine(MemoryReactorClock())
    [failure] = results(engine.job("missing"))
    assert failure.check(NotFound)


def test_handler_errors_propagate_by_kind():
    engine = Engine(MemoryReactorClock())

    def boom(job):
        raise Conflict("name taken")

    engine.register("boom", boom)
    [failure] = results(engine.job("boom"))
    assert failure.check(Conflict) and "name taken" in failure.getErrorMessage()


def test_registering_twice_is_an_error():
    engine = Engine(MemoryReactorClock())
    engine.register("a", lambda job: None)
    with pytest.raises(ValueError):
        engine.register("a", lambda job: None)


def test_commands_lists_handlers():
    from pydocker.jobs import system
    engine = Engine(MemoryReactorClock())
    engine.install(system.SystemJobs(engine, None, EventBus(), None, None, None, {}, None, "id"))
    [names] = results(engine.job("commands"))
    assert {"Name": "info"} in names and {"Name": "events"} in names


def test_install_binds_handlers_to_their_resource():
    class Things:
        def __init__(self, store):
            self.store = store

        def jobs(self):
            return {"thing.get": lambda things, job: things.store[job.request]}

    engine = Engine(MemoryReactorClock())
    engine.install(Things({"a": 1}))
    assert results(engine.job("thing.get", "a")) == [1]


def test_every_job_has_an_id_and_unexpected_errors_log_their_traceback():
    from twisted.logger import globalLogPublisher
    seen, logged = [], []
    engine = Engine(MemoryReactorClock())
    engine.register("who", lambda job: seen.append(job.id))
    engine.register("bug", lambda job: {}["missing"])
    engine.job("who")
    engine.job("who", job_id="abc")
    assert seen[0] and seen[0] != "abc" and seen[1] == "abc"
    globalLogPublisher.addObserver(logged.append)
    try:
        [failure] = results(engine.job("bug", job_id="f00"))
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert failure.check(KeyError)
    [event] = [e for e in logged if e.get("id") == "f00" and "log_failure" in e]
    assert "KeyError" in event["log_failure"].getTraceback()


def engine_running_a_job():
    """(clock, engine, the running job's Deferred, the engine's drain(5) results)."""
    clock = MemoryReactorClock()
    engine = Engine(clock)
    pending = defer.Deferred()
    engine.register("slow", lambda job: pending)
    engine.job("slow")
    return clock, engine, pending, results(engine.drain(5))


def test_drain_waits_for_running_jobs_then_times_out():
    clock, engine, pending, drained = engine_running_a_job()
    assert drained == []
    clock.advance(5)
    assert len(drained) == 1


def test_drain_finishes_when_jobs_finish():
    clock, engine, pending, drained = engine_running_a_job()
    pending.callback("done")
    assert len(drained) == 1
    assert not clock.getDelayedCalls()


def test_event_bus_history_and_filters():
    times = iter([100.0, 200.0, 300.0])
    bus = EventBus(clock=lambda: next(times))
    bus.publish("container", "start", "a" * 64, {"name": "web", "image": "busybox"})
    bus.publish("image", "tag", "sha256:1", {"name": "busybox:latest"})
    bus.publish("container", "die", "b" * 64, {"name": "db", "exitCode": "1"})
    assert [e["Action"] for e in bus.history(150 * 10**9)] == ["tag", "die"]
    assert [e["Action"] for e in bus.history(None, 250 * 10**9)] == ["start", "tag"]
    only_web = EventFilter({"container": ["web"]})
    assert [e["Action"] for e in bus.history() if only_web.matches(e)] == ["start"]
    by_prefix = EventFilter({"container": ["bbb"], "event": ["die"]})
    assert [e["Actor"]["ID"][:3] for e in bus.history() if by_prefix.matches(e)] == ["bbb"]
    legacy = bus.history()[0]
    assert legacy["status"] == "start" and legacy["id"] == "a" * 64 and legacy["from"] == "busybox"


def test_event_subscribers_receive_live_events():
    bus = EventBus()
    seen = []
    unsubscribe = bus.subscribe(seen.append)
    bus.publish("network", "create", "n1")
    unsubscribe()
    bus.publish("network", "destroy", "n1")
    assert [e["Action"] for e in seen] == ["create"]
