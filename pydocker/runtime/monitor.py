"""The monitor: starts a container's process, follows it to its exit, applies the
restart policy and auto-removal. One ``Runtime`` serves every container.

The "runtime" service of the daemon's tree. Its state (the live processes, exit
waiters, restart timers, attachments) belongs to the reactor thread; blocking
steps (mounts, files) go to the worker pool, the record goes to the store after
every change. At stop it stops every running container.

(Just over 400 lines: one class, the life of a container's process from start to
exit and restart; its parts share the live-process table.)
"""

import os
import signal
import time

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from pydocker.containers import paths
from pydocker.drivers.exec import cgroups
from pydocker.errdefs import Conflict, NotModified, PydockerError
from pydocker.fields import uint_pair
from pydocker.runtime import health, restart
from pydocker.runtime.io import Attachments, ContainerIO
from pydocker.runtime.logwriter import QueuedLogWriter
from pydocker.runtime.signals import parse_signal
from pydocker.runtime.spec import container_spec
from pydocker.store import containers as cstore
from pydocker.userns import ownership

DEFAULT_STOP_TIMEOUT = 10
SHUTDOWN_KILL_GRACE = 5     # seconds after the stop timeout for SIGKILLed containers to be reported


class _Live:
    """What the runtime knows about one container while its process exists."""

    def __init__(self, io):
        self.io = io
        self.exited = defer.Deferred()  # fires with the ExitStatus
        self.started_at = time.monotonic()
        self.health = None              # its HealthMonitor, with a HEALTHCHECK


