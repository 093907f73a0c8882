"""What LXC's log says of a container's end: its exit status (a signal's number from
init.lxc's report), or why its start failed (LXC's first error)."""

import re

from twisted.python import failure

from pydocker.drivers.exec import spec as specs
from pydocker.errdefs import InvalidParameter, SystemError_

_SIGNAL_EXIT = re.compile(r"Child <(\d+)> ended on signal \S*\((\d+)\)")


def outcome(code, running, lxc_log):
    """The container's ExitStatus, or the Failure of its start."""
    if running.error is not None:
        return running.error
    if not running.started.called:
        return failure.Failure(_start_error(lxc_log))
    for pid, number in _SIGNAL_EXIT.findall(lxc_log):
        if int(pid) == running.pid:
            return specs.ExitStatus(128 + int(number), running.oom, int(number))
    return specs.ExitStatus(code, running.oom)


def _start_error(log):
    """LXC's first error names the cause (the later ones only report the failure
    upward); one from its config parser means a bad raw lxc.* line: bad input."""
    errors = [line for line in log.splitlines() if " ERROR " in line]
    if not errors:
        return SystemError_("lxc could not start the container (no error logged)")
    message = "lxc could not start the container: " + errors[0].split(" - ", 1)[-1]
    if " confile - " in errors[0] or " parse - " in errors[0]:
        return InvalidParameter(message)
    return SystemError_(message)
