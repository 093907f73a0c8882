"""One binary: ``pydocker -d`` runs the daemon, anything else is the client.

The daemon is imported only on its own path so the client never pays for
Twisted or SQLAlchemy at start-up.
"""

import sys

DAEMON_SWITCHES = ("-d", "--daemon", "daemon")


def main(argv=None):
    """Run the daemon or the client and return the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DAEMON_SWITCHES:
        from pydocker.daemon import cli as daemon_cli

        return daemon_cli.main(argv[1:])
    from pydocker.client import cli as client_cli

    return client_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
