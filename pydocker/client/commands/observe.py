"""Looking at a container: what it runs (``top``), what it uses (``stats``), what it
publishes (``port``) and what it changed in its filesystem (``diff``)."""

import time

from ..errors import ClientError
from ..flags import FlagSet
from ..formatter import Context, write_rows
from ..units import bytes_size, human_size
from .containers import short_id


def top(cli, argv):
    from ..formatter import tabwrite

    _, args = FlagSet("top CONTAINER [ps OPTIONS]",
                      "Display the running processes of a container", min_args=1,
                      interspersed=False).parse(argv)
    params = {"ps_args": " ".join(args[1:])} if len(args) > 1 else None
    result = cli.api.get(f"/containers/{args[0]}/top", params)
    lines = ["\t".join(result.get("Titles") or [])]
    lines += ["\t".join(p) for p in result.get("Processes") or []]
    cli.out.write("".join(line + "\n" for line in tabwrite(lines, minwidth=20, padding=3)))
    return 0


def port(cli, argv):
    _, args = FlagSet("port CONTAINER [PRIVATE_PORT[/PROTO]]",
                      "List port mappings or a specific mapping for the container",
                      min_args=1, max_args=2).parse(argv)
    info = cli.api.get(f"/containers/{args[0]}/json")
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    if len(args) == 2:
        wanted = args[1] if "/" in args[1] else args[1] + "/tcp"
        bindings = ports.get(wanted)
        if not bindings:
            raise ClientError(f"Error: No public port '{wanted}' published for {args[0]}")
        for b in bindings:
            cli.out.write(f"{_host_port(b)}\n")
        return 0
    for key in sorted(ports, key=lambda k: (int(k.split("/")[0]), k)):
        for b in ports[key] or []:
            cli.out.write(f"{key} -> {_host_port(b)}\n")
    return 0


def _host_port(binding):
    ip = binding.get("HostIp") or "0.0.0.0"
    return f"[{ip}]:{binding.get('HostPort')}" if ":" in ip else f"{ip}:{binding.get('HostPort')}"


def diff(cli, argv):
    _, args = FlagSet("diff CONTAINER", "Inspect changes to files or directories on a "
                      "container's filesystem", min_args=1, max_args=1).parse(argv)
    kinds = {0: "C", 1: "A", 2: "D"}
    for change in cli.api.get(f"/containers/{args[0]}/changes") or []:
        cli.out.write(f"{kinds.get(change.get('Kind'), '?')} {change.get('Path')}\n")
    return 0


class StatsRow(Context):
    HEADERS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME",
               "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",
               "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}

    def __init__(self, name, s):
        self.Container = name
        self.ID = short_id(s.get("id", ""))
        self.Name = (s.get("name") or "").lstrip("/")
        self.CPUPerc = f"{cpu_percent(s):.2f}%"
        mem = s.get("memory_stats") or {}
        usage = mem.get("usage", 0) - ((mem.get("stats") or {}).get("inactive_file")
                                       or (mem.get("stats") or {}).get("total_inactive_file")
                                       or 0)
        limit = mem.get("limit", 0)
        self.MemUsage = f"{bytes_size(usage)} / {bytes_size(limit)}"
        self.MemPerc = f"{usage * 100.0 / limit:.2f}%" if limit else "0.00%"
        rx = sum(n.get("rx_bytes", 0) for n in (s.get("networks") or {}).values())
        tx = sum(n.get("tx_bytes", 0) for n in (s.get("networks") or {}).values())
        self.NetIO = f"{human_size(rx)} / {human_size(tx)}"
        blk = (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
        read = sum(e.get("value", 0) for e in blk if (e.get("op") or "").lower() == "read")
        write = sum(e.get("value", 0) for e in blk if (e.get("op") or "").lower() == "write")
        self.BlockIO = f"{human_size(read)} / {human_size(write)}"
        self.PIDs = str((s.get("pids_stats") or {}).get("current", 0))


def cpu_percent(s):
    """CPU use between the two samples of a stats message, as the docker CLI computes it."""
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - \
        (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage")
                                           or []) or 1
    if cpu_delta > 0 and system_delta > 0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def stats(cli, argv):
    flags = FlagSet("stats [OPTIONS] [CONTAINER...]",
                    "Display a live stream of container(s) resource usage statistics")
    flags.bool("-a", "--all", help="Show all containers (default shows just running)")
    flags.string("--format", help="Format output using a custom template")
    flags.bool("--no-stream", help="Disable streaming stats and only pull the first result")
    flags.bool("--no-trunc", help="Do not truncate output")
    opts, args = flags.parse(argv)
    from ..livestats import StatsFeeds

    def listed():
        """Named containers stay; otherwise the running (or all) ones, re-listed
        at each redraw so new containers appear and removed ones go."""
        return args or [c["Id"] for c in cli.api.get("/containers/json", {"all": opts.all or None})]

    default = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
               "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}")
    feeds = StatsFeeds(cli.api, stream=not opts.no_stream)
    feeds.follow(listed())
    if opts.no_stream:
        feeds.wait()
    while True:
        error = feeds.first_error()
        if error is not None and args:
            raise error
        rows = [StatsRow(name, sample) for name, sample in feeds.samples()]
        if not opts.no_stream:
            cli.out.write("\x1b[2J\x1b[H")
        write_rows(cli.out, opts.format, rows, default, StatsRow.HEADERS)
        if opts.no_stream:
            return 0
        cli.out.flush()
        time.sleep(1)
        if not args:
            feeds.follow(listed())
