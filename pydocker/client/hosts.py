"""Daemon addresses: parsing ``-H``/``DOCKER_HOST`` values like the docker CLI."""

DEFAULT_HOST = "unix:///var/run/pydocker.sock"
DEFAULT_HTTP_PORT = 2375
DEFAULT_TLS_PORT = 2376


class HostError(ValueError):
    """A daemon address the client cannot use."""


class Host:
    """Where the daemon listens: a unix socket path or a TCP (host, port)."""

    def __init__(self, scheme, path=None, hostname=None, port=None):
        self.scheme = scheme
        self.path = path
        self.hostname = hostname
        self.port = port

    @property
    def url(self):
        if self.scheme == "unix":
            return "unix://" + self.path
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"tcp://{name}:{self.port}"

    def __repr__(self):
        return f"Host({self.url!r})"


def parse_host(value, tls=False):
    """Turn ``unix:///path``, ``tcp://host[:port]`` or ``host:port`` into a Host.

    A TCP address without a port gets 2376 when TLS is on and 2375 otherwise,
    which is what the docker CLI does.
    """
    value = (value or "").strip()
    if not value:
        return parse_host(DEFAULT_HOST)
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    scheme = scheme.lower()
    if scheme == "unix":
        return Host("unix", path=rest or DEFAULT_HOST[len("unix://"):])
    if scheme in ("tcp", "http", "https"):
        return _parse_tcp(rest, tls or scheme == "https")
    raise HostError(f"Invalid bind address format: {value}")


def _parse_tcp(rest, tls):
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        hostname, _, after = rest[1:].partition("]")
        port = after[1:] if after.startswith(":") else ""
    elif rest.count(":") == 1:
        hostname, _, port = rest.partition(":")
    else:
        hostname, port = rest, ""
    hostname = hostname or "localhost"
    if port and not port.isdigit():
        raise HostError(f"Invalid bind address format: tcp://{rest}")
    default = DEFAULT_TLS_PORT if tls else DEFAULT_HTTP_PORT
    return Host("tcp", hostname=hostname, port=int(port) if port else default)
