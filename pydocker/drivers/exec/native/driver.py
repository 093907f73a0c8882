"""The native exec driver: containers from namespaces and cgroups, set up by
our own launcher (``init``) rather than an external runtime.

Process tree: the daemon has one child, the spawner (``spawner``), a child
subreaper that forks a short-lived launcher per run or exec. Each launcher
makes the container process (or joins the container for an exec) and exits
once the command runs, so every container's PID 1 and every exec'd process is
a child of the spawner, which reports their exits to the daemon."""

import json
import os
import shutil
import signal as signals
from dataclasses import dataclass

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python import failure
from zope.interface import implementer

from pydocker.drivers.exec import cgroups, spec as specs, validate
from pydocker.drivers.exec.common import RunningContainers
from pydocker.drivers.exec.interfaces import IExecDriver
from pydocker.drivers.exec.native import seccomp
from pydocker.drivers.exec.native.launch import Launch
from pydocker.drivers.exec.native.spawner_client import SpawnerProcess
from pydocker.drivers.exec.seccomp.profile import ProfileError
from pydocker.errdefs import Conflict, InvalidParameter, PrerequisiteMissing

DEFAULT_CGROUP_PARENT = "pydocker"
log = Logger()
KNOWN_OPTIONS = {"native.cgroupdriver": ("cgroupfs",)}


@dataclass
class _Running:
    spec: specs.ContainerSpec
    cgroup: object
    launch: Launch

    @property
    def pid(self):
        return self.launch.pid if self.launch is not None else None

    @property
    def stdin(self):
        return self.launch.stdin if self.launch is not None else None


