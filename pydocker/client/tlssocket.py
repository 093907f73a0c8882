"""A TLS connection that can half-close, for attach and exec over ``tcp://`` with TLS.

``ssl.SSLSocket.shutdown(SHUT_WR)`` throws the TLS state away before it
shuts the TCP socket, so the output that follows a closed stdin would be read
still encrypted. Here the TLS engine runs over memory buffers (``SSLObject``)
and a half-close sends TLS's own end-of-data alert (close_notify), as the
docker CLI does, while reading goes on.

The stdin thread writes while the main thread reads; one lock serialises the
calls into OpenSSL, and the blocking socket reads happen outside it.

OpenSSL's shutdown, once it has sent close_notify, goes on to read the peer's
and throws away any application record it finds on the way. Records the
reader thread has fed in but not yet decrypted would be lost (a cut or
corrupted output stream), so the half-close first decrypts what is buffered
and keeps it for the reader.
"""

import socket
import ssl
import threading

from .errors import ClientError

_READ_SIZE = 65536
_ALERT_PREFIXES = ("tlsv13_alert_", "tlsv1_alert_", "sslv3_alert_")


class TLSFailure(ClientError):
    """The TLS layer gave up: a failed handshake or an alert from the daemon.

    With TLS 1.3 the daemon's refusal of a client certificate arrives after
    the handshake, on the first read, so it can surface on any call.
    """

    def __init__(self, exc):
        reason = (exc.reason or "").lower()
        for prefix in _ALERT_PREFIXES:
            if reason.startswith(prefix):
                text = "remote error: tls: " + reason[len(prefix):].replace("_", " ")
                break
        else:
            text = str(exc)
        super().__init__(f"error during connect: {text}")


class TLSSocket:
    """The part of the socket interface the client uses: recv, sendall, shutdown, settimeout, close."""

    def __init__(self, sock, context, server_hostname):
        self._sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._lock = threading.Lock()
        self._plain = bytearray()  # decrypted before a half-close, not yet read
        self._ended = False  # the daemon's close_notify came in during the half-close
        try:
            self._run(self._tls.do_handshake)
        except BaseException:
            sock.close()
            raise

    def _run(self, operation, *args):
        """Call a TLS operation, feeding it socket bytes until it has what it needs."""
        while True:
            with self._lock:
                try:
                    result, wants_more = operation(*args), False
                except ssl.SSLWantReadError:
                    result, wants_more = None, True
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    raise
                except ssl.SSLError as exc:
                    self._send_alert()
                    raise TLSFailure(exc) from None
                pending = self._outgoing.read()
            if pending:
                self._sock.sendall(pending)
            if not wants_more:
                return result
            data = self._sock.recv(_READ_SIZE)
            with self._lock:
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()

    def _send_alert(self):
        """Let the daemon know why we give up (a failed handshake leaves an alert to send)."""
        try:
            self._sock.sendall(self._outgoing.read())
        except OSError:
            pass

    def recv(self, size):
        """Up to ``size`` bytes; b"" once the daemon has finished sending."""
        try:
            return self._run(self._read, size)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def _read(self, size):
        """What the half-close kept, else a read from OpenSSL (called under the lock)."""
        if self._plain:
            data = bytes(self._plain[:size])
            del self._plain[:size]
            return data
        if self._ended:
            raise ssl.SSLZeroReturnError()
        return self._tls.read(size)

    def _keep_buffered(self):
        """Decrypt every whole record already fed in (called under the lock)."""
        while True:
            try:
                data = self._tls.read(_READ_SIZE)
            except ssl.SSLWantReadError:
                return
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._ended = True
                return
            if not data:
                return
            self._plain += data

    def sendall(self, data):
        view = memoryview(data)
        while view:
            written = self._run(self._tls.write, view)
            view = view[written:]

    def shutdown(self, how):
        """SHUT_WR: close_notify, keep reading. Otherwise: the TCP socket itself."""
        if how != socket.SHUT_WR:
            self._sock.shutdown(how)
            return
        with self._lock:
            self._keep_buffered()
            try:
                self._tls.unwrap()  # sends close_notify, then would wait for the daemon's
            except ssl.SSLWantReadError:
                pass
            pending = self._outgoing.read()
        self._sock.sendall(pending)

    def settimeout(self, timeout):
        self._sock.settimeout(timeout)

    def close(self):
        self._sock.close()
