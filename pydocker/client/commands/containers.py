"""Container commands: ``ps``, lifecycle (``start``/``stop``/``kill``/``restart``/
``wait``/``rm``/``pause``/``unpause``/``rename``/``update``), ``commit``, ``export`` and
``container prune``. Looking at a running container (``top``, ``stats``, ``port``,
``diff``) is in ``observe``."""

import time

from ..api import filters_param
from ..errors import ClientError, StatusError
from ..flags import FlagSet
from ..formatter import Context, write_rows
from pydocker.timeutil import human_duration

from ..units import human_size


def short_id(container_id, no_trunc=False):
    return container_id if no_trunc else container_id[:12]


def for_each(cli, names, action, echo=True):
    """Apply ``action(name)`` to each name like the docker CLI: print the name on
    success, the error on stderr otherwise; status 1 if any failed."""
    failed = False
    for name in names:
        try:
            action(name)
        except ClientError as exc:
            cli.err.write(f"{exc}\n")
            failed = True
            continue
        if echo:
            cli.out.write(name + "\n")
    if failed:
        raise StatusError(1)
    return 0


# -------------------------------------------------------------------- ps

def _join_host_port(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_ports(ports):
    """The PORTS column as the docker CLI builds it: ports published on the same
    number are grouped into ranges (``0.0.0.0:8000-8001->8000-8001/tcp``,
    ``80-81/tcp``); other mappings follow one by one."""
    ordered = sorted(ports or [], key=lambda p: (p.get("PrivatePort", 0), p.get("Type", ""),
                                                 p.get("IP", ""), p.get("PublicPort", 0)))
    groups, order, mappings, result = {}, [], [], []
    for port in ordered:
        private, kind, ip = port.get("PrivatePort", 0), port.get("Type", "tcp"), port.get("IP")
        if ip and port.get("PublicPort") != private:
            mappings.append(f"{_join_host_port(ip, port.get('PublicPort'))}->{private}/{kind}")
            continue
        key = (ip or "", kind)
        group = groups.get(key)
        if group is None:
            order.append(key)
        elif private == group[1] + 1:
            group[1] = private
            continue
        elif private == group[1]:
            continue
        else:
            result.append(_port_group(key, *group))
        groups[key] = [private, private]
    result.extend(_port_group(key, *groups[key]) for key in order)
    return ", ".join(result + mappings)


def _port_group(key, first, last):
    ip, kind = key
    numbers = str(first) if first == last else f"{first}-{last}"
    if ip:
        return f"{_join_host_port(ip, numbers)}->{numbers}/{kind}"
    return f"{numbers}/{kind}"


class ContainerRow(Context):
    HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
               "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS",
               "State": "STATE", "Status": "STATUS", "Size": "SIZE", "Names": "NAMES",
               "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
               "LocalVolumes": "LOCAL VOLUMES"}

    def __init__(self, c, no_trunc=False, now=None):
        self._c = c
        self.ID = short_id(c.get("Id", ""), no_trunc)
        image = c.get("Image", "")
        if not no_trunc and image.startswith("sha256:"):
            image = image[7:19]
        self.Image = image
        command = c.get("Command", "")
        self.Command = f'"{command if no_trunc else _ellipsis(command, 20)}"'
        created = c.get("Created", 0)
        self.CreatedAt = time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(created))
        self.RunningFor = human_duration((now or time.time()) - created) + " ago"
        self.Ports = format_ports(c.get("Ports"))
        self.State = c.get("State", "")
        self.Status = c.get("Status", "")
        size_rw, size_root = c.get("SizeRw"), c.get("SizeRootFs")
        self.Size = "" if size_rw is None and size_root is None else \
            f"{human_size(size_rw or 0)} (virtual {human_size(size_root or 0)})"
        names = [n[1:] if n.startswith("/") else n for n in c.get("Names") or []]
        if not no_trunc:
            names = [n for n in names if "/" not in n][:1] or names[:1]
        self.Names = ",".join(names)
        labels = c.get("Labels") or {}
        self.Labels = ",".join(f"{k}={v}" for k, v in labels.items())
        mounts = c.get("Mounts") or []
        self.Mounts = ",".join(_ellipsis(m.get("Name") or m.get("Source", ""), 15)
                               if not no_trunc else (m.get("Name") or m.get("Source", ""))
                               for m in mounts)
        self.LocalVolumes = str(sum(1 for m in mounts if m.get("Driver") == "local"))
        networks = ((c.get("NetworkSettings") or {}).get("Networks") or {})
        self.Networks = ",".join(sorted(networks))

    def Label(self, name):
        return (self._c.get("Labels") or {}).get(name, "")


