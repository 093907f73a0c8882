"""What to run and how: the process spec shared by every exec driver.

In the spirit of Docker 1.5's ``execdriver.Command``: the jobs layer fills
these plain dataclasses from a container's config and host config, and an
exec driver turns them into namespaces, cgroups and a process. They hold no
behaviour beyond (de)serialisation, so the native driver can hand them to its
init helper as JSON.
"""

from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Optional

# Docker's default masked and read-only /proc and /sys paths.
DEFAULT_MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
DEFAULT_READONLY_PATHS = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)


@dataclass
class ThrottleDevice:
    """One blkio throttle: ``path`` is a host block device, ``rate`` bytes or ops per second."""
    path: str
    rate: int


@dataclass
class Resources:
    """cgroup limits; 0 or None means "not set" like Docker's HostConfig."""
    memory: int = 0
    memory_swap: int = 0          # memory+swap; -1 = unlimited swap
    memory_reservation: int = 0
    kernel_memory: int = 0
    cpu_shares: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    nano_cpus: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: Optional[int] = None   # None/0 = unlimited, -1 = unlimited
    blkio_weight: int = 0
    blkio_read_bps: list = field(default_factory=list)    # [ThrottleDevice]
    blkio_write_bps: list = field(default_factory=list)
    blkio_read_iops: list = field(default_factory=list)
    blkio_write_iops: list = field(default_factory=list)
    oom_kill_disable: bool = False


@dataclass
class Mount:
    """A mount inside the container; ``type`` is bind, tmpfs or volume (a volume
    is bind-mounted from its directory)."""
    source: str
    destination: str
    type: str = "bind"
    options: list = field(default_factory=list)   # e.g. ["rprivate"], ["size=64m", "mode=1777"]
    readonly: bool = False


@dataclass
class Device:
    """A host device node made available in the container's /dev."""
    path_on_host: str
    path_in_container: str
    permissions: str = "rwm"


@dataclass
class Rlimit:
    """One ``--ulimit``: a name as Docker spells it (nofile, nproc, core...)."""
    name: str
    soft: int
    hard: int


@dataclass
class Namespaces:
    """Which namespaces the container gets.

    ``network``: "none" (a new, empty netns the network hook may fill), "host"
    (share the host's), or a path such as "/proc/PID/ns/net" to join.
    ``ipc``/``pid``/``uts``: "private" (new) or "host" (share); ``ipc`` and ``pid``
    may also be a path to join, for ``container:`` modes.
    ``cgroup``: "private" (a cgroup namespace rooted at the container's cgroup, so
    /proc/self/cgroup reads ``/``) or "host" (the host's view of the cgroup paths).
    """
    network: str = "none"
    ipc: str = "private"
    pid: str = "private"
    uts: str = "private"
    cgroup: str = "private"


@dataclass
class ContainerSpec:
    """Everything an exec driver needs to start a container's first process."""
    id: str
    rootfs: str
    args: list
    env: list = field(default_factory=list)
    cwd: str = "/"
    user: str = ""
    group_add: list = field(default_factory=list)
    hostname: str = ""
    domainname: str = ""
    tty: bool = False
    open_stdin: bool = False
    namespaces: Namespaces = field(default_factory=Namespaces)
    resources: Resources = field(default_factory=Resources)
    mounts: list = field(default_factory=list)           # [Mount]
    devices: list = field(default_factory=list)          # [Device]
    device_cgroup_rules: list = field(default_factory=list)  # ["c 1:3 mr"], as devices.allow
    cap_add: list = field(default_factory=list)
    cap_drop: list = field(default_factory=list)
    privileged: bool = False
    readonly_rootfs: bool = False
    seccomp: object = None     # None = default profile, "unconfined", or a loaded JSON dict
    no_new_privileges: bool = False
    rlimits: list = field(default_factory=list)          # [Rlimit]
    masked_paths: Optional[list] = None                  # None = Docker's defaults
    readonly_paths: Optional[list] = None
    cgroup_parent: str = ""
    init: bool = False
    # Raw (key, value) LXC settings (HostConfig.LxcConf); only the lxc driver can apply them.
    lxc_conf: list = field(default_factory=list)
    # --userns-remap: {"uid_map": [[inside, outside, count], ...], "gid_map": [...]}, or None
    # for the host's user namespace.
    userns: Optional[dict] = None
    # Called with the container's host pid once its namespaces exist and before
    # the process continues; returns a Deferred (e.g. the bridge driver's veth setup).
    network_hook: Optional[Callable] = None

    def helper_config(self):
        """The JSON-able part handed to the init helper (no callables)."""
        config = asdict(replace(self, network_hook=None))
        del config["network_hook"]
        config["mode"] = "run"
        if config["masked_paths"] is None:
            config["masked_paths"] = [] if self.privileged else list(DEFAULT_MASKED_PATHS)
        if config["readonly_paths"] is None:
            config["readonly_paths"] = [] if self.privileged else list(DEFAULT_READONLY_PATHS)
        return config


@dataclass
class ExecSpec:
    """A process to start inside a running container (``docker exec``)."""
    args: list
    env: list = field(default_factory=list)
    cwd: str = ""
    user: str = ""
    tty: bool = False
    open_stdin: bool = False
    privileged: bool = False

    def helper_config(self, container, pid):
        """Join the namespaces of ``pid`` (the container's init) and reuse its
        security settings, as Docker does for exec."""
        config = asdict(self)
        config.update(
            mode="exec",
            target_pid=pid,
            cwd=self.cwd or container.cwd,
            user=self.user or container.user,
            env=_merge_env(container.env, self.env),
            group_add=list(container.group_add),
            cap_add=list(container.cap_add),
            cap_drop=list(container.cap_drop),
            privileged=self.privileged or container.privileged,
            seccomp=container.seccomp,
            no_new_privileges=container.no_new_privileges,
            rlimits=[asdict(r) for r in container.rlimits],
            namespaces=asdict(container.namespaces),
            userns=container.userns,
        )
        return config


@dataclass
class ExitStatus:
    """How a container's (or exec'd) process ended, Docker-style: ``exit_code``
    is 128+signal when killed by ``signal``."""
    exit_code: int
    oom_killed: bool = False
    signal: Optional[int] = None


def _merge_env(base, extra):
    """Exec's env overrides the container's variable by variable."""
    merged = {}
    for item in list(base) + list(extra):
        merged[item.split("=", 1)[0]] = item
    return list(merged.values())

