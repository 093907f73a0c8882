"""What a launcher runs: the native driver's spawner (``spawner``) forks one per
container start or exec, with the container's stdio on fds 0-2 and a control
socket to the driver on fd 3, and calls ``main``.

It runs before the command of every container, so it imports only small
stdlib modules (the spawner imports them once). Protocol on the control socket:

* driver -> launcher: a frame with the config, later a frame ``"go"`` (or
  anything else to abort) once the driver has placed the process in its
  cgroups and run the network hook;
* launcher -> driver: frames ``{"pid": N}`` (host pid of the container
  process, which sets itself up meanwhile and waits for ``go`` just before
  exec), then ``{"started": true}`` (the command was exec'd) or
  ``{"error": {"kind", "message", "exit_code"}}`` (setup or exec failed).

A frame is a 4-byte big-endian length and a ``marshal``-encoded value
(``marshal`` is built in, where importing ``json`` would cost ~20 ms).

Moving a process into a fresh v1 cgroup costs an RCU grace period (~10 ms
here), so the driver does that, and the network hook, while the container
process builds its mounts; only the exec waits for both.

Start-up errors come from the child over a close-on-exec pipe, so EOF on it
means the exec succeeded. Then the launcher exits: the container process is
reparented to the spawner (a child subreaper), which reaps it and reports its
exit status to the driver.
"""

import errno
import marshal
import os
import stat

# The C module behind ``signal``: the same calls without importing ``enum`` (~8 ms).
import _signal as signal

# Everything the container process needs is imported here, before pivot_root
# hides the host's filesystem (and with it the rest of the stdlib).
import resource

from pydocker.drivers.exec import capabilities
from pydocker.drivers.exec.native import command, linux as L, rootfs, terminal, userns
from pydocker.drivers.exec.native.command import StartError

CONTROL_FD = 3
_NAMESPACE_FILES = (("ipc", L.CLONE_NEWIPC), ("uts", L.CLONE_NEWUTS), ("net", L.CLONE_NEWNET),
                    ("pid", L.CLONE_NEWPID), ("cgroup", L.CLONE_NEWCGROUP), ("mnt", L.CLONE_NEWNS))


def write_frame(fd, value):
    data = marshal.dumps(value)
    os.write(fd, len(data).to_bytes(4, "big") + data)


def read_frame(fd):
    """The next frame from ``fd``, or None at end of file."""
    header = _read_exactly(fd, 4)
    if header is None:
        return None
    return marshal.loads(_read_exactly(fd, int.from_bytes(header, "big")))


def _read_exactly(fd, size):
    chunks = []
    while size:
        data = os.read(fd, size)
        if not data:
            return None
        chunks.append(data)
        size -= len(data)
    return b"".join(chunks)


def _report(message):
    write_frame(CONTROL_FD, message)


def _error_report(exc):
    if isinstance(exc, StartError):
        return {"kind": "config", "message": str(exc), "exit_code": exc.exit_code}
    return {"kind": "system", "message": "%s: %s" % (type(exc).__name__, exc)}


def _fail(err_w, exc):
    """Send the failure to the launcher over the error pipe and die."""
    report = _error_report(exc)
    try:
        write_frame(err_w, report)
    finally:
        os._exit(report.get("exit_code", 1))


# --- the container process, after fork -------------------------------------------

def _set_rlimits(rlimits):
    for item in rlimits:
        name = item["name"]
        number = getattr(resource, "RLIMIT_" + name.upper(), None)
        if number is None:
            raise StartError("invalid ulimit type: %s" % name)
        soft, hard = (resource.RLIM_INFINITY if v < 0 else v for v in (item["soft"], item["hard"]))
        current_hard = resource.getrlimit(number)[1]
        try:
            resource.setrlimit(number, (soft, hard))
        except (ValueError, OSError) as e:
            if current_hard != resource.RLIM_INFINITY and hard > current_hard:
                raise StartError("cannot raise %s hard limit above %d: operation not permitted"
                                 % (name, current_hard)) from None
            raise StartError("cannot set %s limit to %s:%s: %s" % (name, soft, hard, e)) from None


