"""``docker load`` of a ~200 MB multi-layer image: pydocker against Docker's dockerd.

Builds one docker-save tarball (a busybox base layer and four layers of small and large
files, ~200 MB in all), then loads it into a fresh pydocker daemon and a fresh dockerd
(both on overlay2, both driven by the same docker CLI), removing the image between runs,
round-robin so a noisy neighbour hurts both alike.  Prints the best and median times and
the ratio (pydocker / dockerd; 1.0 means as fast as dockerd).  Run it as root in private
namespaces, as the tests run:

    unshare --mount --net --fork sh -c 'mount --make-rprivate /; ip link set lo up; \\
        .venv/bin/python bench/load_bench.py [--dir /var/tmp] [--runs 5] [--mb 200]'
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time

from pydocker.testing import dockerd as docker_daemon
from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.images import make_rootfs_tar


def layer_tar(path, index, megabytes):
    """A layer of many small files and a few large ones (incompressible, as real binaries are)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo(f"data{index}")
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(directory)
        written, n = 0, 0
        while written < megabytes << 20:
            size = (4 << 20) if n % 10 == 0 else 2048 + (n * 7919) % 65536
            info = tarfile.TarInfo(f"data{index}/f{n}")
            info.size = size
            tar.addfile(info, io.BytesIO(os.urandom(size)))
            written += size
            n += 1


def build_tarball(workdir, total_mb, layers=4):
    paths = [make_rootfs_tar(os.path.join(workdir, "layer0.tar"))]
    for i in range(1, layers + 1):
        paths.append(os.path.join(workdir, f"layer{i}.tar"))
        layer_tar(paths[-1], i, total_mb // layers)
    diff_ids = []
    for path in paths:
        with open(path, "rb") as f:
            diff_ids.append("sha256:" + hashlib.file_digest(f, "sha256").hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": f"layer {i}"} for i in range(len(paths))]}).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    tarball = os.path.join(workdir, "image.tar")
    with tarfile.open(tarball, "w") as tar:
        for path, diff_id in zip(paths, diff_ids):
            tar.add(path, arcname=f"blobs/sha256/{diff_id[7:]}")
        for name, data in ((f"blobs/sha256/{config_hex}", config),
                           ("manifest.json", json.dumps([{"Config": f"blobs/sha256/{config_hex}",
                                                          "RepoTags": ["bench:load"],
                                                          "Layers": [f"blobs/sha256/{d[7:]}" for d in diff_ids]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    for path in paths:
        os.unlink(path)
    return tarball


def docker(host, *args):
    proc = subprocess.run(["docker", "-H", host, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {proc.stderr}")
    return proc.stdout


def timed_load(host, tarball):
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    docker(host, "load", "-q", "-i", tarball)
    elapsed = time.perf_counter() - start
    docker(host, "rmi", "bench:load")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="load-bench-", dir=args.dir)
    daemons = []
    try:
        tarball = build_tarball(workdir, args.mb)
        print(f"tarball: {os.path.getsize(tarball) / 1e6:.0f} MB, 5 layers", flush=True)
        ours = DaemonProcess(os.path.join(workdir, "pydocker"), ["-s", "overlay2"], debug=False).start()
        daemons.append(ours)
        hosts = {"pydocker": ours.host}
        missing = docker_daemon.available()
        if missing is None:
            # A short base: containerd's socket paths must fit in 108 bytes.
            theirs = docker_daemon.Dockerd(tempfile.mkdtemp(prefix="dockerd-", dir="/tmp")).start()
            daemons.append(theirs)
            hosts["dockerd"] = theirs.host
        else:
            print(f"{missing}: pydocker alone", flush=True)
        times = {name: [] for name in hosts}
        for _ in range(args.runs):
            for name, host in hosts.items():
                times[name].append(timed_load(host, tarball))
        for name, values in times.items():
            print(f"{name:9s} best {min(values):6.2f} s   median {statistics.median(values):6.2f} s   "
                  f"({args.mb / min(values):.0f} MB/s)")
        if "dockerd" in times:
            print(f"ratio pydocker/dockerd (best): {min(times['pydocker']) / min(times['dockerd']):.2f}")
    finally:
        for daemon in daemons:
            daemon.stop()
            shutil.rmtree(daemon.base, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
