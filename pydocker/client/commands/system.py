"""``version``, ``info``, ``events``: kept light, ``version`` is the start-up benchmark."""

import os
import sys

from pydocker import API_VERSION, __version__

from ..errors import ClientError
from ..flags import FlagSet

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def _arch():
    machine = os.uname().machine
    return _ARCH.get(machine, machine)


def _client_info(cli, api_version, downgraded):
    version_text = api_version + (f" (downgraded from {API_VERSION})" if downgraded else "")
    return {
        "Platform": {"Name": ""}, "Version": __version__, "ApiVersion": api_version,
        "ApiVersionText": version_text, "DefaultAPIVersion": API_VERSION,
        "PythonVersion": sys.version.split()[0], "Os": sys.platform.rstrip("0123456789"),
        "Arch": _arch(), "Context": "default",
    }


def _rows(indent, pairs, width):
    return "".join(f"{indent}{label + ':':<{width}}{value}\n" for label, value in pairs)


def version(cli, argv):
    flags = FlagSet("version [OPTIONS]", "Show the pydocker version information", max_args=0)
    flags.string("-f", "--format", help="Format output using a custom template")
    opts, _ = flags.parse(argv)
    server, error = None, None
    try:
        server = cli.api.get("/version")
        client = _client_info(cli, cli.api.version, cli.api.negotiated_down)
    except ClientError as exc:
        client = _client_info(cli, cli.api._pinned or API_VERSION, False)
        error = exc
    data = {"Client": client, "Server": server}
    if opts.format:
        from ..formatter import execute, parse_template

        try:
            cli.out.write(execute(parse_template(opts.format), data) + "\n")
        except ClientError:
            if error is None:
                raise
            # The template needed the server: the connection error is the news.
    else:
        cli.out.write(_version_text(client, server))
    if error is not None:
        raise error
    return 0


def _version_text(client, server):
    text = "Client:\n" + _rows(" ", [
        ("Version", client["Version"]), ("API version", client["ApiVersionText"]),
        ("Python version", client["PythonVersion"]),
        ("OS/Arch", f"{client['Os']}/{client['Arch']}"), ("Context", client["Context"]),
    ], 19)
    if server is None:
        return text
    name = (server.get("Platform") or {}).get("Name", "")
    text += f"\nServer:{' ' + name if name else ''}\n"
    components = server.get("Components") or [{"Name": "Engine", "Version": server.get("Version"),
                                               "Details": {}}]
    for component in components:
        text += f" {component.get('Name')}:\n"
        if component.get("Name") == "Engine":
            pairs = [
                ("Version", server.get("Version", "")),
                ("API version", f"{server.get('ApiVersion', '')} (minimum version "
                                f"{server.get('MinAPIVersion', '')})"),
                ("Go version", server.get("GoVersion", "")),
                ("Git commit", server.get("GitCommit", "")),
                ("Built", _built(server.get("BuildTime", ""))),
                ("OS/Arch", f"{server.get('Os', '')}/{server.get('Arch', '')}"),
                ("Experimental", str(server.get("Experimental", False)).lower()),
            ]
        else:
            details = component.get("Details") or {}
            pairs = [("Version", component.get("Version", ""))] + sorted(details.items())
        text += _rows("  ", pairs, 18)
    return text


def _built(text):
    """The build time as the docker CLI shows it (Go's ANSIC layout)."""
    import time

    from ..times import parse_api_time

    try:
        stamp = parse_api_time(text)
    except ValueError:
        return text
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(stamp)) if stamp > 0 else text


# ----------------------------------------------------------------- info

def info(cli, argv):
    flags = FlagSet("info [OPTIONS]", "Display system-wide information", max_args=0)
    flags.string("-f", "--format", help="Format output using a custom template")
    opts, _ = flags.parse(argv)
    data = cli.api.get("/info")
    if opts.format:
        from ..formatter import execute, parse_template

        cli.out.write(execute(parse_template(opts.format), data) + "\n")
        return 0
    cli.out.write(f"Client:\n Version:    {__version__}\n Context:    default\n"
                  f" Debug Mode: {str(cli.debug).lower()}\n")
    cli.out.write("\nServer:\n" + _info_text(data))
    for warning in data.get("Warnings") or []:
        cli.err.write(warning + "\n")
    return 0


