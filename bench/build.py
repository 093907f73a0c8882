"""``docker build`` (classic builder) of a 20-step Dockerfile with a ~100 MB context: pydocker
against Docker's dockerd, both driven by the same docker CLI with DOCKER_BUILDKIT=0.

Measures a cold build (``--no-cache``: every step runs) and a full-cache rebuild (every step a
cache hit; the CLI still sends the whole context), median of ``--runs``, and the daemons' CPU
time per rebuild (their process trees, user + system: less sensitive to the machine's load
than the wall time), and prints the ratios (pydocker / dockerd; below 1.0 is faster) with the
load average before and after.
Both daemons run at once, at their default log level, and the runs alternate between them,
so a change in the machine's load weighs on both sides alike. RUN steps use ``--network none`` on both sides (dockerd runs
here without a bridge). Run it as root in private namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up; \\
        .venv/bin/python bench/build.py [--runs 5] [--mb 100]'

Without Debian's docker.io only pydocker's figures are printed.
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

DOCKERFILE = """\
FROM busybox
LABEL bench=build
ENV APP=/app MODE=bench
ARG VERSION=1
WORKDIR /app
COPY small/ /app/small/
RUN echo "$MODE $VERSION" > /app/mode
COPY big/ /app/big/
RUN ls /app/big | wc -l > /app/count
RUN mkdir -p /app/out && cp /app/small/* /app/out/
EXPOSE 8080
VOLUME /data
USER daemon
RUN id > /tmp/id
HEALTHCHECK --interval=30s CMD true
STOPSIGNAL SIGTERM
COPY small/s0.txt /app/first.txt
RUN cat /app/first.txt /app/mode
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/mode"]
"""


def make_context(directory, megabytes):
    os.makedirs(os.path.join(directory, "small"), exist_ok=True)
    os.makedirs(os.path.join(directory, "big"), exist_ok=True)
    with open(os.path.join(directory, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    for n in range(50):
        with open(os.path.join(directory, "small", f"s{n}.txt"), "w") as f:
            f.write(f"small file {n}\n" * 20)
    chunk = 4 << 20
    for n in range(max(1, (megabytes << 20) // chunk)):
        with open(os.path.join(directory, "big", f"b{n}.bin"), "wb") as f:
            f.write(os.urandom(chunk))


def docker(host, *args):
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    subprocess.run(["docker", "-H", host, *args], check=True, capture_output=True, env=env)


def timed(host, *args):
    started = time.monotonic()
    docker(host, *args)
    return time.monotonic() - started


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def tree_cpu(root):
    """User + system CPU seconds of process ``root`` and its descendants (dockerd's
    containerd too), with their reaped children's."""
    stats = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(pid)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, (ppid, _) in stats.items() if ppid in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(stats[pid][1] for pid in tree if pid in stats) / os.sysconf("SC_CLK_TCK")


def measure(daemons, context, runs):
    """{measure: {daemon: median seconds}}, the runs alternating between the daemons; and
    for the rebuild, when no container runs, the daemons' CPU seconds per run (the mean)."""
    build = ("build", "--network", "none", "-t", "bench:1", context)
    for daemon in daemons.values():
        timed(daemon.host, *build)  # warm the page cache and the daemon
    figures = {}
    for label, args in (("cold build", (build[0], "--no-cache", *build[1:])), ("full-cache rebuild", build)):
        times = {name: [] for name in daemons}
        cpu = dict.fromkeys(daemons, 0.0)
        for _ in range(runs):
            for name, daemon in daemons.items():
                before = tree_cpu(daemon.proc.pid)
                times[name].append(timed(daemon.host, *args))
                cpu[name] += tree_cpu(daemon.proc.pid) - before
        figures[label + " (s)"] = {name: statistics.median(values) for name, values in times.items()}
        if "--no-cache" not in args:  # containers (dockerd's under shims outside its tree) would skew it
            figures[label + ", daemon CPU (s)"] = {name: total / runs for name, total in cpu.items()}
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--dir", default="/var/tmp")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-build-", dir=options.dir) as base:
        context = os.path.join(base, "context")
        make_context(context, options.mb)
        tarball = make_rootfs_tar(os.path.join(base, "busybox.tar"))
        daemons = {"pydocker": DaemonProcess(os.path.join(base, "pydocker"), debug=False).start()}
        try:
            if dockerd_mod.available() is None:
                daemons["dockerd"] = dockerd_mod.Dockerd(os.path.join(base, "dockerd")).start()
            for daemon in daemons.values():
                docker(daemon.host, "import", tarball, "busybox:latest")
            before = load_average()
            figures = measure(daemons, context, options.runs)
            after = load_average()
        finally:
            for daemon in daemons.values():
                daemon.stop()
    print(f"load average {before} before, {after} after; median of {options.runs} alternating runs")
    print(f"{'measure':36} {'pydocker':>10} {'dockerd':>10} {'ratio':>7}")
    for label, values in figures.items():
        theirs = values.get("dockerd", float("nan"))
        print(f"{label:36} {values['pydocker']:10.3f} {theirs:10.3f} {values['pydocker'] / theirs:7.2f}")


if __name__ == "__main__":
    main()
