"""A ``ContainerSpec`` written as an LXC container configuration.

Pure text generation, no I/O: everything LXC does itself (namespaces, mounts,
/dev, capabilities, rlimits, seccomp, uid/gid, cwd, environment) is said here;
cgroup limits are not, they are written by the shared cgroup code from the
start hook (see ``driver``), so both drivers apply them the same way.
"""

import os
import stat
from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter

# Keys the driver owns: a raw line setting one would break the start protocol.
RESERVED_PREFIXES = ("lxc.rootfs.path", "lxc.rootfs.mount", "lxc.hook.", "lxc.console.",
                     "lxc.cgroup.dir", "lxc.init.", "lxc.execute.", "lxc.log.")


@dataclass
class Process:
    """The host-side answers about the first process (see ``inroot``)."""
    uid: int
    gid: int
    env: list
    cwd: str


@dataclass
class Paths:
    """Files of one container's state directory and the driver's shared ones."""
    hook: str              # the start-host/stop hook command
    rootfs_mount: str      # where LXC mounts the rootfs before pivoting
    seccomp: str = ""      # the profile file, "" when unconfined


def escape(path):
    """fstab-style escaping, as LXC reads ``lxc.mount.entry``."""
    return (path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
            .replace("\n", "\\012"))


def check_raw(key, value):
    """A raw ``lxc.*`` line from --exec-opt or LxcConf; returns it as a config line."""
    key = key.strip()
    if not key.startswith("lxc.") or "\n" in key + value or "=" in key:
        raise InvalidParameter("invalid raw lxc configuration %r=%r: keys are lxc.* and "
                               "lines are single" % (key, value))
    if key.startswith(RESERVED_PREFIXES):
        raise InvalidParameter("%s is managed by the lxc exec driver and cannot be set" % key)
    return "%s = %s" % (key, value.strip())


def host_devices():
    """The host's device nodes a privileged container gets, minus those LXC's
    autodev makes itself (null, zero, tty, ptmx...) and the console."""
    made_by_lxc = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                   "/dev/tty", "/dev/ptmx", "/dev/console"}
    found = []
    for directory, dirs, files in os.walk("/dev"):
        dirs[:] = [d for d in dirs if d not in ("pts", "shm", "mqueue")]
        for name in sorted(files):
            path = os.path.join(directory, name)
            if path in made_by_lxc or os.path.islink(path):
                continue
            if stat.S_ISCHR(os.lstat(path).st_mode) or stat.S_ISBLK(os.lstat(path).st_mode):
                found.append(path)
    return found


def _namespaces(ns, userns):
    """Keeping a namespace makes LXC clone every other one, a user namespace
    (with no id map) included: so the user namespace is kept too, unless the
    container has one (--userns-remap: ``lxc.idmap`` lines), which is then
    shared with the container whose namespaces are joined, as dockerd does."""
    lines = []
    keep = []
    shared_pid = None
    for kind, value, lxc_name in (("network", ns.network, "net"), ("ipc", ns.ipc, "ipc"),
                                  ("pid", ns.pid, "pid"), ("uts", ns.uts, "uts"),
                                  ("cgroup", ns.cgroup, "cgroup")):
        if value == "host":
            keep.append(lxc_name)
        elif value not in ("none", "private"):
            # A "/proc/PID/ns/KIND" path: LXC shares a namespace by pid.
            parts = value.split("/")
            if len(parts) != 5 or parts[1] != "proc" or not parts[2].isdigit():
                raise InvalidParameter("the lxc exec driver joins %s namespaces by "
                                       "/proc/PID/ns path only, not %r" % (kind, value))
            lines.append("lxc.namespace.share.%s = %s" % (lxc_name, parts[2]))
            shared_pid = shared_pid or parts[2]
    if userns:
        lines += ["lxc.idmap = %s %d %d %d" % (kind, *r)
                  for kind, key in (("u", "uid_map"), ("g", "gid_map")) for r in userns[key]]
        if shared_pid:
            lines.append("lxc.namespace.share.user = " + shared_pid)
    if keep:
        lines.append("lxc.namespace.keep = " + " ".join(keep + ([] if userns else ["user"])))
    if ns.network == "none":
        lines.append("lxc.net.0.type = empty")
    return lines


CGROUP_KEYS = ("lxc.cgroup.dir.container", "lxc.cgroup.dir.monitor",
               "lxc.cgroup.dir.monitor.pivot")


def cgroup_dirs(parent, container_id):
    """Where LXC puts the container, its monitor, and the cgroup the exiting monitor moves
    into (it makes ``lxc.pivot`` below that one) to remove its own: a pivot per container,
    since LXC's default one, shared at each hierarchy's root, races every other LXC user
    removing it (a monitor that finds it gone cannot leave, nor remove, its cgroup)."""
    base = "%s/%s" % (parent.strip("/"), container_id)
    return dict(zip(CGROUP_KEYS, (base, base + ".lxc-monitor", base + ".lxc-pivot")))


def cgroup_dirs_in(text):
    """The ``cgroup_dirs`` a written configuration names (for clean-up after a crash)."""
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in CGROUP_KEYS:
            found[key.strip()] = value.strip()
    return found


def in_dev(path):
    """Paths in /dev live on LXC's autodev tmpfs, not in the rootfs."""
    return path == "/dev" or path.startswith("/dev/")


