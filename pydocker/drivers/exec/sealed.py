"""A sealed in-memory copy of a host executable, to run helpers that enter
containers from (the defence runc and LXC use against CVE-2019-5736).

A process's ``/proc/<pid>/exe`` is a handle on the file it runs, usable from
inside a container whatever the mount namespace. Run from the copy, the
helper and everything it forks (and a container command that is
``/proc/self/exe`` or a ``#!/proc/self/exe`` script) execute a memfd whose
content can never change: a write through any such handle fails, and the
host's file is never reachable. One copy per daemon start, made by the daemon.

Where the kernel refuses executable memfds (``vm.memfd_noexec=2``, Linux 6.3+)
the copy is, as runc's fallback, an unlinked file (``O_TMPFILE``) next to the
link, of which only a read-only ``O_PATH`` handle is kept: no writable handle
exists, a write through the exe of a process running it fails (ETXTBSY), and
the host's file is still never reachable; only the seals are missing (the
daemon itself, or root on the host, could still write it while nothing runs it).
"""

import errno
import fcntl
import os

from pydocker.errdefs import PrerequisiteMissing

_SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
_MFD_EXEC = 0x10        # Linux 6.3+: executable memfd even where vm.memfd_noexec makes it the exception
NOEXEC_SYSCTL = "/proc/sys/vm/memfd_noexec"


class SealedCopy:
    """``path`` executes the copy: a symbolic link at ``link`` to this process's
    fd (so only while it is open), which also names the processes that run it
    (the kernel takes their name from the path executed). ``kind`` says which
    copy it is: "memfd", or "tmpfile" where executable memfds are refused."""

    def __init__(self, source, link):
        name = os.path.basename(link)
        self.fd, self.kind = _writable_copy(name, os.path.dirname(link))
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
            self._seal()
            self._target = "/proc/%d/fd/%d" % (os.getpid(), self.fd)
            os.symlink(self._target, link + ".tmp")
            os.replace(link + ".tmp", link)
        except BaseException:
            os.close(self.fd)
            raise
        self.path = link

    def _seal(self):
        if self.kind == "memfd":
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, _SEALS)
            return
        # No writable handle may stay open: the file could not be executed (ETXTBSY).
        read_only = os.open("/proc/self/fd/%d" % self.fd, os.O_PATH | os.O_CLOEXEC)
        os.close(self.fd)
        self.fd = read_only

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


def _writable_copy(name, directory):
    """(fd, kind) of an empty file to copy into: an executable memfd, else (executable
    memfds refused) an unlinked file in ``directory``, which must allow executing."""
    flags = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
    try:
        return os.memfd_create(name, flags | _MFD_EXEC), "memfd"
    except OSError as e:
        if e.errno != errno.EINVAL:
            refused = e         # EACCES: vm.memfd_noexec=2
        else:                   # before Linux 6.3, which knows no MFD_EXEC: executable anyway
            return os.memfd_create(name, flags), "memfd"
    try:
        fd = os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_EXCL | os.O_CLOEXEC, 0o700)
    except OSError as e:
        raise _no_copy(refused, "%s cannot hold an unlinked file (%s)" % (directory, e)) from e
    if not os.access("/proc/self/fd/%d" % fd, os.X_OK):     # mounted noexec
        os.close(fd)
        raise _no_copy(refused, "%s is on a filesystem mounted noexec" % directory)
    return fd, "tmpfile"


def _no_copy(refused, why_not_a_file):
    try:
        with open(NOEXEC_SYSCTL) as f:
            setting = "vm.memfd_noexec=%s" % f.read().strip()
    except OSError:
        setting = "vm.memfd_noexec"
    return PrerequisiteMissing(
        "cannot make the sealed copy of a helper executable that starts containers: the kernel "
        "refuses an executable memfd (%s; %s) and %s. Set the sysctl vm.memfd_noexec to 0 or 1 "
        "for the daemon's pid namespace, or put the daemon's data root on a filesystem that "
        "allows executing" % (setting, refused.strerror, why_not_a_file))
