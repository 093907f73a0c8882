"""Facts about listening sockets, read from the kernel the way an operator would (``ss``)."""

import subprocess


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
