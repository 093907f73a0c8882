"""``volume ls|create|rm|inspect|prune``."""

from ..api import filters_param
from ..flags import FlagSet
from ..formatter import Context, write_rows
from .containers import for_each, report_prune
from .inspect import inspect_objects


class VolumeRow(Context):
    HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE",
               "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Links": "LINKS",
               "Size": "SIZE"}

    def __init__(self, v):
        self._v = v
        self.Name, self.Driver = v.get("Name", ""), v.get("Driver", "")
        self.Scope, self.Mountpoint = v.get("Scope", ""), v.get("Mountpoint", "")
        self.Labels = ",".join(f"{k}={val}" for k, val in (v.get("Labels") or {}).items())
        usage = v.get("UsageData") or {}
        self.Links = str(usage.get("RefCount", "N/A"))
        self.Size = str(usage.get("Size", "N/A"))

    def Label(self, name):
        return (self._v.get("Labels") or {}).get(name, "")


def ls(cli, argv):
    flags = FlagSet("volume ls [OPTIONS]", "List volumes", max_args=0)
    flags.list("-f", "--filter", help="Provide filter values (e.g. \"dangling=true\")")
    flags.string("--format", help="Format output using a custom template")
    flags.bool("-q", "--quiet", help="Only display volume names")
    opts, _ = flags.parse(argv)
    data = cli.api.get("/volumes", {"filters": filters_param(opts.filter)}) or {}
    rows = sorted((VolumeRow(v) for v in data.get("Volumes") or []), key=lambda r: r.Name)
    for warning in data.get("Warnings") or []:
        cli.err.write(warning + "\n")
    if opts.quiet:
        cli.out.write("".join(r.Name + "\n" for r in rows))
        return 0
    write_rows(cli.out, opts.format, rows, "table {{.Driver}}\t{{.Name}}", VolumeRow.HEADERS)
    return 0


def create(cli, argv):
    flags = FlagSet("volume create [OPTIONS] [VOLUME]", "Create a volume", max_args=1)
    flags.string("-d", "--driver", default="local", help="Specify volume driver name")
    flags.list("--label", help="Set metadata for a volume")
    flags.list("-o", "--opt", help="Set driver specific options")
    flags.string("--name", help="Specify volume name")
    opts, args = flags.parse(argv)
    name = args[0] if args else (opts.name or "")
    body = {"Name": name, "Driver": opts.driver,
            "DriverOpts": dict(o.partition("=")[::2] for o in opts.opt),
            "Labels": dict(label.partition("=")[::2] for label in opts.label)}
    result = cli.api.post("/volumes/create", body=body) or {}
    cli.out.write(result.get("Name", name) + "\n")
    return 0


def rm(cli, argv):
    flags = FlagSet("volume rm [OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes",
                    min_args=1)
    flags.bool("-f", "--force", help="Force the removal of one or more volumes")
    opts, args = flags.parse(argv)
    return for_each(cli, args, lambda n: cli.api.delete(f"/volumes/{n}",
                                                        {"force": opts.force or None}))


def inspect(cli, argv):
    flags = FlagSet("volume inspect [OPTIONS] VOLUME [VOLUME...]",
                    "Display detailed information on one or more volumes", min_args=1)
    flags.string("-f", "--format", help="Format output using a custom template")
    opts, args = flags.parse(argv)
    return inspect_objects(cli, args, ("volume",), opts.format)


def prune(cli, argv):
    from ..prompt import confirm

    flags = FlagSet("volume prune [OPTIONS]", "Remove unused local volumes", max_args=0)
    flags.bool("-a", "--all", help="Remove all unused volumes, not just anonymous ones")
    flags.list("--filter", help="Provide filter values (e.g. \"label=<label>\")")
    flags.bool("-f", "--force", help="Do not prompt for confirmation")
    opts, _ = flags.parse(argv)
    if not opts.force and not confirm(cli, "WARNING! This will remove anonymous local volumes "
                                      "not used by at least one container.\n"
                                      "Are you sure you want to continue?"):
        return 0
    filters = filters_param(opts.filter) or {}
    if opts.all:
        filters["all"] = {"true": True}
    result = cli.api.post("/volumes/prune", {"filters": filters or None}) or {}
    report_prune(cli, "Deleted Volumes:", result.get("VolumesDeleted") or [],
                 result.get("SpaceReclaimed", 0))
    return 0
