"""``docker build`` (classic builder) of a 20-step Dockerfile with a ~100 MB context: pydocker
against Docker's dockerd, both driven by the same docker CLI with DOCKER_BUILDKIT=0.

Measures a cold build (``--no-cache``: every step runs) and a full-cache rebuild (every step a
cache hit; the CLI still sends the whole context), median of ``--runs``, and prints the
ratios (pydocker / dockerd; below 1.0 is faster). RUN steps use ``--network none`` on both
sides (dockerd runs here without a bridge). Run it as root in private namespaces:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up; \\
        .venv/bin/python bench/build.py [--runs 3] [--mb 100]'
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sidebyside import compare  # noqa: E402

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


def measure_with(context, runs):
    def measure(host, tarball, _pid):
        docker(host, "import", tarball, "busybox:latest")
        build = ("build", "--network", "none", "-t", "bench:1", context)
        timed(host, *build)  # warm the page cache and the daemon
        cold = [timed(host, build[0], "--no-cache", *build[1:]) for _ in range(runs)]
        warm = [timed(host, *build) for _ in range(runs)]
        return {"cold build (s)": statistics.median(cold), "full-cache rebuild (s)": statistics.median(warm)}
    return measure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--dir", default="/var/tmp")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-build-", dir=options.dir) as context:
        make_context(context, options.mb)
        compare(measure_with(context, options.runs))


if __name__ == "__main__":
    main()
