"""HEALTHCHECK: probing a running container with its health command, as dockerd does.

Each probe is an exec of ``Config.Healthcheck.Test`` (``CMD`` args, or
``CMD-SHELL`` through the container's shell). Exit 0 is healthy; any other
result, or a probe that outlives ``Timeout``, counts against ``Retries``
consecutive tries before the container is unhealthy. Failures inside
``StartPeriod`` do not count while the container has never been healthy, and
then probes come every ``StartInterval`` instead of every ``Interval``. The
state (``State.Health``: Status, FailingStreak, the last five results) lives
in the container's record; each status change is a ``health_status: <status>``
event.
"""

import os
import signal
import time

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from pydocker.drivers.exec.interfaces import IContainerIO
from pydocker.drivers.exec.spec import ExecSpec
from pydocker.timeutil import rfc3339

SECOND = 1_000_000_000
DEFAULT_INTERVAL = 30 * SECOND
DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_START_INTERVAL = 5 * SECOND
DEFAULT_RETRIES = 3
MAX_LOG_ENTRIES = 5
MAX_OUTPUT = 4096


def probe_command(container):
    """The probe's argv, or None when the container has no health check."""
    test = (container.config.get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD":
        return list(test[1:]) or None
    if test[0] == "CMD-SHELL":
        shell = container.config.get("Shell") or ["/bin/sh", "-c"]
        return list(shell) + [" ".join(test[1:])]
    return None


def _setting(container, key, default):
    value = (container.config.get("Healthcheck") or {}).get(key) or 0
    return value if value > 0 else default


@implementer(IContainerIO)
class _ProbeOutput:
    """The probe's stdout and stderr together, the first 4 KiB kept."""

    def __init__(self):
        self.data = b""
        self.pid = None

    def started(self, pid, stdin):
        self.pid = pid
        stdin.close()

    def output_producer(self, producer):
        pass    # the output is small and bounded: nothing to pause

    def stdout(self, data):
        if len(self.data) < MAX_OUTPUT:
            self.data = (self.data + data)[:MAX_OUTPUT]

    stderr = stdout


class HealthMonitor:
    """The health checks of one container run, from its start to its exit."""

    log = Logger()

    def __init__(self, runtime, container, argv):
        self._runtime = runtime
        self._reactor = runtime.reactor
        self._container = container
        self._argv = argv
        self._started = time.time()
        self._timer = None
        self._stopped = False
        container.state["Health"] = {"Status": "starting", "FailingStreak": 0, "Log": []}

    def start(self):
        self._schedule()

    def stop(self):
        self._stopped = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()

    def _health(self):
        return self._container.state["Health"]

    def _interval(self):
        in_start_period = (time.time() - self._started) * SECOND < _setting(self._container, "StartPeriod", 0)
        if in_start_period and self._health()["Status"] == "starting":
            return _setting(self._container, "StartInterval", DEFAULT_START_INTERVAL)
        return _setting(self._container, "Interval", DEFAULT_INTERVAL)

    def _schedule(self):
        if not self._stopped:
            self._timer = self._reactor.callLater(self._interval() / SECOND, self._probe)

    @defer.inlineCallbacks
    def _probe(self):
        if self._container.paused:
            self._schedule()
            return
        start = time.time()
        try:
            exit_code, output = yield self._run_probe()
        except Exception as e:  # the exec could not start: that is a failed probe too
            exit_code, output = -1, str(e)
        if self._stopped:
            return
        yield self._record(start, exit_code, output)
        self._schedule()

    def _run_probe(self):
        output = _ProbeOutput()
        spec = ExecSpec(args=self._argv)
        # A probe is an exec, with an exec's events, as dockerd's.
        exec_id, command = os.urandom(32).hex(), " ".join(self._argv)
        self._runtime.publish(self._container, "exec_create: " + command, execID=exec_id)
        self._runtime.publish(self._container, "exec_start: " + command, execID=exec_id)
        exited = self._runtime.execdriver.exec(self._container.id, spec, output)
        timeout = _setting(self._container, "Timeout", DEFAULT_TIMEOUT) / SECOND
        timer = self._reactor.callLater(timeout, self._time_out, exited, output, timeout)

        def finished(status):
            if timer.active():
                timer.cancel()
            self._runtime.publish(self._container, "exec_die", execID=exec_id, exitCode=status.exit_code)
            if getattr(exited, "timed_out", False):
                return -1, "Health check exceeded timeout (%s)" % _seconds(timeout)
            return status.exit_code, output.data.decode("utf-8", "replace")
        return exited.addCallback(finished)

    def _time_out(self, exited, output, timeout):
        exited.timed_out = True
        if output.pid:
            try:
                os.kill(output.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _record(self, start, exit_code, output):
        """Docker's rules for one result; an event when the status changes."""
        health = self._health()
        before = health["Status"]
        health["Log"] = (health["Log"] + [{"Start": rfc3339(int(start * SECOND)), "End": rfc3339(),
                                            "ExitCode": exit_code, "Output": output}])[-MAX_LOG_ENTRIES:]
        if exit_code == 0:
            health["FailingStreak"] = 0
            health["Status"] = "healthy"
        else:
            in_start_period = (start - self._started) * SECOND < _setting(self._container, "StartPeriod", 0)
            if not (before == "starting" and in_start_period):
                health["FailingStreak"] += 1
                if health["FailingStreak"] >= _setting(self._container, "Retries", DEFAULT_RETRIES):
                    health["Status"] = "unhealthy"
        if health["Status"] != before:
            self._runtime.publish(self._container, "health_status: " + health["Status"])
        return self._runtime.persist(self._container)


def _seconds(value):
    """A duration as Go prints it: 500ms, 30s, 1m30s."""
    if value < 1:
        return "%dms" % round(value * 1000)
    minutes, seconds = divmod(value, 60)
    return ("%dm" % minutes if minutes else "") + "%gs" % seconds
