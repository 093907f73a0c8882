"""``inspect``, ``container inspect``, ``image inspect`` (and the network/volume
variants use ``inspect_objects`` too)."""

import json

from ..errors import APIError, ClientError, StatusError
from ..flags import FlagSet
from ..formatter import execute, parse_template

# kind -> (API path template, what "No such ..." calls it)
KINDS = {
    "container": ("/containers/{}/json", "container"),
    "image": ("/images/{}/json", "image"),
    "network": ("/networks/{}", "network"),
    "volume": ("/volumes/{}", "volume"),
}
SEARCH_ORDER = ("container", "image", "network", "volume")


def _flags(usage, description, with_type=False, with_size=False):
    flags = FlagSet(usage, description, min_args=1)
    flags.string("-f", "--format", help="Format output using a custom template")
    if with_type:
        flags.string("--type", help="Only inspect objects of the given type")
    if with_size:
        flags.bool("-s", "--size", help="Display total file sizes if the type is container")
    return flags


def _fetch(cli, kind, name, size=False):
    from urllib.parse import quote

    path, _ = KINDS[kind]
    params = {"size": True} if size and kind == "container" else None
    return cli.api.get(path.format(quote(name, safe="/:@")), params)


def inspect_objects(cli, names, kinds, fmt, size=False):
    """Print each object found; report the missing ones after, like the docker CLI."""
    found, missing = [], []
    for name in names:
        for kind in kinds:
            try:
                found.append(_fetch(cli, kind, name, size))
                break
            except APIError as exc:
                if not exc.not_found:
                    raise
        else:
            label = KINDS[kinds[0]][1] if len(kinds) == 1 else "object"
            missing.append(f"Error: No such {label}: {name}")
    if fmt:
        template = parse_template(fmt.replace("\\t", "\t").replace("\\n", "\n"))
        for obj in found:
            cli.out.write(execute(template, obj) + "\n")
    else:
        cli.out.write(json.dumps(found, indent=4, ensure_ascii=False) + "\n")
    if missing:
        cli.err.write("".join(m + "\n" for m in missing))
        raise StatusError(1)
    return 0


def inspect(cli, argv):
    opts, args = _flags("inspect [OPTIONS] NAME|ID [NAME|ID...]",
                        "Return low-level information on pydocker objects",
                        with_type=True, with_size=True).parse(argv)
    if opts.type and opts.type not in KINDS:
        raise ClientError(f'"{opts.type}" is not a valid value for --type')
    kinds = (opts.type,) if opts.type else SEARCH_ORDER
    return inspect_objects(cli, args, kinds, opts.format, opts.size)


def container(cli, argv):
    opts, args = _flags("container inspect [OPTIONS] CONTAINER [CONTAINER...]",
                        "Display detailed information on one or more containers",
                        with_size=True).parse(argv)
    return inspect_objects(cli, args, ("container",), opts.format, opts.size)


def image(cli, argv):
    opts, args = _flags("image inspect [OPTIONS] IMAGE [IMAGE...]",
                        "Display detailed information on one or more images").parse(argv)
    return inspect_objects(cli, args, ("image",), opts.format)
