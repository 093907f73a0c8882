"""Prepare the container's filesystem view inside its new mount namespace:
the rootfs bind, /sys, a private /dev, volumes, pivot_root (``build``), then
/proc and what goes on it, masks (``finish``)."""

import os
import stat

from pydocker.drivers.exec.native import linux as L, terminal
from pydocker.mountinfo import mount_of

_DEV_NODES = (  # name, major, minor
    ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9),
    ("tty", 5, 0),
)
_DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
              ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
              ("ptmx", "pts/ptmx"), ("core", "/proc/kcore"))
_NOSUID_NODEV_NOEXEC = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC
_PROPAGATION = {"private": L.MS_PRIVATE, "rprivate": L.MS_PRIVATE | L.MS_REC,
                "slave": L.MS_SLAVE, "rslave": L.MS_SLAVE | L.MS_REC,
                "shared": L.MS_SHARED, "rshared": L.MS_SHARED | L.MS_REC}


def secure_join(root, path):
    """``root`` + ``path`` with symlinks resolved as if ``root`` were /, so a
    link in the image cannot point a mount outside the container."""
    parts = [p for p in path.split("/") if p and p != "."]
    resolved = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise OSError("too many levels of symbolic links in %s" % path)
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def _ensure_target(target, like_dir):
    if os.path.exists(target):
        return
    if like_dir:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a"):
            pass


# statvfs flags a bind remount must repeat: in a user namespace the kernel
# locks them on mounts that came from the host (runc keeps them the same way).
_LOCKED_FLAGS = ((os.ST_NOSUID, L.MS_NOSUID), (os.ST_NODEV, L.MS_NODEV), (os.ST_NOEXEC, L.MS_NOEXEC),
                 (os.ST_RDONLY, L.MS_RDONLY), (os.ST_NOATIME, L.MS_NOATIME),
                 (os.ST_NODIRATIME, L.MS_NODIRATIME), (os.ST_RELATIME, L.MS_RELATIME))


def _kept_flags(path):
    flags = os.statvfs(path).f_flag
    kept = 0
    for st_flag, ms_flag in _LOCKED_FLAGS:
        if flags & st_flag:
            kept |= ms_flag
    if not kept & (L.MS_NOATIME | L.MS_RELATIME):
        kept |= L.MS_STRICTATIME
    return kept


def _bind(source, target, readonly=False, recursive=True, extra=0):
    L.mount(source, target, None, L.MS_BIND | (L.MS_REC if recursive else 0))
    _restrict(target, readonly, extra)


def _restrict(target, readonly=False, extra=0):
    if readonly or extra:
        L.mount(None, target, None, L.MS_BIND | L.MS_REMOUNT | extra | _kept_flags(target)
                | (L.MS_RDONLY if readonly else 0))


def _make_node(path, st_mode, rdev, host_path, in_userns):
    """A device node; in a user namespace, where mknod is refused, a bind of the host's."""
    if in_userns:
        with open(path, "a"):
            pass
        L.mount(host_path, path, None, L.MS_BIND)
        return
    os.mknod(path, st_mode, rdev)
    os.chmod(path, st_mode & 0o7777)


