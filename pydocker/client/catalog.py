"""Every command of the client in one table: its group in ``pydocker --help``, what runs it
(``"module:function"`` in ``pydocker.client.commands``, imported only when it runs) and its
one-line description, which is also the description its own ``--help`` prints
(``tests/client`` checks that they agree). The layout follows the docker CLI's."""

COMMON = "Common Commands"
MANAGEMENT = "Management Commands"
OTHER = "Commands"
GROUPS = (COMMON, MANAGEMENT, OTHER)

# Top-level commands: name -> (group, target, description). A management command's target
# is None: its subcommands are in SUBCOMMANDS.
TOP = {
    "run": (COMMON, "run:run", "Create and run a new container from an image"),
    "exec": (COMMON, "attach:exec_", "Execute a command in a running container"),
    "ps": (COMMON, "containers:ps", "List containers"),
    "build": (COMMON, "build:build", "Build an image from a Dockerfile"),
    "pull": (COMMON, "images:pull", "Download an image from a registry"),
    "push": (COMMON, "images:push", "Upload an image to a registry"),
    "images": (COMMON, "images:images", "List images"),
    "login": (COMMON, "auth:login", "Authenticate to a registry"),
    "logout": (COMMON, "auth:logout", "Log out from a registry"),
    "version": (COMMON, "system:version", "Show the pydocker version information"),
    "info": (COMMON, "system:info", "Display system-wide information"),
    "container": (MANAGEMENT, None, "Manage containers"),
    "image": (MANAGEMENT, None, "Manage images"),
    "network": (MANAGEMENT, None, "Manage networks"),
    "system": (MANAGEMENT, None, "Manage pydocker"),
    "tls": (MANAGEMENT, None, "Manage TLS certificates for remote access"),
    "volume": (MANAGEMENT, None, "Manage volumes"),
    "attach": (OTHER, "attach:attach", "Attach local standard input, output, and error streams to a running container"),
    "commit": (OTHER, "containers:commit", "Create a new image from a container's changes"),
    "cp": (OTHER, "copy:cp", "Copy files/folders between a container and the local filesystem"),
    "create": (OTHER, "run:create", "Create a new container"),
    "diff": (OTHER, "observe:diff", "Inspect changes to files or directories on a container's filesystem"),
    "events": (OTHER, "system:events", "Get real time events from the server"),
    "export": (OTHER, "containers:export", "Export a container's filesystem as a tar archive"),
    "history": (OTHER, "images:history", "Show the history of an image"),
    "import": (OTHER, "images:import_", "Import the contents from a tarball to create a filesystem image"),
    "inspect": (OTHER, "inspect:inspect", "Return low-level information on pydocker objects"),
    "kill": (OTHER, "containers:kill", "Kill one or more running containers"),
    "load": (OTHER, "images:load", "Load an image from a tar archive or STDIN"),
    "logs": (OTHER, "attach:logs", "Fetch the logs of a container"),
    "pause": (OTHER, "containers:pause", "Pause all processes within one or more containers"),
    "port": (OTHER, "observe:port", "List port mappings or a specific mapping for the container"),
    "rename": (OTHER, "containers:rename", "Rename a container"),
    "restart": (OTHER, "containers:restart", "Restart one or more containers"),
    "rm": (OTHER, "containers:rm", "Remove one or more containers"),
    "rmi": (OTHER, "images:rmi", "Remove one or more images"),
    "save": (OTHER, "images:save", "Save one or more images to a tar archive (streamed to STDOUT by default)"),
    "start": (OTHER, "containers:start", "Start one or more stopped containers"),
    "stats": (OTHER, "observe:stats", "Display a live stream of container(s) resource usage statistics"),
    "stop": (OTHER, "containers:stop", "Stop one or more running containers"),
    "tag": (OTHER, "images:tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "top": (OTHER, "observe:top", "Display the running processes of a container"),
    "unpause": (OTHER, "containers:unpause", "Unpause all processes within one or more containers"),
    "update": (OTHER, "containers:update", "Update configuration of one or more containers"),
    "wait": (OTHER, "containers:wait", "Block until one or more containers stop, then print their exit codes"),
}

# Subcommands of the management commands: name -> the top-level command it also is (a
# string), or (target, description) of its own.
SUBCOMMANDS = {
    "container": {
        "attach": "attach", "commit": "commit", "cp": "cp", "create": "create", "diff": "diff",
        "exec": "exec", "export": "export",
        "inspect": ("inspect:container", "Display detailed information on one or more containers"),
        "kill": "kill", "logs": "logs", "ls": "ps", "pause": "pause", "port": "port",
        "prune": ("containers:prune", "Remove all stopped containers"),
        "rename": "rename", "restart": "restart", "rm": "rm", "run": "run", "start": "start",
        "stats": "stats", "stop": "stop", "top": "top", "unpause": "unpause", "update": "update",
        "wait": "wait",
    },
    "image": {
        "build": "build", "history": "history", "import": "import",
        "inspect": ("inspect:image", "Display detailed information on one or more images"),
        "load": "load", "ls": "images", "prune": ("images:prune", "Remove unused images"),
        "pull": "pull", "push": "push", "rm": "rmi", "save": "save", "tag": "tag",
    },
    "network": {
        "connect": ("network:connect", "Connect a container to a network"),
        "create": ("network:create", "Create a network"),
        "disconnect": ("network:disconnect", "Disconnect a container from a network"),
        "inspect": ("network:inspect", "Display detailed information on one or more networks"),
        "ls": ("network:ls", "List networks"),
        "prune": ("network:prune", "Remove all unused networks"),
        "rm": ("network:rm", "Remove one or more networks"),
    },
    "system": {
        "df": ("disk:df", "Show pydocker disk usage"), "events": "events", "info": "info",
        "prune": ("disk:prune", "Remove unused data"),
    },
    "tls": {
        "generate": ("tls:generate", "Make a CA, a server certificate and a client certificate for remote access"),
    },
    "volume": {
        "create": ("volume:create", "Create a volume"),
        "inspect": ("volume:inspect", "Display detailed information on one or more volumes"),
        "ls": ("volume:ls", "List volumes"),
        "prune": ("volume:prune", "Remove unused local volumes"),
        "rm": ("volume:rm", "Remove one or more volumes"),
    },
}

# Other spellings of subcommands, as the docker CLI accepts them.
ALIASES = {
    "container": {"list": "ls", "ps": "ls", "remove": "rm"},
    "image": {"list": "ls", "remove": "rm"},
    "network": {"list": "ls", "remove": "rm"},
    "volume": {"list": "ls", "remove": "rm"},
}


def subcommand(group, name):
    """(target, description) of ``group name``, or None."""
    entry = SUBCOMMANDS[group].get(ALIASES.get(group, {}).get(name, name))
    if isinstance(entry, str):
        return TOP[entry][1:]
    return entry


def aliases_of(target):
    """Every command line that runs ``target``, as the docker CLI lists them in a command's help."""
    lines = [f"{group} {name}" for group, subs in SUBCOMMANDS.items() for name in subs
             if subcommand(group, name)[0] == target]
    lines += [f"{group} {alias}" for group, names in ALIASES.items() for alias, name in names.items()
              if subcommand(group, name)[0] == target]
    lines += [name for name, (_, top_target, _) in TOP.items() if top_target == target]
    return lines


def usage():
    """The command list of ``pydocker --help``, grouped as the docker CLI's."""
    out = []
    for group in GROUPS:
        names = [name for name, entry in TOP.items() if entry[0] == group]
        if group != COMMON:
            names.sort()
        width = max(len(n) for n in names) + 2
        out.append(f"{group}:\n" + "".join(f"  {n:<{width}}{TOP[n][2]}\n" for n in names))
    return "\n".join(out)


def group_usage(group):
    """``pydocker GROUP --help``."""
    names = sorted(SUBCOMMANDS[group])
    width = max(len(n) for n in names) + 2
    lines = "".join(f"  {n:<{width}}{subcommand(group, n)[1]}\n" for n in names)
    return (f"\nUsage:  pydocker {group} COMMAND\n\n{TOP[group][2]}\n\nCommands:\n{lines}\n"
            f"Run 'pydocker {group} COMMAND --help' for more information on a command.\n")
