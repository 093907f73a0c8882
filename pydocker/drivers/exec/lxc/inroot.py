"""Checks made from the host against a container's filesystem before LXC starts it.

LXC's init (``init.lxc``) cannot tell us *why* a command failed to start, and
cannot resolve user names or create a missing working directory; so the
driver does those here, reading the rootfs (and the bind mounts over it) with
every path resolved as the container will see it: symlinks are followed
inside the container's root, never out of it.
"""

import os
import stat

from pydocker.drivers.exec.errors import ContainerStartError
from pydocker.drivers.exec import users

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_SYMLINKS = 40
KERNEL_FILESYSTEMS = ("/proc/", "/sys/", "/dev/")


class ContainerView:
    """The rootfs plus the binds mounted over it, as seen from the host."""

    def __init__(self, rootfs, mounts=()):
        self._rootfs = rootfs
        # Longest destination first: the innermost mount wins.
        self._binds = sorted(((m.destination.rstrip("/") or "/", m.source) for m in mounts
                              if m.type in ("bind", "volume")),
                             key=lambda item: len(item[0]), reverse=True)

    def _host_base(self, path):
        """(host directory, remaining path) for an absolute, resolved container path."""
        for destination, source in self._binds:
            if path == destination or path.startswith(destination + "/"):
                return source, path[len(destination):]
        return self._rootfs, path

    def host_path(self, path):
        """The host path of container ``path``, symlinks resolved inside the container."""
        base, rest = self._host_base(self.resolve(path))
        return base + rest

    def resolve(self, path):
        """Container ``path`` with every symlink resolved inside the container."""
        resolved = "/"
        pending = [p for p in path.split("/") if p]
        links = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                resolved = os.path.dirname(resolved)
                continue
            candidate = os.path.join(resolved, part)
            base, rest = self._host_base(candidate)
            on_host = base + rest
            if os.path.islink(on_host):
                links += 1
                if links > MAX_SYMLINKS:
                    raise OSError("too many levels of symbolic links: %s" % path)
                target = os.readlink(on_host)
                if target.startswith("/"):
                    resolved = "/"
                pending = [p for p in target.split("/") if p] + pending
                continue
            resolved = candidate
        return resolved

    def make_target(self, path, directory):
        """Create a mount point (a directory, or an empty file) where the
        container will see ``path``; returns the resolved container path, so
        LXC mounts there and never walks a symlink out of the rootfs."""
        resolved = self.resolve(path)
        parent = os.path.dirname(resolved)
        missing = []
        while parent != "/" and not os.path.exists(self.host_path(parent)):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for item in reversed(missing):
            os.mkdir(self.host_path(item), 0o755)
        target = self.host_path(resolved)
        if not os.path.lexists(target):
            if directory:
                os.mkdir(target, 0o755)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o644))
        return resolved

    def user(self, user, group_add=()):
        """(uid, gid, groups, home) from the container's /etc/passwd and /etc/group."""
        try:
            return users.resolve(user, group_add, self.host_path("/etc/passwd"),
                                 self.host_path("/etc/group"))
        except (users.UserError, ValueError) as e:
            raise ContainerStartError(str(e)) from None

    def look_path(self, name, env):
        """Find the command like the native driver's init does, with Docker's exit codes."""
        if "/" in name:
            self._check_executable(name, name)
            return name
        path = next((item[5:] for item in env if item.startswith("PATH=")), DEFAULT_PATH)
        for directory in path.split(":"):
            candidate = os.path.join(directory or "/", name)
            try:
                st = os.stat(self.host_path(candidate))
            except OSError:
                continue
            if st.st_mode & 0o111 and not stat.S_ISDIR(st.st_mode):
                return candidate
        raise ContainerStartError('exec: "%s": executable file not found in $PATH' % name, 127)

    def _check_executable(self, name, path):
        try:
            st = os.stat(self.host_path(path))
        except OSError as e:
            raise ContainerStartError('exec: "%s": stat %s: %s'
                                      % (name, path, (e.strerror or str(e)).lower()), 127) from None
        if not st.st_mode & 0o111 or stat.S_ISDIR(st.st_mode):
            raise ContainerStartError('exec: "%s": permission denied' % name, 126)

    def make_cwd(self, cwd, uid, gid):
        """Docker creates a missing working directory, owned by the user."""
        if not os.path.isabs(cwd):
            raise ContainerStartError("the working directory '%s' is invalid, it needs to be an "
                                      "absolute path" % cwd)
        missing = []
        path = os.path.normpath(cwd)
        while path != "/" and not os.path.lexists(self.host_path(path)):
            missing.append(path)
            path = os.path.dirname(path)
        if any(path.startswith(KERNEL_FILESYSTEMS) for path in missing):
            # LXC mounts its own there: a directory made in the image would be hidden.
            raise ContainerStartError("chdir to cwd (%r) set in config failed: no such file or "
                                      "directory" % cwd)
        for path in reversed(missing):
            host = self.host_path(path)
            os.mkdir(host, 0o755)
            os.chown(host, uid, gid)
        if not os.path.isdir(self.host_path(cwd)):
            raise ContainerStartError("chdir to cwd (%r) set in config failed: not a directory"
                                      % cwd)
