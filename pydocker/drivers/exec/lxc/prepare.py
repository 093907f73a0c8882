"""What a start checks and writes before ``lxc-execute`` runs: the spec refused where
LXC cannot do what it asks (``check``), then the container's LXC config and seccomp
profile in its state directory (``write_config``), with mount targets made inside the
rootfs and the user, home, working directory and command looked up in the container."""

import os
import resource
from dataclasses import replace

from pydocker.drivers.exec import cgroups, validate
from pydocker.drivers.exec.errors import ContainerStartError
from pydocker.drivers.exec.lxc import config as lxc_config, seccomp
from pydocker.drivers.exec.lxc.inroot import DEFAULT_PATH, ContainerView
from pydocker.errdefs import InvalidParameter

DEFAULT_CGROUP_PARENT = "pydocker"
CAP_SYS_RESOURCE = 24


def check(spec):
    """Refuse what LXC cannot do (before anything is written); returns the container's
    capability names."""
    caps = validate.container(spec)
    if spec.group_add:
        raise InvalidParameter("the lxc exec driver cannot set supplementary groups "
                               "(--group-add)")
    if spec.domainname:
        raise InvalidParameter("the lxc exec driver cannot set a domain name (--domainname)")
    if spec.namespaces.cgroup == "host" and cgroups.version() == 2:
        raise InvalidParameter("the lxc exec driver cannot keep the host's cgroup namespace on "
                               "a cgroup v2 host (LXC mounts the unified hierarchy only inside "
                               "a namespace of its own): use --cgroupns private")
    for m in spec.mounts:
        if os.path.normpath(m.destination) in ("/dev", "/dev/pts"):
            raise InvalidParameter("the lxc exec driver cannot mount over %s (LXC sets up "
                                   "/dev itself)" % m.destination)
    for device in spec.devices:
        if not lxc_config.in_dev(device.path_in_container):
            raise InvalidParameter("the lxc exec driver puts devices under /dev only, not "
                                   "at %s" % device.path_in_container)
    for limit in spec.rlimits:
        _check_hard_limit(limit)
    return caps


def placed(spec):
    """``spec`` with its mount targets made in the rootfs and its cgroup parent set."""
    spec = _with_mount_targets(spec)
    return replace(spec, cgroup_parent=spec.cgroup_parent or DEFAULT_CGROUP_PARENT)


def write_config(spec, caps, directory, paths, raw):
    """Write the LXC config (and the seccomp profile it names) of a ``placed`` spec into
    ``directory``; ``raw``: the checked lxc.* lines to add. Returns the config's path."""
    view = ContainerView(spec.rootfs, spec.mounts)
    uid, gid, _groups, home = view.user(spec.user)
    env = list(spec.env)
    if not any(item.startswith("PATH=") for item in env):
        env.append("PATH=" + DEFAULT_PATH)
    if not any(item.startswith("HOME=") for item in env):
        env.append("HOME=" + home)
    view.make_cwd(spec.cwd or "/", uid, gid)
    view.look_path(spec.args[0], env)
    profile = None if spec.privileged else seccomp.profile_text(spec.seccomp, caps)
    if profile is not None:
        paths.seccomp = os.path.join(directory, "seccomp")
        with open(paths.seccomp, "w") as f:
            f.write(profile)
    text = lxc_config.render(spec, lxc_config.Process(uid, gid, env, spec.cwd or "/"),
                             caps, paths, raw)
    path = os.path.join(directory, "config")
    with open(path, "w") as f:
        f.write(text)
    return path


def _with_mount_targets(spec):
    """Mount points made by us inside the rootfs (and the binds before them),
    symlinks resolved in the container: LXC then mounts on plain paths."""
    mounts = []
    for m in spec.mounts:
        if not lxc_config.in_dev(m.destination):
            view = ContainerView(spec.rootfs, mounts)
            directory = m.type == "tmpfs" or os.path.isdir(m.source)
            m = replace(m, destination=view.make_target(m.destination, directory))
        mounts.append(m)
    return replace(spec, mounts=mounts)


def _check_hard_limit(limit):
    """LXC would fail with a bare EPERM: say which limit, as the native driver does."""
    number = getattr(resource, "RLIMIT_" + limit.name.upper())
    current = resource.getrlimit(number)[1]
    if (current != resource.RLIM_INFINITY and (limit.hard < 0 or limit.hard > current)
            and not _has_capability(CAP_SYS_RESOURCE)):
        raise ContainerStartError("cannot raise %s hard limit above %d: operation not permitted"
                                  % (limit.name, current))


def _has_capability(number):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << number))
    return False
