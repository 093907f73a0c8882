"""From a container record to the exec drivers' ``ContainerSpec``.

The record holds Docker's Config and HostConfig as the API gave them; this is
the one place that translates them into what an exec driver understands.
"""

import json
import os

from pydocker.drivers.exec import spec as specs
from pydocker.errdefs import InvalidParameter

DEFAULT_SHM_SIZE = 64 * 1024 * 1024


def command_of(config):
    """Entrypoint + Cmd, the argv of the container's first process."""
    return list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])


def resources_from(hc):
    def throttles(key):
        return [specs.ThrottleDevice(d["Path"], int(d["Rate"])) for d in hc.get(key) or []]

    return specs.Resources(
        memory=hc.get("Memory") or 0,
        memory_swap=hc.get("MemorySwap") or 0,
        memory_reservation=hc.get("MemoryReservation") or 0,
        kernel_memory=hc.get("KernelMemory") or 0,
        cpu_shares=hc.get("CpuShares") or 0,
        cpu_period=hc.get("CpuPeriod") or 0,
        cpu_quota=hc.get("CpuQuota") or 0,
        nano_cpus=hc.get("NanoCpus") or 0,
        cpuset_cpus=hc.get("CpusetCpus") or "",
        cpuset_mems=hc.get("CpusetMems") or "",
        pids_limit=hc.get("PidsLimit") or None,
        blkio_weight=hc.get("BlkioWeight") or 0,
        blkio_read_bps=throttles("BlkioDeviceReadBps"),
        blkio_write_bps=throttles("BlkioDeviceWriteBps"),
        blkio_read_iops=throttles("BlkioDeviceReadIOps"),
        blkio_write_iops=throttles("BlkioDeviceWriteIOps"),
        oom_kill_disable=bool(hc.get("OomKillDisable")),
    )


def tmpfs_mounts(hc):
    """--tmpfs and --mount type=tmpfs."""
    mounts = []
    for m in hc.get("Mounts") or []:
        if m.get("Type") != "tmpfs":
            continue
        opts = m.get("TmpfsOptions") or {}
        options = []
        if opts.get("SizeBytes"):
            options.append(f"size={int(opts['SizeBytes'])}")
        if opts.get("Mode"):
            options.append(f"mode={int(opts['Mode']):o}")
        mounts.append(specs.Mount("tmpfs", m["Target"], "tmpfs", options, bool(m.get("ReadOnly"))))
    for target, opts in (hc.get("Tmpfs") or {}).items():
        options = [o for o in opts.split(",") if o and o not in ("ro", "rw")]
        mounts.append(specs.Mount("tmpfs", target, "tmpfs", options, "ro" in opts.split(",")))
    return mounts


def security_from(hc):
    """(seccomp, no_new_privileges) from SecurityOpt."""
    seccomp, no_new_privs = None, False
    for opt in hc.get("SecurityOpt") or []:
        key, sep, value = opt.partition("=") if "=" in opt else opt.partition(":")
        if key == "seccomp":
            if value == "unconfined":
                seccomp = "unconfined"
            else:
                try:
                    seccomp = json.loads(value)  # the docker CLI sends the profile's content
                except ValueError:
                    raise InvalidParameter("invalid seccomp profile: not valid JSON") from None
        elif key == "no-new-privileges":
            no_new_privs = value in ("", "true")
        elif key == "apparmor" and value == "unconfined":
            pass  # AppArmor is not used by pydocker: unconfined is what the container gets
        else:
            raise InvalidParameter(f"invalid --security-opt: {opt!r} (supported: seccomp=, no-new-privileges)")
    return seccomp, no_new_privs


def rlimits_from(hc, defaults):
    by_name = {u["Name"]: u for u in defaults}
    by_name.update({u["Name"]: u for u in hc.get("Ulimits") or []})
    return [specs.Rlimit(u["Name"], u["Soft"], u["Hard"]) for u in by_name.values()]


