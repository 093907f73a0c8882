"""Dispatch for management commands with subcommands (``network ls``, ``volume rm``)."""

from ..flags import UsageError


def dispatch(cli, argv, group, subcommands, aliases=None):
    """Run ``subcommands[name](cli, rest)`` for ``argv = [name, *rest]``."""
    if not argv or argv[0] in ("-h", "--help"):
        names = "".join(f"  {name}\n" for name in sorted(subcommands))
        cli.out.write(f"\nUsage:  pydocker {group} COMMAND\n\nCommands:\n{names}")
        return 0
    name = (aliases or {}).get(argv[0], argv[0])
    if name not in subcommands:
        raise UsageError(f"unknown command \"{argv[0]}\" for \"pydocker {group}\"")
    return subcommands[name](cli, argv[1:])
