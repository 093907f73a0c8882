"""The client's entry: global flags, environment, command dispatch, error printing.

Each command lives in a module of ``pydocker.client.commands`` that is
imported only when that command runs; ``catalog`` maps a command line to
``"module:function"``. A command function receives ``(cli, argv)``.
"""

import os
import sys

from pydocker import API_VERSION, __version__

from . import catalog
from .flags import FlagSet, HelpRequested, UsageError
from .errors import ClientError

GLOBAL_FLAGS = FlagSet("[OPTIONS] COMMAND", "A self-sufficient runtime for containers",
                       interspersed=False)
GLOBAL_FLAGS.list("-H", "--host", help="Daemon socket to connect to")
GLOBAL_FLAGS.bool("--tls", help="Use TLS; implied by --tlsverify")
GLOBAL_FLAGS.bool("--tlsverify", help="Use TLS and verify the remote")
GLOBAL_FLAGS.string("--tlscacert", help="Trust certs signed only by this CA")
GLOBAL_FLAGS.string("--tlscert", help="Path to TLS certificate file")
GLOBAL_FLAGS.string("--tlskey", help="Path to TLS key file")
GLOBAL_FLAGS.bool("-D", "--debug", help="Enable debug mode")
GLOBAL_FLAGS.string("-l", "--log-level", default="info", help="Set the logging level")
GLOBAL_FLAGS.string("--config", help="Location of client config files")
GLOBAL_FLAGS.bool("-v", "--version", help="Print version information and quit")


class CLI:
    """What a command needs: the API client (made on first use), streams, config."""

    def __init__(self, options, stdout=None, stderr=None, stdin=None):
        self.options = options
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.stdin = stdin or sys.stdin
        self.debug = options.debug or bool(os.environ.get("DEBUG"))
        self._api = None

    @property
    def config_dir(self):
        from .config import config_dir

        return config_dir(self.options.config)

    def config_file(self):
        from .config import ConfigFile

        return ConfigFile(self.config_dir)

    def detach_keys(self, flag):
        """``--detach-keys`` when given, else ``detachKeys`` from config.json (None: the default)."""
        return flag or self.config_file().detach_keys

    @property
    def api(self):
        if self._api is None:
            self._api = self._make_api()
        return self._api

    def _make_api(self):
        from .api import APIClient
        from .hosts import HostError, parse_host

        opts = self.options
        env_verify = os.environ.get("DOCKER_TLS_VERIFY", "") not in ("", "0")
        verify = opts.tlsverify or (env_verify and not opts.given("tlsverify"))
        use_tls = opts.tls or verify
        if len(opts.host) > 1:
            raise ClientError("Specify only one -H")
        raw = opts.host[0] if opts.host else os.environ.get("DOCKER_HOST", "")
        try:
            host = parse_host(raw, tls=use_tls)
        except HostError as exc:
            raise ClientError(str(exc)) from None
        tls = self._tls_config(verify) if use_tls and host.scheme == "tcp" else None
        return APIClient(host, tls, version=os.environ.get("DOCKER_API_VERSION") or None)

    def _tls_config(self, verify):
        from .transport import TLSConfig

        opts = self.options
        cert_dir = os.environ.get("DOCKER_CERT_PATH") or self.config_dir

        def pick(given, name):
            path = given or os.path.join(cert_dir, name)
            if given and not os.path.exists(path):
                raise ClientError(f"Could not load X509 key pair: open {path}: "
                                  "no such file or directory")
            return path if os.path.exists(path) else None

        return TLSConfig(verify=verify, cacert=pick(opts.tlscacert, "ca.pem"),
                         cert=pick(opts.tlscert, "cert.pem"), key=pick(opts.tlskey, "key.pem"))


class _GroupHelp(Exception):
    """``pydocker GROUP`` or ``pydocker GROUP --help``: the group's command list."""


def _resolve(args):
    """Find the command in ``args``; return ("module:function", name, rest)."""
    first = args[0]
    entry = catalog.TOP.get(first)
    if entry is None:
        raise UsageError(f"'{first}' is not a pydocker command.")
    if entry[1] is not None:
        return entry[1], first, args[1:]
    if len(args) < 2 or args[1] in ("-h", "--help"):
        raise _GroupHelp(first)
    found = catalog.subcommand(first, args[1])
    if found is None:
        raise UsageError(f"unknown command \"{args[1]}\" for \"pydocker {first}\"")
    return found[0], f"{first} {args[1]}", args[2:]


def _usage():
    return (f"\nUsage:  pydocker {GLOBAL_FLAGS.usage}\n\n{GLOBAL_FLAGS.description}\n\n"
            f"{catalog.usage()}\nGlobal Options:\n{GLOBAL_FLAGS.options_text()}\n"
            "Run 'pydocker COMMAND --help' for more information on a command.\n")


def _command_help(exc, target):
    """A command's help, with the other command lines that run it (the docker CLI's Aliases)."""
    aliases = catalog.aliases_of(target) if target else []
    return exc.flags.help_text(aliases if len(aliases) > 1 else ())


def run_command(cli, target, argv):
    import importlib

    module_name, func_name = target.split(":")
    module = importlib.import_module(f"pydocker.client.commands.{module_name}")
    return getattr(module, func_name)(cli, argv) or 0


def main(argv=None, stdout=None, stderr=None, stdin=None):
    """Parse global flags, run one command, print errors like the docker CLI."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stderr = stderr or sys.stderr
    name, target = "", None
    try:
        options, args = GLOBAL_FLAGS.parse(argv)
        if options.version:
            print(f"pydocker version {__version__}, API {API_VERSION}", file=stdout)
            return 0
        if not args:
            print(_usage(), file=stdout or sys.stdout)
            return 0
        name = args[0] if args[0] in catalog.TOP else ""    # for the hint of a bad subcommand
        target, name, rest = _resolve(args)
        cli = CLI(options, stdout, stderr, stdin)
        return run_command(cli, target, rest)
    except HelpRequested as exc:
        print(_command_help(exc, target) if name else _usage(), file=stdout or sys.stdout)
        return 0
    except _GroupHelp as exc:
        print(catalog.group_usage(exc.args[0]), file=stdout or sys.stdout)
        return 0
    except UsageError as exc:
        hint = f"See 'pydocker {name + ' ' if name else ''}--help'."
        print(f"{exc}\n{hint}", file=stderr)
        return 125
    except ClientError as exc:
        if exc.message:
            print(exc.message, file=stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug or an unforeseen failure: say so briefly
        if options_debug(argv):
            raise
        print(f"pydocker: unexpected error: {type(exc).__name__}: {exc} "
              "(run with -D for a traceback)", file=stderr)
        return 1


def options_debug(argv):
    """Whether -D/--debug (or $DEBUG) was given, without trusting the parser."""
    return bool(os.environ.get("DEBUG")) or any(a in ("-D", "--debug") for a in argv)
