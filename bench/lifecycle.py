"""Container lifecycle against Docker's dockerd, through the same docker CLI (issue 4's targets):

- ``run --rm busybox true`` latency (aim: pydocker <= 0.3x dockerd);
- 50 containers created and started concurrently (aim: >= 3x dockerd's throughput);
- ``ps -a`` with 500 containers (aim: <= 0.5x dockerd's time);
- daemon memory (PSS) with 50 idle containers, dockerd counted with containerd and its shims
  (aim: <= 0.3x).

Paired runs, medians (figures in lifecycle_results.md). Run as root in private namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/lifecycle.py [--runs 15] [--no-dockerd] [--skip-ps]'

For pydocker the median ``container.start`` job time is read from its debug log
(``-job container.start [id] = OK (N ms)``), found through the daemon's stdout.
"""

import argparse
import concurrent.futures
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sidebyside import compare, process_tree  # noqa: E402

START_JOB = re.compile(rb"-job container\.start (?:\[\w+\] )?= OK \(([0-9.]+) ms\)")


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


def start_job_ms(daemon_pid, skip):
    """Median container.start job time in a pydocker debug log after its first ``skip`` starts;
    None for a daemon that logs no such line (dockerd)."""
    try:
        with open(os.readlink(f"/proc/{daemon_pid}/fd/1"), "rb") as f:
            times = [float(m.group(1)) for m in START_JOB.finditer(f.read())][skip:]
    except OSError:
        return None
    return statistics.median(times) if times else None


def measure(host, tarball, runs, daemon_pid, with_ps):
    docker(host, "import", tarball, "busybox")
    results = {}
    docker(host, "run", "--rm", "--net=none", "busybox", "true")
    results["run --rm true (s)"] = statistics.median(
        docker(host, "run", "--rm", "--net=none", "busybox", "true") for _ in range(runs))
    results["container.start job (ms)"] = start_job_ms(daemon_pid, 1) or float("nan")

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
    if not with_ps:
        return results
    for i in range(500):
        subprocess.run(["docker", "-H", host, "create", "--net=none", "busybox", "true"], capture_output=True)
    docker(host, "ps", "-a")
    results["ps -a, 500 containers (s)"] = statistics.median(docker(host, "ps", "-a") for _ in range(runs))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-dockerd", action="store_true")
    parser.add_argument("--skip-ps", action="store_true", help="leave out ps -a with 500 containers")
    args = parser.parse_args()
    print("load average before:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    compare(lambda host, tarball, pid: measure(host, tarball, args.runs, pid, not args.skip_ps),
            not args.no_dockerd)
    print("load average after:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