def _give_stdio_to(uid):
    """As runc: the process's user owns its stdio (pipes, its pty), so it may reopen them
    (``echo > /dev/stdout``); /dev/null stays root's, and one it may not take (a file of
    another user namespace's) is left as it is."""
    null = os.stat("/dev/null").st_rdev
    for fd in (0, 1, 2):
        try:
            st = os.fstat(fd)
            if not (stat.S_ISCHR(st.st_mode) and st.st_rdev == null) and st.st_uid != uid:
                os.fchown(fd, uid, -1)
        except OSError as e:
            if e.errno not in (errno.EBADF, errno.EINVAL, errno.EPERM):
                raise


def _drop_bounding_set(caps):
    keep = capabilities.mask(caps)
    for number in range(capabilities.last_cap() + 1):
        if not keep & (1 << number):
            L.prctl(L.PR_CAPBSET_DROP, number)
    return keep


def _restore_signals():
    """Undo what Python did to signal dispositions, so the command starts clean."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _reap_as_init(path, args, env, err_w):
    """Our tiny init: run the command as a child, forward signals, reap
    orphans and exit with the command's status."""
    child = os.fork()
    if child == 0:
        try:
            command.execute(path, args, env)
        except BaseException as e:
            _fail(err_w, e)
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD) and sig < signal.SIGRTMIN:
            signal.signal(sig, lambda number, frame: os.kill(child, number))
    # Only now may the start be confirmed: a signal sent once the driver says
    # "started" must find our handlers (PID 1 ignores signals it does not handle).
    os.close(err_w)
    while True:
        pid, status = os.wait()
        if pid == child:
            os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status)
                     else 128 + os.WTERMSIG(status))


def _await_go(go_r):
    """Block until the driver says go (cgroups and network are ready); leave if it aborted."""
    if os.read(go_r, 1) != b"g":
        os._exit(1)         # the driver aborted the start; it reports why
    os.close(go_r)


def _finalize(config, go_r, err_w):
    """The steps shared by run and exec: limits, privileges, then (once the
    driver says go) exec. A private cgroup namespace is rooted at the cgroup the
    process is in when it unshares: so after go, and before privileges drop."""
    if config["mode"] == "run" and config["namespaces"]["cgroup"] == "private":
        _await_go(go_r)
        L.unshare(L.CLONE_NEWCGROUP)
        go_r = None
    env = list(config["env"])
    _set_rlimits(config["rlimits"])
    caps = config["caps"]
    keep = _drop_bounding_set(caps)
    if config["no_new_privileges"]:
        L.prctl(L.PR_SET_NO_NEW_PRIVS, 1)
    uid, gid, groups = command.switch_user(config, env)
    _give_stdio_to(uid)
    if not any(item.startswith("PATH=") for item in env):
        env.append("PATH=" + command.DEFAULT_PATH)
    cwd = config["cwd"] or "/"
    if config["mode"] == "run":
        command.prepare_cwd(cwd, uid, gid)
    if config["seccomp_bpf"]:
        L.install_seccomp_filter(config["seccomp_bpf"])
    L.prctl(L.PR_SET_KEEPCAPS, 1)
    os.setgroups(groups)
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    L.prctl(L.PR_SET_KEEPCAPS, 0)
    effective = keep if uid == 0 else 0
    L.capset(effective, effective, 0)
    L.prctl(L.PR_CAP_AMBIENT, L.PR_CAP_AMBIENT_CLEAR_ALL)
    # The spawner's non-dumpable state, which a change of credentials resets to
    # fs.suid_dumpable: no process of the container may open our /proc handles.
    L.prctl(L.PR_SET_DUMPABLE, 0)
    command.enter_cwd(cwd)
    path = command.look_path(config["args"][0], env)
    _restore_signals()
    os.umask(0o022)
    if go_r is not None:
        _await_go(go_r)
    L.set_cloexec_from(CONTROL_FD)      # the command gets its stdio, nothing of ours
    if config.get("init"):
        _reap_as_init(path, config["args"], env, err_w)
    command.execute(path, config["args"], env)


def _mounting(step, *args):
    try:
        return step(*args)
    except OSError as e:
        raise StartError("error mounting the container's filesystem: %s" % e) from None


