"""The daemon's TLS: certificates checked at start, TLS 1.2+ only, client certificates.

``server_context`` loads and checks everything with pyOpenSSL before the
daemon opens a socket, so a missing file, a key that belongs to another
certificate or an expired certificate stops the start with a message that
names the file, instead of failing each handshake later.

Two things Twisted's TLS layer does not do are added here:

- half-close. The docker CLI ends an attach's stdin with a TLS close_notify
  (Go's ``tls.Conn.CloseWrite``), older clients with a bare TCP FIN; both
  must reach the hijacked stream as end-of-input while output keeps flowing,
  as on a unix socket. Twisted would drop the whole connection.
- a plain-HTTP request on the TLS port gets Go's "400 Client sent an HTTP
  request to an HTTPS server" (the docker CLI prints a hint for it) instead of
  a failed handshake.
"""

import datetime

from OpenSSL import SSL, crypto
from twisted.internet.interfaces import IHalfCloseableProtocol, IOpenSSLServerConnectionCreator
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from zope.interface import implementer

from pydocker.daemon.options import ConfigError

log = Logger()

# Forward secrecy and authenticated encryption only (TLS 1.3 suites are all of that kind).
CIPHERS = b"ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1"
SESSION_ID = b"pydocker"
PLAIN_HTTP_ANSWER = (b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     b"Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")


def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ConfigError(f"could not read {what} {path}: no such file") from None
    except OSError as e:
        raise ConfigError(f"could not read {what} {path}: {e.strerror}") from None


def _pem_certificates(path, what):
    """Every certificate in a PEM file (a server certificate may come with its chain)."""
    data = _read(path, what)
    marker = b"-----BEGIN CERTIFICATE-----"
    blocks = [marker + part for part in data.split(marker)[1:]]
    if not blocks:
        raise ConfigError(f"{what} {path} holds no PEM certificate")
    try:
        return [crypto.load_certificate(crypto.FILETYPE_PEM, block) for block in blocks]
    except crypto.Error:
        raise ConfigError(f"{what} {path} is not a valid PEM certificate") from None


def _check_dates(cert, path, what):
    c = cert.to_cryptography()
    now = datetime.datetime.now(datetime.timezone.utc)
    if c.not_valid_after_utc < now:
        raise ConfigError(f"{what} {path} expired on {c.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC")
    if c.not_valid_before_utc > now:
        raise ConfigError(f"{what} {path} is not valid before {c.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC")


def _load_key(path):
    data = _read(path, "TLS key")
    try:
        return crypto.load_privatekey(crypto.FILETYPE_PEM, data)
    except crypto.Error:
        raise ConfigError(f"TLS key {path} is not a valid unencrypted PEM private key") from None


def server_context(cert_path, key_path, ca_path=None):
    """A connection creator for TCP listeners; ``ca_path`` given = client certificates required.

    Raises ConfigError for anything that would make every handshake fail.
    """
    chain = _pem_certificates(cert_path, "TLS certificate")
    _check_dates(chain[0], cert_path, "TLS certificate")
    key = _load_key(key_path)
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
    ctx.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE | SSL.OP_NO_RENEGOTIATION)
    ctx.set_cipher_list(CIPHERS)
    ctx.use_certificate(chain[0])
    for extra in chain[1:]:
        ctx.add_extra_chain_cert(extra)
    try:
        ctx.use_privatekey(key)  # OpenSSL refuses a key of another certificate here already
        ctx.check_privatekey()
    except SSL.Error:
        raise ConfigError(f"TLS key {key_path} does not match the certificate {cert_path}") from None
    if ca_path is not None:
        _require_client_certificates(ctx, ca_path)
    return ServerTLS(ctx)


def _require_client_certificates(ctx, ca_path):
    cas = _pem_certificates(ca_path, "TLS CA certificate")
    store = ctx.get_cert_store()
    for ca in cas:
        _check_dates(ca, ca_path, "TLS CA certificate")
        store.add_cert(ca)
    # Telling clients which CAs we accept lets them pick the right certificate.
    ctx.set_client_ca_list([ca.get_subject() for ca in cas])
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
    ctx.set_session_id(SESSION_ID)  # resumed sessions must carry the verified client


@implementer(IOpenSSLServerConnectionCreator)
class ServerTLS:
    """One checked pyOpenSSL context shared by every TLS connection."""

    def __init__(self, context):
        self.context = context

    def serverConnectionForTLS(self, tlsProtocol):
        return _HalfClosingConnection(self.context, tlsProtocol)

    def wrap(self, factory):
        """A protocol factory serving ``factory``'s protocols over TLS."""
        return _DaemonTLSFactory(self, False, factory)


class _HalfClosingConnection(SSL.Connection):
    """Turns the peer's close_notify into a read half-close when the protocol accepts one."""

    def __init__(self, context, tls_protocol):
        super().__init__(context, None)
        self._tls_protocol = tls_protocol

    def recv(self, bufsiz, flags=None):
        if self._tls_protocol.input_ended:
            raise SSL.WantReadError()  # nothing more will come; the write side stays open
        try:
            return super().recv(bufsiz, flags)
        except SSL.ZeroReturnError:
            if not self._tls_protocol.end_of_input():
                raise
            raise SSL.WantReadError() from None


@implementer(IHalfCloseableProtocol)
class _DaemonTLSProtocol(TLSMemoryBIOProtocol):
    """Twisted's TLS protocol, with half-close and a plain-HTTP answer."""

    _seen_first_byte = False
    _refused = False
    input_ended = False

    def dataReceived(self, data):
        if self._refused:
            return
        if not self._seen_first_byte and data:
            self._seen_first_byte = True
            if data[:1].isalpha():  # a TLS record starts with 0x16, an HTTP request with a letter
                log.debug("plain-HTTP request on a TLS port from {peer}: refused", peer=self.getPeer())
                self._refused = True
                self.transport.write(PLAIN_HTTP_ANSWER)
                self.transport.loseConnection()
                return
        super().dataReceived(data)

    def end_of_input(self):
        """Tell the application protocol, once, that its peer is done sending.

        False when it cannot take a half-close (the connection then ends as before).
        """
        if self.input_ended:
            return True
        if not IHalfCloseableProtocol.providedBy(self.wrappedProtocol):
            return False
        self.input_ended = True
        self.wrappedProtocol.readConnectionLost()
        return True

    def readConnectionLost(self):
        """A bare TCP FIN: end of input for a half-closing protocol, else the end."""
        if not self.end_of_input():
            self.transport.loseConnection()

    def writeConnectionLost(self):
        self.loseConnection()


class _DaemonTLSFactory(TLSMemoryBIOFactory):
    protocol = _DaemonTLSProtocol
