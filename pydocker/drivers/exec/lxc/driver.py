"""The lxc exec driver: containers started by LXC's own tools.

Why the tools and not python3-lxc: the bindings exist only for Debian's
/usr/bin/python3, not the daemon's interpreter, and ``lxc-execute`` /
``lxc-attach`` are what the bindings would run anyway; as child processes
they fit Twisted's process API and the container simply inherits their stdio.

A start: checks and the config written (``prepare``, ``inroot``, ``config``), then
``lxc-execute``, whose init (init.lxc) reaps and forwards signals. LXC calls
our hook (``hooks``) once the container's namespaces and cgroups exist: the
driver reads the cgroup paths from /proc, writes the limits with the shared
cgroup code, runs the network hook, and only then lets the command run; the
start is reported once it runs and signals reach it (``ready``); when the command exits,
the rest of the container is killed, as Docker's pid namespace does (``mainexit``).
Stats, pids, pause and update use that same cgroup code (one implementation
for both drivers, no fork per ``docker stats`` sample).

``lxc-execute`` runs from a sealed in-memory copy (``sealed``) made once per
driver: LXC runs its own executable as the container's init, which would
otherwise leave the host's file reachable through ``/proc/1/exe``
(``lxc-attach`` re-executes itself from such a copy on its own).

An exit is reported once the cgroups LXC made for the container (its own, its
monitor's and the monitor's pivot: ``config.cgroup_dirs``) are gone; ``clean``
removes them, killing what still runs there after a daemon crash (``leftovers``). What
the exit was comes from LXC's log (``outcome``).
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from pydocker.drivers.exec import cgroups, spec as specs, validate
from pydocker.drivers.exec.common import RunningContainers
from pydocker.drivers.exec.interfaces import IExecDriver
from pydocker.drivers.exec.lxc import (config as lxc_config, console, hooks, leftovers, mainexit,
                                      prepare, ready, userns)
from pydocker.drivers.exec.lxc.inroot import DEFAULT_PATH, ContainerView
from pydocker.drivers.exec.lxc.outcome import outcome
from pydocker.drivers.exec.lxc.process import LXCToolProcess
from pydocker.drivers.exec.sealed import SealedCopy
from pydocker.errdefs import Conflict, InvalidParameter, PrerequisiteMissing

TOOLS = ("lxc-execute", "lxc-attach", "init.lxc.static", "setsid", "timeout")
# What LXC cannot do that the native driver does; refused at start.
UNSUPPORTED = ("supplementary groups (--group-add)", "--domainname",
               "exec with a working directory other than / in a container without /bin/sh",
               "seccomp log/trace actions")
log = Logger()


@dataclass
class _Running:
    spec: specs.ContainerSpec
    tool: LXCToolProcess
    channel: hooks.HookChannel
    pid: int = None
    cgroup: object = None
    oom: bool = False
    error: object = None
    released: bool = False      # the start-host hook let init run
    command: object = None      # the mainexit.CommandWatch once the command runs
    started: defer.Deferred = field(default_factory=defer.Deferred)

    @property
    def stdin(self):
        return self.tool.stdin


@implementer(IExecDriver)
class LXCDriver(RunningContainers):
    name = "lxc"

    def __init__(self, home, options=None, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        self._home = home
        self._raw = [lxc_config.check_raw(k, v) for k, v in (options or {}).items()]
        for tool in TOOLS:
            if shutil.which(tool, path=DEFAULT_PATH) is None:
                raise PrerequisiteMissing("the lxc exec driver needs %s (from lxc, util-linux "
                                          "or coreutils)" % tool)
        if not os.path.isdir("/sys/fs/cgroup"):
            raise PrerequisiteMissing("no cgroup filesystem at /sys/fs/cgroup")
        os.makedirs(home, mode=0o700, exist_ok=True)
        self._hook = hooks.install_script(home)
        self._execute = SealedCopy(shutil.which("lxc-execute", path=DEFAULT_PATH),
                                   os.path.join(home, "lxc-execute"))
        self._rootfs_mount = os.path.join(home, "rootfs-mount")
        os.makedirs(self._rootfs_mount, exist_ok=True)
        self._version = subprocess.run(["lxc-execute", "--version"], capture_output=True,
                                       text=True).stdout.strip()
        self._running = {}
        self._parents = set()         # cgroup parents LXC has placed containers under

    def kernel_memory_enforced(self):
        return cgroups.kernel_memory_enforced()

    def info(self):
        return [("Execution Driver", "lxc-" + self._version),
                ("Cgroup Driver", "cgroupfs"),
                ("Cgroup Version", str(cgroups.version())),
                ("Seccomp", "lxc (profiles translated to LXC's format)"),
                ("Init", "always (init.lxc)"),
                ("Unsupported by lxc", "; ".join(UNSUPPORTED))]

    # --- starting --------------------------------------------------------------------

    def _prepare(self, spec):
        """Check and write everything for ``spec``; returns the config file's path."""
        caps = prepare.check(spec)
        spec = prepare.placed(spec)
        self._parents.add(spec.cgroup_parent.strip("/"))
        directory = self._state_dir(spec.id)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if spec.userns:
            userns.check_root_ranges(spec.userns)
            userns.make_traversable(self._home, directory, self._rootfs_mount)
        raw = list(self._raw) + [lxc_config.check_raw(k, v) for k, v in spec.lxc_conf]
        return prepare.write_config(spec, caps, directory,
                                    lxc_config.Paths(self._hook, self._rootfs_mount), raw)

    def run(self, spec, io):
        if spec.id in self._running:
            raise Conflict("container %s is already running" % spec.id)
        if not spec.id or "/" in spec.id:
            raise InvalidParameter("invalid container id %r" % spec.id)
        self._refuse_a_tracer_in_its_pid_namespace(spec)
        try:
            config_path = self._prepare(spec)
        except Exception:
            shutil.rmtree(self._state_dir(spec.id), ignore_errors=True)
            raise
        directory = self._state_dir(spec.id)
        # With a TTY our pty is lxc-execute's controlling terminal, the peer of the console.
        argv = ["setsid"] + (["-c"] if spec.tty else []) + [
            self._execute.path, "-n", spec.id, "-P", self._home, "-f", config_path,
            "-q", "-l", "INFO", "-o", os.path.join(directory, "lxc.log"), "--"] + spec.args
        tool = LXCToolProcess(argv, io, spec.tty, spec.open_stdin, self._reactor)
        channel = hooks.HookChannel(directory, lambda kind, pid: self._hook_called(
            spec.id, kind, pid), self._reactor)
        running = _Running(spec, tool, channel)
        if spec.tty:
            running.started.addCallback(lambda _: tool.terminal_ready())
        running.started.addCallback(lambda _: io.started(running.pid, tool.stdin))
        self._running[spec.id] = running
        channel.start()
        try:
            tool.spawn()
        except Exception:
            self._running.pop(spec.id)
            channel.close()
            self.clean(spec.id)
            raise
        return tool.exited.addCallback(self._container_exited, running)

    def _refuse_a_tracer_in_its_pid_namespace(self, spec):
        """LXC's process that starts a container is dumpable and holds host fds
        and the host's root until its pivot: in a pid namespace where a container
        has CAP_SYS_PTRACE, that container could open them through /proc (see
        docs/SECURITY.md; the native driver builds the mounts before it joins)."""
        joined = _namespace_id(spec.namespaces.pid)
        if joined is None:
            return          # a new namespace, the host's, or one LXC will say is gone
        for running in list(self._running.values()):
            if running.pid is None or _namespace_id("/proc/%d/ns/pid" % running.pid) != joined:
                continue
            owner = running.spec
            if "SYS_PTRACE" in validate.container_caps(owner.cap_add, owner.cap_drop,
                                                       owner.privileged):
                raise InvalidParameter(
                    "the lxc exec driver cannot start a container in the pid namespace of "
                    "container %s, which has CAP_SYS_PTRACE: it could reach the host through "
                    "LXC's starting process" % owner.id[:12])

    def _hook_called(self, container_id, kind, pid):
        running = self._running.get(container_id)
        if running is None:
            return defer.fail(Conflict("unknown container"))
        if kind == "start-host":
            d = self._container_created(running, pid)
            d.addErrback(self._start_failed, running)
            return d
        if kind == "stop" and running.cgroup is not None:
            # The OOM count is read before LXC removes the cgroup: the hook's reply waits.
            return self._in_thread(running.cgroup.oom_killed).addCallback(
                lambda oom: setattr(running, "oom", oom))
        return defer.succeed(None)

    @defer.inlineCallbacks
    def _container_created(self, running, pid):
        """The start-host hook: namespaces exist, init.lxc waits for our reply."""
        running.pid = pid
        spec = running.spec
        cgroup = yield self._in_thread(self._limit, spec, pid)
        running.cgroup = cgroup
        if spec.network_hook is not None:
            yield defer.maybeDeferred(spec.network_hook, pid)
        running.released = True
        self._reactor.callLater(0, self._await_command, running)

    def _await_command(self, running):
        """After the hook's reply: report the start once the command runs (``ready``). The
        check reads /proc in a thread: a process in the middle of an exec holds its readers."""
        checked = self._in_thread(_command_running, running.pid, running.tool.pid, running.spec.tty)
        checked.addCallback(self._command_checked, running)

    def _command_checked(self, command_pid, running):
        if running.started.called or self._running.get(running.spec.id) is not running:
            return      # the container has exited already: the exit path reports it
        if command_pid is not None:
            running.started.callback(None)
            self._watch_command(command_pid, running)
        else:
            self._reactor.callLater(0.005, self._await_command, running)

    def _watch_command(self, command_pid, running):
        try:
            pidfd = os.pidfd_open(command_pid) if command_pid else None
        except ProcessLookupError:
            pidfd = None
        if pidfd is None:
            self._command_exited(running)
        else:
            running.command = mainexit.CommandWatch(
                self._reactor, pidfd, lambda: self._command_exited(running))

    def _command_exited(self, running):
        """The rest of the container goes with its command (``mainexit``)."""
        if self._running.get(running.spec.id) is not running:
            return
        killed = self._in_thread(mainexit.kill_all_but_init, running.cgroup, running.pid)
        killed.addErrback(lambda reason: log.error(
            "ending container {id} with its command failed: {e}", id=running.spec.id[:12],
            e=reason.getErrorMessage()))

    def _limit(self, spec, pid):
        cgroup = cgroups.of_process(pid)
        self._save_state(spec.id, cgroup)
        cgroup.configure_devices(spec.devices, spec.device_cgroup_rules, spec.privileged)
        cgroup.set(spec.resources)
        return cgroup

    def _start_failed(self, reason, running):
        running.error = reason
        return reason

    def _container_exited(self, code, running):
        """``lxc-execute`` (LXC's monitor) has exited: the exit is reported once the
        cgroups it leaves (its pivot, or all of them if it failed) are gone too."""
        container_id = running.spec.id
        self._running.pop(container_id, None)
        if running.command is not None:
            running.command.close()
        if running.released and not running.started.called:
            running.started.callback(None)      # it ran and ended before the next poll
        running.channel.close()
        status = outcome(code, running,
                         _read(os.path.join(self._state_dir(container_id), "lxc.log")))
        removed = self._in_thread(self.clean, container_id)
        removed.addErrback(lambda reason: log.error(
            "cleaning up after container {id} failed: {e}", id=container_id[:12],
            e=reason.getErrorMessage()))
        return removed.addCallback(lambda _: status)

    # --- exec ----------------------------------------------------------------------------

    def exec(self, container_id, exec_spec, io):
        if not exec_spec.args:
            raise InvalidParameter("no exec command specified")
        if self._execute.kind != "memfd":
            # LXC 5.0's lxc-attach re-executes itself from a memfd of its own, with no way
            # around one the kernel will not execute: it fails, then crashes.
            raise PrerequisiteMissing(
                "exec with the lxc driver needs executable memfds (lxc-attach re-executes "
                "itself from one), which this host refuses (sysctl vm.memfd_noexec=2)")
        running = self._live(container_id)
        spec = running.spec
        config = exec_spec.helper_config(spec, running.pid)
        view = ContainerView(spec.rootfs, spec.mounts)
        uid, gid, _groups, home = view.user(config["user"])
        env = list(config["env"])
        if not any(item.startswith("HOME=") for item in env):
            env.append("HOME=" + home)
        if not any(item.startswith("PATH=") for item in env):
            env.append("PATH=" + DEFAULT_PATH)
        args = list(exec_spec.args)
        view.look_path(args[0], env)
        cwd = config["cwd"] or "/"
        if cwd != "/":
            # lxc-attach starts in the caller's directory: go there through the container's sh.
            view.look_path("/bin/sh", env)
            args = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', cwd] + args
        argv = ["setsid"] + (["-c"] if exec_spec.tty else []) + [
            "lxc-attach", "-n", container_id, "-P", self._home, "-q", "--clear-env",
            "-u", str(uid), "-g", str(gid)]
        if exec_spec.privileged:
            argv += ["--elevated-privileges=CAP"]     # keep every capability, as Docker does
        for item in env:
            argv += ["-v", item]
        tool = LXCToolProcess(argv + ["--"] + args, io, exec_spec.tty, exec_spec.open_stdin,
                              self._reactor)
        tool.spawn()
        ready = tool.terminal_ready().addCallback(lambda _: self._exec_console(tool)) if exec_spec.tty \
            else defer.succeed(None)
        ready.addCallback(lambda _: io.started(tool.pid, tool.stdin))
        return tool.exited.addCallback(lambda code: specs.ExitStatus(code, False))

    def _exec_console(self, tool, timeout=120.0):
        """A Deferred firing once the exec's command runs and its pty has devpts' mode again
        (see console.py), or once ``lxc-attach`` is gone; polled, as the start's command."""
        done = defer.Deferred()
        deadline = self._reactor.seconds() + timeout

        def poll():
            self._in_thread(_restore_exec_console, tool.pid).addCallback(checked).addErrback(done.errback)

        def checked(finished):
            if finished or self._reactor.seconds() > deadline:
                done.callback(None)
            else:
                self._reactor.callLater(0.005, poll)
        poll()
        return done

    # --- controlling running containers (the calls are in RunningContainers) ------------

    def _live(self, container_id):
        running = self._running.get(container_id)
        if running is None or running.cgroup is None or not running.started.called:
            raise Conflict("container %s is not running" % container_id)
        return running

    # --- leftovers -------------------------------------------------------------------------

    def clean(self, container_id):
        """Also after a daemon crash: stop what LXC still runs, remove cgroups and state."""
        if container_id in self._running:
            raise Conflict("container %s is running" % container_id)
        directory = self._state_dir(container_id)
        if not os.path.isdir(directory):
            return
        try:
            with open(os.path.join(directory, "state.json")) as f:
                paths = json.load(f)["cgroup"]
        except (FileNotFoundError, ValueError):
            paths = None
        dirs = lxc_config.cgroup_dirs_in(_read(os.path.join(directory, "config")))
        # The FIFOs go first: LXC's stop hook then finds no daemon to wait for.
        shutil.rmtree(directory, ignore_errors=True)
        if paths is not None:
            cgroups.from_paths(paths).destroy()     # thaws a paused container to kill it
        leftovers.remove(dirs)
        if dirs:
            self._parents.add(os.path.dirname(dirs[lxc_config.CGROUP_KEYS[0]]))

    def shutdown(self):
        """Remove the empty parents LXC made. LXC places them from each hierarchy's
        root, where the daemon's own clean-up (relative to its own cgroup, like the
        native driver's) does not look."""
        self._execute.close()
        return self._in_thread(_remove_parents, sorted(self._parents))


def _remove_parents(parents):
    for parent in parents:
        cgroups.remove_parent("/" + parent)


def _namespace_id(path):
    """(device, inode) of the namespace file at ``path``; None if there is none."""
    if not path.startswith("/proc/"):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _command_running(init_pid, monitor_pid, tty):
    """``ready.running_command`` (a worker's check); once the command runs, a TTY's console
    has devpts' mode again (LXC's own chmod undone, see console.py)."""
    command = ready.running_command(init_pid, monitor_pid)
    if command is not None and tty:
        console.restore_mode(init_pid)
    return command


def _restore_exec_console(attach_pid):
    """Whether the exec's command runs (a worker's check: ``ready.attached_command``); once
    it does, its pty has devpts' mode again."""
    command = ready.attached_command(attach_pid)
    if command:
        console.restore_mode(command)
    return command is not None
