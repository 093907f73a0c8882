"""TCP throughput from the host to a container through a published port, against Docker's
dockerd (issue 6; aim >= 1x): through 127.0.0.1 (the userland proxy) and through the bridge
gateway's address (iptables DNAT in the kernel). The container runs busybox ``nc -l`` that
discards what it reads. Run as root in private namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/network_throughput.py [--mb 512] [--runs 3] [--no-dockerd]'
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sidebyside import compare  # noqa: E402


CHUNK = b"\0" * (1 << 20)


def docker(host, *args):
    return subprocess.run(["docker", "-H", host, *args], check=True, capture_output=True, text=True,
                          timeout=120).stdout.strip()


def send(address, megabytes):
    """Seconds to push ``megabytes`` into the listener at ``address`` (retrying the connect)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection(address, timeout=10)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    started = time.perf_counter()
    for _ in range(megabytes):
        sock.sendall(CHUNK)
    sock.shutdown(socket.SHUT_WR)
    sock.recv(1)  # the listener closes after reading everything
    sock.close()
    return time.perf_counter() - started


def measure(host, tarball, megabytes, runs):
    docker(host, "import", tarball, "busybox")
    results = {}
    for label in ("127.0.0.1 (userland proxy)", "gateway address (DNAT)"):
        times = []
        for _ in range(runs):
            cid = docker(host, "run", "-d", "-p", "8080:9000", "busybox", "sh", "-c", "nc -l -p 9000 > /dev/null")
            gateway = docker(host, "inspect", "-f", "{{.NetworkSettings.Gateway}}", cid)
            address = ("127.0.0.1", 8080) if label.startswith("127") else (gateway, 8080)
            times.append(send(address, megabytes))
            docker(host, "rm", "-f", cid)
        results[f"{label} (MB/s)"] = megabytes / statistics.median(times)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-dockerd", action="store_true")
    args = parser.parse_args()
    compare(lambda host, tarball, pid: measure(host, tarball, args.mb, args.runs), not args.no_dockerd,
            networked=True, digits=1)


if __name__ == "__main__":
    main()
