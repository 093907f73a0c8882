"""``login`` and ``logout``: credentials in the docker CLI's ``config.json`` format."""

import getpass

from ..errors import ClientError
from ..flags import FlagSet
from ..reference import DEFAULT_INDEX, config_key, store_credentials


def login(cli, argv):
    flags = FlagSet("login [OPTIONS] [SERVER]", "Authenticate to a registry", max_args=1)
    flags.string("-u", "--username", help="Username")
    flags.string("-p", "--password", help="Password")
    flags.bool("--password-stdin", help="Take the password from stdin")
    opts, args = flags.parse(argv)
    server = args[0] if args else DEFAULT_INDEX
    password = opts.password
    if opts.password_stdin:
        if opts.password:
            raise ClientError("--password and --password-stdin are mutually exclusive")
        if not opts.username:
            raise ClientError("Must provide --username with --password-stdin")
        password = cli.stdin.read().rstrip("\r\n")
    elif password:
        cli.err.write("WARNING! Using --password via the CLI is insecure. "
                      "Use --password-stdin.\n")
    username = opts.username
    if not username:
        cli.out.write("Username: ")
        cli.out.flush()
        username = cli.stdin.readline().strip()
    if not password:
        password = getpass.getpass("Password: ")
    if not username or not password:
        raise ClientError("Error: Non-null Username Required" if not username else
                          "Error: Password Required")
    result = cli.api.post("/auth", body={"username": username, "password": password,
                                         "serveraddress": server}) or {}
    store_credentials(cli.config_file(), server, username, password,
                      result.get("IdentityToken") or None)
    cli.out.write(f"{result.get('Status') or 'Login Succeeded'}\n")
    return 0


def logout(cli, argv):
    _, args = FlagSet("logout [SERVER]", "Log out from a registry", max_args=1).parse(argv)
    server = args[0] if args else DEFAULT_INDEX
    config = cli.config_file()
    key = config_key(server)
    if key not in config.auths:
        cli.out.write(f"Not logged in to {server}\n")
        return 0
    cli.out.write(f"Removing login credentials for {server}\n")
    del config.auths[key]
    config.save()
    return 0
