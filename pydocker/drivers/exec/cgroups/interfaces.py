"""The seam between the native driver and a cgroup implementation (v1 or v2)."""

from zope.interface import Attribute, Interface


class ICgroup(Interface):
    """One container's cgroup, across every controller it uses."""

    paths = Attribute("dict: controller (or 'unified') -> directory; saved to clean up later")

    def create():
        """Make the directories (idempotent)."""

    def set(resources):
        """Write a ``Resources``' limits; raises InvalidParameter for refused values."""

    def container_view():
        """[(name under the container's /sys/fs/cgroup, host directory)] to
        bind read-only, so tools inside see their own limits ("" = the root)."""

    def configure_devices(devices, rules, privileged):
        """Restrict device access to Docker's defaults plus ``devices`` and ``rules``
        (devices.allow lines); everything allowed when ``privileged``."""

    def apply(pid):
        """Move process ``pid`` into this cgroup."""

    def pids():
        """Host pids of every process inside."""

    def freeze():
        """Freeze every process; returns once they are frozen."""

    def thaw():
        """Undo ``freeze``."""

    def kill_all(signal):
        """Send ``signal`` to every process inside (thawing so it is delivered)."""

    def oom_killed():
        """True if the kernel's OOM killer killed a process of this cgroup."""

    def stats():
        """Docker-shaped dict: memory_stats, cpu_stats, pids_stats, blkio_stats."""

    def destroy():
        """Kill what is left and remove the directories."""
