"""The native driver's spawner, run once per daemon as
``python -S -E -m pydocker.drivers.exec.native.spawner`` (see ``spawner_client``).

One long-lived process in place of a Python interpreter per container: it has
already imported everything a launcher needs (``init``), so each start is a
fork, and as the child subreaper of every container it is the one process that
waits for their exits, where each container used to keep its own helper.

On its channel (fd 3, a ``SOCK_SEQPACKET`` socket to the daemon):

* daemon -> spawner: a message ``b"launch"`` carrying four fds (SCM_RIGHTS):
  the container's stdin, stdout and stderr and a control socket. The spawner
  forks a launcher with them on fds 0-3, which runs ``init.main`` and exits
  once the command runs; the container process is then reparented here.
* spawner -> daemon: ``{"exit": pid, "exit_code": N, "signal": S or None}``
  (``marshal``) for every process reaped other than a launcher: container
  init processes and exec'd processes, and orphans the daemon does not know.

End of file on the channel means the daemon is gone: the spawner exits, and
the daemon's next start kills leftover containers through their cgroups.

Nothing of the host may be reachable from a container through a launcher's
``/proc/<pid>`` (the class of runc's CVE-2019-5736): the spawner runs a sealed
copy of the interpreter (see ``spawner_client``), and makes itself non-dumpable
with its working directory at / before any launch. Both pass to every launcher
and container process it forks, until their exec: a non-dumpable process's
exe, cwd, root, fds and mappings are closed to anyone without CAP_SYS_PTRACE.
"""

import marshal
import os
import select
import sys

import _signal as signal
import _socket

from pydocker.drivers.exec.native import init, linux as L

CHANNEL_FD = 3
FDS_PER_LAUNCH = 4      # stdin, stdout, stderr, control
_INT_SIZE = 4


def exit_status(status):
    """Docker's view of a wait status: 128+N for death by signal N."""
    if os.WIFSIGNALED(status):
        return {"exit_code": 128 + os.WTERMSIG(status), "signal": os.WTERMSIG(status)}
    return {"exit_code": os.WEXITSTATUS(status), "signal": None}


def _receive(channel):
    """The next message and its fds; (None, []) once the daemon has closed the channel."""
    data, ancillary, flags, _ = channel.recvmsg(64, _socket.CMSG_SPACE(FDS_PER_LAUNCH * _INT_SIZE))
    fds = []
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % _INT_SIZE
            fds += [int.from_bytes(payload[i:i + _INT_SIZE], sys.byteorder)
                    for i in range(0, usable, _INT_SIZE)]
    if not data and not fds:
        return None, []
    if flags & _socket.MSG_CTRUNC or len(fds) != FDS_PER_LAUNCH:
        for fd in fds:
            os.close(fd)
        return data, []
    return data, fds


def _launch(fds, own_fds):
    """Fork a launcher with ``fds`` on 0-3 (the channel's 3 is replaced); returns its pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in own_fds:
                os.close(fd)
            for target, fd in enumerate(fds):
                os.dup2(fd, target, inheritable=target < CHANNEL_FD)
            for fd in fds:
                os.close(fd)
            code = init.main()
        except BaseException as e:
            os.write(2, ("launcher failed: %s: %s\n" % (type(e).__name__, e)).encode())
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    return pid


def _reap(channel, launchers):
    """Wait for every child that has ended; report all but our launchers."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in launchers:
            launchers.discard(pid)
            continue
        report = exit_status(status)
        report["exit"] = pid
        channel.send(marshal.dumps(report))


def main():
    # Out of the daemon's session: a ^C meant for a foreground daemon must not
    # kill the spawner, and with it the exit status of every container.
    os.setsid()
    L.prctl(L.PR_SET_CHILD_SUBREAPER, 1)
    L.prctl(L.PR_SET_DUMPABLE, 0)
    os.chdir("/")       # out of the daemon's package directory, which we imported from
    channel = _socket.socket(fileno=CHANNEL_FD)
    channel.setblocking(True)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    signal.set_wakeup_fd(wake_w)
    poller = select.poll()
    poller.register(CHANNEL_FD, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    launchers = set()
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == wake_r:
                    os.read(wake_r, 512)
                    _reap(channel, launchers)
                    continue
                data, fds = _receive(channel)
                if data is None:
                    return 0
                if fds:
                    launchers.add(_launch(fds, (wake_r, wake_w)))
    except (BrokenPipeError, ConnectionResetError):
        return 0        # the daemon is gone


if __name__ == "__main__":
    sys.exit(main())
