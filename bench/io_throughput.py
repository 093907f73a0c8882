"""Stream throughput through attach and exec, against Docker's dockerd, same docker CLI (issue 5):

- ``docker exec C cat FILE | sha256sum`` of a 500 MB file;
- ``docker run --rm busybox cat /dev/zero | head -c 1G``.

Aim: at least dockerd's throughput. Median of --runs. Run as root in private namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/io_throughput.py [--runs 3] [--no-dockerd]'
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pydocker.testing import dockerd as dockerd_mod  # noqa: E402
from pydocker.testing.daemon import DaemonProcess  # noqa: E402
from pydocker.testing.images import make_rootfs_tar  # noqa: E402

EXEC_MB = 500
RUN_MB = 1024


def shell(command):
    started = time.perf_counter()
    subprocess.run(["sh", "-c", command], check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def run_once(host):
    """One ``run | head``: when head has its bytes the CLI exits, but the container would go on
    writing (under dockerd too), so it is removed before the next run."""
    seconds = shell(f"docker -H {host} run --rm --net=none --label bench=zero busybox cat /dev/zero "
                    f"| head -c {RUN_MB}m > /dev/null")
    leftovers = subprocess.run(["docker", "-H", host, "ps", "-aq", "--filter", "label=bench=zero"],
                               capture_output=True, text=True).stdout.split()
    if leftovers:
        subprocess.run(["docker", "-H", host, "rm", "-f", *leftovers], capture_output=True)
    return seconds


def measure(host, tarball, runs):
    subprocess.run(["docker", "-H", host, "import", tarball, "busybox"], check=True, capture_output=True)
    subprocess.run(["docker", "-H", host, "run", "-d", "--net=none", "--name", "io", "busybox", "sh", "-c",
                    f"head -c {EXEC_MB}m /dev/urandom > /tmp/f; sleep 3600"], check=True, capture_output=True)
    time.sleep(1)
    while subprocess.run(["docker", "-H", host, "exec", "io", "sh", "-c", f"test $(wc -c < /tmp/f) -eq {EXEC_MB * 1048576}"],
                         capture_output=True).returncode:
        time.sleep(0.5)
    exec_s = statistics.median(shell(f"docker -H {host} exec io cat /tmp/f | sha256sum") for _ in range(runs))
    run_s = statistics.median(run_once(host) for _ in range(runs))
    subprocess.run(["docker", "-H", host, "rm", "-f", "io"], capture_output=True)
    return {f"exec cat {EXEC_MB} MB (MB/s)": EXEC_MB / exec_s, f"run cat /dev/zero | head -c {RUN_MB} MB (MB/s)": RUN_MB / run_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-dockerd", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-io-") as base:
        tarball = make_rootfs_tar(os.path.join(base, "busybox.tar"))
        ours = DaemonProcess(os.path.join(base, "pydocker")).start()
        try:
            mine = measure(ours.host, tarball, args.runs)
        finally:
            ours.stop()
        theirs = None
        if not args.no_dockerd and dockerd_mod.available() is None:
            d = dockerd_mod.Dockerd(os.path.join(base, "dockerd")).start()
            try:
                theirs = measure(d.host, tarball, args.runs)
            finally:
                d.stop()
    print(f"{'measure':48} {'pydocker':>10} {'dockerd':>10} {'ratio':>7}")
    for key, value in mine.items():
        other = theirs[key] if theirs else float("nan")
        print(f"{key:48} {value:10.1f} {other:10.1f} {value / other if theirs else float('nan'):7.2f}")


if __name__ == "__main__":
    main()
