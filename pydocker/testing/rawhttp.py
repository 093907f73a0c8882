"""One HTTP request to a daemon's unix socket with the answer as it came (status, headers,
body, whether it was chunked): for tests that compare the framing and status of pydocker's
answers with dockerd's, below what any client library shows."""

import http.client
import json
import socket
from dataclasses import dataclass


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._socket_path)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes
    chunked: bool

    def json(self):
        return json.loads(self.body)


def request(socket_path, method, path, body=None, headers=None):
    """Send one request; a dict or list body goes as JSON."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    connection = UnixConnection(socket_path)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        chunked = response.chunked
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, chunked)
    finally:
        connection.close()
