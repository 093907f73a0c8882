"""Where a registry domain is reached and how: HTTPS with CA and client certificates from
``certs.d/HOST:PORT/``, plain HTTP or unverified TLS only for insecure registries, and
mirrors in front of Docker Hub. An endpoint list is tried in order (fallback)."""

import glob
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydocker.errdefs import InvalidParameter
from pydocker.reference import DEFAULT_DOMAIN

DEFAULT_CERTS_DIR = "/etc/pydocker/certs.d"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_INSECURE_CIDRS = ("127.0.0.0/8",)


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # scheme://host[:port], no trailing slash
    ssl_context: ssl.SSLContext | None = None
    mirror: bool = False
    insecure: bool = False

    @property
    def host(self):
        return urlsplit(self.base_url).netloc


def _split_host_port(netloc):
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        return host, rest.lstrip(":")
    host, _, port = netloc.partition(":")
    return host, port


class RegistryConfig:
    """The daemon's registry settings (``insecure-registries``, ``registry-mirrors``,
    the certs.d directory) and the endpoints they imply for a domain."""

    def __init__(self, insecure_registries=(), mirrors=(), certs_dir=DEFAULT_CERTS_DIR,
                 default_insecure_cidrs=DEFAULT_INSECURE_CIDRS):
        """``default_insecure_cidrs``: Docker always treats loopback as insecure; pass ``()``
        to demand verified TLS there too (tests of certs.d do)."""
        self.certs_dir = certs_dir
        self.insecure_names = set()
        self.insecure_networks = [ipaddress.ip_network(c) for c in default_insecure_cidrs]
        for entry in insecure_registries:
            self._add_insecure(entry)
        self.mirrors = [self._validate_mirror(m) for m in mirrors]

    def _add_insecure(self, entry):
        entry = entry.strip()
        if "://" in entry:
            raise InvalidParameter(f"insecure registry {entry} should not contain '://'")
        if "/" in entry:
            try:
                self.insecure_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise InvalidParameter(f"invalid insecure registry CIDR {entry!r}: {exc}") from exc
        elif entry:
            self.insecure_names.add(entry)

    @staticmethod
    def _validate_mirror(url):
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidParameter(f"invalid mirror {url!r}: expected http(s)://host[:port]")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise InvalidParameter(f"invalid mirror {url!r}: a mirror must not have a path")
        return f"{parts.scheme}://{parts.netloc}"

    def is_insecure(self, netloc):
        """Docker's rule: listed by name (host or host:port), or any address of the host
        lies in an insecure CIDR (127.0.0.0/8 by default)."""
        host, _ = _split_host_port(netloc)
        if netloc in self.insecure_names or host in self.insecure_names:
            return True
        if host == DOCKER_HUB_API:
            return False  # Docker Hub is always secure; no need to resolve it
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            except OSError:
                return False
            addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        return any(addr in net for addr in addresses for net in self.insecure_networks)

    def ssl_context(self, netloc, verify=True):
        """A TLS context trusting the system CAs plus ``certs.d/<netloc>/*.crt`` and
        presenting the ``*.cert``/``*.key`` client pair found there."""
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        directory = os.path.join(self.certs_dir, netloc) if self.certs_dir else None
        if directory and os.path.isdir(directory):
            for ca in sorted(glob.glob(os.path.join(directory, "*.crt"))):
                context.load_verify_locations(cafile=ca)
            for cert in sorted(glob.glob(os.path.join(directory, "*.cert"))):
                key = cert[:-len(".cert")] + ".key"
                if not os.path.exists(key):
                    raise InvalidParameter(f"missing key {os.path.basename(key)} for client "
                                           f"certificate {cert}")
                context.load_cert_chain(cert, key)
            for key in glob.glob(os.path.join(directory, "*.key")):
                if not os.path.exists(key[:-len(".key")] + ".cert"):
                    raise InvalidParameter(f"missing client certificate for key {key}")
        return context

    def ssl_context_for_url(self, url):
        parts = urlsplit(url)
        if parts.scheme != "https":
            return None
        return self.ssl_context(parts.netloc, verify=not self.is_insecure(parts.netloc))

    def _endpoints_for_host(self, netloc, mirror=False):
        if self.is_insecure(netloc):
            return [Endpoint(f"https://{netloc}", self.ssl_context(netloc, verify=False),
                             mirror, True),
                    Endpoint(f"http://{netloc}", None, mirror, True)]
        return [Endpoint(f"https://{netloc}", self.ssl_context(netloc), mirror, False)]

    def endpoints(self, domain, for_push=False):
        """Endpoints to try in order for ``domain``; mirrors serve only Docker Hub pulls."""
        if domain != DEFAULT_DOMAIN:
            return self._endpoints_for_host(domain)
        result = []
        if not for_push:
            for url in self.mirrors:
                parts = urlsplit(url)
                if parts.scheme == "http":
                    result.append(Endpoint(url, None, True, True))
                else:
                    result.append(Endpoint(url, self.ssl_context(parts.netloc,
                                                                 not self.is_insecure(parts.netloc)),
                                           True, self.is_insecure(parts.netloc)))
        return result + self._endpoints_for_host(DOCKER_HUB_API)
