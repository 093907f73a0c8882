"""Bind-mount propagation (``-v src:dst:rshared``, ``--mount bind-propagation=``).

A container's mount can only share mount events with the host if the host's
mount under its source is itself shared (or, for slave, shared or a slave):
dockerd refuses the start otherwise, and so do we, naming the mount point."""

import os

from pydocker.mountinfo import mount_of
from pydocker.errdefs import InvalidParameter

MODES = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
DEFAULT = "rprivate"


def from_options(options):
    """The propagation named among a -v mode's options, else the default."""
    return next((o for o in options if o in MODES), DEFAULT)


def check_source(source, propagation):
    """Raise unless the host mount holding ``source`` allows ``propagation``."""
    if propagation not in ("shared", "rshared", "slave", "rslave"):
        return
    mount_point, fields = mount_of(os.path.realpath(source))
    shared = any(f.startswith("shared:") for f in fields)
    slave = any(f.startswith("master:") for f in fields)
    if propagation in ("shared", "rshared") and not shared:
        raise InvalidParameter(f"path {source} is mounted on {mount_point} but it is not a shared mount")
    if not (shared or slave):
        raise InvalidParameter(f"path {source} is mounted on {mount_point} but it is not a shared or slave mount")
