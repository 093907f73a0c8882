"""The Runtime on a memory reactor (the ``world`` fixture of conftest.py: fake exec
and graph drivers, a stand-in network service; no kernel, no root)."""

import signal

import pytest
from twisted.internet import defer
from zope.interface.verify import verifyObject

from pydocker.drivers.exec.interfaces import IExecDriver
from pydocker.errdefs import Conflict
from pydocker.drivers.graph.interfaces import IGraphDriver
from pydocker.runtime import restart
from pydocker.store import containers as cstore
from pydocker.testing.fakes import FakeExecDriver, FakeGraphDriver


def fired(d):
    out = []
    d.addBoth(out.append)
    return out


def test_the_fakes_implement_the_driver_interfaces(tmp_path):
    assert verifyObject(IExecDriver, FakeExecDriver())
    assert verifyObject(IGraphDriver, FakeGraphDriver(str(tmp_path)))


def test_start_runs_the_process_and_records_it(world):
    c = world.container()
    assert fired(world.runtime.start(c)) == [c]
    assert c.running and c.state["Pid"] >= 1000 and world.graph.mounts[c.id] == 1
    [row] = world.store._database.run_sync(cstore.load_all)
    assert row.state["Running"] and row.state["Pid"] == c.state["Pid"]
    world.execdriver.exit(c.id, 3)
    assert not c.running and c.state["ExitCode"] == 3 and world.graph.mounts[c.id] == 0
    assert world.actions(c) == ["start", "die"]


def test_restart_policy_backs_off_doubling_then_stops_at_the_retry_limit(world):
    c = world.container(RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2})
    world.runtime.start(c)
    world.execdriver.exit(c.id, 1)
    assert c.state["Restarting"]
    [call] = world.clock.getDelayedCalls()
    assert call.getTime() == pytest.approx(restart.INITIAL_DELAY)
    world.clock.advance(restart.INITIAL_DELAY)
    assert c.running and c.restart_count == 1
    world.execdriver.exit(c.id, 1)
    [call] = world.clock.getDelayedCalls()
    assert call.getTime() - world.clock.seconds() == pytest.approx(2 * restart.INITIAL_DELAY)
    world.clock.advance(2 * restart.INITIAL_DELAY)
    assert c.running and c.restart_count == 2
    world.execdriver.exit(c.id, 1)
    assert not c.state["Restarting"] and not c.running and not world.clock.getDelayedCalls()


def test_policy_restarts_go_through_the_start_given_by_the_jobs_layer(world):
    c = world.container(RestartPolicy={"Name": "always"})
    through = []
    world.runtime.start_through(lambda container: through.append(container) or world.runtime.start(container))
    world.runtime.start(c)
    world.execdriver.exit(c.id, 0)
    world.clock.advance(restart.INITIAL_DELAY)
    assert through == [c] and c.running


def test_stop_escalates_to_sigkill_after_the_timeout(world):
    c = world.container()
    world.runtime.start(c)
    world.execdriver.ignore.add(signal.SIGTERM)
    stopped = fired(world.runtime.stop(c, timeout=10))
    assert world.execdriver.signals == [(c.id, signal.SIGTERM)] and stopped == []
    world.clock.advance(9.9)
    assert stopped == []
    world.clock.advance(0.1)
    assert world.execdriver.signals == [(c.id, signal.SIGTERM), (c.id, signal.SIGKILL)]
    assert stopped == [None] and c.state["ExitCode"] == 128 + signal.SIGKILL
    assert c.manually_stopped and world.actions(c)[-1] == "stop"


def test_stop_within_the_timeout_sends_no_sigkill(world):
    c = world.container()
    world.runtime.start(c)
    assert fired(world.runtime.stop(c, timeout=10)) == [None]
    assert world.execdriver.signals == [(c.id, signal.SIGTERM)] and not world.clock.getDelayedCalls()


def test_stopped_callbacks_run_once_the_container_stops_for_good(world):
    """What --rm hangs on: not while a restart policy brings the container back."""
    stopped = []
    world.runtime.on_stopped(stopped.append)
    c = world.container(RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 1})
    world.runtime.start(c)
    world.execdriver.exit(c.id, 1)
    assert stopped == []
    world.clock.advance(restart.INITIAL_DELAY)
    world.execdriver.exit(c.id, 1)
    assert stopped == [c]


def test_health_turns_unhealthy_after_the_retries_and_healthy_again(world):
    c = world.container()
    c.config["Healthcheck"] = {"Test": ["CMD", "probe"], "Interval": 2 * 10**9, "Retries": 2}
    world.execdriver.exec_results = [1, 1, 0]
    world.runtime.start(c)
    assert c.state["Health"]["Status"] == "starting"
    world.clock.advance(2)
    assert c.state["Health"] == {**c.state["Health"], "Status": "starting", "FailingStreak": 1}
    world.clock.advance(2)
    assert c.state["Health"]["Status"] == "unhealthy"
    world.clock.advance(2)
    assert c.state["Health"]["Status"] == "healthy" and c.state["Health"]["FailingStreak"] == 0
    assert [spec.args for _, spec in world.execdriver.execs] == [["probe"]] * 3
    assert "health_status: unhealthy" in world.actions(c) and "health_status: healthy" in world.actions(c)
    world.execdriver.exit(c.id, 0)
    world.clock.advance(10)
    assert len(world.execdriver.execs) == 3  # no probe after the exit


def test_a_record_is_a_snapshot_taken_on_the_reactor(world):
    """The db thread writes what the container was when it was saved, not what the
    reactor made of it meanwhile."""
    c = world.container()
    queued = []
    world.runtime._store = type("Queue", (), {"run": lambda self, f, *args: queued.append((f, args))})()
    c.state["Error"] = "saved"
    world.runtime.persist(c)
    c.state["Error"] = "changed later"
    [(f, args)] = queued
    world.store.run(f, *args)
    [row] = world.store._database.run_sync(cstore.load_all)
    assert row.state["Error"] == "saved"


def test_a_container_exiting_while_it_is_frozen_is_left_exited_not_paused(world):
    """The driver's pause and the process's exit race (commit and cp freeze the container):
    the exit wins, the freeze is skipped, and the work runs all the same."""
    c = world.container()
    world.runtime.start(c)
    world.execdriver.pause = lambda container_id: world.execdriver.exit(container_id, 0)
    [result] = fired(world.runtime.frozen(c, lambda: defer.succeed("committed")))
    assert result == "committed"
    assert c.state["Status"] == "exited" and not c.paused and not c.running


def test_a_thaw_that_finds_the_process_gone_does_not_fail_the_work(world):
    c = world.container()
    world.runtime.start(c)

    def gone(container_id):
        raise Conflict(f"container {container_id} is not running")
    world.execdriver.unpause = gone
    [result] = fired(world.runtime.frozen(c, lambda: defer.succeed("copied")))
    assert result == "copied" and world.execdriver.paused == {c.id}
