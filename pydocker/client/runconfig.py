"""``run``/``create`` flags and their translation into the create request body.

``add_container_flags`` declares the flags; ``container_spec`` turns parsed
options into ``(body, name)`` for ``POST /containers/create``. Every value
is validated here, so bad input fails before anything is sent.

(Over 400 lines because it follows ``docker run``'s flags one by one, each with its
check: a table read top to bottom, which splitting would only scatter.)
"""

import os

from .errors import ClientError
from .units import ram_in_bytes

RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def add_container_flags(flags):
    s, b, l, i = flags.string, flags.bool, flags.list, flags.int
    l("-a", "--attach", help="Attach to STDIN, STDOUT or STDERR")
    b("-i", "--interactive", help="Keep STDIN open even if not attached")
    b("-t", "--tty", help="Allocate a pseudo-TTY")
    b("--rm", help="Automatically remove the container and its volumes when it exits")
    s("--name", help="Assign a name to the container")
    l("-e", "--env", help="Set environment variables")
    l("--env-file", help="Read in a file of environment variables")
    s("-w", "--workdir", help="Working directory inside the container")
    s("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    s("-h", "--hostname", help="Container host name")
    s("--domainname", help="Container NIS domain name")
    l("-v", "--volume", help="Bind mount a volume")
    l("--mount", help="Attach a filesystem mount to the container", metavar="mount")
    l("--tmpfs", help="Mount a tmpfs directory")
    l("--volumes-from", help="Mount volumes from the specified container(s)")
    l("-p", "--publish", help="Publish a container's port(s) to the host")
    b("-P", "--publish-all", help="Publish all exposed ports to random ports")
    l("--expose", help="Expose a port or a range of ports")
    s("--network", "--net", help="Connect a container to a network", metavar="network")
    l("--network-alias", help="Add network-scoped alias for the container")
    s("--ip", help="IPv4 address (e.g., 172.30.100.104)")
    s("--mac-address", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)")
    l("--link", help="Add link to another container")
    s("--restart", default="no", help="Restart policy to apply when a container exits")
    l("-l", "--label", help="Set meta data on a container")
    l("--label-file", help="Read in a line delimited file of labels")
    s("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    s("-m", "--memory", help="Memory limit", metavar="bytes")
    s("--memory-swap", help="Swap limit equal to memory plus swap: '-1' to enable "
      "unlimited swap", metavar="bytes")
    s("--memory-reservation", help="Memory soft limit", metavar="bytes")
    s("--cpus", help="Number of CPUs", metavar="decimal")
    i("-c", "--cpu-shares", help="CPU shares (relative weight)")
    s("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    s("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    i("--cpu-period", help="Limit CPU CFS (Completely Fair Scheduler) period")
    i("--cpu-quota", help="Limit CPU CFS (Completely Fair Scheduler) quota")
    i("--blkio-weight", help="Block IO (relative weight), between 10 and 1000")
    i("--pids-limit", help="Tune container pids limit (set -1 for unlimited)")
    l("--ulimit", help="Ulimit options", metavar="ulimit")
    l("--cap-add", help="Add Linux capabilities")
    l("--cap-drop", help="Drop Linux capabilities")
    b("--privileged", help="Give extended privileges to this container")
    l("--security-opt", help="Security Options")
    b("--read-only", help="Mount the container's root filesystem as read only")
    s("--stop-signal", help="Signal to stop the container")
    i("--stop-timeout", help="Timeout (in seconds) to stop a container")
    b("--init", help="Run an init inside the container that forwards signals and reaps "
      "processes")
    l("--dns", help="Set custom DNS servers")
    l("--dns-search", help="Set custom DNS search domains")
    l("--dns-option", "--dns-opt", help="Set DNS options")
    l("--add-host", help="Add a custom host-to-IP mapping (host:ip)")
    l("--device", help="Add a host device to the container")
    l("--device-cgroup-rule", help="Add a rule to the cgroup allowed devices list")
    s("--ipc", help="IPC mode to use")
    s("--pid", help="PID namespace to use")
    s("--uts", help="UTS namespace to use")
    s("--userns", help="User namespace to use")
    s("--cgroupns", help="Cgroup namespace to use (host|private)")
    s("--cgroup-parent", help="Optional parent cgroup for the container")
    s("--shm-size", help="Size of /dev/shm", metavar="bytes")
    l("--sysctl", help="Sysctl options", metavar="map")
    l("--group-add", help="Add additional groups to join")
    s("--log-driver", help="Logging driver for the container")
    l("--log-opt", help="Log driver options")
    s("--runtime", help="Runtime to use for this container")
    s("--platform", help="Set platform if server is multi-platform capable")
    b("--oom-kill-disable", help="Disable OOM Killer")
    s("--health-cmd", help="Command to run to check health")
    s("--health-interval", help="Time between running the check (ms|s|m|h)")
    s("--health-timeout", help="Maximum time to allow one check to run (ms|s|m|h)")
    s("--health-start-period", help="Start period for the container to initialize "
      "(ms|s|m|h)")
    i("--health-retries", help="Consecutive failures needed to report unhealthy")
    b("--no-healthcheck", help="Disable any container-specified HEALTHCHECK")
    s("--cidfile", help="Write the container ID to the file")
    s("--pull", default="missing", help='Pull image before running ("always", '
      '"missing", "never")')
    b("-q", "--quiet", help="Suppress the pull output")


def container_spec(opts, image, command):
    """Return ``(body, name)`` for ``POST /containers/create``."""
    if opts.rm and opts.restart not in (None, "", "no"):
        raise ClientError("Conflicting options: --restart and --rm")
    volumes, binds = _volumes(opts.volume)
    exposed, bindings = _ports(opts.publish, opts.expose)
    attach = set(a.lower() for a in opts.attach)
    for stream in attach:
        if stream not in ("stdin", "stdout", "stderr"):
            raise ClientError(f"invalid argument \"{stream}\" for \"-a, --attach\" flag: "
                              "valid streams are STDIN, STDOUT and STDERR")
    detached = getattr(opts, "detach", False)
    config = {
        "Hostname": opts.hostname or "",
        "Domainname": opts.domainname or "",
        "User": opts.user or "",
        "AttachStdin": "stdin" in attach or (opts.interactive and not detached and not attach),
        "AttachStdout": "stdout" in attach or (not detached and not attach),
        "AttachStderr": "stderr" in attach or (not detached and not attach),
        "Tty": opts.tty,
        "OpenStdin": opts.interactive,
        "StdinOnce": False,
        "Env": env_list(opts.env, opts.env_file),
        "Cmd": command or None,
        "Image": image,
        "Volumes": volumes or None,
        "WorkingDir": opts.workdir or "",
        "Entrypoint": _entrypoint(opts),
        "Labels": _labels(opts.label, opts.label_file),
    }
    config["StdinOnce"] = config["AttachStdin"] and opts.interactive
    if exposed:
        config["ExposedPorts"] = exposed
    if opts.stop_signal:
        config["StopSignal"] = opts.stop_signal
    if opts.stop_timeout is not None:
        config["StopTimeout"] = opts.stop_timeout
    if opts.mac_address:
        config["MacAddress"] = opts.mac_address
    health = _healthcheck(opts)
    if health is not None:
        config["Healthcheck"] = health
    host = _host_config(opts, binds, bindings)
    body = dict(config, HostConfig=host)
    networking = _networking(opts)
    if networking:
        body["NetworkingConfig"] = networking
    return body, opts.name


def _host_config(opts, binds, bindings):
    host = {
        "Binds": binds or None,
        "NetworkMode": opts.network or "default",
        "PortBindings": bindings or {},
        "RestartPolicy": parse_restart(opts.restart),
        "AutoRemove": opts.rm,
        "VolumesFrom": opts.volumes_from or None,
        "CapAdd": opts.cap_add or None,
        "CapDrop": opts.cap_drop or None,
        "Dns": opts.dns,
        "DnsOptions": opts.dns_option,
        "DnsSearch": opts.dns_search,
        "ExtraHosts": [_extra_host(h) for h in opts.add_host] or None,
        "GroupAdd": opts.group_add or None,
        "IpcMode": opts.ipc or "",
        "Cgroup": "",
        "Links": opts.link or None,
        "PidMode": opts.pid or "",
        "Privileged": opts.privileged,
        "PublishAllPorts": opts.publish_all,
        "ReadonlyRootfs": opts.read_only,
        "SecurityOpt": opts.security_opt or None,
        "UTSMode": opts.uts or "",
        "UsernsMode": opts.userns or "",
        "Mounts": [parse_mount(m) for m in opts.mount] or None,
        "Tmpfs": _tmpfs(opts.tmpfs) or None,
        "Ulimits": [parse_ulimit(u) for u in opts.ulimit] or None,
        "Devices": [_device(d) for d in opts.device] or None,
        "DeviceCgroupRules": opts.device_cgroup_rule or None,
        "Sysctls": _key_values(opts.sysctl, "--sysctl") or None,
        "Init": True if opts.init else None,
        "CgroupnsMode": opts.cgroupns or "",
        "CgroupParent": opts.cgroup_parent or "",
    }
    host.update(_resources(opts))
    if opts.log_driver or opts.log_opt:
        host["LogConfig"] = {"Type": opts.log_driver or "",
                             "Config": _key_values(opts.log_opt, "--log-opt")}
    if opts.runtime:
        host["Runtime"] = opts.runtime
    if opts.shm_size:
        host["ShmSize"] = parse_bytes(opts.shm_size, "--shm-size")
    return host


def _resources(opts):
    res = {}
    if opts.memory:
        res["Memory"] = parse_bytes(opts.memory, "--memory")
    if opts.memory_swap:
        res["MemorySwap"] = -1 if opts.memory_swap == "-1" else parse_bytes(opts.memory_swap,
                                                                        "--memory-swap")
    if opts.memory_reservation:
        res["MemoryReservation"] = parse_bytes(opts.memory_reservation, "--memory-reservation")
    if opts.cpus:
        try:
            res["NanoCpus"] = int(round(float(opts.cpus) * 1e9))
        except ValueError:
            raise ClientError(f'invalid argument "{opts.cpus}" for "--cpus" flag: '
                              "failed to parse as a rational number") from None
    for dest, key in (("cpu_shares", "CpuShares"), ("cpu_period", "CpuPeriod"),
                      ("cpu_quota", "CpuQuota"), ("blkio_weight", "BlkioWeight"),
                      ("pids_limit", "PidsLimit")):
        value = getattr(opts, dest)
        if value is not None:
            res[key] = value
    if opts.cpuset_cpus:
        res["CpusetCpus"] = opts.cpuset_cpus
    if opts.cpuset_mems:
        res["CpusetMems"] = opts.cpuset_mems
    if opts.oom_kill_disable:
        res["OomKillDisable"] = True
    return res


def parse_bytes(value, flag):
    try:
        return ram_in_bytes(value)
    except ValueError as exc:
        raise ClientError(f'invalid argument "{value}" for "{flag}" flag: {exc}') from None


def _entrypoint(opts):
    if opts.entrypoint is None:
        return None
    return [opts.entrypoint] if opts.entrypoint else [""]


def parse_restart(spec):
    name, _, count = (spec or "no").partition(":")
    if name not in RESTART_POLICIES:
        raise ClientError(f"invalid restart policy: {spec}")
    policy = {"Name": "" if name == "no" else name, "MaximumRetryCount": 0}
    if count:
        if name != "on-failure":
            raise ClientError("invalid restart policy: maximum retry count can only "
                              "be used with 'on-failure'")
        if not count.isdigit():
            raise ClientError(f"invalid restart policy: {spec}")
        policy["MaximumRetryCount"] = int(count)
    return policy


def parse_env_file(path):
    """Lines ``KEY=value``; comments and blank lines skipped; bare ``KEY`` takes
    the value from our environment (and is dropped when unset)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise ClientError(f"open {path}: {exc.strerror.lower()}") from None
    return [line.lstrip() for line in lines
            if line.strip() and not line.lstrip().startswith("#")]


def env_list(values, files):
    result = []
    for entry in [e for path in files for e in parse_env_file(path)] + list(values):
        key, sep, _ = entry.partition("=")
        if not key:
            raise ClientError(f"invalid environment variable: {entry}")
        if sep:
            result.append(entry)
        elif key in os.environ:
            result.append(f"{key}={os.environ[key]}")
    return result


def _labels(values, files):
    labels = {}
    for entry in [e for path in files for e in parse_env_file(path)] + list(values):
        key, _, value = entry.partition("=")
        labels[key] = value
    return labels


def _key_values(values, flag):
    result = {}
    for entry in values:
        key, sep, value = entry.partition("=")
        if not sep or not key:
            raise ClientError(f'invalid argument "{entry}" for "{flag}" flag: '
                              "expected key=value")
        result[key] = value
    return result


def _volumes(specs):
    """``-v``: ``dst`` is an anonymous volume; ``src:dst[:opts]`` a bind or named volume."""
    volumes, binds = {}, []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) == 1:
            target = parts[0]
        elif len(parts) in (2, 3) and parts[0]:
            target = parts[1]
        else:
            raise ClientError(f"invalid spec: {spec}: invalid volume specification")
        if not target.startswith("/"):
            raise ClientError(f"invalid spec: {spec}: invalid mount config: "
                              "invalid mount path: '{target}' mount path must be absolute"
                              .replace("{target}", target))
        if len(parts) == 1:
            volumes[target] = {}
        else:
            binds.append(spec)
    return volumes, binds


def _tmpfs(specs):
    result = {}
    for spec in specs:
        path, _, options = spec.partition(":")
        if not path.startswith("/"):
            raise ClientError(f"invalid tmpfs mount: {spec}: path must be absolute")
        result[path] = options
    return result


def parse_mount(spec):
    """``--mount type=bind,source=/a,target=/b,readonly`` -> an API Mount object."""
    mount = {"Type": "volume"}
    volume_opts, bind_opts, tmpfs_opts = {}, {}, {}
    for field in _csv(spec):
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        if key in ("readonly", "ro"):
            mount["ReadOnly"] = _flag_bool(value, spec) if sep else True
        elif not sep:
            raise ClientError(f"invalid field '{field}' must be a key=value pair")
        elif key == "type":
            if value not in ("bind", "volume", "tmpfs", "npipe", "cluster", "image"):
                raise ClientError(f"invalid mount type: {value}")
            mount["Type"] = value
        elif key in ("source", "src"):
            mount["Source"] = value
        elif key in ("target", "destination", "dst"):
            mount["Target"] = value
        elif key == "consistency":
            mount["Consistency"] = value
        elif key == "bind-propagation":
            bind_opts["Propagation"] = value
        elif key == "bind-nonrecursive":
            bind_opts["NonRecursive"] = _flag_bool(value, spec)
        elif key == "volume-nocopy":
            volume_opts["NoCopy"] = _flag_bool(value, spec)
        elif key == "volume-driver":
            volume_opts.setdefault("DriverConfig", {})["Name"] = value
        elif key == "volume-opt":
            opt_key, _, opt_value = value.partition("=")
            volume_opts.setdefault("DriverConfig", {}).setdefault("Options", {})[opt_key] = \
                opt_value
        elif key == "volume-label":
            label_key, _, label_value = value.partition("=")
            volume_opts.setdefault("Labels", {})[label_key] = label_value
        elif key == "tmpfs-size":
            tmpfs_opts["SizeBytes"] = parse_bytes(value, "--mount tmpfs-size")
        elif key == "tmpfs-mode":
            try:
                tmpfs_opts["Mode"] = int(value, 8)
            except ValueError:
                raise ClientError(f"invalid value for {key}: {value}") from None
        else:
            raise ClientError(f"unexpected key '{key}' in '{field}'")
    if not mount.get("Target"):
        raise ClientError("target is required")
    kind = mount["Type"]
    if bind_opts and kind != "bind" or volume_opts and kind != "volume" or \
            tmpfs_opts and kind != "tmpfs":
        raise ClientError(f"cannot mix options of another mount type with type={kind}")
    if kind == "bind" and not mount.get("Source"):
        raise ClientError("source is required when specifying bind mounts")
    for key, value in (("BindOptions", bind_opts), ("VolumeOptions", volume_opts),
                       ("TmpfsOptions", tmpfs_opts)):
        if value:
            mount[key] = value
    return mount


def _csv(text):
    import csv

    try:
        return next(csv.reader([text]))
    except (csv.Error, StopIteration):
        raise ClientError(f"invalid value: {text}") from None


def _flag_bool(value, spec):
    lowered = value.lower()
    if lowered in ("1", "true", "t", "yes"):
        return True
    if lowered in ("0", "false", "f", "no"):
        return False
    raise ClientError(f"invalid value for boolean in {spec}: {value}")


def parse_ulimit(spec):
    """``nofile=1024[:2048]`` -> ``{"Name", "Soft", "Hard"}``."""
    name, sep, limits = spec.partition("=")
    if not sep or not name:
        raise ClientError(f'invalid argument "{spec}" for "--ulimit" flag: '
                          "invalid ulimit argument")
    soft, _, hard = limits.partition(":")
    try:
        soft_n = int(soft)
        hard_n = int(hard) if hard else soft_n
    except ValueError:
        raise ClientError(f'invalid argument "{spec}" for "--ulimit" flag: '
                          "invalid ulimit value") from None
    if soft_n > hard_n:
        raise ClientError(f'invalid argument "{spec}" for "--ulimit" flag: ulimit soft '
                          f"limit must be less than or equal to hard limit: "
                          f"{soft_n} > {hard_n}")
    return {"Name": name, "Soft": soft_n, "Hard": hard_n}


def _device(spec):
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ClientError(f"invalid device specification: {spec}")
    host = parts[0]
    container = parts[1] if len(parts) > 1 and parts[1] and "/" in parts[1] else host
    perms = parts[-1] if len(parts) > 1 and "/" not in parts[-1] else "rwm"
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": perms}


def _extra_host(spec):
    name, sep, address = spec.partition(":") if "=" not in spec else spec.partition("=")
    if not sep or not name or not address:
        raise ClientError(f"invalid argument \"{spec}\" for \"--add-host\" flag: "
                          "bad format for add-host")
    return f"{name}:{address}"


def parse_port_spec(spec):
    """``[ip:][host[-range]:]container[-range][/proto]`` -> list of
    ``(container_port_key, host_ip, host_port)``."""
    rest, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise ClientError(f"invalid proto: {proto}")
    ip = ""
    if rest.startswith("["):
        close = rest.find("]")
        ip, rest = rest[1:close], rest[close + 2:]
    parts = rest.split(":")
    if len(parts) == 3:
        ip, host, container = parts
    elif len(parts) == 2:
        host, container = parts
    elif len(parts) == 1:
        host, container = "", parts[0]
    elif ip == "" and len(parts) > 3:
        # unbracketed IPv6 address: the last two parts are the ports
        ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
    else:
        raise ClientError(f"invalid port format: {spec}")
    c_start, c_end = _port_range(container, spec)
    count = c_end - c_start + 1
    if not host:
        host_ports = [""] * count
    else:
        h_start, h_end = _port_range(host, spec)
        if count == 1:
            host_ports = [host]  # a host range lets the daemon pick one port in it
        elif h_end - h_start + 1 == count:
            host_ports = [str(h_start + offset) for offset in range(count)]
        else:
            raise ClientError(f"invalid ranges specified for container and host Ports: {spec}")
    return [(f"{c_start + offset}/{proto}", ip, host_ports[offset]) for offset in range(count)]


def _port_range(text, spec):
    start, sep, end = text.partition("-")
    try:
        first = int(start)
        last = int(end) if sep else first
    except ValueError:
        raise ClientError(f"invalid containerPort: {text}" if text else
                          f"no port specified: {spec}<empty>") from None
    if not (0 < first <= 65535 and first <= last <= 65535):
        raise ClientError(f"invalid port range: {text}")
    return first, last


def _ports(publish, expose):
    exposed, bindings = {}, {}
    for spec in publish:
        for key, ip, host_port in parse_port_spec(spec):
            exposed[key] = {}
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": host_port})
    for spec in expose:
        for key, _, _ in parse_port_spec(spec):
            exposed[key] = {}
    return exposed, bindings


def _healthcheck(opts):
    if opts.no_healthcheck:
        return {"Test": ["NONE"]}
    fields = {}
    if opts.health_cmd:
        fields["Test"] = ["CMD-SHELL", opts.health_cmd]
    for dest, key in (("health_interval", "Interval"), ("health_timeout", "Timeout"),
                      ("health_start_period", "StartPeriod")):
        value = getattr(opts, dest)
        if value:
            from pydocker.timeutil import parse_go_duration

            try:
                fields[key] = int(parse_go_duration(value) * 1e9)
            except ValueError as exc:
                raise ClientError(f'invalid argument "{value}" for "--{dest.replace("_", "-")}"'
                                  f" flag: {exc}") from None
    if opts.health_retries is not None:
        fields["Retries"] = opts.health_retries
    return fields or None


def _networking(opts):
    network = opts.network
    if not network or network in ("default", "bridge", "host", "none") or \
            network.startswith("container:"):
        return None
    endpoint = {}
    if opts.network_alias:
        endpoint["Aliases"] = opts.network_alias
    if opts.ip:
        endpoint["IPAMConfig"] = {"IPv4Address": opts.ip}
    return {"EndpointsConfig": {network: endpoint}}
