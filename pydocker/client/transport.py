"""HTTP/1.1 over a unix socket, TCP or TLS, on the bare ``socket`` module.

Why not ``http.client``: importing it (it pulls in ``email`` and ``ssl``)
costs more than the whole start-up budget of ``pydocker version``, and its
response object fights the attach hijack, where the connection turns into a
raw byte stream after ``101``. The subset needed here is small: one request
per connection, Content-Length or chunked bodies, and streaming reads.
For the same reason plain connections use ``_socket`` (the ``socket``
module's import builds enums and costs several milliseconds) with our own
read buffer; ``ssl`` (and with it ``socket``) is imported only for TLS hosts.
"""

import _socket

from .errors import ConnectionFailed

_MAX_HEADER_LINE = 65536


class TLSConfig:
    """What ``--tls``/``--tlsverify`` ask for: CA, client pair, verification."""

    def __init__(self, verify=False, cacert=None, cert=None, key=None):
        self.verify = verify
        self.cacert = cacert
        self.cert = cert
        self.key = key

    def context(self):
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if self.verify:
            if self.cacert:
                ctx.load_verify_locations(self.cacert)
            ctx.check_hostname = True
            ctx.verify_mode = ssl.CERT_REQUIRED
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert and self.key:
            ctx.load_cert_chain(self.cert, self.key)
        return ctx


class Transport:
    """Opens connections to one daemon address."""

    def __init__(self, host, tls=None, timeout=None):
        self.host = host
        self.tls = tls
        self.timeout = timeout

    def connect(self):
        try:
            if self.host.scheme == "unix":
                sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(self.host.path)
            elif self.tls is not None:
                import socket

                sock = socket.create_connection((self.host.hostname, self.host.port),
                                                timeout=self.timeout)
                from .tlssocket import TLSSocket

                sock = TLSSocket(sock, self.tls.context(), self.host.hostname)
            else:
                sock = self._tcp_connect()
        except OSError as exc:
            raise ConnectionFailed(self.host.url, str(exc)) from None
        sock.settimeout(None)
        return sock

    def _tcp_connect(self):
        """Try each address of the host in turn, like ``socket.create_connection``."""
        error = OSError(f"no address for {self.host.hostname}")
        for family, kind, proto, _, address in _socket.getaddrinfo(
                self.host.hostname, self.host.port, 0, _socket.SOCK_STREAM):
            sock = _socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error

    def request(self, method, target, headers, body=None):
        """Send one request and return its Response once the headers arrived.

        ``body`` is bytes, or an iterable of byte chunks sent chunked.
        """
        sock = self.connect()
        head_host = "localhost" if self.host.scheme == "unix" else self.host.hostname
        lines = [f"{method} {target} HTTP/1.1", f"Host: {head_host}"]
        streaming = body is not None and not isinstance(body, (bytes, bytearray))
        if streaming:
            lines.append("Transfer-Encoding: chunked")
        elif body is not None or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body or b'')}")
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            if streaming:
                for chunk in body:
                    if chunk:
                        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sock.sendall(b"0\r\n\r\n")
            elif body:
                sock.sendall(body)
            return Response(sock, method)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The daemon may reject a request before reading its whole body;
            # its answer is still worth reading.
            try:
                return Response(sock, method)
            except OSError:
                sock.close()
                raise ConnectionFailed(self.host.url, str(exc)) from None


class Reader:
    """A read buffer over a socket: lines, up-to-n reads, and what is pending."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self, size=65536):
        data = self.sock.recv(size)
        self.buffer += data
        return bool(data)

    def readline(self, limit):
        while b"\n" not in self.buffer and len(self.buffer) < limit:
            if not self._fill():
                break
        end = self.buffer.find(b"\n")
        end = len(self.buffer) if end < 0 else end + 1
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def read1(self, size):
        """Up to ``size`` bytes: what is buffered, else one ``recv``; b"" at EOF."""
        if not self.buffer:
            return self.sock.recv(size)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def close(self):
        self.buffer = b""


class Response:
    """Status, headers and a body readable whole, in chunks or as lines."""

    def __init__(self, sock, method="GET"):
        self.sock = sock
        self.rfile = Reader(sock)
        status_line = self._line()
        if not status_line:
            raise ConnectionResetError("the daemon closed the connection")
        parts = status_line.split(None, 2)
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = {}
        while True:
            line = self._line()
            if not line:
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        self._remaining = int(length) if length is not None and not self._chunked else None
        if method == "HEAD" or self.status in (101, 204, 304):
            self._remaining = 0 if self.status != 101 else None
        self._chunk_left = 0
        self._done = self._remaining == 0

    def _line(self):
        raw = self.rfile.readline(_MAX_HEADER_LINE)
        return raw.decode("latin-1").rstrip("\r\n")

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def read_some(self, size=65536):
        """Return the next bytes of the body as they arrive; b"" at the end."""
        if self._done:
            return b""
        if self._chunked:
            return self._read_chunked(size)
        if self._remaining is None:
            data = self.rfile.read1(size)
        else:
            data = self.rfile.read1(min(size, self._remaining))
            self._remaining -= len(data)
            if self._remaining == 0:
                self._done = True
        if not data:
            self._done = True
        return data

    def _read_chunked(self, size):
        if self._chunk_left == 0:
            line = self._line()
            chunk_size = int(line.split(";", 1)[0] or "0", 16)
            if chunk_size == 0:
                while self._line():
                    pass  # trailers
                self._done = True
                return b""
            self._chunk_left = chunk_size
        data = self.rfile.read1(min(size, self._chunk_left))
        if not data:
            self._done = True
            return b""
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            self.rfile.readline(_MAX_HEADER_LINE)
        return data

    def iter_chunks(self, size=65536):
        while True:
            data = self.read_some(size)
            if not data:
                return
            yield data

    def read(self):
        return b"".join(self.iter_chunks())

    def iter_lines(self):
        """Yield body lines (without the newline) as soon as each is complete."""
        pending = b""
        for data in self.iter_chunks():
            pending += data
            *complete, pending = pending.split(b"\n")
            yield from complete
        if pending:
            yield pending

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
