"""Listeners under a burst: every socket queues the system's maximum of pending
connections, so hundreds of clients at once wait instead of failing (the docker CLI's
non-blocking connect gets EAGAIN from a full unix socket queue: "Cannot connect")."""

import errno
import selectors
import socket

import pytest

from pydocker.testing.sockets import free_port, system_backlog, tcp_backlog, unix_backlog

pytestmark = pytest.mark.kernel

BURST = 400


def test_unix_and_tcp_listeners_queue_the_system_maximum(make_daemon):
    port = free_port()
    d = make_daemon(extra_args=["-H", f"tcp://127.0.0.1:{port}"])
    assert unix_backlog(d.socket) == system_backlog()
    assert tcp_backlog(port) == system_backlog()


def _burst_of_pings(path, count):
    """Connect ``count`` non-blocking clients at once (as many CLIs would), then ping on
    each; returns the errors of those that failed to connect or got no 200."""
    clients, errors = [], []
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(path)
        except OSError as e:
            errors.append(errno.errorcode.get(e.errno, str(e)))
            s.close()
            continue
        clients.append(s)
    selector = selectors.DefaultSelector()
    replies = {}
    for s in clients:
        s.setblocking(True)
        s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        replies[s] = b""
    open_count = len(clients)
    while open_count:
        events = selector.select(timeout=120)
        assert events, "the daemon stopped answering the burst"
        for key, _ in events:
            chunk = key.fileobj.recv(4096)
            if chunk:
                replies[key.fileobj] += chunk
            else:
                selector.unregister(key.fileobj)
                key.fileobj.close()
                open_count -= 1
    errors.extend(r[:40] for r in replies.values() if b" 200 " not in r.split(b"\r\n", 1)[0])
    return errors


def test_a_burst_of_connections_all_get_answers(daemon):
    assert _burst_of_pings(daemon.socket, BURST) == []
    assert daemon.ping(), "the daemon stopped serving after the burst"
