"""The client's entry: global flags, environment, command dispatch, error printing.

Each command lives in a module of ``pydocker.client.commands`` that is
imported only when that command runs; ``COMMANDS`` maps a command line to
``"module:function"``. A command function receives ``(cli, argv)``.
"""

import os
import sys

from pydocker import API_VERSION, __version__

from .flags import FlagSet, HelpRequested, UsageError
from .errors import ClientError

# Top-level commands, and the management-command spellings docker also accepts.
COMMANDS = {
    "version": "system:version", "info": "system:info", "events": "system:events",
    "system df": "disk:df", "system info": "system:info", "system events": "system:events",
    "system prune": "disk:prune",
    "ps": "containers:ps", "create": "run:create", "run": "run:run",
    "start": "containers:start", "stop": "containers:stop", "kill": "containers:kill",
    "restart": "containers:restart", "wait": "containers:wait", "rm": "containers:rm",
    "rename": "containers:rename", "pause": "containers:pause",
    "unpause": "containers:unpause", "top": "containers:top", "stats": "containers:stats",
    "port": "containers:port", "update": "containers:update", "diff": "containers:diff",
    "commit": "containers:commit", "export": "containers:export", "cp": "copy:cp",
    "logs": "attach:logs", "attach": "attach:attach", "exec": "attach:exec_",
    "inspect": "inspect:inspect",
    "images": "images:images", "import": "images:import_", "load": "images:load",
    "save": "images:save", "tag": "images:tag", "rmi": "images:rmi",
    "history": "images:history", "pull": "images:pull", "push": "images:push",
    "build": "build:build", "image build": "build:build",
    "login": "auth:login", "logout": "auth:logout",
    "container prune": "containers:prune", "container inspect": "inspect:container",
    "image inspect": "inspect:image", "image prune": "images:prune",
    "image ls": "images:images", "image list": "images:images",
    "container ls": "containers:ps", "container list": "containers:ps",
    "image rm": "images:rmi", "container rm": "containers:rm",
    "network": "network:main", "volume": "volume:main", "tls": "tls:main",
}

# `container X`/`image X` accept the top-level command of the same name.
_MANAGEMENT = ("container", "image", "system")

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


def _resolve(args):
    """Find the command in ``args``; return ("module:function", name, rest)."""
    first = args[0]
    if first in _MANAGEMENT and len(args) > 1 and not args[1].startswith("-"):
        joined = f"{first} {args[1]}"
        target = COMMANDS.get(joined) or COMMANDS.get(args[1])
        if target:
            return target, joined, args[2:]
    target = COMMANDS.get(first)
    if target is None:
        raise UsageError(f"'{first}' is not a pydocker command.")
    return target, first, args[1:]


def _usage():
    names = sorted({c.split()[0] for c in COMMANDS} | set(_MANAGEMENT))
    return GLOBAL_FLAGS.help_text() + "\nCommands:\n" + "".join(
        f"  {n}\n" for n in names)


def run_command(cli, target, argv):
    import importlib

    module_name, func_name = target.split(":")
    module = importlib.import_module(f"pydocker.client.commands.{module_name}")
    return getattr(module, func_name)(cli, argv) or 0


def main(argv=None, stdout=None, stderr=None, stdin=None):
    """Parse global flags, run one command, print errors like the docker CLI."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stderr = stderr or sys.stderr
    name = ""
    try:
        options, args = GLOBAL_FLAGS.parse(argv)
        if options.version:
            print(f"pydocker version {__version__}, API {API_VERSION}", file=stdout)
            return 0
        if not args:
            print(_usage(), file=stdout or sys.stdout)
            return 0
        target, name, rest = _resolve(args)
        cli = CLI(options, stdout, stderr, stdin)
        return run_command(cli, target, rest)
    except HelpRequested as exc:
        print(exc.args[0] if name else _usage(), file=stdout or sys.stdout)
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
