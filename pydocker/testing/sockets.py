"""Listening sockets in tests: a free port to listen on, and facts about listeners read
from the kernel the way an operator would (``ss``)."""

import random
import socket
import subprocess


def free_port(host="127.0.0.1"):
    """A TCP port nothing on ``host`` listens on, below the kernel's ephemeral range: a
    port from that range (what binding port 0 gives) may be taken by any outgoing
    connection between this check and the listener's own bind."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_low = int(f.read().split()[0])
    for port in random.sample(range(10000, ephemeral_low), 100):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port on {host} between 10000 and {ephemeral_low}")


def _listening(kind, match):
    out = subprocess.run(["ss", "-Hln", kind], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if match(fields):
            return fields
    raise AssertionError(f"no listening socket matches in:\n{out}")


def unix_backlog(path):
    """The accept-queue length (ss's Send-Q) of the listening unix socket ``path``."""
    fields = _listening("-x", lambda f: path in f)
    return int(fields[fields.index(path) - 1])


def tcp_backlog(port):
    """The accept-queue length of the listening TCP socket on ``port``."""
    fields = _listening("-t", lambda f: any(a.endswith(f":{port}") for a in f))
    return int(fields[2])


def system_backlog():
    with open("/proc/sys/net/core/somaxconn") as f:
        return int(f.read())
