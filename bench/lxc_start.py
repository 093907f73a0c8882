"""Start latency of ``docker run --rm busybox true``: the lxc exec driver against native.

Two daemons on temporary roots, one ``-e native`` and one ``-e lxc``, each
with the same busybox image, driven by the same docker CLI. Runs alternate
between them (so a noisy neighbour hurts both alike); medians and 90th
percentiles are printed with the lxc/native ratio. Run as root in private
namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/lxc_start.py [--runs 30]'
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pydocker.testing.daemon import DaemonProcess  # noqa: E402


def run_true(daemon):
    started = time.perf_counter()
    subprocess.run(["docker", "-H", daemon.host, "run", "--rm", "busybox", "true"], check=True,
                   capture_output=True, timeout=120)
    return time.perf_counter() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lxc-bench-") as base:
        daemons = {name: DaemonProcess(os.path.join(base, name), extra_args=["-e", name])
                   for name in ("native", "lxc")}
        try:
            for daemon in daemons.values():
                daemon.start()
                daemon.import_busybox()
                run_true(daemon)            # warm up: image, bridge, page cache
            times = {name: [] for name in daemons}
            for _ in range(args.runs):
                for name, daemon in daemons.items():
                    times[name].append(run_true(daemon))
        finally:
            for daemon in daemons.values():
                daemon.stop()
    print("docker run --rm busybox true, %d runs each (seconds)" % args.runs)
    print("%-8s %8s %8s %8s" % ("driver", "median", "p90", "min"))
    for name, values in times.items():
        print("%-8s %8.3f %8.3f %8.3f" % (name, statistics.median(values),
                                          percentile(values, 0.9), min(values)))
    ratio = statistics.median(times["lxc"]) / statistics.median(times["native"])
    print("lxc / native (median): %.2fx" % ratio)


if __name__ == "__main__":
    main()