def _ellipsis(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"


PS_TABLE = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
            "{{.Ports}}\t{{.Names}}")


def ps(cli, argv):
    flags = FlagSet("ps [OPTIONS]", "List containers", max_args=0)
    flags.bool("-a", "--all", help="Show all containers (default shows just running)")
    flags.list("-f", "--filter", help="Filter output based on conditions provided",
               metavar="filter")
    flags.string("--format", help="Format output using a custom template")
    flags.int("-n", "--last", default=-1, help="Show n last created containers (includes "
              "all states)")
    flags.bool("-l", "--latest", help="Show the latest created container (includes all "
               "states)")
    flags.bool("--no-trunc", help="Don't truncate output")
    flags.bool("-q", "--quiet", help="Only display container IDs")
    flags.bool("-s", "--size", help="Display total file sizes")
    opts, _ = flags.parse(argv)
    limit = 1 if opts.latest else opts.last
    wants_size = opts.size or bool(opts.format and "{{.Size}}" in opts.format)
    params = {"all": opts.all or None, "limit": limit if limit > 0 else None,
              "size": wants_size or None, "filters": filters_param(opts.filter)}
    containers = cli.api.get("/containers/json", params)
    now = time.time()
    rows = [ContainerRow(c, opts.no_trunc, now) for c in containers]
    if opts.quiet:
        cli.out.write("".join(r.ID + "\n" for r in rows))
        return 0
    default = PS_TABLE + ("\t{{.Size}}" if opts.size else "")
    write_rows(cli.out, opts.format, rows, default, ContainerRow.HEADERS)
    return 0


# ------------------------------------------------------------- lifecycle

def start(cli, argv):
    flags = FlagSet("start [OPTIONS] CONTAINER [CONTAINER...]",
                    "Start one or more stopped containers", min_args=1)
    flags.bool("-a", "--attach", help="Attach STDOUT/STDERR and forward signals")
    flags.bool("-i", "--interactive", help="Attach container's STDIN")
    flags.string("--detach-keys", help="Override the key sequence for detaching a container")
    opts, args = flags.parse(argv)
    if opts.attach or opts.interactive:
        if len(args) > 1:
            raise ClientError("you cannot start and attach multiple containers at once")
        from .run import run_attached

        info = cli.api.get(f"/containers/{args[0]}/json")
        config = info.get("Config") or {}
        streams = {"stdout", "stderr"} | ({"stdin"} if opts.interactive and
                                          config.get("OpenStdin") else set())
        return run_attached(cli, info["Id"], tty=config.get("Tty", False), streams=streams,
                            detach_keys=opts.detach_keys,
                            autoremove=(info.get("HostConfig") or {}).get("AutoRemove", False))
    return for_each(cli, args, lambda n: cli.api.post(f"/containers/{n}/start"))


def _signal_and_timeout_flags(usage, description):
    flags = FlagSet(usage, description, min_args=1)
    flags.string("-s", "--signal", help="Signal to send to the container")
    flags.int("-t", "--time", help="Seconds to wait before killing the container")
    return flags