def _container_main(config, go_r, err_w, built):
    """``built`` is what ``rootfs.build`` returned if the launcher has
    already built the mounts (see ``_born_among_others``), else None."""
    try:
        os.setsid()     # lead a new session, as runc does
        pty = None
        if config["mode"] == "run":
            on_proc, pty = built or _mounting(rootfs.build, config)
            _mounting(rootfs.finish, config, on_proc)
        elif config["tty"]:
            pty = terminal.open_pty("/dev/pts")[:2]     # the container's devpts: we joined its mounts
        if pty:
            terminal.take(*pty)
        if config["mode"] == "run":
            if config["namespaces"]["uts"] != "host":
                if config["hostname"]:
                    L.sethostname(config["hostname"])
                if config["domainname"]:
                    L.setdomainname(config["domainname"])
        _finalize(config, go_r, err_w)
    except BaseException as e:
        _fail(err_w, e)


# --- the launcher, in the host's pid namespace ----------------------------------------

def _enter_namespaces(config):
    """Create (run) or join (exec) the container's namespaces for our next child."""
    if config["mode"] == "exec":
        target = config["target_pid"]
        # One we are in already is skipped: from the container's user namespace
        # (--userns-remap) the host's (e.g. its cgroup namespace) cannot be joined.
        fds = [(os.open("/proc/%d/ns/%s" % (target, name), os.O_RDONLY), flag)
               for name, flag in _NAMESPACE_FILES if not _inside(target, name)]
        for fd, flag in fds:
            L.setns(fd, flag)
            os.close(fd)
        return
    flags = L.CLONE_NEWNS
    namespaces = config["namespaces"]
    for key, flag in (("network", L.CLONE_NEWNET), ("ipc", L.CLONE_NEWIPC),
                      ("pid", L.CLONE_NEWPID), ("uts", L.CLONE_NEWUTS)):
        value = namespaces[key]
        if value in ("none", "private"):
            flags |= flag
        elif value != "host":
            fd = os.open(value, os.O_RDONLY)
            L.setns(fd, flag)
            os.close(fd)
    L.unshare(flags)


def _inside(pid, name):
    """True if we are in process ``pid``'s namespace ``name`` already."""
    return os.stat("/proc/%d/ns/%s" % (pid, name)).st_ino == os.stat("/proc/self/ns/" + name).st_ino


def _born_among_others(config):
    """Whether the container process starts in a pid namespace with other
    processes in it (another container's, or the host's). Those could open its
    /proc handles while it builds the mounts with the host's root as its own
    (with CAP_SYS_PTRACE, which overrides its non-dumpable state): so the
    launcher, outside that namespace, builds them and pivots before it forks.
    A new pid namespace has no one else in it: there the child builds them,
    while the driver sets up cgroups and network for its pid."""
    return config["mode"] == "run" and config["namespaces"]["pid"] != "private"


def _supervise(child, go_w, err_r):
    """Relay the driver's go and the start result; the spawner reaps the child."""
    _report({"pid": child})
    go = read_frame(CONTROL_FD) == "go"
    if go:
        try:
            os.write(go_w, b"g")
        except BrokenPipeError:
            pass            # the child failed first; its error is on err_r
    else:
        # The driver gave up (cgroup or network setup failed).
        os.kill(child, signal.SIGKILL)
    os.close(go_w)
    error = read_frame(err_r)
    if error is not None:
        _report({"error": error})
    elif go:
        _report({"started": True})


def main():
    """The launcher's work; it returns its exit status (the spawner calls ``os._exit``)."""
    try:
        config = read_frame(CONTROL_FD)
        userns.enter(config)
        _enter_namespaces(config)
        built = _mounting(rootfs.build, config) if _born_among_others(config) else None
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
    except Exception as e:
        _report({"error": _error_report(e)})
        return 1
    child = os.fork()
    if child == 0:
        os.close(go_w)
        os.close(err_r)
        os.close(CONTROL_FD)
        _container_main(config, go_r, err_w, built)
    os.close(go_r)
    os.close(err_w)
    if built is not None:
        on_proc, pty = built
        for fd in [fd for _, fd in on_proc] + list(pty or ()):
            if fd is not None:
                os.close(fd)
    _supervise(child, go_w, err_r)
    return 0
