"""This process's mount table (/proc/self/mountinfo), looked up by path.

Read by the native launcher (to make a rootfs's mount private) and by volume
propagation checks (is the host mount under a source shared?)."""


def mount_of(path):
    """(mount point, optional fields such as "shared:3") of the deepest mount
    holding ``path``, from /proc/self/mountinfo."""
    best = ("/", [])
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mount_point = fields[4].replace("\\040", " ")
            inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best[0]):
                best = (mount_point, fields[6:fields.index("-")])
    return best
