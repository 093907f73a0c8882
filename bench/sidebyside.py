"""Run one measurement against pydocker and then against Docker's dockerd (where Debian's
docker.io is installed), each on a private root with a busybox image, and print the ratios."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pydocker.testing import dockerd as dockerd_mod  # noqa: E402
from pydocker.testing.daemon import DaemonProcess  # noqa: E402
from pydocker.testing.images import make_rootfs_tar  # noqa: E402


def process_tree(pid):
    """``pid`` and every process below it."""
    found, frontier = set(), [pid]
    while frontier:
        current = frontier.pop()
        if current in found:
            continue
        found.add(current)
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(current)], capture_output=True, text=True).stdout
        frontier.extend(int(p) for p in out.split())
    return found


def compare(measure, with_dockerd=True, networked=False, digits=3):
    """``measure(host, busybox_tarball, daemon_pid) -> {name: figure}`` for both daemons."""
    with tempfile.TemporaryDirectory(prefix="bench-") as base:
        tarball = make_rootfs_tar(os.path.join(base, "busybox.tar"))
        ours = DaemonProcess(os.path.join(base, "pydocker"), debug=False).start()
        try:
            mine = measure(ours.host, tarball, ours.proc.pid)
        finally:
            ours.stop()
        theirs = None
        if with_dockerd and dockerd_mod.available() is None:
            d = dockerd_mod.Dockerd(os.path.join(base, "dockerd"), networked=networked).start()
            try:
                theirs = measure(d.host, tarball, d.proc.pid)
            finally:
                d.stop()
    width = max(len(key) for key in mine) + 2
    print(f"{'measure':{width}} {'pydocker':>10} {'dockerd':>10} {'ratio':>7}")
    for key, value in mine.items():
        other = theirs[key] if theirs else float("nan")
        print(f"{key:{width}} {value:10.{digits}f} {other:10.{digits}f} {value / other:7.2f}")
