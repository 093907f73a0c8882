"""``network ls|create|rm|inspect|connect|disconnect|prune``."""

from ..api import filters_param
from ..errors import ClientError
from ..flags import FlagSet
from ..formatter import Context, write_rows
from .containers import for_each
from .inspect import inspect_objects


class NetworkRow(Context):
    HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
               "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
               "CreatedAt": "CREATED AT"}

    def __init__(self, n, no_trunc):
        self._n = n
        self.ID = n.get("Id", "") if no_trunc else n.get("Id", "")[:12]
        self.Name, self.Driver, self.Scope = n.get("Name", ""), n.get("Driver", ""), \
            n.get("Scope", "")
        self.IPv6 = str(n.get("EnableIPv6", False)).lower()
        self.Internal = str(n.get("Internal", False)).lower()
        self.Labels = ",".join(f"{k}={v}" for k, v in (n.get("Labels") or {}).items())
        self.CreatedAt = n.get("Created", "")

    def Label(self, name):
        return (self._n.get("Labels") or {}).get(name, "")


def ls(cli, argv):
    flags = FlagSet("network ls [OPTIONS]", "List networks", max_args=0)
    flags.list("-f", "--filter", help="Provide filter values (e.g. \"driver=bridge\")")
    flags.string("--format", help="Format output using a custom template")
    flags.bool("--no-trunc", help="Do not truncate the output")
    flags.bool("-q", "--quiet", help="Only display network IDs")
    opts, _ = flags.parse(argv)
    networks = cli.api.get("/networks", {"filters": filters_param(opts.filter)}) or []
    rows = sorted((NetworkRow(n, opts.no_trunc) for n in networks), key=lambda r: r.Name)
    if opts.quiet:
        cli.out.write("".join(r.ID + "\n" for r in rows))
        return 0
    write_rows(cli.out, opts.format, rows,
               "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", NetworkRow.HEADERS)
    return 0


def create(cli, argv):
    flags = FlagSet("network create [OPTIONS] NETWORK", "Create a network",
                    min_args=1, max_args=1)
    flags.string("-d", "--driver", default="bridge", help="Driver to manage the Network")
    flags.list("-o", "--opt", help="Set driver specific options")
    flags.list("--subnet", help="Subnet in CIDR format that represents a network segment")
    flags.list("--gateway", help="IPv4 or IPv6 Gateway for the master subnet")
    flags.list("--ip-range", help="Allocate container ip from a sub-range")
    flags.bool("--internal", help="Restrict external access to the network")
    flags.bool("--ipv6", help="Enable IPv6 networking")
    flags.bool("--attachable", help="Enable manual container attachment")
    flags.list("--label", help="Set metadata on a network")
    opts, args = flags.parse(argv)
    if len(opts.gateway) > len(opts.subnet) or len(opts.ip_range) > len(opts.subnet):
        raise ClientError("every ip-range or gateway must have a corresponding subnet")
    pools = []
    for i, subnet in enumerate(opts.subnet):
        pool = {"Subnet": subnet}
        if i < len(opts.gateway):
            pool["Gateway"] = opts.gateway[i]
        if i < len(opts.ip_range):
            pool["IPRange"] = opts.ip_range[i]
        pools.append(pool)
    body = {"Name": args[0], "Driver": opts.driver, "Internal": opts.internal,
            "EnableIPv6": opts.ipv6, "Attachable": opts.attachable,
            "Options": _pairs(opts.opt), "Labels": _pairs(opts.label),
            "IPAM": {"Driver": "default", "Config": pools, "Options": {}},
            "CheckDuplicate": True}
    result = cli.api.post("/networks/create", body=body) or {}
    if result.get("Warning"):
        cli.err.write(f"WARNING: {result['Warning']}\n")
    cli.out.write(result.get("Id", "") + "\n")
    return 0


def _pairs(values):
    result = {}
    for value in values:
        key, _, val = value.partition("=")
        result[key] = val
    return result


def rm(cli, argv):
    _, args = FlagSet("network rm NETWORK [NETWORK...]", "Remove one or more networks",
                      min_args=1).parse(argv)
    return for_each(cli, args, lambda n: cli.api.delete(f"/networks/{n}"))


def inspect(cli, argv):
    flags = FlagSet("network inspect [OPTIONS] NETWORK [NETWORK...]",
                    "Display detailed information on one or more networks", min_args=1)
    flags.string("-f", "--format", help="Format output using a custom template")
    opts, args = flags.parse(argv)
    return inspect_objects(cli, args, ("network",), opts.format)


def connect(cli, argv):
    flags = FlagSet("network connect [OPTIONS] NETWORK CONTAINER",
                    "Connect a container to a network", min_args=2, max_args=2)
    flags.list("--alias", help="Add network-scoped alias for the container")
    flags.string("--ip", help="IPv4 address (e.g., \"172.30.100.104\")")
    opts, args = flags.parse(argv)
    endpoint = {"Aliases": opts.alias or None}
    if opts.ip:
        endpoint["IPAMConfig"] = {"IPv4Address": opts.ip}
    cli.api.post(f"/networks/{args[0]}/connect",
                 body={"Container": args[1], "EndpointConfig": endpoint})
    return 0


def disconnect(cli, argv):
    flags = FlagSet("network disconnect [OPTIONS] NETWORK CONTAINER",
                    "Disconnect a container from a network", min_args=2, max_args=2)
    flags.bool("-f", "--force", help="Force the container to disconnect from a network")
    opts, args = flags.parse(argv)
    cli.api.post(f"/networks/{args[0]}/disconnect",
                 body={"Container": args[1], "Force": opts.force})
    return 0


def prune(cli, argv):
    from ..prompt import confirm

    flags = FlagSet("network prune [OPTIONS]", "Remove all unused networks", max_args=0)
    flags.list("--filter", help="Provide filter values (e.g. \"until=<timestamp>\")")
    flags.bool("-f", "--force", help="Do not prompt for confirmation")
    opts, _ = flags.parse(argv)
    if not opts.force and not confirm(cli, "WARNING! This will remove all custom networks not "
                                      "used by at least one container.\n"
                                      "Are you sure you want to continue?"):
        return 0
    result = cli.api.post("/networks/prune", {"filters": filters_param(opts.filter)}) or {}
    deleted = result.get("NetworksDeleted") or []
    if deleted:
        cli.out.write("Deleted Networks:\n" + "".join(n + "\n" for n in deleted))
    return 0
