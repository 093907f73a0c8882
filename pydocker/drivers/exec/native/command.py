"""What the container process does to run its command, after pivot_root: the user
resolved against the container's passwd/group, the working directory made and entered
(it must stay inside the container's root), the command found on the container's PATH
as Go's exec.LookPath finds it, and the exec. A failure the configuration caused is a
``StartError`` with Docker's exit code (126, 127, or 128 for the rest); the launcher
(``init``) reports it to the driver."""

import os

from pydocker.drivers.exec import users

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class StartError(Exception):
    """A failure caused by the container's configuration (reported as such)."""

    def __init__(self, message, exit_code=128):
        super().__init__(message)
        self.exit_code = exit_code


def switch_user(config, env):
    try:
        uid, gid, groups, home = users.resolve(config["user"], config["group_add"])
    except (users.UserError, ValueError) as e:
        raise StartError(str(e)) from None
    if not any(item.startswith("HOME=") for item in env):
        env.append("HOME=" + home)
    return uid, gid, groups


def prepare_cwd(cwd, uid, gid):
    """Docker creates a missing working directory, owned by the user."""
    if not os.path.isabs(cwd):
        raise StartError("the working directory '%s' is invalid, it needs to be an absolute path"
                         % cwd)
    missing = []
    path = cwd
    while path != "/" and not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    try:
        for path in reversed(missing):
            os.mkdir(path, 0o755)
            os.chown(path, uid, gid)
    except OSError as e:        # e.g. under /proc, whose directories are the kernel's
        raise StartError("chdir to cwd (%r) set in config failed: %s"
                         % (cwd, e.strerror.lower())) from None


def enter_cwd(cwd):
    """chdir to the working directory, which must be inside the container's root:
    a path through an fd of ours (``/proc/self/fd/N``) could lead out of it (the
    class of runc's CVE-2024-21626), and getcwd fails for a directory outside."""
    try:
        os.chdir(cwd)
    except OSError as e:
        raise StartError("chdir to cwd (%r) set in config failed: %s"
                         % (cwd, e.strerror.lower())) from None
    try:
        os.getcwd()
    except FileNotFoundError:
        raise StartError("the working directory (%r) is outside the container's root" % cwd,
                         ) from None


def look_path(name, env):
    """Find ``name`` like Go's exec.LookPath with the container's PATH."""
    if "/" in name:
        try:
            st = os.stat(name)
        except OSError as e:
            raise StartError('exec: "%s": stat %s: %s' % (name, name, e.strerror.lower()),
                             127) from None
        if not (st.st_mode & 0o111) or os.path.isdir(name):
            raise StartError('exec: "%s": permission denied' % name, 126)
        return name
    path = DEFAULT_PATH
    for item in env:
        if item.startswith("PATH="):
            path = item[5:]
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if st.st_mode & 0o111 and not os.path.isdir(candidate):
            return candidate
    raise StartError('exec: "%s": executable file not found in $PATH' % name, 127)


def execute(path, args, env):
    environment = dict(item.split("=", 1) for item in env if "=" in item)
    try:
        os.execve(path, args, environment)
    except OSError as e:
        code = 127 if e.errno == 2 else 126
        raise StartError('exec: "%s": %s' % (args[0], e.strerror.lower()), code) from None
