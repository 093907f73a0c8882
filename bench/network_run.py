"""What networking costs a ``docker run``: a container run to its end with
--net=none, on the default bridge, with a published port and on a user network
(embedded DNS), plus a ``network create`` + ``rm`` pair — for pydocker and,
with ``--dockerd``, Docker's own daemon (run after ours, one at a time, since
both choose the same first free subnet). The docker CLI is the client of both.

Run it as root in private namespaces (the daemons make bridges and rules):

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/network_run.py [--runs 15] [--dockerd]'
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
from pydocker.testing.dockerd import Dockerd  # noqa: E402
from pydocker.testing.images import make_rootfs_tar  # noqa: E402

CASES = {
    "run --net=none": ["run", "--rm", "--net=none", "busybox", "true"],
    "run (default bridge)": ["run", "--rm", "busybox", "true"],
    "run -p 8080:80": ["run", "--rm", "-p", "8080:80", "busybox", "true"],
    "run --network user": ["run", "--rm", "--network", "benchnet", "busybox", "true"],
}


def docker(host, *args):
    started = time.perf_counter()
    subprocess.run(["docker", "-H", host, *args], check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def measure(host, image_tar, runs):
    """Medians per case; the cases take turns, so a change in the machine's
    load (other work on a shared host) weighs on all of them alike."""
    docker(host, "import", image_tar, "busybox")
    docker(host, "network", "create", "benchnet")
    for args in CASES.values():
        docker(host, *args)  # warm-up
    timings = {name: [] for name in CASES}
    for _ in range(runs):
        for name, args in CASES.items():
            timings[name].append(docker(host, *args))
    results = {name: statistics.median(values) for name, values in timings.items()}
    pairs = []
    for i in range(runs):
        pairs.append(docker(host, "network", "create", f"tmp{i}") + docker(host, "network", "rm", f"tmp{i}"))
    results["network create + rm"] = statistics.median(pairs)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--dockerd", action="store_true", help="also measure Docker's dockerd")
    args = parser.parse_args()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        image_tar = os.path.join(tmp, "busybox.tar")
        make_rootfs_tar(image_tar)
        engines = {}
        daemon = DaemonProcess(os.path.join(tmp, "pydocker"), debug=False).start()
        try:
            engines["pydocker"] = measure(daemon.host, image_tar, args.runs)
        finally:
            daemon.stop()
        if args.dockerd:
            dockerd = Dockerd(os.path.join(tmp, "dockerd"), networked=True).start()
            try:
                engines["dockerd"] = measure(dockerd.host, image_tar, args.runs)
            finally:
                dockerd.stop()
    print(f"median seconds over {args.runs} runs; load average before and after: "
          f"{load_before}, {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'case':24}" + "".join(f"{name:>12}" for name in engines) + ("       ratio" if len(engines) > 1 else ""))
    for case in engines["pydocker"]:
        row = [engines[name][case] for name in engines]
        ratio = f"{row[0] / row[1]:12.2f}" if len(row) > 1 else ""
        print(f"{case:24}" + "".join(f"{value:12.3f}" for value in row) + ratio)


if __name__ == "__main__":
    main()
