"""A sealed in-memory copy of a host executable, to run helpers that enter
containers from (the defence runc and LXC use against CVE-2019-5736).

A process's ``/proc/<pid>/exe`` is a handle on the file it runs, usable from
inside a container whatever the mount namespace. Run from the copy, the
helper and everything it forks (and a container command that is
``/proc/self/exe`` or a ``#!/proc/self/exe`` script) execute a memfd whose
content can never change: a write through any such handle fails, and the
host's file is never reachable. One copy per daemon start, made by the daemon.
"""

import fcntl
import os

_SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
_MFD_EXEC = 0x10        # Linux 6.3+: executable memfd even where vm.memfd_noexec makes it the exception


class SealedCopy:
    """``path`` executes the copy: a symbolic link at ``link`` to this process's
    fd (so only while it is open), which also names the processes that run it
    (the kernel takes their name from the path executed)."""

    def __init__(self, source, link):
        name = os.path.basename(link)
        self.fd = _memfd(name)
        try:
            with open(source, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                copied = 0
                while copied < size:
                    sent = os.sendfile(self.fd, f.fileno(), None, size - copied)
                    if sent == 0:
                        raise OSError("%s shrank while it was copied" % source)
                    copied += sent
            os.fchmod(self.fd, 0o555)
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, _SEALS)
            self._target = "/proc/%d/fd/%d" % (os.getpid(), self.fd)
            os.symlink(self._target, link + ".tmp")
            os.replace(link + ".tmp", link)
        except BaseException:
            os.close(self.fd)
            raise
        self.path = link

    def close(self):
        """Close the copy; its link goes too, unless a newer copy has taken it."""
        if self.fd is None:
            return
        os.close(self.fd)
        self.fd = None
        try:
            if os.readlink(self.path) == self._target:
                os.unlink(self.path)
        except FileNotFoundError:
            pass


def _memfd(name):
    flags = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
    try:
        return os.memfd_create(name, flags | _MFD_EXEC)
    except OSError:     # EINVAL before Linux 6.3, which knows no MFD_EXEC
        return os.memfd_create(name, flags)
