"""The syslog driver: each line a container writes becomes one syslog message
(RFC 3164 framing by default, RFC 5424 with ``syslog-format=rfc5424``), sent to
``syslog-address`` (default the local ``/dev/log``)."""

import os
import socket
import time

from zope.interface import implementer

from pydocker.errdefs import InvalidParameter, Unavailable
from pydocker.logdrivers import attributes
from pydocker.logdrivers.interfaces import ILogDriver
from pydocker.timeutil import rfc3339

FACILITIES = {name: number for number, name in enumerate((
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp"))}
FACILITIES.update({f"local{i}": 16 + i for i in range(8)})
SEVERITY = {"stdout": 6, "stderr": 3}  # info, err
CONNECT_TIMEOUT = 30  # seconds: a server that never answers fails the start, not forever
SEND_TIMEOUT = 5      # seconds: a server that stops reading loses lines, the log thread goes on
OPTIONS = ("syslog-address", "syslog-facility", "syslog-format", "tag") + attributes.OPTIONS


def parse_address(text):
    """(family, socktype, address) for unix://, unixgram://, udp:// and tcp:// addresses."""
    scheme, sep, rest = (text or "unixgram:///dev/log").partition("://")
    if not sep:
        raise InvalidParameter(f"syslog-address {text!r}: expected SCHEME://ADDRESS")
    if scheme in ("unix", "unixgram"):
        kind = socket.SOCK_STREAM if scheme == "unix" else socket.SOCK_DGRAM
        return socket.AF_UNIX, kind, rest
    if scheme in ("udp", "tcp"):
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise InvalidParameter(f"syslog-address {text!r}: expected {scheme}://HOST:PORT")
        kind = socket.SOCK_DGRAM if scheme == "udp" else socket.SOCK_STREAM
        return socket.AF_INET, kind, (host, int(port))
    raise InvalidParameter(f"syslog-address {text!r}: unsupported scheme {scheme!r}")


@implementer(ILogDriver)
class SyslogDriver:
    name = "syslog"
    readable = False

    def validate(self, options):
        for key in options:
            if key not in OPTIONS:
                raise InvalidParameter(f"unknown log opt '{key}' for syslog log driver")
        attributes.validate(options)
        parse_address(options.get("syslog-address"))
        if options.get("syslog-facility", "daemon") not in FACILITIES:
            raise InvalidParameter(f"invalid syslog facility {options['syslog-facility']!r}")
        if options.get("syslog-format", "rfc3164") not in ("rfc3164", "rfc5424"):
            raise InvalidParameter(f"invalid syslog format {options['syslog-format']!r}")

    def open(self, container, log_path, options):
        """Connect (blocking: called from a worker thread at the container's start)."""
        self.validate(options)
        family, kind, address = parse_address(options.get("syslog-address"))
        sock = socket.socket(family, kind)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(address)
            sock.settimeout(SEND_TIMEOUT)
        except OSError as e:
            sock.close()
            raise Unavailable(f"failed to initialize logging driver: syslog {options.get('syslog-address', '/dev/log')}: "
                              f"{e.strerror or e}") from None
        tag = options.get("tag") or container.id[:12]
        return SyslogWriter(sock, kind == socket.SOCK_STREAM, FACILITIES[options.get("syslog-facility", "daemon")],
                            tag, options.get("syslog-format", "rfc3164"))


class SyslogWriter:
    def __init__(self, sock, stream, facility, tag, fmt):
        self._sock = sock
        self._stream = stream
        self._facility = facility
        self._tag = tag
        self._fmt = fmt
        self._partial = {"stdout": b"", "stderr": b""}
        self._hostname = socket.gethostname()

    def write(self, stream, data):
        lines = (self._partial[stream] + data).split(b"\n")
        self._partial[stream] = lines.pop()
        for line in lines:
            self._send(stream, line)

    def _send(self, stream, line):
        pri = self._facility * 8 + SEVERITY[stream]
        if self._fmt == "rfc5424":
            header = f"<{pri}>1 {rfc3339()} {self._hostname} {self._tag} {os.getpid()} - - "
        else:
            header = f"<{pri}>{time.strftime('%b %e %H:%M:%S')} {self._tag}[{os.getpid()}]: "
        message = header.encode() + line
        try:
            self._sock.send(message + b"\n" if self._stream else message)
        except OSError:
            pass  # a missing syslog must not stop the container; Docker drops the line too

    def close(self):
        for stream, rest in self._partial.items():
            if rest:
                self._send(stream, rest)
        self._sock.close()