def _info_text(d):
    from ..units import bytes_size

    lines = [
        f" Containers: {d.get('Containers', 0)}",
        f"  Running: {d.get('ContainersRunning', 0)}",
        f"  Paused: {d.get('ContainersPaused', 0)}",
        f"  Stopped: {d.get('ContainersStopped', 0)}",
        f" Images: {d.get('Images', 0)}",
        f" Server Version: {d.get('ServerVersion', '')}",
        f" Storage Driver: {d.get('Driver', '')}",
    ]
    lines += [f"  {k}: {v}" for k, v in d.get("DriverStatus") or []]
    lines += [f" Logging Driver: {d.get('LoggingDriver', '')}",
              f" Cgroup Driver: {d.get('CgroupDriver', '')}",
              f" Cgroup Version: {d.get('CgroupVersion', '')}"]
    plugins = d.get("Plugins") or {}
    if plugins:
        lines.append(" Plugins:")
        lines += [f"  {kind}: {' '.join(plugins.get(kind) or [])}"
                  for kind in ("Volume", "Network", "Log") if kind in plugins]
    runtimes = d.get("Runtimes") or {}
    if runtimes:
        lines.append(f" Runtimes: {' '.join(sorted(runtimes))}")
    if d.get("DefaultRuntime"):
        lines.append(f" Default Runtime: {d['DefaultRuntime']}")
    security = d.get("SecurityOptions") or []
    if security:
        lines.append(" Security Options:")
        for option in security:
            parts = dict(p.split("=", 1) for p in option.split(",") if "=" in p)
            lines.append(f"  {parts.pop('name', option)}")
            lines += [f"   {k.title()}: {v}" for k, v in parts.items()]
    lines += [
        f" Kernel Version: {d.get('KernelVersion', '')}",
        f" Operating System: {d.get('OperatingSystem', '')}",
        f" OSType: {d.get('OSType', '')}",
        f" Architecture: {d.get('Architecture', '')}",
        f" CPUs: {d.get('NCPU', 0)}",
        f" Total Memory: {bytes_size(d.get('MemTotal', 0))}",
        f" Name: {d.get('Name', '')}",
        f" ID: {d.get('ID', '')}",
        f" Docker Root Dir: {d.get('DockerRootDir', '')}",
        f" Debug Mode: {str(d.get('Debug', False)).lower()}",
    ]
    for key, title in (("HttpProxy", "HTTP Proxy"), ("HttpsProxy", "HTTPS Proxy"),
                       ("NoProxy", "No Proxy")):
        if d.get(key):
            lines.append(f" {title}: {d[key]}")
    if d.get("Labels"):
        lines.append(" Labels:")
        lines += [f"  {label}" for label in d["Labels"]]
    lines.append(f" Experimental: {str(d.get('ExperimentalBuild', False)).lower()}")
    registry = d.get("RegistryConfig") or {}
    insecure = [c for c in registry.get("InsecureRegistryCIDRs") or []]
    insecure += [name for name, index in (registry.get("IndexConfigs") or {}).items()
                 if not index.get("Secure", True)]
    if insecure:
        lines.append(" Insecure Registries:")
        lines += [f"  {entry}" for entry in insecure]
    lines.append(f" Live Restore Enabled: {str(d.get('LiveRestoreEnabled', False)).lower()}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------- events

def events(cli, argv):
    from ..api import filters_param
    from ..times import filter_timestamp

    flags = FlagSet("events [OPTIONS]", "Get real time events from the server", max_args=0)
    flags.list("-f", "--filter", help="Filter output based on conditions provided",
               metavar="filter")
    flags.string("--format", help="Format output using a custom template")
    flags.string("--since", help="Show all events created since timestamp")
    flags.string("--until", help="Stream events until this timestamp")
    opts, _ = flags.parse(argv)
    try:
        params = {"since": opts.since and filter_timestamp(opts.since),
                  "until": opts.until and filter_timestamp(opts.until),
                  "filters": filters_param(opts.filter)}
    except ValueError as exc:
        raise ClientError(str(exc)) from None
    template = None
    if opts.format:
        from ..formatter import parse_template, resolve_format

        template = parse_template(resolve_format(opts.format, None))
    for message in cli.api.stream_json("GET", "/events", params):
        if template is not None:
            from ..formatter import execute

            line = execute(template, message)
        else:
            line = format_event(message)
        cli.out.write(line + "\n")
        cli.out.flush()
    return 0


def format_event(message):
    """``<time> <type> <action> <id> (k=v, ...)`` as the docker CLI prints events."""
    from ..times import rfc3339_local

    nanos = message.get("timeNano") or int(message.get("time", 0)) * 10**9
    actor = message.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    text = (f"{rfc3339_local(nanos // 10**9, nanos % 10**9)} {message.get('Type', '')} "
            f"{message.get('Action', message.get('status', ''))} "
            f"{actor.get('ID', message.get('id', ''))}")
    if attrs:
        text += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return text
