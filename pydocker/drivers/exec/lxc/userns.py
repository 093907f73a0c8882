"""``--userns-remap`` under LXC: besides the ``lxc.idmap`` lines (see
``config``), what LXC needs of the host to start a container in a user
namespace."""

import os
import shutil

from pydocker.drivers.exec.lxc.inroot import DEFAULT_PATH
from pydocker.errdefs import PrerequisiteMissing
from pydocker.userns import subids


def check_root_ranges(userns):
    """Where newuidmap is installed LXC writes the id maps with it, as root too,
    and it grants only ranges that root holds in /etc/subuid and /etc/subgid:
    refuse at once, naming the lines to add, rather than let lxc-execute fail."""
    if shutil.which("newuidmap", path=DEFAULT_PATH) is None:
        return
    for path, key in ((subids.SUBUID, "uid_map"), (subids.SUBGID, "gid_map")):
        held = subids.ranges_of(path, "root", 0)
        missing = ["root:%d:%d" % (host, count) for _, host, count in userns[key]
                   if not any(start <= host and host + count <= start + length for start, length in held)]
        if missing:
            raise PrerequisiteMissing(
                "the lxc exec driver maps ids through newuidmap and newgidmap, which grant root "
                "only its own subordinate ranges: add %s to %s" % (", ".join(missing), path))


def make_traversable(*paths):
    """LXC reaches its state directories as the container's root: o+x on each."""
    for path in paths:
        os.chmod(path, os.stat(path).st_mode | 0o001)
