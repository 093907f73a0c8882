"""Linux capability names and Docker's rules for choosing a container's set.

Shared by the driver (to validate ``--cap-add``/``--cap-drop`` before
starting anything) and the launcher (``init``, to apply them); imports nothing.
"""

# Index = capability number.
NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)

# What Docker grants a non-privileged container.
DOCKER_DEFAULT = (
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
    "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
)


def last_cap():
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def held():
    """The capabilities this process can still grant: its bounding set. (Root
    in a confined host may lack some, e.g. SYS_RESOURCE.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    bounding = int(line.split()[1], 16)
                    return [name for number, name in enumerate(NAMES) if bounding & (1 << number)]
    except OSError:
        pass
    return [name for number, name in enumerate(NAMES) if number <= last_cap()]


def normalize(name):
    """``cap_net_admin`` / ``NET_ADMIN`` -> ``NET_ADMIN``; raises ValueError if unknown."""
    upper = name.strip().upper()
    if upper.startswith("CAP_"):
        upper = upper[4:]
    if upper != "ALL" and upper not in NAMES:
        raise ValueError("unknown capability: %r" % name)
    return upper


def resolve(cap_add=(), cap_drop=(), privileged=False):
    """The container's capability names, following Docker: ``ALL`` in cap_add
    starts from every capability, ``ALL`` in cap_drop from none, and explicit
    additions win over drops. "Every capability" means every one we hold;
    asking explicitly for one we lack raises ValueError."""
    if privileged:
        return held()
    adds = {normalize(c) for c in cap_add}
    drops = {normalize(c) for c in cap_drop}
    available = set(held())
    missing = adds - available - {"ALL"}
    if missing:
        raise ValueError("cannot add capabilities the daemon does not hold: %s"
                         % ", ".join(sorted(missing)))
    caps = available if "ALL" in adds else set(DOCKER_DEFAULT) & available
    caps = set() if "ALL" in drops else caps - drops
    caps |= adds - {"ALL"}
    return [name for name in NAMES if name in caps]


def mask(names):
    """A 64-bit mask of the named capabilities."""
    value = 0
    for name in names:
        value |= 1 << NAMES.index(name)
    return value
