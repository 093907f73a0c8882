"""Thin-provisioning device-mapper through ``dmsetup``: the few commands devicemapper needs.

Table formats follow the kernel's Documentation/admin-guide/device-mapper/
thin-provisioning.rst: a pool is ``thin-pool META DATA BLOCK_SECTORS
LOW_WATER``, a thin device is ``thin POOL DEV_ID``; devices are created,
snapshotted and deleted by messages to the pool.
"""

import os
import subprocess

from pydocker.errdefs import Conflict, PrerequisiteMissing, SystemError_

SECTOR = 512


def kernel_has_device_mapper():
    if os.path.exists("/sys/module/dm_mod") or os.path.exists("/dev/mapper/control"):
        return True
    with open("/proc/devices") as f:
        return any(line.split()[-1:] == ["device-mapper"] for line in f)


def udev_running():
    """True when udevd listens (its control socket exists), so dmsetup can wait for its device nodes."""
    return os.path.exists("/run/udev/control")


class DMSetup:
    """Runs dmsetup; ``udev_sync=False`` tells it not to wait for udev (no udevd on the host)."""

    def __init__(self, udev_sync):
        self._base = ["dmsetup"] if udev_sync else ["dmsetup", "--noudevsync"]

    def run(self, *args, input=None):
        try:
            result = subprocess.run([*self._base, *args], capture_output=True, text=True, input=input)
        except FileNotFoundError:
            raise PrerequisiteMissing("devicemapper: dmsetup is not installed") from None
        if result.returncode != 0:
            message = result.stderr.strip() or result.stdout.strip()
            if "File exists" in message or "already exists" in message:
                raise Conflict(f"dmsetup {' '.join(args)}: {message}")
            raise SystemError_(f"dmsetup {' '.join(args)}: {message}")
        return result.stdout

    def exists(self, name):
        return os.path.exists(f"/dev/mapper/{name}")

    def create(self, name, table):
        self.run("create", name, "--table", table)

    def remove(self, name):
        if self.exists(name):
            self.run("remove", "--retry", name)

    def message(self, pool, text):
        self.run("message", pool, "0", text)

    def suspend(self, name):
        self.run("suspend", name)

    def resume(self, name):
        self.run("resume", name)

    def status(self, name):
        return self.run("status", name).split()

    def version(self):
        return self.run("version").strip().replace("\n", "; ")

    # thin pools

    def create_pool(self, pool, metadata_dev, data_dev, block_sectors, zero_blocks=True):
        data_sectors = _device_size(data_dev) // SECTOR
        features = [] if zero_blocks else ["1", "skip_block_zeroing"]
        table = " ".join(["0", str(data_sectors), "thin-pool", metadata_dev, data_dev, str(block_sectors),
                          "32768", *(features or ["0"])])
        self.create(pool, table)

    def pool_usage(self, pool):
        """{used/total data blocks, used/total metadata blocks} from the pool's status line."""
        fields = self.status(pool)
        # 0 SECTORS thin-pool TRANSACTION META_USED/META_TOTAL DATA_USED/DATA_TOTAL ...
        meta_used, meta_total = (int(x) for x in fields[4].split("/"))
        data_used, data_total = (int(x) for x in fields[5].split("/"))
        return {"transaction": int(fields[3]), "meta_used": meta_used, "meta_total": meta_total,
                "data_used": data_used, "data_total": data_total}

    def activate_thin(self, name, pool, device_id, size):
        if not self.exists(name):
            self.create(name, f"0 {size // SECTOR} thin /dev/mapper/{pool} {device_id}")


def _device_size(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def attach_loop(path):
    """Attach a file to a free loop device; returns the device path."""
    result = subprocess.run(["losetup", "--find", "--show", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemError_(f"devicemapper: cannot attach {path} to a loop device: {result.stderr.strip()}")
    return result.stdout.strip()


def find_loop(path):
    """The loop device already backed by ``path``, or None."""
    result = subprocess.run(["losetup", "-j", path, "-O", "NAME", "-n"], capture_output=True, text=True)
    name = result.stdout.strip().split("\n")[0]
    return name or None
