"""The longest reactor stall of a daemon under load, before and after a change (issue 14).

A prober holds one keep-alive connection to the daemon and sends ``GET /_ping`` every
5 ms; the reactor answers it between other work, so the longest round trip bounds from
above the longest time the reactor could not serve (a stall, plus the prober's own
scheduling on a busy host). Two loads, each measured separately:

- 50 ``docker run --rm busybox sh -c 'echo ...'`` at once (start, logs, exit, clean-up);
- ``docker pull`` of a ~200 MB image (5 layers of 40 MB) from a local registry.

Daemons of two source trees run turn about (``--before DIR --after DIR``: checkouts, e.g.
``git worktree add``), each run on a fresh data root, so a busy moment of the machine
falls on both alike; the load average is printed with each figure. A daemon whose tree has
the debug stall monitor also reports its own longest logged stall ("reactor stalled for").

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/reactor_stalls.py --before /tmp/before --after . [--runs 3]'
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pull_push import make_layers  # noqa: E402
from pydocker.testing.daemon import DaemonProcess  # noqa: E402
from pydocker.testing.registry import RegistryProcess, push_test_image  # noqa: E402

PROBE_EVERY = 0.005
STALL_LINE = re.compile(r"reactor stalled for (\d+) ms")


class Prober:
    """Pings the daemon on one connection until stopped; keeps every round trip."""

    def __init__(self, path):
        self._sock = socket.socket(socket.AF_UNIX)
        self._sock.connect(path)
        self._stop = threading.Event()
        self.trips = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def _run(self):
        request = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
        while not self._stop.wait(PROBE_EVERY):
            started = time.perf_counter()
            self._sock.sendall(request)
            reply = b""
            while not reply.endswith(b"OK"):  # /_ping's body, after the headers
                chunk = self._sock.recv(4096)
                if not chunk:
                    return
                reply += chunk
            self.trips.append(time.perf_counter() - started)


def run_fifty(host):
    def one(i):
        subprocess.run(["docker", "-H", host, "run", "--rm", "busybox", "sh", "-c",
                        f"echo container {i}; echo to stderr >&2"],
                       check=True, capture_output=True, timeout=600)
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        list(pool.map(one, range(50)))


def pull(host, image):
    subprocess.run(["docker", "-H", host, "pull", image], check=True, capture_output=True, timeout=900)


def measure(tree, base, load, *load_args):
    """(longest ping ms, p99 ping ms, pings, longest logged stall ms or None, load average)."""
    env = dict(os.environ, PYTHONPATH=tree)
    here = os.getcwd()
    os.chdir(tree)  # `python -m pydocker` looks in its working directory first
    try:
        daemon = DaemonProcess(base, env=env).start(timeout=60)
    finally:
        os.chdir(here)
    try:
        daemon.import_busybox()
        before = len(STALL_LINE.findall(daemon.log()))
        with Prober(daemon.socket) as prober:
            load(daemon.host, *load_args)
        trips = sorted(prober.trips)
        stalls = [int(m.group(1)) for m in STALL_LINE.finditer(daemon.log())][before:]
        return (trips[-1] * 1000, trips[int(len(trips) * 0.99)] * 1000, len(trips),
                max(stalls) if stalls else None, os.getloadavg()[0])
    finally:
        daemon.stop(timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="source tree of the daemon before")
    parser.add_argument("--after", required=True, help="source tree of the daemon after")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    work = tempfile.mkdtemp(prefix="stall-bench-", dir=args.dir)
    os.makedirs(os.path.join(work, "registry"))
    registry = RegistryProcess(os.path.join(work, "registry")).start()
    try:
        image = f"{registry.host}/bench/app:1"
        push_test_image(image, make_layers(5, 40))
        loads = {"50 concurrent runs": (run_fifty,), "200 MB pull": (pull, image)}
        results = {(name, label): [] for name in loads for label in trees}
        for run in range(args.runs):
            for name, (load, *load_args) in loads.items():
                for label, tree in trees.items():
                    figures = measure(tree, os.path.join(work, f"{label}-{run}"), load, *load_args)
                    results[(name, label)].append(figures)
                    print(f"run {run} {name:18} {label:6} longest {figures[0]:7.1f} ms  p99 {figures[1]:6.1f} ms"
                          f"  pings {figures[2]:5}  logged {figures[3]}  load {figures[4]:.2f}", flush=True)
        print(f"\n{'load':18} {'tree':6} {'longest ms (median of runs)':>28} {'p99 ms':>8} {'logged ms':>10}")
        for (name, label), rows in results.items():
            logged = [r[3] for r in rows if r[3] is not None]
            print(f"{name:18} {label:6} {statistics.median(r[0] for r in rows):28.1f} "
                  f"{statistics.median(r[1] for r in rows):8.1f} {max(logged) if logged else '-':>10}")
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
