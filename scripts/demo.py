"""The main job: a daemon on a temporary root, a busybox image made from the host's
busybox-static, a container run from it, its output shown; then everything is removed."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pydocker.testing.daemon import DaemonProcess  # noqa: E402
from pydocker.testing.images import make_rootfs_tar  # noqa: E402


def client(daemon, *args, **kwargs):
    command = [sys.executable, "-m", "pydocker", "-H", daemon.host, *args]
    print("$ pydocker " + " ".join(args), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def main():
    with tempfile.TemporaryDirectory(prefix="pydocker-demo-") as base:
        tarball = make_rootfs_tar(os.path.join(base, "busybox.tar"))
        daemon = DaemonProcess(os.path.join(base, "daemon")).start()
        try:
            client(daemon, "version")
            client(daemon, "import", tarball, "busybox:latest")
            client(daemon, "images")
            client(daemon, "run", "--rm", "--name", "demo", "busybox", "sh", "-c",
                   "echo Hello from a pydocker container; echo hostname: $(hostname); "
                   "echo pid 1: $(cat /proc/1/comm); ls /")
            client(daemon, "run", "-d", "--name", "sleeper", "busybox", "sleep", "30")
            client(daemon, "ps")
            client(daemon, "stop", "-t", "1", "sleeper")
            client(daemon, "ps", "-a")
            client(daemon, "rm", "sleeper")
        finally:
            status = daemon.stop()
            print(f"daemon stopped (exit status {status})")
            if status != 0:
                print(daemon.log(), file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
