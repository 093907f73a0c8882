"""Build small test images from the host's statically linked busybox.

No test pulls from a registry: images are made at test time from Debian's
``busybox-static`` package, as a root filesystem directory or a tarball that
``pydocker import`` / ``docker import`` accept.
"""

import io
import os
import shutil
import subprocess
import tarfile

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n"


def find_busybox():
    """Return the path of a statically linked busybox, or None."""
    for path in BUSYBOX_CANDIDATES:
        if os.path.exists(path) and _is_static(path):
            return path
    return None


def _is_static(path):
    with open(path, "rb") as f:
        head = f.read(4096)
    # A dynamic ELF carries an interpreter path; a static one does not.
    return head.startswith(b"\x7fELF") and b"/lib64/ld-linux" not in head and b"/lib/ld-" not in head


def applets(busybox):
    """The applet names this busybox provides."""
    out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout
    return [name for name in out.split() if name and name != "busybox"]


def make_rootfs(dest, busybox=None):
    """Write a minimal busybox root filesystem into the directory ``dest``."""
    busybox = busybox or find_busybox()
    if busybox is None:
        raise RuntimeError("no static busybox found; install Debian's busybox-static")
    os.chmod(dest, 0o755)  # a mkdtemp root is 0700: other users could not chdir to /
    for d in ("bin", "etc", "root", "tmp", "var", "home", "proc", "sys", "dev"):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    shutil.copy2(busybox, os.path.join(dest, "bin", "busybox"))
    for name in applets(busybox):
        link = os.path.join(dest, "bin", name)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(dest, "etc", "passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(dest, "etc", "group"), "w") as f:
        f.write(GROUP)
    return dest


def make_rootfs_tar(path, busybox=None):
    """Write a busybox rootfs as an uncompressed tarball at ``path``."""
    busybox = busybox or find_busybox()
    if busybox is None:
        raise RuntimeError("no static busybox found; install Debian's busybox-static")
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for d, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777),
                        ("var", 0o755), ("home", 0o755), ("proc", 0o755), ("sys", 0o755),
                        ("dev", 0o755)):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for name in applets(busybox):
            info = tarfile.TarInfo("bin/" + name)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            info.mode = 0o777
            tar.addfile(info)
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return path
