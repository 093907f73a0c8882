"""A stand-in Engine API server on a unix socket, for the client's unit tests.

It is not a daemon: each test scripts the answers it needs by registering
handlers for (method, path). Requests are recorded so tests can check what
the client sent.
"""

import json
import os
import socketserver
import tempfile
import threading
from http.server import BaseHTTPRequestHandler


class StandIn:
    """Serve scripted responses on ``unix://<tmp>/standin.sock``."""

    def __init__(self, api_version="1.44"):
        self.api_version = api_version
        self.routes = {}
        self.requests = []
        self._dir = tempfile.mkdtemp(prefix="pydocker-client-standin-")
        self.path = os.path.join(self._dir, "standin.sock")
        self.url = "unix://" + self.path
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                body = self._body()
                path, _, query = self.path.partition("?")
                standin.requests.append({"method": self.command, "path": path,
                                         "query": query, "headers": dict(self.headers),
                                         "body": body})
                bare = path
                if path.startswith("/v") and "/" in path[1:]:
                    bare = "/" + path.split("/", 2)[2]
                route = standin.routes.get((self.command, bare))
                if route is None and bare == "/_ping":
                    route = lambda handler, body: handler.reply(200, b"OK", "text/plain")
                if route is None:
                    self.reply(404, {"message": f"page not found: {bare}"})
                    return
                route(self, body)

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def reply(self, status, payload, content_type="application/json", headers=None):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("API-Version", standin.api_version)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def reply_chunked(self, chunks, content_type="application/json"):
                self.send_response(200)
                self.send_header("API-Version", standin.api_version)
                self.send_header("Content-Type", content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _handle

        self.server = socketserver.ThreadingUnixStreamServer(self.path, Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method, path):
        def register(func):
            self.routes[(method, path)] = func
            return func
        return register

    def json(self, method, path, payload, status=200):
        self.routes[(method, path)] = lambda h, body: h.reply(status, payload)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        os.unlink(self.path)
        os.rmdir(self._dir)


class TLSStandIn(StandIn):
    """The same stand-in over TCP with TLS on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, certfile, keyfile, cafile=None):
        import ssl

        super().__init__()
        self.server.server_close()
        os.unlink(self.path)
        handler = self.server.RequestHandlerClass
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        if cafile:
            context.load_verify_locations(cafile)
            context.verify_mode = ssl.CERT_REQUIRED
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"tcp://localhost:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        os.rmdir(self._dir)
