"""Pull and push of a multi-layer image (~200 MB by default) against a local registry.

A registry (Debian's docker-registry) on 127.0.0.1 gets an image of ``--layers`` layers of
``--layer-mb`` MB each (half random, half compressible text); then, for each engine, a fresh
daemon pulls it (timed, ``docker pull`` as the client for both engines) and pushes it to a
second, empty registry (timed: a real upload, no cross-repository mount). With ``--dockerd``
Docker's own daemon runs the same steps when it is installed (the engines take turns, run by
run), and the ratios of the medians are printed.

Run it as root in private namespaces (the daemons mount layers):

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up;
        .venv/bin/python bench/pull_push.py [--layers 5] [--layer-mb 40] [--runs 3] [--dockerd]'
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pydocker.testing.daemon import DaemonProcess  # noqa: E402
from pydocker.testing.dockerd import Dockerd, available as dockerd_missing  # noqa: E402
from pydocker.testing.registry import RegistryProcess, layer_tar, push_test_image  # noqa: E402

TEXT = b"the quick brown fox jumps over the lazy dog 0123456789\n"


def make_layers(count, megabytes):
    half = megabytes << 19
    return [layer_tar({f"layer{i}/random.bin": os.urandom(half),
                       f"layer{i}/text.txt": (TEXT * (half // len(TEXT) + 1))[:half]})
            for i in range(count)]


def timed(args):
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - started


def run_once(engine, daemon, source, target_host, run, env):
    """One pull and one push on a fresh ``daemon``: (pull s, push s)."""
    try:
        cli = ["docker", "-H", daemon.host]
        pull = timed(cli + ["pull", source])
        copy = f"{target_host}/bench/{engine}-{run}:1"  # a repository of its own: a real upload
        subprocess.run(cli + ["tag", source, copy], check=True, env=env)
        return pull, timed(cli + ["push", copy])
    finally:
        daemon.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--layer-mb", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dockerd", action="store_true", help="also time Docker's dockerd")
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pull-push-bench-", dir=args.dir)
    registries = []
    try:
        for name in ("source", "target"):
            os.makedirs(os.path.join(work, name))
            registries.append(RegistryProcess(os.path.join(work, name)).start())
        source_registry, target_registry = registries
        layers = make_layers(args.layers, args.layer_mb)
        size = sum(len(layer) for layer in layers)
        source = f"{source_registry.host}/bench/app:1"
        started = time.perf_counter()
        push_test_image(source, layers)
        seeding = time.perf_counter() - started
        print(f"image: {args.layers} layers, {size / 1e6:.0f} MB uncompressed; "
              f"seeded with the registry library in {seeding:.2f}s")
        env = dict(os.environ, DOCKER_CONFIG=os.path.join(work, "cli"))
        load = os.getloadavg()
        daemons = {"pydocker": lambda n: DaemonProcess(os.path.join(work, f"pydocker{n}"),
                                                       debug=False).start()}
        if args.dockerd and dockerd_missing() is None:
            daemons["dockerd"] = lambda n: Dockerd(os.path.join(work, f"dockerd{n}")).start()
        times = {engine: [] for engine in daemons}
        for run in range(args.runs):  # the engines take turns, so load changes hit both alike
            for engine, start in daemons.items():
                times[engine].append(run_once(engine, start(run), source, target_registry.host,
                                              run, env))
        results = {}
        for engine, runs in times.items():
            pulls, pushes = [pull for pull, _ in runs], [push for _, push in runs]
            results[engine] = (statistics.median(pulls), statistics.median(pushes), pulls, pushes)
        print(f"load average before the runs: {' '.join(f'{n:.2f}' for n in load)}")
        print(f"{'engine':10} {'pull s':>8} {'MB/s':>7} {'push s':>8} {'MB/s':>7}  "
              f"(median of {args.runs}; each run's pull, push)")
        for engine, (pull, push, pulls, pushes) in results.items():
            print(f"{engine:10} {pull:8.2f} {size / 1e6 / pull:7.1f} {push:8.2f} "
                  f"{size / 1e6 / push:7.1f}  {' '.join(f'{t:.2f}' for t in pulls)}; "
                  f"{' '.join(f'{t:.2f}' for t in pushes)}")
        if "dockerd" in results:
            (pp, pu, *_), (dp, du, *_) = results["pydocker"], results["dockerd"]
            print(f"ratio pydocker/dockerd: pull {pp / dp:.2f}x, push {pu / du:.2f}x "
                  "(time; lower is better)")
    finally:
        for registry in registries:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