def _mount_dev(rootfs, tty, in_userns, host_ipc):
    """The container's /dev; with ``tty``, its terminal (master, slave), made in its devpts."""
    dev = os.path.join(rootfs, "dev")
    os.makedirs(dev, exist_ok=True)
    L.mount("tmpfs", dev, "tmpfs", L.MS_NOSUID | L.MS_STRICTATIME, "mode=755,size=65536k")
    for name, major, minor in _DEV_NODES:
        _make_node(os.path.join(dev, name), 0o666 | 0o020000, os.makedev(major, minor), "/dev/" + name,
                   in_userns)
    for name, target in _DEV_LINKS:
        os.symlink(target, os.path.join(dev, name))
    os.mkdir(os.path.join(dev, "pts"))
    L.mount("devpts", os.path.join(dev, "pts"), "devpts", L.MS_NOSUID | L.MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620,gid=5")
    os.mkdir(os.path.join(dev, "shm"), 0o1777)
    L.mount("shm", os.path.join(dev, "shm"), "tmpfs", _NOSUID_NODEV_NOEXEC,
            "mode=1777,size=65536k")
    os.mkdir(os.path.join(dev, "mqueue"))
    if in_userns and host_ipc:
        # Only the user namespace owning the host's IPC namespace may mount its mqueue:
        # the host's own mount is shared, where it has one.
        if os.path.isdir("/dev/mqueue"):
            _bind("/dev/mqueue", os.path.join(dev, "mqueue"))
    else:
        L.mount("mqueue", os.path.join(dev, "mqueue"), "mqueue", _NOSUID_NODEV_NOEXEC)
    if not tty:
        return None
    master, slave, slave_path = terminal.open_pty(os.path.join(dev, "pts"))
    path = os.path.join(dev, "console")
    _ensure_target(path, like_dir=False)
    L.mount(slave_path, path, None, L.MS_BIND)
    return master, slave


def _host_devices():
    """Every device node under the host's /dev (privileged containers get them all)."""
    skip = {"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console", "/dev/ptmx"}
    found = []
    for directory, dirs, files in os.walk("/dev"):
        dirs[:] = [d for d in dirs if os.path.join(directory, d) not in skip]
        for name in files:
            path = os.path.join(directory, name)
            if path in skip or os.path.islink(path):
                continue
            mode = os.lstat(path).st_mode & 0o170000
            if mode in (0o020000, 0o060000):
                found.append({"path_on_host": path, "path_in_container": path})
    return found


def _mount_cgroups(rootfs, view):
    """A read-only /sys/fs/cgroup showing the container's own cgroups, as Docker does."""
    base = os.path.join(rootfs, "sys", "fs", "cgroup")
    if not os.path.isdir(base):
        return
    flags = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC
    if len(view) == 1 and view[0][0] == "":
        _bind(view[0][1], base, readonly=True, recursive=False, extra=flags)
        return
    L.mount("tmpfs", base, "tmpfs", flags, "mode=755")
    for name, host_dir in view:
        target = os.path.join(base, name)
        os.mkdir(target)
        _bind(host_dir, target, readonly=True, recursive=False, extra=flags)
    L.mount(None, base, None, L.MS_REMOUNT | L.MS_RDONLY | flags)


def _add_devices(rootfs, devices, in_userns):
    for device in devices:
        st = os.stat(device["path_on_host"])
        target = secure_join(rootfs, device["path_in_container"])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            if os.path.isdir(target):
                continue
            os.unlink(target)
        _make_node(target, st.st_mode, st.st_rdev, device["path_on_host"], in_userns)


def _add_mount(rootfs, m, tree=None):
    """``tree``: the bind's source as a detached mount (``_open_source``), to use
    in place of its host path."""
    target = secure_join(rootfs, m["destination"])
    if m["type"] == "tmpfs":
        _ensure_target(target, like_dir=True)
        flags = L.MS_NOSUID | L.MS_NODEV | (L.MS_RDONLY if m["readonly"] else 0)
        L.mount("tmpfs", target, "tmpfs", flags, ",".join(m["options"]) or None)
        return
    if tree is not None:
        _ensure_target(target, like_dir=stat.S_ISDIR(os.fstat(tree).st_mode))
        L.move_mount(tree, target)
        _restrict(target, readonly=m["readonly"])
    else:
        _ensure_target(target, like_dir=_source_is_dir(m))
        _bind(m["source"], target, readonly=m["readonly"], recursive="bind" not in m["options"])
    for option in m["options"]:
        if option in _PROPAGATION:
            L.mount(None, target, None, _PROPAGATION[option])


def _root_propagation(mounts):
    """The mount namespace starts rshared if a mount shares with the host, rslave
    if one follows it, else rprivate (what dockerd asks of runc): a bind can only
    stay a peer or a slave of the host's mount if its copy here still is one."""
    modes = {o for m in mounts for o in m["options"] if o in _PROPAGATION}
    if modes & {"shared", "rshared"}:
        return L.MS_SHARED | L.MS_REC
    if modes & {"slave", "rslave"}:
        return L.MS_SLAVE | L.MS_REC
    return L.MS_PRIVATE | L.MS_REC


def _mask(path):
    if not os.path.exists(path):
        return
    if os.path.isdir(path):
        L.mount("tmpfs", path, "tmpfs", L.MS_RDONLY)
    else:
        L.mount("/dev/null", path, None, L.MS_BIND)


def _readonly(path):
    if os.path.exists(path):
        _bind(path, path, readonly=True, extra=L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC)


def _pivot(rootfs):
    """pivot_root into ``rootfs`` without a put_old directory: the old root
    ends up stacked on the new one, where no path from the new root leads
    (``finish`` detaches it). Made a slave first, so that detaching it never
    propagates to the host's mounts."""
    old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY)
    try:
        os.chdir(rootfs)
        L.pivot_root(".", ".")
        os.fchdir(old_root)
        L.mount(None, ".", None, L.MS_SLAVE | L.MS_REC)
    finally:
        os.close(old_root)
    os.chdir("/")