def stop(cli, argv):
    flags = _signal_and_timeout_flags("stop [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Stop one or more running containers")
    opts, args = flags.parse(argv)
    params = {"t": opts.time, "signal": opts.signal}
    return for_each(cli, args, lambda n: cli.api.post(f"/containers/{n}/stop", params))


def restart(cli, argv):
    flags = _signal_and_timeout_flags("restart [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Restart one or more containers")
    opts, args = flags.parse(argv)
    params = {"t": opts.time, "signal": opts.signal}
    return for_each(cli, args, lambda n: cli.api.post(f"/containers/{n}/restart", params))


def kill(cli, argv):
    flags = FlagSet("kill [OPTIONS] CONTAINER [CONTAINER...]",
                    "Kill one or more running containers", min_args=1)
    flags.string("-s", "--signal", help="Signal to send to the container")
    opts, args = flags.parse(argv)
    return for_each(cli, args, lambda n: cli.api.post(f"/containers/{n}/kill",
                                                      {"signal": opts.signal}))


def _simple(path_suffix, usage, description):
    def command(cli, argv):
        _, args = FlagSet(usage, description, min_args=1).parse(argv)
        return for_each(cli, args, lambda n: cli.api.post(f"/containers/{n}/{path_suffix}"))
    return command


pause = _simple("pause", "pause CONTAINER [CONTAINER...]",
                "Pause all processes within one or more containers")
unpause = _simple("unpause", "unpause CONTAINER [CONTAINER...]",
                  "Unpause all processes within one or more containers")


def wait(cli, argv):
    _, args = FlagSet("wait CONTAINER [CONTAINER...]",
                      "Block until one or more containers stop, then print their exit codes",
                      min_args=1).parse(argv)

    def wait_one(name):
        result = cli.api.post(f"/containers/{name}/wait") or {}
        cli.out.write(f"{result.get('StatusCode', 0)}\n")
    return for_each(cli, args, wait_one, echo=False)


def rm(cli, argv):
    flags = FlagSet("rm [OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
                    min_args=1)
    flags.bool("-f", "--force", help="Force the removal of a running container (uses SIGKILL)")
    flags.bool("-l", "--link", help="Remove the specified link")
    flags.bool("-v", "--volumes", help="Remove anonymous volumes associated with the container")
    opts, args = flags.parse(argv)
    params = {"force": opts.force or None, "link": opts.link or None,
              "v": opts.volumes or None}
    return for_each(cli, args, lambda n: cli.api.delete(f"/containers/{n}", params))


def rename(cli, argv):
    _, args = FlagSet("rename CONTAINER NEW_NAME", "Rename a container",
                      min_args=2, max_args=2).parse(argv)
    cli.api.post(f"/containers/{args[0]}/rename", {"name": args[1]})
    return 0


