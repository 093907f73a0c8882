"""``system df`` and ``system prune``."""

from ..formatter import Context
from ..flags import FlagSet
from ..units import human_size


class DiskUsageRow(Context):
    HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE",
               "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}

    def __init__(self, kind, total, active, size, reclaimable):
        self.Type, self.TotalCount, self.Active = kind, str(total), str(active)
        self.Size = human_size(size)
        pct = f" ({int(reclaimable * 100 / size)}%)" if size else ""
        self.Reclaimable = human_size(reclaimable) + pct


def df(cli, argv):
    from ..formatter import write_rows

    flags = FlagSet("system df [OPTIONS]", "Show pydocker disk usage", max_args=0)
    flags.string("--format", help="Format output using a custom template")
    flags.bool("-v", "--verbose", help="Show detailed information on space usage")
    opts, _ = flags.parse(argv)
    data = cli.api.get("/system/df")

    images = data.get("Images") or []
    containers = data.get("Containers") or []
    volumes = data.get("Volumes") or []
    cache = data.get("BuildCache") or []
    image_size = data.get("LayersSize") or sum(i.get("Size", 0) for i in images)
    active_images = [i for i in images if i.get("Containers", 0) > 0]
    unique_active = sum(i.get("Size", 0) - i.get("SharedSize", 0) for i in active_images
                        if i.get("SharedSize", -1) >= 0)
    running = [c for c in containers if c.get("State") == "running"]
    vol_sizes = [(v.get("UsageData") or {}) for v in volumes]
    rows = [
        DiskUsageRow("Images", len(images), len(active_images), image_size,
            max(image_size - unique_active, 0)),
        DiskUsageRow("Containers", len(containers), len(running),
            sum(c.get("SizeRw", 0) or 0 for c in containers),
            sum(c.get("SizeRw", 0) or 0 for c in containers if c not in running)),
        DiskUsageRow("Local Volumes", len(volumes), sum(1 for u in vol_sizes if u.get("RefCount", 0)),
            sum(max(u.get("Size", 0), 0) for u in vol_sizes),
            sum(max(u.get("Size", 0), 0) for u in vol_sizes if not u.get("RefCount", 0))),
        DiskUsageRow("Build Cache", len(cache), sum(1 for c in cache if c.get("InUse")),
            sum(c.get("Size", 0) for c in cache),
            sum(c.get("Size", 0) for c in cache if not c.get("InUse"))),
    ]
    default = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
    write_rows(cli.out, opts.format, rows, default, DiskUsageRow.HEADERS)
    return 0


def prune(cli, argv):
    from ..units import human_size
    from ..prompt import confirm

    flags = FlagSet("system prune [OPTIONS]", "Remove unused data", max_args=0)
    flags.bool("-a", "--all", help="Remove all unused images not just dangling ones")
    flags.bool("-f", "--force", help="Do not prompt for confirmation")
    flags.bool("--volumes", help="Prune anonymous volumes")
    flags.list("--filter", help="Provide filter values (e.g. \"label=<key>=<value>\")")
    opts, _ = flags.parse(argv)
    if not opts.force and not confirm(cli, "WARNING! This will remove all stopped containers, "
                                      "unused networks, dangling images and build cache.\n"
                                      "Are you sure you want to continue?"):
        return 0
    from ..api import filters_param

    filters = filters_param(opts.filter) or {}
    reclaimed = 0
    targets = ["/containers/prune", "/networks/prune"]
    if opts.volumes:
        targets.append("/volumes/prune")
    targets.append("/images/prune")
    for path in targets:
        params_filters = dict(filters)
        if path == "/images/prune" and opts.all:
            params_filters["dangling"] = {"false": True}
        result = cli.api.post(path, {"filters": params_filters or None}) or {}
        reclaimed += result.get("SpaceReclaimed", 0) or 0
    cli.out.write(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0