class Runtime(service.Service):
    name = "runtime"
    log = Logger()

    def __init__(self, reactor, workers, execdriver, graph, network, volumes, logdrivers, logthread, store,
                 events, containers, config, idmap=None):
        self.reactor = reactor
        self._workers = workers
        self.execdriver = execdriver
        self._graph = graph
        self._network = network
        self._volumes = volumes
        self._logdrivers = logdrivers
        self._store = store
        self._events = events
        self._containers = containers
        self._config = config
        self._idmap = idmap     # --userns-remap's mapping, or None
        self._start_through = self.start
        self._live = {}
        self._exit_waiters = {}  # id -> [Deferred]
        self._backoff = {}
        self._restart_calls = {}
        self._stopped_callbacks = []
        self._attachments = {}
        self._log_thread = logthread    # a WriterThread: containers' logs are written there, in order

    @defer.inlineCallbacks
    def stopService(self):
        yield super().stopService()
        yield self.shutdown(self._config.shutdown_timeout)
        yield self._workers.run(cgroups.remove_parent, self._config.cgroup_parent)

    def start_through(self, start):
        """Policy restarts call ``start(container)``: the jobs layer routes them through
        its ``container.start`` job, so they are locked and logged like any start."""
        self._start_through = start

    def on_stopped(self, callback):
        """``callback(container)`` (may return a Deferred) after a container stops for good
        (not restarting): the jobs layer uses it for --rm."""
        self._stopped_callbacks.append(callback)

    # -- paths --------------------------------------------------------------------------
    def container_dir(self, container_id):
        return paths.container_dir(self._config.data_root, container_id)

    def log_path(self, container):
        return os.path.join(self.container_dir(container.id), f"{container.id}-json.log")

    def attachments(self, container):
        """The attached clients of ``container`` (made on first use, dropped when empty)."""
        return self._attachments.setdefault(container.id, Attachments())

    def detach(self, container):
        """Forget the container's attachments once no client is attached and no process
        holds them (a running process keeps its set, for the next attach)."""
        attachments = self._attachments.get(container.id)
        if attachments is not None and not attachments and container.id not in self._live:
            del self._attachments[container.id]

    def io_of(self, container):
        live = self._live.get(container.id)
        return live.io if live else None

    def persist(self, container):
        return self._store.run(cstore.save_record, cstore.record(container))

    def publish(self, container, action, **extra):
        attrs = {"name": container.name, "image": container.image_name}
        attrs.update((container.config.get("Labels") or {}))
        attrs.update({k: str(v) for k, v in extra.items()})
        self._events.publish("container", action, container.id, attrs)

    # -- start ----------------------------------------------------------------------------
    @defer.inlineCallbacks
    def start(self, container):
        """Start the container's process; fires once it runs, errbacks if it could not start."""
        if container.running and not container.state.get("Restarting"):
            raise NotModified("container already started")
        if container.paused:
            raise Conflict("cannot start a paused container, try unpause instead")
        if container.removing:
            raise Conflict(f"container {container.id} is marked for removal and cannot be started")
        self._cancel_restart(container)
        rootfs = yield self._workers.run(self._graph.get, container.id)
        live = None
        try:
            directory = self.container_dir(container.id)
            yield self._workers.run(ownership.traversable_dir, directory, self._idmap, mode=0o710)
            yield self._network.write_files(container, directory)
            yield self._workers.run(self._own_network_files, directory)
            volume_mounts = yield self._workers.run(self._volumes.mount_all, container.name, _points(container),
                                                    rootfs)
            for point in container.mounts:
                point.pop("_copy", None)  # filled from the image once
            hook = self._network.hook(container)
            spec = container_spec(container, rootfs, self.container_dir(container.id), self._config,
                                  self._pid_of, volume_mounts, hook, self._network.link_env(container),
                                  self._idmap)
            log_writer = yield self._open_log(container)
            live = _Live(ContainerIO(log_writer, self.attachments(container).outputs))
            exited = self.execdriver.run(spec, live.io)
            self._live[container.id] = live
            first = yield defer.DeferredList([live.io.started_d, exited], fireOnOneCallback=True,
                                             fireOnOneErrback=True, consumeErrors=True)
            if not live.io.started_d.called:
                # The process ended before it ran its command: that is a failed start.
                status = first[0]
                raise PydockerError(f"container exited before it started (exit code {status.exit_code})")
        except Exception as e:
            failure = e.subFailure.value if isinstance(e, defer.FirstError) else e
            yield self._undo_start(container, live)
            code = getattr(failure, "exit_code", 128)
            container.set_start_failed(str(failure), code)
            yield self.persist(container)
            raise failure
        container.set_running(live.io.pid)
        self._watch_health(container, live)
        exited.addBoth(self._on_exit, container, live)
        self._apply_console_size(container)
        self.attachments(container).started(live.io)
        yield self.persist(container)
        self.publish(container, "start")
        return container

    def _watch_health(self, container, live):
        argv = health.probe_command(container)
        if argv is None:
            container.state.pop("Health", None)
            return
        live.health = health.HealthMonitor(self, container, argv)
        live.health.start()

    def _own_network_files(self, directory):
        """The files write_files made, owned by the container's root, who may edit them."""
        for name in ("hostname", "hosts", "resolv.conf"):
            ownership.owned_by_root(os.path.join(directory, name), self._idmap)

    def _apply_console_size(self, container):
        """A TTY starts at HostConfig.ConsoleSize, so the first output is laid out for the
        client's terminal before its first resize arrives."""
        height, width = uint_pair(container.host_config.get("ConsoleSize"))
        if container.config.get("Tty") and height and width:
            try:
                self.execdriver.resize(container.id, height, width)
            except Exception as e:
                self.log.debug("console size not applied: {e}", e=e)

    def log_driver(self, container):
        """(driver, options) of the container: its LogConfig, else the daemon's defaults."""
        log_config = container.host_config.get("LogConfig") or {}
        kind = log_config.get("Type") or self._config.log_driver
        options = dict(self._config.log_opts) if kind == self._config.log_driver else {}
        options.update(log_config.get("Config") or {})
        return self._logdrivers[kind], options

    @defer.inlineCallbacks
    def _open_log(self, container):
        """The container's log writer (None for the none driver): opened in a worker (a
        syslog server may be slow to answer, or not answer), written on the log thread."""
        driver, options = self.log_driver(container)
        writer = yield self._workers.run(driver.open, container, self.log_path(container), options)
        return None if writer is None else QueuedLogWriter(writer, self._log_thread)

    @defer.inlineCallbacks
    def _undo_start(self, container, live):
        self._live.pop(container.id, None)
        if live is not None:
            live.io.close()
        yield self._network.release(container)
        yield self._workers.run(self._volumes.unmount_all, _points(container))
        yield self._workers.run(self._graph.put, container.id)

    def _pid_of(self, ref):
        other = self._containers.get(ref)
        if not other.running or not other.state.get("Pid"):
            raise Conflict(f"cannot join the namespaces of container {ref}: it is not running")
        return other.state["Pid"]

    # -- exit -------------------------------------------------------------------------------
    @defer.inlineCallbacks
    def _on_exit(self, outcome, container, live):
        from twisted.python.failure import Failure
        if isinstance(outcome, Failure):
            self.log.error("container {id} monitor failed: {err}", id=container.id[:12], err=outcome.getErrorMessage())
            exit_code, oom = 128, False
        else:
            exit_code, oom = outcome.exit_code, outcome.oom_killed
        self._live.pop(container.id, None)
        if live.health is not None:
            live.health.stop()
        live.io.close()
        try:
            yield self._network.release(container)
            yield self._workers.run(self._volumes.unmount_all, _points(container))
            yield self._workers.run(self._graph.put, container.id)
        except Exception as e:
            self.log.error("cleaning up container {id} failed: {e}", id=container.id[:12], e=e)
        ran_for = time.monotonic() - live.started_at
        policy = container.host_config.get("RestartPolicy") or {}
        again = restart.should_restart(policy, exit_code, container.restart_count, container.manually_stopped)
        if again:
            container.set_restarting(exit_code)
        else:
            container.set_stopped(exit_code, oom)
        yield self.persist(container)
        if oom:
            self.publish(container, "oom")
        self.publish(container, "die", exitCode=exit_code)
        for waiter in self._exit_waiters.pop(container.id, []):
            waiter.callback(exit_code)
        if not again:
            self.attachments(container).exited(exit_code)
            self.detach(container)
        if again:
            delay = self._backoff.setdefault(container.id, restart.Backoff()).next(ran_for)
            self._restart_calls[container.id] = self.reactor.callLater(delay, self._restart_now, container)
        else:
            for callback in list(self._stopped_callbacks):
                yield callback(container)

    @defer.inlineCallbacks
    def _restart_now(self, container):
        self._restart_calls.pop(container.id, None)
        if container.removing or not container.state.get("Restarting"):
            return
        container.restart_count += 1
        try:
            yield self._start_through(container)
        except Exception as e:
            self.log.error("restarting container {id} failed: {e}", id=container.id[:12], e=e)
            container.set_stopped(container.state["ExitCode"], error=str(e))
            yield self.persist(container)

    def _cancel_restart(self, container):
        call = self._restart_calls.pop(container.id, None)
        if call is not None and call.active():
            call.cancel()

    def next_exit(self, container):
        """A Deferred firing with the exit code of the container's next exit."""
        d = defer.Deferred()
        self._exit_waiters.setdefault(container.id, []).append(d)
        return d

    # -- signals ------------------------------------------------------------------------------
    def kill(self, container, sig):
        if container.state.get("Restarting"):
            self._cancel_restart(container)
            container.set_stopped(container.state["ExitCode"])
            return self.persist(container)
        if not container.running or container.id not in self._live:
            raise Conflict(f"Container {container.id} is not running")
        self.execdriver.kill(container.id, sig)
        self.publish(container, "kill", signal=sig)
        return defer.succeed(None)

    @defer.inlineCallbacks
    def kill_and_wait(self, container):
        """SIGKILL and wait for the exit, as dockerd's forced removal: kill and die events, no
        stop. A paused container is thawed after the signal, so that it is delivered."""
        container.manually_stopped = True
        if container.state.get("Restarting"):
            yield self.kill(container, signal.SIGKILL)  # cancels the pending restart
            return
        exited = self.next_exit(container)
        try:
            yield self.kill(container, signal.SIGKILL)
        except Conflict:
            return  # it exited meanwhile
        if container.paused:
            yield self._workers.run(self.execdriver.unpause, container.id)
        if container.running:
            yield exited

    @defer.inlineCallbacks
    def stop(self, container, timeout=None, sig=None):
        """``sig`` (default STOPSIGNAL or SIGTERM), up to ``timeout`` seconds, then SIGKILL."""
        container.manually_stopped = True
        if container.state.get("Restarting"):
            yield self.kill(container, signal.SIGKILL)
            self.publish(container, "stop")
            return
        if not container.running:
            raise NotModified("container already stopped")
        if timeout is None:
            timeout = container.config.get("StopTimeout")
            timeout = DEFAULT_STOP_TIMEOUT if timeout is None else timeout
        exited = self.next_exit(container)
        if sig is None:
            sig = parse_signal(container.config.get("StopSignal"), signal.SIGTERM)
        if container.paused and sig != signal.SIGKILL:
            yield self.unpause(container)
        try:
            yield self.kill(container, sig)
        except Conflict:
            pass  # it exited meanwhile
        if timeout >= 0:
            try:
                yield exited.addTimeout(timeout, self.reactor)
                self.publish(container, "stop")
                return
            except defer.TimeoutError:
                self.log.info("container {id} did not stop within {t}s: killing it", id=container.id[:12], t=timeout)
        exited = self.next_exit(container)
        if container.running:
            try:
                yield self.kill(container, signal.SIGKILL)
            except Conflict:
                pass
            yield exited
        self.publish(container, "stop")

    @defer.inlineCallbacks
    def pause(self, container):
        if not container.running or container.state.get("Restarting"):
            raise Conflict(f"Container {container.id} is not running")
        if container.paused:
            raise Conflict(f"Container {container.id} is already paused")
        yield self._workers.run(self.execdriver.pause, container.id)
        if not container.running:   # it exited while the driver froze its cgroup
            raise Conflict(f"Container {container.id} is not running")
        container.set_paused(True)
        yield self.persist(container)
        self.publish(container, "pause")

    @defer.inlineCallbacks
    def unpause(self, container):
        if not container.paused:
            raise Conflict(f"Container {container.id} is not paused")
        yield self._workers.run(self.execdriver.unpause, container.id)
        if not container.running:   # it exited meanwhile: its record says so already
            return
        container.set_paused(False)
        yield self.persist(container)
        self.publish(container, "unpause")

    @defer.inlineCallbacks
    def frozen(self, container, work):
        """Run ``work()`` (a Deferred) with the container frozen, if it runs and is not
        paused already (commit, docker cp)."""
        freeze = container.running and not container.paused and not container.state.get("Restarting")
        if freeze:
            try:
                yield self.pause(container)
            except Conflict:
                freeze = False      # its process exited meanwhile: nothing left to freeze
        try:
            result = yield work()
        finally:
            if freeze and container.paused:
                try:
                    yield self.unpause(container)
                except Conflict:
                    pass    # its process exited while frozen: its exit sets the record
        return result

    @defer.inlineCallbacks
    def shutdown(self, timeout):
        """Daemon stop: stop every running container within ``timeout`` seconds."""
        for call in list(self._restart_calls.values()):
            if call.active():
                call.cancel()
        self._restart_calls.clear()
        running = [c for c in self._containers.all() if c.id in self._live]
        stops = defer.DeferredList([self.stop(c, timeout) for c in running], consumeErrors=True)
        # SIGKILL is final, but an exit that is never reported must not keep the
        # daemon from stopping: give up on the stragglers after a grace period.
        give_up = self.reactor.callLater(timeout + SHUTDOWN_KILL_GRACE, stops.cancel)
        results = yield stops
        if give_up.active():
            give_up.cancel()
        for ok, value in results:
            if not ok:
                self.log.error("stopping a container at shutdown failed: {e}", e=value.getErrorMessage())
        yield self.execdriver.shutdown()
        yield self._log_thread.flushed()


def _points(container):
    """A copy of the container's mount points, for a worker thread."""
    return [dict(point) for point in container.mounts]
