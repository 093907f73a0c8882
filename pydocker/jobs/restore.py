"""Daemon start: bring the container records back in line with reality (the
``containers.restore`` job, which the engine runs before the API listens).

Containers whose processes died with a previous daemon are marked exited with
what is known, their cgroups are cleaned, rootfs mounts a crash left are
released, and restart policies are applied as Docker does, each restart through
the ``container.start`` job.
"""

from twisted.internet import defer
from twisted.logger import Logger

from pydocker.jobs.containers import ContainerRequest
from pydocker.store import containers as cstore

log = Logger()
EXIT_DAEMON_DIED = 128


class RestoreJobs:
    """The start-up job. Reactor thread; cleaning runs in the worker pool."""

    def __init__(self, engine, containers, db, graph, execdriver):
        self.engine = engine
        self.containers = containers
        self.db = db
        self.graph = graph
        self.execdriver = execdriver

    def jobs(self):
        return {"containers.restore": restore}


def _mount_points_under(directory):
    """The mount points below ``directory`` (blocking: reads /proc/self/mountinfo)."""
    prefix = directory.rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p.encode().decode("unicode_escape") for p in points if p.startswith(prefix)]


def _left_mounted(graph_home, container_ids):
    """The containers whose rootfs a previous daemon left mounted: any state, since a
    crash between mount and "Running" (or during a cp or export) leaves a "Created" or
    "Exited" container's rootfs mounted too. A path component names the layer."""
    components = {part for point in _mount_points_under(graph_home) for part in point.split("/")}
    return [cid for cid in container_ids if cid in components]


def _release_rootfs(graph, container_id):
    """Unmount the rootfs a crashed daemon left mounted: the new daemon's count of its
    users starts at zero, so one get (which finds it mounted) and one put unmount it."""
    graph.get(container_id)
    graph.put(container_id)


@defer.inlineCallbacks
def restore(svc, job):
    """Fix records of containers that were running, clean leftovers, apply restart policies."""
    to_restart = []
    containers = list(svc.containers.all())
    mounted = set((yield svc.engine.run_blocking(_left_mounted, svc.graph.home, [c.id for c in containers])))
    for container in containers:
        was_running = container.state.get("Running")
        if was_running:
            container.set_stopped(EXIT_DAEMON_DIED, error="the daemon stopped while the container was running")
            yield svc.db.run(cstore.save_record, cstore.record(container))
        try:
            yield svc.engine.run_blocking(svc.execdriver.clean, container.id)
            if container.id in mounted:
                yield svc.engine.run_blocking(_release_rootfs, svc.graph, container.id)
        except Exception as e:
            log.warn("cleaning container {id} failed: {e}", id=container.id[:12], e=e)
        policy = (container.host_config.get("RestartPolicy") or {}).get("Name")
        if policy == "always" or (policy == "unless-stopped" and not container.manually_stopped) \
                or (policy == "on-failure" and was_running):
            to_restart.append(container)
    for container in to_restart:
        try:
            yield svc.engine.job("container.start", ContainerRequest(container.id))
        except Exception as e:
            log.error("restarting container {id} at daemon start failed: {e}", id=container.id[:12], e=e)
