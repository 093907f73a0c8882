"""TLSSocket's half-close keeps the output the daemon already sent (a real TLS server thread on
a socketpair, certificates from pydocker.tlsgen)."""

import fcntl
import select
import socket
import ssl
import struct
import termios
import threading

from pydocker import tlsgen
from pydocker.client.tlssocket import TLSSocket

PAYLOAD = bytes(range(256)) * 1024  # 256 KiB: many TLS records


def _contexts(tmp_path):
    ca = tlsgen.make_ca("test CA")
    server = tlsgen.issue(ca, "localhost", "server", hosts=["localhost"])
    server.write(tmp_path / "cert.pem", tmp_path / "key.pem")
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem())
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client_ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    return server_ctx, client_ctx


def _serve(sock, ctx, received):
    """Send the payload at once, then collect what the client sends until its close_notify."""
    with ctx.wrap_socket(sock, server_side=True) as tls:
        tls.sendall(PAYLOAD)
        while True:
            try:
                data = tls.recv(65536)
            except ssl.SSLZeroReturnError:
                data = b""
            if not data:
                break
            received.append(data)
        tls.unwrap()


def _wait_buffered(sock, at_least):
    """Block until the kernel holds ``at_least`` unread bytes on ``sock`` (readiness, not time)."""
    while True:
        select.select([sock], [], [])
        pending = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]
        if pending >= at_least:
            return


def test_half_close_keeps_records_fed_in_but_not_yet_read(tmp_path):
    """The reader has fed several records to OpenSSL and read one byte; then stdin ends.

    OpenSSL's shutdown would swallow the buffered records while it looks for the
    daemon's close_notify: the output would come back cut."""
    server_ctx, client_ctx = _contexts(tmp_path)
    ours, theirs = socket.socketpair()
    received = []
    server = threading.Thread(target=_serve, args=(theirs, server_ctx, received))
    server.start()
    try:
        tls = TLSSocket(ours, client_ctx, "localhost")
        _wait_buffered(ours, 65536)
        got = bytearray(tls.recv(1))  # pulls up to 64 KiB off the socket, decrypts one record
        tls.sendall(b"stdin")
        tls.shutdown(socket.SHUT_WR)
        while True:
            data = tls.recv(65536)
            if not data:
                break
            got += data
    finally:
        ours.close()
        server.join(10)
    assert bytes(got) == PAYLOAD
    assert b"".join(received) == b"stdin"
