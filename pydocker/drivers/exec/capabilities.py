"""Linux capability names and Docker's rules for choosing a container's set.

Shared by the create job (``verify``: dockerd refuses a bad CapAdd/CapDrop at create),
the drivers (the same check again before a start: a container stored earlier, or a
daemon now holding less) and the launcher (``init``, to apply them); imports nothing.
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
        raise ValueError('unknown capability: "CAP_%s"' % upper)
    return upper


def verify(cap_add, cap_drop):
    """dockerd's rule for HostConfig.CapAdd/CapDrop: every name known, and each one added
    held by this daemon (its bounding set; blocking: reads /proc). A drop of one not held is
    harmless and let through. Raises ValueError naming the field."""
    for field, names in (("CapAdd", cap_add), ("CapDrop", cap_drop)):
        for name in names:
            try:
                normalize(name)
            except ValueError as e:
                raise ValueError("invalid %s: %s" % (field, e)) from None
    missing = {normalize(name) for name in cap_add} - set(held()) - {"ALL"}
    if missing:
        raise ValueError("invalid CapAdd: capability not supported by your kernel or not available in the "
                         "current environment: %s" % ", ".join('"CAP_%s"' % c for c in sorted(missing)))


def resolve(cap_add=(), cap_drop=(), privileged=False):
    """The container's capability names, following Docker: ``ALL`` in cap_add
    starts from every capability, ``ALL`` in cap_drop from none, and explicit
    additions win over drops. "Every capability" means every one we hold.
    The names are ``verify``'d first (ValueError)."""
    verify(cap_add, cap_drop)
    if privileged:
        return held()
    adds = {normalize(c) for c in cap_add}
    drops = {normalize(c) for c in cap_drop}
    available = set(held())
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
