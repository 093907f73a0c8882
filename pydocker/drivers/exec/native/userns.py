"""The container's user namespace (``--userns-remap``), entered by the
launcher before it creates or joins any other namespace, so that those
belong to it and the container's root has its capabilities there only.

A new user namespace gets its uid_map and gid_map from a helper forked
beforehand: only a process outside the namespace, privileged there, may
map arbitrary ranges (runc uses its parent the same way). Exec, and a run
that joins another container's namespaces (``--net=container:...``),
join that container's user namespace instead, as dockerd has runc do.
Either way the launcher then becomes the namespace's root.

Imported by the spawner (see ``init``): stdlib ``os`` and ``linux`` only.
"""

import os

from pydocker.drivers.exec.native import linux as L


def enter(config):
    """Create or join the container's user namespace, if it has one."""
    if not config.get("userns"):
        return
    target = _joined(config)
    if target is None:
        _unshare_mapped(config["userns"])
    elif os.stat(target).st_ino != os.stat("/proc/self/ns/user").st_ino:
        fd = os.open(target, os.O_RDONLY)
        try:
            L.setns(fd, L.CLONE_NEWUSER)
        finally:
            os.close(fd)
    else:
        return  # the joined container runs in the host's user namespace (--userns=host)
    os.setgroups([])
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    # We now share the container's root uid: only non-dumpable (which the change of
    # credentials may have reset) keeps its processes off our /proc handles.
    L.prctl(L.PR_SET_DUMPABLE, 0)


def _joined(config):
    """The user namespace file of the container whose namespaces we join, or None."""
    if config["mode"] == "exec":
        return "/proc/%d/ns/user" % config["target_pid"]
    for key in ("network", "ipc", "pid"):
        value = config["namespaces"][key]
        if value.startswith("/proc/"):
            return os.path.join(os.path.dirname(value), "user")
    return None


def _unshare_mapped(userns):
    """unshare(CLONE_NEWUSER) with the maps written by a helper left outside."""
    launcher = os.getpid()
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(ready_w)
        code = 1
        try:
            if os.read(ready_r, 1) == b"u":
                _write_map(launcher, "uid_map", userns["uid_map"])
                _write_map(launcher, "gid_map", userns["gid_map"])
                code = 0
        except OSError as e:
            code = e.errno or 1
        finally:
            os._exit(code)
    os.close(ready_r)
    try:
        L.unshare(L.CLONE_NEWUSER)
        os.write(ready_w, b"u")
    finally:
        os.close(ready_w)
        _, status = os.waitpid(helper, 0)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise OSError(code, "writing the user namespace's uid_map and gid_map: %s" % os.strerror(code))


def _write_map(pid, name, ranges):
    text = "".join("%d %d %d\n" % tuple(r) for r in ranges)
    fd = os.open("/proc/%d/%s" % (pid, name), os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
