"""The sockets the API is served on: unix://, tcp:// and fd:// (systemd socket activation).

Each ``-H`` becomes a server endpoint. A unix socket left behind by a crashed
daemon is replaced; one that a live daemon answers on makes start-up fail.
With TLS on, every TCP socket (bound by us or passed by systemd) speaks TLS;
unix sockets stay plain, their file mode is their access control.
"""

import errno
import grp
import os
import socket

# Importing twisted.internet.endpoints takes LISTEN_PID and LISTEN_FDS out of the
# environment (and forgets the sockets when systemd's LISTEN_FDNAMES is absent),
# so systemd's hand-over is read here, before that import.
SYSTEMD_ENVIRON = {k: v for k, v in os.environ.items() if k in ("LISTEN_PID", "LISTEN_FDS")}

from twisted.application.service import Service  # noqa: E402
from twisted.internet import defer, endpoints  # noqa: E402
from twisted.logger import Logger  # noqa: E402

from pydocker.daemon.options import ConfigError  # noqa: E402

log = Logger()

SD_LISTEN_FDS_START = 3
SOMAXCONN_PATH = "/proc/sys/net/core/somaxconn"


def listen_backlog(path=SOMAXCONN_PATH):
    """The system's largest accept queue: a burst of clients (hundreds of ``docker ps``
    at once) must queue, not fail with EAGAIN as it does at Twisted's default of 50."""
    try:
        with open(path) as f:
            return max(int(f.read()), socket.SOMAXCONN)
    except (OSError, ValueError):
        return socket.SOMAXCONN


def socket_is_live(path):
    """True when something accepts connections on the unix socket ``path``."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def check_unix_path(path):
    """Refuse a live socket; remove a stale one. Called before anything else is touched."""
    if os.path.exists(path) or os.path.islink(path):
        if socket_is_live(path):
            raise ConfigError(f"another daemon is already listening on unix://{path}: stop it first")
        log.info("removing stale socket {path}", path=path)
        os.unlink(path)


def systemd_fds(environ=SYSTEMD_ENVIRON):
    """The file descriptors systemd passed us (LISTEN_FDS for our pid), as a list."""
    if environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    try:
        count = int(environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return []
    return list(range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + count))


def endpoint_for(reactor, host, group, tls_context=None, environ=SYSTEMD_ENVIRON):
    """A list of (description, server endpoint) for one parsed ``-H`` value."""
    scheme, address = host
    if scheme == "unix":
        os.makedirs(os.path.dirname(address) or ".", exist_ok=True)
        return [(f"unix://{address}", UnixSocketEndpoint(reactor, address, group))]
    if scheme == "tcp":
        host_ip, port = address
        ep = endpoints.TCP4ServerEndpoint(reactor, port, backlog=listen_backlog(), interface=host_ip)
        if tls_context is not None:
            ep = TLSEndpoint(ep, tls_context)
        else:
            if not _is_loopback(host_ip):
                log.warn("BINDING TO tcp://{host}:{port} WITHOUT TLS: anyone who can reach this address "
                         "has root on this host. Use --tlsverify, or bind to 127.0.0.1.",
                         host=host_ip, port=port)
        return [(f"tcp://{host_ip}:{port}", ep)]
    if scheme == "fd":
        fds = systemd_fds(environ)
        if not fds:
            raise ConfigError("no sockets found via socket activation: make sure the service was started by systemd")
        if address:
            wanted = int(address)
            if wanted not in fds:
                raise ConfigError(f"fd://{wanted}: systemd passed fds {fds}, not {wanted}")
            fds = [wanted]
        return [(f"fd://{fd}", AdoptedEndpoint(reactor, fd, tls_context)) for fd in fds]
    raise ConfigError(f"unsupported host scheme {scheme!r}")


def _is_loopback(host):
    return host in ("localhost",) or host.startswith("127.") or host == "::1"


class UnixSocketEndpoint:
    """A unix server endpoint with mode 0660 and the -G group (when it exists)."""

    def __init__(self, reactor, path, group):
        self._inner = endpoints.UNIXServerEndpoint(reactor, path, backlog=listen_backlog(), mode=0o660,
                                                   wantPID=False)
        self.path = path
        self.group = group

    def listen(self, factory):
        d = self._inner.listen(factory)
        d.addCallback(self._own)
        return d

    def _own(self, port):
        if self.group:
            try:
                os.chown(self.path, 0, grp.getgrnam(self.group).gr_gid)
            except KeyError:
                log.debug("group {group} does not exist: socket stays root:root", group=self.group)
        return port


class TLSEndpoint:
    """A stream server endpoint whose connections speak TLS (``tls_context`` from daemon.tls)."""

    def __init__(self, inner, tls_context):
        self._inner = inner
        self._tls = tls_context

    def listen(self, factory):
        return self._inner.listen(self._tls.wrap(factory))


class AdoptedEndpoint:
    """A listening socket inherited from systemd; TCP ones get TLS when it is on."""

    def __init__(self, reactor, fd, tls_context=None):
        self._reactor = reactor
        self.fd = fd
        self._tls = tls_context

    def listen(self, factory):
        try:
            with socket.socket(fileno=os.dup(self.fd)) as probe:
                family = probe.family
        except OSError as e:
            raise ConfigError(f"fd://{self.fd}: not a socket ({errno.errorcode.get(e.errno, e.errno)})") from None
        if self._tls is not None and family in (socket.AF_INET, socket.AF_INET6):
            factory = self._tls.wrap(factory)
        os.set_blocking(self.fd, False)  # systemd hands sockets over blocking; accept() must not block the reactor
        port = self._reactor.adoptStreamPort(self.fd, family, factory)
        os.close(self.fd)
        # Twisted listens again at its default of 50; again on a listening socket only sets the queue.
        port.socket.listen(listen_backlog())
        return defer.succeed(port)


class ApiListeners(Service):
    """The last service of the daemon's tree: it listens once everything the jobs use
    runs, and stops accepting first. Reactor thread."""

    name = "listeners"

    def __init__(self, site, endpoints):
        self._site = site
        self._endpoints = endpoints  # (description, endpoint)
        self._ports = []

    @defer.inlineCallbacks
    def startService(self):
        super().startService()
        for description, endpoint in self._endpoints:
            port = yield endpoint.listen(self._site)
            self._ports.append(port)
            log.info("API listening on {where}", where=description)

    @defer.inlineCallbacks
    def stopService(self):
        log.info("shutting down: no new connections")
        yield super().stopService()
        for port in self._ports:
            yield defer.maybeDeferred(port.stopListening)
        self._ports = []
