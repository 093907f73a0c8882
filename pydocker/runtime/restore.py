"""Daemon start: bring the container records back in line with reality.

Containers whose processes died with a previous daemon are marked exited with
what is known, their cgroups are cleaned, layers a crash left without a record
are removed, and restart policies are applied as Docker does.
"""

from twisted.internet import defer
from twisted.logger import Logger

from pydocker.containers.model import ContainerIndex
from pydocker.jobs import archives
from pydocker.store import containers as cstore

log = Logger()
EXIT_DAEMON_DIED = 128


def load_index(engine):
    """Read every container record (blocking: start-up, before the db thread runs)."""
    index = ContainerIndex()
    for container in engine.db.run_sync(cstore.load_all):
        index.add(container)
    return index


def _mount_points_under(directory):
    """The mount points below ``directory`` (blocking: reads /proc/self/mountinfo)."""
    prefix = directory.rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p.encode().decode("unicode_escape") for p in points if p.startswith(prefix)]


def _left_mounted(engine, container_ids):
    """The containers whose rootfs a previous daemon left mounted: any state, since a
    crash between mount and "Running" (or during a cp or export) leaves a "Created" or
    "Exited" container's rootfs mounted too. A path component names the layer."""
    components = {part for point in _mount_points_under(engine.graph.home) for part in point.split("/")}
    return [cid for cid in container_ids if cid in components]


def _release_rootfs(engine, container_id):
    """Unmount the rootfs a crashed daemon left mounted: the new daemon's count of its
    users starts at zero, so one get (which finds it mounted) and one put unmount it."""
    engine.graph.get(container_id)
    engine.graph.put(container_id)


@defer.inlineCallbacks
def restore(engine):
    """Fix records of containers that were running, clean leftovers, apply restart policies."""
    to_restart = []
    containers = list(engine.containers.all())
    mounted = set((yield engine.run_blocking(_left_mounted, engine, [c.id for c in containers])))
    for container in containers:
        was_running = container.state.get("Running")
        if was_running:
            container.set_stopped(EXIT_DAEMON_DIED, error="the daemon stopped while the container was running")
            yield engine.db.run(cstore.save_container, container)
        try:
            yield engine.run_blocking(engine.execdriver.clean, container.id)
            if container.id in mounted:
                yield engine.run_blocking(_release_rootfs, engine, container.id)
        except Exception as e:
            log.warn("cleaning container {id} failed: {e}", id=container.id[:12], e=e)
        policy = (container.host_config.get("RestartPolicy") or {}).get("Name")
        if policy == "always" or (policy == "unless-stopped" and not container.manually_stopped) \
                or (policy == "on-failure" and was_running):
            to_restart.append(container)
    # Before the API listens: a layer a running job is making has no record yet.
    yield archives.sweep_orphan_layers(engine)
    for container in to_restart:
        try:
            yield engine.runtime.start(container)
        except Exception as e:
            log.error("restarting container {id} at daemon start failed: {e}", id=container.id[:12], e=e)