@implementer(IExecDriver)
class NativeDriver(RunningContainers):
    name = "native"

    def __init__(self, home, options=None, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        self._home = home
        self._options = _check_options(options or {})
        for path in ("/proc/self/ns/pid", "/proc/self/ns/net", "/proc/self/ns/mnt"):
            if not os.path.exists(path):
                raise PrerequisiteMissing("the kernel lacks namespace support (%s)" % path)
        if not os.path.isdir("/sys/fs/cgroup"):
            raise PrerequisiteMissing("no cgroup filesystem at /sys/fs/cgroup")
        os.makedirs(home, mode=0o700, exist_ok=True)
        self._seccomp = seccomp.available()
        self._running = {}
        self._spawner = None
        # Started ahead of the first container, which need not wait for its interpreter.
        self._reactor.callWhenRunning(self._current_spawner)

    def kernel_memory_enforced(self):
        return cgroups.kernel_memory_enforced()

    def info(self):
        return [("Execution Driver", "native"),
                ("Cgroup Driver", self._options["native.cgroupdriver"]),
                ("Cgroup Version", str(cgroups.version())),
                ("Seccomp", "builtin" if self._seccomp else "unavailable (no libseccomp)")]

    def _seccomp_program(self, profile, caps, privileged):
        """Compile the container's filter here, once per profile, so the launcher
        only installs it; a bad profile is an InvalidParameter before any start."""
        if privileged or profile == "unconfined":
            return None
        if not self._seccomp:
            if profile is None:
                return None         # like Docker on a host without seccomp
            raise InvalidParameter("seccomp profiles need libseccomp, which is not installed")
        try:
            return seccomp.program_for(profile, caps)
        except (ProfileError, KeyError, TypeError) as e:
            raise InvalidParameter("invalid seccomp profile: %s" % e) from None

    # --- starting processes ----------------------------------------------------------

    def run(self, spec, io):
        if spec.id in self._running:
            raise Conflict("container %s is already running" % spec.id)
        if spec.lxc_conf:
            raise InvalidParameter("LxcConf settings need the lxc exec driver (pydocker -d -e lxc)")
        config = spec.helper_config()
        config["caps"] = validate.container(spec)
        config["seccomp_bpf"] = self._seccomp_program(config.pop("seccomp"), config["caps"],
                                                      spec.privileged)
        running = _Running(spec, None, None)
        self._running[spec.id] = running  # taken now: a second run is a Conflict
        made = self._in_thread(self._make_cgroup, spec)
        made.addErrback(self._not_started, spec.id)
        return made.addCallback(self._launch, running, config, io)

    def _make_cgroup(self, spec):
        """The container's cgroup, made and limited (in a thread: creating and writing
        cgroup files waits on the kernel). Its paths are saved first, so a crash after
        this point is cleaned at the next start."""
        cgroup = cgroups.for_container(spec.cgroup_parent or DEFAULT_CGROUP_PARENT, spec.id)
        os.makedirs(self._state_dir(spec.id), exist_ok=True)
        self._save_state(spec.id, cgroup)
        try:
            cgroup.create()
            cgroup.configure_devices(spec.devices, spec.device_cgroup_rules, spec.privileged)
            cgroup.set(spec.resources)
        except Exception:
            self._remove_state(spec.id)
            raise
        return cgroup

    def _not_started(self, reason, container_id):
        self._running.pop(container_id, None)
        return reason

    def _launch(self, cgroup, running, config, io):
        spec = running.spec
        config["cgroup_view"] = cgroup.container_view()
        running.cgroup = cgroup

        def on_pid(pid):
            steps = [self._in_thread(cgroup.apply, pid)]
            if spec.network_hook is not None:
                steps.append(defer.maybeDeferred(spec.network_hook, pid))
            return defer.gatherResults(steps, consumeErrors=True).addErrback(
                lambda f: f.value.subFailure)

        running.launch = Launch(config, io, on_pid, lambda pid: self._kill_cgroup(cgroup), self._reactor)
        try:
            running.launch.start(self._current_spawner)
        except Exception:
            lost = failure.Failure()
            del self._running[spec.id]
            return self._in_thread(self._remove_state, spec.id).addBoth(lambda _: lost)
        return running.launch.result.addBoth(self._container_exited, spec.id, cgroup)

    def _kill_cgroup(self, cgroup):
        """Kill what the cgroup holds (in a thread: a v1 thaw waits for the freezer)."""
        self._in_thread(cgroup.kill_all, signals.SIGKILL).addErrback(
            lambda reason: log.error("killing a lost container failed: {e}", e=reason.getErrorMessage()))

    def _container_exited(self, outcome, container_id, cgroup):
        """The exit is reported once the cgroup is gone (in a thread: removal retries
        while the kernel takes killed processes out)."""
        self._running.pop(container_id, None)
        cleaned = self._in_thread(self._reap, container_id, cgroup)

        def report(oom):
            if isinstance(outcome, dict):
                return specs.ExitStatus(outcome["exit_code"], oom, outcome["signal"])
            return outcome
        return cleaned.addCallback(report)

    def _reap(self, container_id, cgroup):
        try:
            return cgroup.oom_killed()
        finally:
            self._remove_state(container_id)

    def exec(self, container_id, exec_spec, io):
        if not exec_spec.args:
            raise InvalidParameter("no exec command specified")
        running = self._live(container_id)
        if running.pid is None:
            raise Conflict("container %s is not running" % container_id)
        config = exec_spec.helper_config(running.spec, running.pid)
        config["caps"] = validate.container_caps(running.spec.cap_add, running.spec.cap_drop,
                                                 config["privileged"])
        config["seccomp_bpf"] = self._seccomp_program(config.pop("seccomp"), config["caps"],
                                                      config["privileged"])
        config["init"] = False
        launch = Launch(config, io, lambda pid: self._in_thread(running.cgroup.apply, pid),
                        _kill, self._reactor)
        launch.start(self._current_spawner)
        return launch.result.addCallback(
            lambda outcome: specs.ExitStatus(outcome["exit_code"], False, outcome["signal"]))

    def _current_spawner(self):
        """The running spawner, started anew if there is none (first start, or it died)."""
        if self._spawner is None or not self._spawner.alive:
            self._spawner = SpawnerProcess(self._reactor, self._home).start()
        return self._spawner

    # --- controlling running containers (the calls are in RunningContainers) --------

    def _live(self, container_id):
        running = self._running.get(container_id)
        if running is None or running.cgroup is None:  # none, or its cgroup still being made
            raise Conflict("container %s is not running" % container_id)
        return running

    # --- leftovers ---------------------------------------------------------------------

    def shutdown(self):
        """Stop the spawner; any container still running is killed by its loss."""
        spawner, self._spawner = self._spawner, None
        if spawner is None or not spawner.alive:
            return defer.succeed(None)
        return spawner.stop()

    def clean(self, container_id):
        if container_id in self._running:
            raise Conflict("container %s is running" % container_id)
        self._remove_state(container_id)

    def _remove_state(self, container_id):
        """Kill and remove the container's cgroup, then its state directory (blocking)."""
        directory = self._state_dir(container_id)
        try:
            with open(os.path.join(directory, "state.json")) as f:
                state = json.load(f)
        except FileNotFoundError:
            return
        cgroups.from_paths(state["cgroup"]).destroy()
        shutil.rmtree(directory, ignore_errors=True)


def _kill(pid):
    try:
        os.kill(pid, signals.SIGKILL)
    except ProcessLookupError:
        pass


def _check_options(options):
    checked = {"native.cgroupdriver": "cgroupfs"}
    for key, value in options.items():
        if key not in KNOWN_OPTIONS:
            raise InvalidParameter("unknown exec-opt for the native driver: %s" % key)
        if value not in KNOWN_OPTIONS[key]:
            raise InvalidParameter("%s=%s is not supported (choose from %s)"
                                   % (key, value, ", ".join(KNOWN_OPTIONS[key])))
        checked[key] = value
    return checked
