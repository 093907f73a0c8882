"""A tiny HTTP proxy in front of a plain-HTTP registry that can damage blob downloads:
flip a byte (corruption), cut the connection part-way (a broken download), or redirect
them to a separate "storage" server, as registries backed by object stores do. It records
each request's method, path and Range header; the storage server records its headers."""

import http.client
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class FaultyProxy:
    def __init__(self, upstream):
        self.upstream = upstream  # "127.0.0.1:PORT"
        self.flip_blob_byte = False
        self.cuts_left = 0        # how many blob downloads to cut short
        self.cut_after = 0        # bytes sent before cutting
        self.redirect_blobs = False
        self.failing_uploads = 0  # how many upload PUTs to answer 503 instead of forwarding
        self.requests = []
        self.authorized_paths = []  # paths of requests that carried an Authorization header
        self.storage = BlobStorage()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def host(self):
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def start(self):
        self._thread.start()
        self.storage.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self.storage.stop()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                proxy.requests.append((self.command, self.path, self.headers.get("Range")))
                if self.headers.get("Authorization"):
                    proxy.authorized_paths.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "PUT" and "/blobs/uploads/" in self.path \
                        and proxy.failing_uploads > 0:
                    proxy.failing_uploads -= 1
                    return self._unavailable()
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                is_blob = self.command == "GET" and "/blobs/sha256:" in self.path \
                    and response.status in (200, 206)
                if is_blob and proxy.flip_blob_byte and data:
                    middle = len(data) // 2
                    data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
                if is_blob and proxy.redirect_blobs:
                    self.send_response(307)
                    self.send_header("Location", proxy.storage.keep(data))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                cut = is_blob and proxy.cuts_left > 0 and len(data) > proxy.cut_after
                if cut:
                    proxy.cuts_left -= 1
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_HEADERS and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data[:proxy.cut_after] if cut else data)
                if cut:
                    self.close_connection = True

            def _unavailable(self):
                body = b'{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}'
                self.send_response(503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return Handler


class BlobStorage:
    """Serves blobs the proxy handed it under one-time names, on a different host name
    (``localhost`` rather than ``127.0.0.1``), and records the headers it received."""

    def __init__(self):
        self.blobs = {}
        self.received_headers = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def keep(self, data):
        name = secrets.token_hex(8)
        self.blobs[name] = data
        return f"http://localhost:{self._httpd.server_address[1]}/blob/{name}"

    def start(self):
        self._thread.start()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self):
        storage = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                storage.received_headers.append(dict(self.headers))
                data = storage.blobs.get(self.path.rsplit("/", 1)[-1])
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

        return Handler
