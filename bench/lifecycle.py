"""Container lifecycle against Docker's dockerd, through the same docker CLI (issue 4's targets):

- ``run --rm busybox true`` latency (aim: pydocker <= 0.3x dockerd);
- 50 containers created and started concurrently (aim: >= 3x dockerd's throughput);
- ``ps -a`` with 500 containers (aim: <= 0.5x dockerd's time);
- daemon memory (PSS) with 50 idle containers, dockerd counted with containerd and its shims
  (aim: <= 0.3x).

Paired runs, medians. Run as root in private namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/lifecycle.py [--runs 15] [--no-dockerd]'
"""

import argparse
import concurrent.futures
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sidebyside import compare, process_tree  # noqa: E402



def docker(host, *args):
    started = time.perf_counter()
    subprocess.run(["docker", "-H", host, *args], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def pss_kib(pids):
    """Proportional set size of processes: shared pages counted once across them."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(host, tarball, runs, daemon_pid):
    docker(host, "import", tarball, "busybox")
    results = {}
    docker(host, "run", "--rm", "--net=none", "busybox", "true")
    results["run --rm true (s)"] = statistics.median(
        docker(host, "run", "--rm", "--net=none", "busybox", "true") for _ in range(runs))

    def create_start(i):
        docker(host, "run", "-d", "--net=none", "--name", f"c{i}", "busybox", "sleep", "600")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(create_start, range(50)))
    results["50 concurrent run -d (containers/s)"] = 50 / (time.perf_counter() - started)
    time.sleep(2)
    container_pids = set()
    for line in subprocess.run(["docker", "-H", host, "ps", "-q"], capture_output=True, text=True).stdout.split():
        pid = subprocess.run(["docker", "-H", host, "inspect", "-f", "{{.State.Pid}}", line],
                             capture_output=True, text=True).stdout.strip()
        container_pids |= process_tree(int(pid))
    engine = process_tree(daemon_pid)
    results["daemon memory, 50 idle containers (MiB PSS)"] = pss_kib(engine - container_pids) / 1024
    subprocess.run(["docker", "-H", host, "rm", "-f", *[f"c{i}" for i in range(50)]], capture_output=True)
    for i in range(500):
        subprocess.run(["docker", "-H", host, "create", "--net=none", "busybox", "true"], capture_output=True)
    docker(host, "ps", "-a")
    results["ps -a, 500 containers (s)"] = statistics.median(docker(host, "ps", "-a") for _ in range(runs))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-dockerd", action="store_true")
    args = parser.parse_args()
    compare(lambda host, tarball, pid: measure(host, tarball, args.runs, pid), not args.no_dockerd)


if __name__ == "__main__":
    main()