def build(config):
    """Build the container's mounts that need the host's view, and pivot into
    them; ``finish`` does the rest. Returns (what ``finish`` needs: the mounts
    on /proc, each with its bind source as a detached mount (or None); with a
    TTY the terminal (master, slave) made in the container's devpts, its slave
    bound on /dev/console, else None).

    /proc waits for ``finish`` because only a process inside the container's
    pid namespace can mount it; everything else is done here, so that a
    process that joins an existing pid namespace can call this before it is
    born in it (``init``): nothing in there ever sees it with a host root."""
    rootfs = os.path.realpath(config["rootfs"])
    root_propagation = _root_propagation(config["mounts"])
    L.mount(None, "/", None, root_propagation)
    if root_propagation & (L.MS_SHARED | L.MS_SLAVE):
        # pivot_root refuses a shared new root: keep the rootfs's own mount out of it.
        L.mount(None, mount_of(rootfs)[0], None, L.MS_PRIVATE)
    L.mount(rootfs, rootfs, None, L.MS_BIND | L.MS_REC)
    proc = os.path.join(rootfs, "proc")
    os.makedirs(proc, exist_ok=True)
    sys_dir = os.path.join(rootfs, "sys")
    os.makedirs(sys_dir, exist_ok=True)
    sys_flags = _NOSUID_NODEV_NOEXEC | (0 if config["privileged"] else L.MS_RDONLY)
    if config["namespaces"]["network"] == "host":
        _bind("/sys", sys_dir, readonly=not config["privileged"])
    else:
        L.mount("sysfs", sys_dir, "sysfs", sys_flags)
    _mount_cgroups(rootfs, config.get("cgroup_view", []))
    in_userns = bool(config.get("userns"))
    pty = _mount_dev(rootfs, config["tty"], in_userns, config["namespaces"]["ipc"] == "host")
    _add_devices(rootfs, _host_devices() if config["privileged"] else config["devices"], in_userns)
    on_proc = []
    for m in config["mounts"]:
        target = secure_join(rootfs, m["destination"])
        if target == proc or target.startswith(proc + "/"):
            on_proc.append((m, _open_source(m)))
        else:
            _add_mount(rootfs, m)
    _pivot(rootfs)
    return on_proc, pty


def _source_is_dir(m):
    if not os.path.exists(m["source"]):
        raise OSError("bind source path does not exist: %s" % m["source"])
    return os.path.isdir(m["source"])


def _open_source(m):
    """A bind's source as a detached copy of its mount (``open_tree``), which
    ``finish`` can attach once the host's paths are out of reach."""
    if m["type"] == "tmpfs":
        return None
    _source_is_dir(m)
    return L.open_tree(m["source"], recursive="bind" not in m["options"])


def finish(config, on_proc):
    """Inside the container's root and pid namespace: /proc, then the old root
    goes, then the mounts on /proc (from ``build``), masks and read-only paths.

    In a user namespace the kernel mounts a proc only where one is fully
    visible already: the host's, in the old root until then."""
    L.mount("proc", "/proc", "proc", _NOSUID_NODEV_NOEXEC)
    L.umount2("/", L.MNT_DETACH)        # the old root stacked on ours (see _pivot)
    for m, tree in on_proc:
        try:
            _add_mount("/", m, tree)
        finally:
            if tree is not None:
                os.close(tree)
    for path in config["masked_paths"]:
        _mask(path)
    for path in config["readonly_paths"]:
        _readonly(path)
    if config["readonly_rootfs"]:
        L.mount(None, "/", None, L.MS_BIND | L.MS_REMOUNT | L.MS_RDONLY)
