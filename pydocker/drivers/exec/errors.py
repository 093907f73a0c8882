"""Start failures reported by the init helper, mapped to the engine's error kinds."""

from pydocker.errdefs import InvalidParameter, SystemError_


class ContainerStartError(InvalidParameter):
    """The container could not start because of its configuration (a missing
    or non-executable command, an unknown user, a bad working directory...).

    ``exit_code`` is what Docker records for the container: 127 for a command
    not found, 126 for one that cannot be executed, else 128.
    """

    def __init__(self, message, exit_code=128):
        super().__init__(message)
        self.exit_code = exit_code


def from_helper(report):
    """Turn the helper's ``{"kind", "message", "exit_code"}`` report into an exception."""
    if report.get("kind") == "config":
        return ContainerStartError(report["message"], report.get("exit_code", 128))
    return SystemError_(report.get("message", "container start failed"))
