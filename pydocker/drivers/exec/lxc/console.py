"""The mode of a container's console and an exec's pty, as runc leaves them.

LXC 5.0 sets up the console as devpts makes a pty (0620, group tty), then, after the last
hook and just before it executes init, chmods the container's stdio to 0700
(``fix_stdio_permissions``; LXC 6 makes it 0600); ``lxc-attach`` does the same to an exec's
pty before it executes the command. runc only gives the stdio to the process's user. The
driver puts 0620 back once the command runs, before the start is reported: nothing of the
daemon runs between LXC's chmod and the exec, so the command's first instant may still see
0700.
"""

import os
import stat

PTY_SLAVE_MAJORS = range(136, 144)     # Unix98 pty slaves
LXC_STDIO_MODE = 0o700
DEVPTS_MODE = 0o620


def restore_mode(pid):
    """Give the pty that is ``pid``'s stdin devpts' mode again, if LXC's chmod is what it
    has (not a mode the command chose itself). Blocking: reads /proc."""
    path = "/proc/%d/fd/0" % pid
    try:
        st = os.stat(path)
        if (stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) in PTY_SLAVE_MAJORS
                and stat.S_IMODE(st.st_mode) == LXC_STDIO_MODE):
            os.chmod(path, DEVPTS_MODE)
    except (FileNotFoundError, ProcessLookupError):
        pass        # the container has exited already: the exit path reports it
