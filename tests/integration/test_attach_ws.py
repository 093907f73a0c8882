"""The websocket attach endpoint (/containers/{id}/attach/ws), driven by a small wsproto client
over the daemon's unix socket."""

import socket
import time

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request, TextMessage

pytestmark = pytest.mark.kernel


class WSClient:
    def __init__(self, socket_path, target):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(15)
        self.sock.connect(socket_path)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host="localhost", target=target)))
        self.received = b""
        self.closed = False
        while not any(isinstance(e, AcceptConnection) for e in self._events()):
            pass

    def _events(self):
        data = self.sock.recv(65536)
        self.ws.receive_data(data or None)
        events = list(self.ws.events())
        for event in events:
            if isinstance(event, (BytesMessage, TextMessage)):
                self.received += event.data if isinstance(event.data, bytes) else event.data.encode()
            elif isinstance(event, CloseConnection):
                self.closed = True
        return events

    def send(self, data):
        self.sock.sendall(self.ws.send(BytesMessage(data=data)))

    def read_until(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in self.received and not self.closed and time.monotonic() < deadline:
            self._events()
        return self.received


def test_attach_over_websocket(busybox_daemon):
    d = busybox_daemon
    d.client("run", "-d", "-i", "--name", "wsc", "busybox", "sh", "-c", "while read line; do echo got:$line; done")
    client = WSClient(d.socket, "/v1.44/containers/wsc/attach/ws?stream=1&stdin=1&stdout=1&stderr=1")
    client.send(b"hello\n")
    assert b"got:hello\n" in client.read_until(b"got:hello\n")
    client.send(b"again\n")
    received = client.read_until(b"got:again\n")
    assert received == b"got:hello\ngot:again\n"  # raw output: no stdcopy frames on this endpoint
    d.client("rm", "-f", "wsc")
