"""Helpers shared by the network tests (imported by conftest and the tests)."""

import os
import socket
import subprocess
import threading

import pytest

from pydocker.drivers.network import netns


def _in_private_netns():
    """A namespace made by ``unshare --net`` has no default route; the host's
    has one. (/proc/1/ns/net, the direct check, is not readable everywhere.)"""
    with open("/proc/net/route") as f:
        return not any(line.split()[1] == "00000000" for line in f.readlines()[1:])


def require_private_netns():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not _in_private_netns():
        pytest.skip("needs a private network namespace: run under unshare --mount --net --fork")


def in_netns(pid, *argv, **kwargs):
    """Run a command inside a container's network namespace."""
    return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *argv],
                          capture_output=True, text=True, **kwargs)


class EchoServer:
    """A TCP or UDP echo server whose socket lives in a container's namespace
    (made there with setns, served from a thread of the test process)."""

    def __init__(self, pid, port, proto):
        self.sock = socket_in(pid, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", port))
        self.sock.settimeout(0.2)
        self._stopped = threading.Event()
        if proto == "tcp":
            self.sock.listen(8)
        target = self._serve_tcp if proto == "tcp" else self._serve_udp
        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def _serve_tcp(self):
        while not self._stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(5)
                while data := conn.recv(65536):
                    conn.sendall(data)

    def _serve_udp(self):
        while not self._stopped.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            self.sock.sendto(data, addr)

    def stop(self):
        self._stopped.set()
        self._thread.join(5)
        self.sock.close()


def tcp_echo(address, port, payload=b"hello pydocker", timeout=5):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return _exchange(s, address, port, payload, timeout)


def _exchange(s, address, port, payload, timeout):
    """Connect ``s``, send ``payload``, half-close and read the answer to its end."""
    s.settimeout(timeout)
    s.connect((address, port))
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    received = b""
    while chunk := s.recv(65536):
        received += chunk
    return received


def udp_echo(address, port, payload=b"hello pydocker", timeout=5):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (address, port))
        return s.recvfrom(65536)[0]


def socket_in(pid, kind=socket.SOCK_STREAM):
    """A socket created inside a container's network namespace."""
    fd = netns.open_netns(pid)
    try:
        with netns.entered(fd):
            return socket.socket(socket.AF_INET, kind)
    finally:
        os.close(fd)


def tcp_echo_from(pid, address, port, payload=b"hello from inside", timeout=5):
    """Like tcp_echo, but the client is inside the container."""
    with socket_in(pid) as s:
        return _exchange(s, address, port, payload, timeout)
