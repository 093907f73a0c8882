"""Layer extraction throughput: pydocker.archive.apply_layer against GNU ``tar -x``.

Builds one layer tar (a busybox rootfs plus many small files and a few large
ones), extracts it several times with each tool into fresh directories on the
same filesystem, and prints the best times and the throughput ratio
(``tar`` time / ``apply_layer`` time; 1.0 means as fast as tar).

    .venv/bin/python bench/extract_bench.py [--dir /var/tmp] [--small 4000] [--large 16] [--runs 5]
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import time

from pydocker.archive import apply_layer
from pydocker.testing.images import make_rootfs


def build_layer(workdir, small, large):
    src = os.path.join(workdir, "src")
    make_rootfs(src)
    for i in range(small):
        sub = os.path.join(src, "usr", "share", f"d{i % 50}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i}"), "wb") as f:
            f.write(os.urandom(512 + (i * 37) % 16384))
    for i in range(large):
        with open(os.path.join(src, f"blob{i}"), "wb") as f:
            f.write(os.urandom(8 << 20))
    layer = os.path.join(workdir, "layer.tar")
    subprocess.run(["tar", "-C", src, "-cf", layer, "."], check=True)
    shutil.rmtree(src)
    return layer


def best_times(runs, workdir, extractors):
    """Best wall time of each extractor, run round-robin so a noisy neighbour hurts all alike."""
    best = {name: None for name in extractors}
    for i in range(runs):
        for name, extract in extractors.items():
            dest = os.path.join(workdir, f"out-{name}-{i}")
            os.mkdir(dest)
            subprocess.run(["sync"], check=True)
            start = time.perf_counter()
            extract(dest)
            elapsed = time.perf_counter() - start
            shutil.rmtree(dest)
            best[name] = elapsed if best[name] is None else min(best[name], elapsed)
    return best


def apply_with_pydocker(layer):
    def extract(dest):
        with open(layer, "rb") as f:
            apply_layer(dest, f)
    return extract


def apply_with_tar(layer):
    def extract(dest):
        subprocess.run(["tar", "-C", dest, "-xpf", layer, "--xattrs", "--numeric-owner"], check=True)
    return extract


def apply_piped_with_pydocker(layer):
    """The same layer arriving through a pipe (as from a registry download)."""
    def extract(dest):
        cat = subprocess.Popen(["cat", layer], stdout=subprocess.PIPE)
        apply_layer(dest, cat.stdout)
        cat.stdout.close()
        cat.wait()
    return extract


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--small", type=int, default=4000)
    parser.add_argument("--large", type=int, default=16)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="extract-bench-", dir=args.dir)
    try:
        layer = build_layer(workdir, args.small, args.large)
        size_mb = os.path.getsize(layer) / 1e6
        best = best_times(args.runs, workdir, {"tar": apply_with_tar(layer), "file": apply_with_pydocker(layer),
                                               "pipe": apply_piped_with_pydocker(layer)})
        tar_s = best["tar"]
        print(f"layer: {size_mb:.1f} MB, {args.small} small files, {args.large} x 8 MB, in {args.dir}")
        print(f"tar -x:               {tar_s * 1000:8.1f} ms  {size_mb / tar_s:8.1f} MB/s")
        for name in ("file", "pipe"):
            ours = best[name]
            print(f"apply_layer ({name}):   {ours * 1000:8.1f} ms  {size_mb / ours:8.1f} MB/s  "
                  f"ratio {tar_s / ours:.2f}x")
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
