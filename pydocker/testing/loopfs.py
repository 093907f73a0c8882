"""A throw-away filesystem on a loop device (needs root), for running graph drivers that
want a particular backing filesystem (btrfs) on a host whose own filesystem is another."""

import contextlib
import os
import subprocess


@contextlib.contextmanager
def loop_filesystem(workdir, mkfs, size_mb=256):
    """A fresh filesystem made by ``mkfs`` (argv list) on a loop device, mounted; cleaned up after."""
    image = os.path.join(workdir, "fs.img")
    mountpoint = os.path.join(workdir, "mnt")
    os.makedirs(mountpoint, exist_ok=True)
    with open(image, "wb") as f:
        f.truncate(size_mb << 20)
    subprocess.run([*mkfs, image], check=True, capture_output=True)
    device = subprocess.run(["losetup", "--find", "--show", image], check=True, capture_output=True,
                            text=True).stdout.strip()
    try:
        subprocess.run(["mount", device, mountpoint], check=True, capture_output=True)
        try:
            yield mountpoint
        finally:
            subprocess.run(["umount", "-l", mountpoint], check=False)
    finally:
        subprocess.run(["losetup", "-d", device], check=False)
        os.unlink(image)
