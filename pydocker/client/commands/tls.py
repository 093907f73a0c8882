"""``tls generate``: the CA and certificates for ``--tlsverify``, without the openssl recipe."""

import os

from ..errors import ClientError
from ..flags import FlagSet


def generate(cli, argv):
    flags = FlagSet("tls generate [OPTIONS]",
                    "Make a CA, a server certificate and a client certificate for remote access",
                    max_args=0)
    flags.list("--host", help="DNS name clients use to reach the daemon (repeatable)")
    flags.list("--ip", help="IP address clients use to reach the daemon (repeatable)")
    flags.string("--out", default=".", help="Directory to write the files to")
    flags.int("--days", default=365, help="Validity of the certificates in days")
    flags.bool("--force", help="Replace files that already exist (clients of the old CA stop working)")
    opts, _ = flags.parse(argv)
    from pydocker import tlsgen

    out = os.path.abspath(opts.out)
    try:
        paths = tlsgen.generate(out, opts.host, opts.ip, days=opts.days, overwrite=opts.force)
    except (ValueError, FileExistsError) as exc:
        raise ClientError(f"tls generate: {exc}") from None
    except OSError as exc:
        raise ClientError(f"tls generate: cannot write to {out}: {exc.strerror}") from None
    names = ", ".join(opts.host + opts.ip)
    cli.out.write(
        f"Wrote to {out} (valid {opts.days} days, server names: {names}):\n"
        f"  daemon: --tlsverify --tlscacert={paths[tlsgen.CA_CERT]} "
        f"--tlscert={paths[tlsgen.SERVER_CERT]} --tlskey={paths[tlsgen.SERVER_KEY]} -H tcp://0.0.0.0:2376\n"
        f"  client: DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH={out} DOCKER_HOST=tcp://{(opts.host + opts.ip)[0]}:2376\n"
        f"Keep {tlsgen.CA_KEY} offline: whoever holds it can make client certificates.\n")
    return 0