def _create(path, directory):
    """``create=`` only on LXC's own /dev tmpfs: elsewhere the driver has made
    the mount point, symlinks resolved, since LXC would follow them out."""
    if not in_dev(path):
        return []
    return ["create=dir" if directory else "create=file"]


def _dev_mounts(spec):
    """Docker's /dev/shm and /dev/mqueue (unless the spec mounts its own), and --device nodes."""
    destinations = {m.destination.rstrip("/") for m in spec.mounts}
    lines = []
    if "/dev/shm" not in destinations:
        lines.append("shm dev/shm tmpfs nosuid,nodev,noexec,mode=1777,size=65536k,create=dir 0 0")
    if "/dev/mqueue" not in destinations:
        lines.append("mqueue dev/mqueue mqueue nosuid,nodev,noexec,create=dir 0 0")
    for device in spec.devices:
        lines.append("%s %s none bind,create=file 0 0"
                     % (escape(device.path_on_host), escape(device.path_in_container.lstrip("/"))))
    return lines


def _spec_mounts(spec):
    """Binds, volumes and tmpfs mounts, in the spec's order."""
    lines = []
    for m in spec.mounts:
        target = escape(m.destination.lstrip("/"))
        if m.type == "tmpfs":
            options = ["nosuid", "nodev"] + list(m.options) + _create(m.destination, True)
            source, fstype = m.source or "tmpfs", "tmpfs"
        else:
            options = (["rbind"] + [o for o in m.options if o not in ("rbind", "bind")]
                       + _create(m.destination, os.path.isdir(m.source)))
            source, fstype = m.source, "none"
        if m.readonly:
            options.append("ro")
        lines.append("%s %s %s %s 0 0" % (escape(source), target, fstype, ",".join(options)))
    return lines


def _proc_masks(spec, rootfs_mount):
    """Docker's masked paths (hidden) and read-only paths under /proc and /sys."""
    config = spec.helper_config()
    lines = []
    for path in config["masked_paths"]:
        target = escape(path.lstrip("/"))
        if os.path.isdir(path):
            lines.append("tmpfs %s tmpfs ro,size=0,optional 0 0" % target)
        else:
            lines.append("/dev/null %s none bind,optional 0 0" % target)
    for path in config["readonly_paths"]:
        source = escape(rootfs_mount + path)
        lines.append("%s %s none bind,ro,optional 0 0" % (source, escape(path.lstrip("/"))))
    return lines


def _mounts(spec, rootfs_mount):
    lines = _dev_mounts(spec) + _spec_mounts(spec) + _proc_masks(spec, rootfs_mount)
    return ["lxc.mount.entry = " + line for line in lines]


def render(spec, process, caps, paths, raw_lines=()):
    """The configuration text for ``spec``; ``caps`` are the capability names kept."""
    lines = [
        "lxc.rootfs.path = dir:" + spec.rootfs,
        "lxc.rootfs.mount = " + paths.rootfs_mount,
        # With a TTY, LXC's console: a pty of the container's own devpts instance (it has one,
        # pty.max > 1), bound on /dev/console and made the command's stdio, proxied by
        # lxc-execute to its controlling terminal (the daemon's pty). Without, our pipes.
        "lxc.console.path = " + ("/dev/tty" if spec.tty else "none"),
        "lxc.tty.max = 0",
        "lxc.pty.max = 1024",
        "lxc.apparmor.profile = unconfined",
    ]
    lines += ["%s = %s" % item for item in cgroup_dirs(spec.cgroup_parent, spec.id).items()]
    lines += [
        "lxc.hook.start-host = " + paths.hook,
        "lxc.hook.stop = " + paths.hook,
        "lxc.init.uid = %d" % process.uid,
        "lxc.init.gid = %d" % process.gid,
        "lxc.init.cwd = " + process.cwd,
        "lxc.autodev = 1",
    ]
    if spec.privileged:
        # Node by node: LXC rewrites /dev/ptmx & co, so the host's /dev itself is never bound.
        lines.append("lxc.mount.auto = proc:rw sys:rw cgroup:rw")
        lines += ["lxc.mount.entry = %s %s none bind,create=file,optional 0 0"
                  % (escape(path), escape(path.lstrip("/"))) for path in host_devices()]
    else:
        lines += ["lxc.mount.auto = proc:mixed sys:ro cgroup:ro",
                  "lxc.cap.keep = " + (" ".join(c.lower() for c in caps) or "none")]
    if spec.readonly_rootfs:
        lines.append("lxc.rootfs.options = ro")
    if spec.namespaces.uts != "host" and spec.hostname:
        lines.append("lxc.uts.name = " + spec.hostname)
    lines += _namespaces(spec.namespaces, spec.userns)
    for item in process.env:
        if "\n" in item:
            raise InvalidParameter("environment variables cannot contain newlines with the "
                                   "lxc exec driver: %r" % item.split("=", 1)[0])
        lines.append("lxc.environment = " + item)
    for limit in spec.rlimits:
        soft, hard = ("unlimited" if v < 0 else str(v) for v in (limit.soft, limit.hard))
        lines.append("lxc.prlimit.%s = %s:%s" % (limit.name, soft, hard))
    if spec.no_new_privileges:
        lines.append("lxc.no_new_privs = 1")
    if paths.seccomp:
        lines.append("lxc.seccomp.profile = " + paths.seccomp)
    lines += _mounts(spec, paths.rootfs_mount)
    lines += list(raw_lines)
    return "\n".join(lines) + "\n"