def namespaces_from(hc, resolve_pid):
    """Namespaces for the modes; ``resolve_pid(name)`` gives a running container's pid."""
    def mode(value, kind):
        if value.startswith("container:"):
            return f"/proc/{resolve_pid(value.split(':', 1)[1])}/ns/{kind}"
        return "host" if value == "host" else "private"

    net = hc.get("NetworkMode") or "default"
    if net == "host":
        network = "host"
    elif net.startswith("container:"):
        network = mode(net, "net")
    else:
        network = "none"  # a new netns; the network driver fills it for bridge modes
    return specs.Namespaces(network=network, ipc=mode(hc.get("IpcMode") or "", "ipc"),
                            pid=mode(hc.get("PidMode") or "", "pid"), uts=mode(hc.get("UTSMode") or "", "uts"),
                            cgroup="private" if hc.get("CgroupnsMode") == "private" else "host")


def container_spec(container, rootfs, container_dir, daemon_config, resolve_pid, volume_mounts=(),
                   network_hook=None, link_env=(), idmap=None):
    """``volume_mounts``: (destination, host source, read-only, propagation) of binds and volumes;
    ``link_env``: the legacy links' variables, which the container's own override; ``idmap``:
    the daemon's --userns-remap mapping, used unless the container asks for ``--userns=host``."""
    config, hc = container.config, container.host_config
    args = command_of(config)
    env = list(config.get("Env") or [])
    names = {e.split("=", 1)[0] for e in env}
    env = [e for e in link_env if e.split("=", 1)[0] not in names] + env
    hostname = config.get("Hostname") or container.id[:12]
    if "HOSTNAME" not in names:
        env.append(f"HOSTNAME={hostname}")
    if config.get("Tty") and "TERM" not in names:
        env.append("TERM=xterm")
    files = [specs.Mount(os.path.join(container_dir, name), f"/etc/{name}", "bind", ["rbind"], False)
             for name in ("resolv.conf", "hostname", "hosts")]
    shm_size = hc.get("ShmSize") or DEFAULT_SHM_SIZE
    mounts = files + [specs.Mount("shm", "/dev/shm", "tmpfs", [f"size={shm_size}", "mode=1777"], False)]
    mounts += [specs.Mount(source, destination, "bind", ["rbind"] + ([mode] if mode else []), readonly)
               for destination, source, readonly, mode in volume_mounts]
    mounts += tmpfs_mounts(hc)
    seccomp, no_new_privs = security_from(hc)
    return specs.ContainerSpec(
        id=container.id,
        rootfs=rootfs,
        args=args,
        env=env,
        cwd=config.get("WorkingDir") or "/",
        user=config.get("User") or "",
        group_add=list(hc.get("GroupAdd") or []),
        hostname=hostname,
        domainname=config.get("Domainname") or "",
        tty=bool(config.get("Tty")),
        open_stdin=bool(config.get("OpenStdin")),
        namespaces=namespaces_from(hc, resolve_pid),
        resources=resources_from(hc),
        mounts=mounts,
        devices=[specs.Device(d["PathOnHost"], d.get("PathInContainer") or d["PathOnHost"],
                              d.get("CgroupPermissions") or "rwm") for d in hc.get("Devices") or []],
        device_cgroup_rules=list(hc.get("DeviceCgroupRules") or []),
        cap_add=list(hc.get("CapAdd") or []),
        cap_drop=list(hc.get("CapDrop") or []),
        privileged=bool(hc.get("Privileged")),
        readonly_rootfs=bool(hc.get("ReadonlyRootfs")),
        seccomp=seccomp,
        no_new_privileges=no_new_privs,
        rlimits=rlimits_from(hc, daemon_config.default_ulimits),
        masked_paths=hc.get("MaskedPaths"),
        readonly_paths=hc.get("ReadonlyPaths"),
        cgroup_parent=hc.get("CgroupParent") or daemon_config.cgroup_parent,
        init=bool(hc.get("Init")),
        lxc_conf=[(e["Key"], e["Value"]) for e in hc.get("LxcConf") or []],
        network_hook=network_hook,
        userns=idmap.launcher_config() if idmap is not None and hc.get("UsernsMode") != "host" else None,
    )


def exec_spec(config):
    """The ``ExecSpec`` of a ``docker exec`` from its create request's config."""
    return specs.ExecSpec(args=list(config["Cmd"]), env=list(config.get("Env") or []),
                          cwd=config.get("WorkingDir") or "", user=config.get("User") or "",
                          tty=bool(config.get("Tty")), open_stdin=bool(config.get("AttachStdin")),
                          privileged=bool(config.get("Privileged")))
