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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sidebyside import compare  # noqa: E402


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
    compare(lambda host, tarball, pid: measure(host, tarball, args.runs), not args.no_dockerd, digits=1)


if __name__ == "__main__":
    main()