def update(cli, argv):
    from ..runconfig import parse_bytes, parse_restart

    flags = FlagSet("update [OPTIONS] CONTAINER [CONTAINER...]",
                    "Update configuration of one or more containers", min_args=1)
    flags.string("-m", "--memory", help="Memory limit", metavar="bytes")
    flags.string("--memory-swap", help="Swap limit", metavar="bytes")
    flags.string("--memory-reservation", help="Memory soft limit", metavar="bytes")
    flags.string("--cpus", help="Number of CPUs", metavar="decimal")
    flags.int("-c", "--cpu-shares", help="CPU shares (relative weight)")
    flags.int("--cpu-period", help="Limit CPU CFS period")
    flags.int("--cpu-quota", help="Limit CPU CFS quota")
    flags.string("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    flags.string("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    flags.int("--blkio-weight", help="Block IO (relative weight)")
    flags.int("--pids-limit", help="Tune container pids limit (set -1 for unlimited)")
    flags.string("--restart", help="Restart policy to apply when a container exits")
    opts, args = flags.parse(argv)
    body = {}
    for dest, key in (("memory", "Memory"), ("memory_reservation", "MemoryReservation")):
        if getattr(opts, dest):
            body[key] = parse_bytes(getattr(opts, dest), "--" + dest.replace("_", "-"))
    if opts.memory_swap:
        body["MemorySwap"] = -1 if opts.memory_swap == "-1" else parse_bytes(opts.memory_swap,
                                                                        "--memory-swap")
    if opts.cpus:
        try:
            body["NanoCpus"] = int(round(float(opts.cpus) * 1e9))
        except ValueError:
            raise ClientError(f'invalid argument "{opts.cpus}" for "--cpus" flag') from None
    for dest, key in (("cpu_shares", "CpuShares"), ("cpu_period", "CpuPeriod"),
                      ("cpu_quota", "CpuQuota"), ("blkio_weight", "BlkioWeight"),
                      ("pids_limit", "PidsLimit"), ("cpuset_cpus", "CpusetCpus"),
                      ("cpuset_mems", "CpusetMems")):
        if getattr(opts, dest) is not None:
            body[key] = getattr(opts, dest)
    if opts.restart:
        body["RestartPolicy"] = parse_restart(opts.restart)
    if not body:
        raise ClientError("you must provide one or more flags when using this command")

    def update_one(name):
        result = cli.api.post(f"/containers/{name}/update", body=body) or {}
        for warning in result.get("Warnings") or []:
            cli.err.write(f"{warning}\n")
    return for_each(cli, args, update_one)


# --------------------------------------------------------- commit/export

def commit(cli, argv):
    from ..reference import split_reference

    flags = FlagSet("commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                    "Create a new image from a container's changes", min_args=1, max_args=2)
    flags.string("-a", "--author", help='Author (e.g., "John Hannibal Smith '
                 '<hannibal@a-team.com>")')
    flags.list("-c", "--change", help="Apply Dockerfile instruction to the created image")
    flags.string("-m", "--message", help="Commit message")
    flags.bool("-p", "--pause", default=True, help="Pause container during commit")
    opts, args = flags.parse(argv)
    repo, tag = split_reference(args[1]) if len(args) > 1 else (None, None)
    params = {"container": args[0], "repo": repo, "tag": tag or None,
              "comment": opts.message, "author": opts.author, "pause": opts.pause,
              "changes": opts.change or None}
    result = cli.api.post("/commit", params, {})
    cli.out.write(result.get("Id", "") + "\n")
    return 0


def export(cli, argv):
    from ..localio import refuse_terminal, stdout_bytes, write_response_to

    flags = FlagSet("export [OPTIONS] CONTAINER",
                    "Export a container's filesystem as a tar archive", min_args=1, max_args=1)
    flags.string("-o", "--output", help="Write to a file, instead of STDOUT")
    opts, args = flags.parse(argv)
    target = stdout_bytes(cli)
    if not opts.output:
        refuse_terminal(target)
    response = cli.api.request("GET", f"/containers/{args[0]}/export")
    write_response_to(response, opts.output, target)
    return 0


# ----------------------------------------------------------------- prune

def report_prune(cli, title, lines, reclaimed):
    if lines:
        cli.out.write(title + "\n" + "".join(line + "\n" for line in lines) + "\n")
    cli.out.write(f"Total reclaimed space: {human_size(reclaimed or 0)}\n")


def prune(cli, argv):
    from ..prompt import confirm

    flags = FlagSet("container prune [OPTIONS]", "Remove all stopped containers", max_args=0)
    flags.list("--filter", help="Provide filter values (e.g. \"until=<timestamp>\")")
    flags.bool("-f", "--force", help="Do not prompt for confirmation")
    opts, _ = flags.parse(argv)
    if not opts.force and not confirm(cli, "WARNING! This will remove all stopped containers."
                                      "\nAre you sure you want to continue?"):
        return 0
    result = cli.api.post("/containers/prune", {"filters": filters_param(opts.filter)}) or {}
    report_prune(cli, "Deleted Containers:", result.get("ContainersDeleted") or [],
                 result.get("SpaceReclaimed", 0))
    return 0
