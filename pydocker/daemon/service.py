"""The daemon's service tree.

``Daemon`` is a MultiService whose children are the services, each built with the
collaborators it needs named in its constructor, and started in this order (and
stopped in the reverse one, each waiting for the previous):

  workers -> store (db thread) -> graph (LayerStore) -> volumes -> network ->
  registry -> [runtime, engine] -> listeners

The runtime and the engine form one group (``Together``): started in that order
(the engine's start-up jobs restore the containers), stopped at once, so the
containers get their stop signal while running jobs finish (a ``wait`` or an
``attach`` ends with its container).

``Daemon.prepare()`` does everything that can fail on bad configuration
synchronously, before the reactor runs, so a bad start exits with a clear
message and touches nothing. A stop is bounded: ``--shutdown-timeout`` plus a
grace, after which a deadline thread removes the socket and pid file and ends
the process (a stuck thread cannot keep it alive).
"""

import os
import uuid

from sqlalchemy import select
from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from pydocker.containers.model import ContainerIndex
from pydocker.daemon import deadline, leftovers, listeners, pidfile
from pydocker.daemon.stalls import StallMonitor
from pydocker.daemon.http.resource import ApiResource, ApiSite
from pydocker.daemon.http.routes import all_routes
from pydocker.daemon.options import ConfigError, parse_key_value
from pydocker.drivers import plugins
from pydocker.drivers.exec import cgroups
from pydocker.drivers.exec.interfaces import IExecDriver
from pydocker.drivers.graph import selection as graph_selection
from pydocker.engine.events import EventBus
from pydocker.engine.job import Engine
from pydocker.drivers.network.proxy import UserlandProxy
from pydocker.engine.workers import WorkerPool
from pydocker.images.layerstore import LayerStore
from pydocker.jobs import (archives, attach, build, commit, containers, copy, diskusage, distribution, execs, images,
                           lifecycle, logs, networks, restore, stats, swarm, system, update, volumes)
from pydocker.logdrivers.interfaces import ILogDriver
from pydocker.networking.drivers import NetworkDrivers, driver_config
from pydocker.networking.service import NetworkService
from pydocker.runtime.logwriter import WriterThread
from pydocker.runtime.monitor import Runtime
from pydocker.store import containers as cstore
from pydocker.store import schema
from pydocker.store.db import Database
from pydocker.userns import ownership
from pydocker.volumes.service import VolumeService
from pydocker import userns

WORKER_THREADS = 8
STOP_GRACE_SECONDS = 10  # after --shutdown-timeout: clean-up, then the hard exit


def _daemon_id(conn):
    """A stable identity for this data root, made on first start."""
    row = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "daemon_id")).first()
    if row:
        return row[0]
    ident = str(uuid.uuid4())
    conn.execute(schema.meta.insert().values(key="daemon_id", value=ident))
    return ident


def _key_values(items):
    return dict(parse_key_value(item) for item in items)


def _exec_driver(config, reactor):
    cls = plugins.load("pydocker.execdrivers", config.exec_driver, IExecDriver, "exec driver")
    home = os.path.join(config.exec_root, "execdriver", config.exec_driver)
    return cls(home, _key_values(config.exec_opts), reactor=reactor)


def _log_drivers(config):
    """Every installed log driver; the daemon's default one and its --log-opt are checked now."""
    drivers = {name: plugins.load("pydocker.logdrivers", name, ILogDriver, "log driver")()
               for name in plugins.available("pydocker.logdrivers")}
    if config.log_driver not in drivers:
        raise ConfigError(f"unknown log driver {config.log_driver!r}: use one of {', '.join(sorted(drivers))}")
    drivers[config.log_driver].validate(dict(config.log_opts))
    return drivers


def _container_index(db):
    """Every container record (blocking: start-up, before the db thread runs)."""
    index = ContainerIndex()
    for container in db.run_sync(cstore.load_all):
        index.add(container)
    return index


class Sequence(service.MultiService):
    """Starts its children one after the other, each once the previous one runs, and
    stops them in the reverse order the same way; a failed stop is logged and the
    next one runs (a failed clean-up must not keep the daemon alive)."""

    log = Logger()

    @defer.inlineCallbacks
    def startService(self):
        service.Service.startService(self)
        for child in self:
            yield defer.maybeDeferred(child.startService)

    @defer.inlineCallbacks
    def stopService(self):
        service.Service.stopService(self)
        for child in reversed(list(self)):
            try:
                yield defer.maybeDeferred(child.stopService)
            except Exception as e:
                self.log.error("stopping the {name} service failed: {e}", name=child.name, e=e)


class Together(Sequence):
    """Started as a Sequence, stopped all at once."""

    @defer.inlineCallbacks
    def stopService(self):
        service.Service.stopService(self)
        stops = [defer.maybeDeferred(child.stopService) for child in self]
        for child, (ok, result) in zip(self, (yield defer.DeferredList(stops, consumeErrors=True))):
            if not ok:
                self.log.error("stopping the {name} service failed: {e}", name=child.name,
                               e=result.getErrorMessage())


class Daemon(Sequence):

    def __init__(self, config, reactor):
        super().__init__()
        self.config = config
        self._reactor = reactor
        self._unix_paths = []
        self._pidfile = None
        self._stalls = None     # with -D: logs reactor stalls
        self.db = None
        self.engine = None
        self.events = None
        self.daemon_id = None

    # -- start-up ---------------------------------------------------------
    def prepare(self):
        """Validate against the host and build the tree; raises ConfigError/PrerequisiteMissing."""
        c, reactor = self.config, self._reactor
        plugins.check_installed()
        # Certificates first: a bad one must stop the start before anything is created.
        tls = None
        if c.tls:
            from pydocker.daemon import tls as tlsmod
            tls = tlsmod.server_context(c.tlscert, c.tlskey, c.tlscacert if c.tlsverify else None)
        for scheme, address in c.hosts:
            if scheme == "unix":
                listeners.check_unix_path(address)
                self._unix_paths.append(address)
        cgroups.check_host()
        pidfile.acquire(c.pidfile)
        self._pidfile = c.pidfile
        idmap = self._remap_root()
        os.makedirs(c.data_root, mode=0o711, exist_ok=True)
        os.makedirs(c.exec_root, mode=0o700, exist_ok=True)
        leftovers.remove_scratch(c.data_root)
        if idmap is not None:
            os.chmod(c.exec_root, 0o711)    # the exec drivers' state, reached by the remapped root
        db = self.db = Database(os.path.join(c.data_root, "pydocker.db"), reactor)
        self.daemon_id = db.run_sync(_daemon_id)
        events = self.events = EventBus()
        workers = WorkerPool(reactor, WORKER_THREADS)
        index = _container_index(db)
        graph = graph_selection.new_driver(c.data_root, c.storage_driver, _key_values(c.storage_opts), idmap)
        execdriver = _exec_driver(c, reactor)
        logdrivers = _log_drivers(c)
        layers = LayerStore(workers, db, graph, events, c.data_root)
        vols = VolumeService(reactor, db, events, index, c.data_root, idmap)
        network = NetworkService(reactor, workers, db, events, index, c,
                                 NetworkDrivers(driver_config(c), UserlandProxy(reactor)))
        logthread = WriterThread(reactor.callFromThread)
        runtime = Runtime(reactor, workers, execdriver, graph, network, vols, logdrivers, logthread, db, events,
                          index, c, idmap)
        registry = distribution.DistributionService.from_config(c, reactor)
        engine = self.engine = Engine(reactor, workers, startup_jobs=["containers.restore"],
                                      drain_seconds=c.shutdown_timeout)
        for resource in (
            system.SystemJobs(engine, db, events, graph, execdriver, network, logdrivers, c, self.daemon_id, idmap),
            images.ImageJobs(engine, layers, db, events),
            volumes.VolumeJobs(engine, vols, db),
            containers.ContainerJobs(engine, runtime, index, db, graph, network, vols, execdriver, logdrivers, c,
                                     idmap),
            lifecycle.LifecycleJobs(engine, runtime, index, db, graph, vols, execdriver),
            logs.LogJobs(engine, runtime, index),
            restore.RestoreJobs(engine, index, db, graph, execdriver),
            build.BuildJobs(engine, layers, db, events, c, idmap),
            attach.AttachJobs(engine, runtime, index, execdriver),
            execs.ExecJobs(engine, runtime, index, execdriver),
            stats.StatsJobs(engine, index, execdriver),
            update.UpdateJobs(engine, runtime, index, db, execdriver),
            networks.NetworkJobs(engine, network, index),
            distribution.DistributionJobs(engine, layers, db, events, registry),
            archives.ArchiveJobs(engine, layers, index, runtime, db, events, registry, c, idmap),
            commit.CommitJobs(engine, layers, index, runtime, db),
            copy.CopyJobs(engine, graph, index, runtime, idmap),
            diskusage.DiskUsageJobs(engine, db),
            swarm.SwarmJobs(engine),
        ):
            engine.install(resource)
        site = ApiSite(ApiResource(engine, all_routes(), c.api_cors_header))
        endpoints = [e for host in c.hosts for e in listeners.endpoint_for(reactor, host, c.group, tls)]
        api = listeners.ApiListeners(site, endpoints)
        jobs = Together()
        jobs.setName("jobs")
        for child in (runtime, engine):
            child.setServiceParent(jobs)
        for child in (workers, db, layers, vols, network, registry, jobs, api):
            child.setServiceParent(self)

    def _remap_root(self):
        """--userns-remap: the id mapping (None without one), and the data root
        moved to its own ``<uid>.<gid>`` subdirectory, as dockerd does."""
        c = self.config
        if not c.userns_remap:
            return None
        idmap, names = userns.load_remapping(c.userns_remap)
        if idmap is None:
            self.log.warn("--userns-remap: root cannot be remapped onto itself; user namespaces are off")
            return None
        c.values["data_root"] = ownership.remapped_root(c.data_root, idmap)
        self.log.info("user namespaces: root is {uid}:{gid} on the host ({names}), data root {root}",
                      uid=idmap.root_pair[0], gid=idmap.root_pair[1], names=names, root=c.data_root)
        return idmap

    def abandon(self):
        """Undo a failed prepare(): release the pid file, close the database."""
        if self.db is not None:
            self.db.engine.dispose()
        if self._pidfile:
            pidfile.release(self._pidfile)

    @defer.inlineCallbacks
    def startService(self):
        if self.config.debug:
            self._stalls = StallMonitor(self._reactor)
            self._stalls.start()
        yield super().startService()
        self.events.publish("daemon", "start", self.daemon_id, {"name": os.uname().nodename})

    # -- shut-down --------------------------------------------------------
    @defer.inlineCallbacks
    def stopService(self):
        """Stop within ``--shutdown-timeout`` plus a short grace (the deadline thread ends a
        stop that a stuck thread holds), then remove the sockets and the pid file."""
        deadline.arm(self.config.shutdown_timeout + STOP_GRACE_SECONDS, self._release_files)
        if self._stalls is not None:
            self._stalls.stop()
        yield super().stopService()
        self._release_files()
        self.log.info("daemon stopped")

    def _release_files(self):
        """Remove the sockets and the pid file: the next daemon may start."""
        for path in self._unix_paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        pidfile.release(self._pidfile)

    def reload(self, new_config):
        """SIGHUP: apply what can change at run time, say what cannot."""
        from pydocker.daemon.config import RELOADABLE
        changed = [k for k in RELOADABLE if getattr(new_config, k.replace("-", "_")) != getattr(self.config, k.replace("-", "_"))]
        for key in RELOADABLE:
            attr = key.replace("-", "_")
            self.config.values[attr] = new_config.values[attr]
        ignored = [k for k, v in new_config.values.items()
                   if k not in [r.replace("-", "_") for r in RELOADABLE] and v != self.config.values.get(k)]
        self.log.info("configuration reloaded: {changed}", changed=", ".join(changed) or "nothing changed")
        if ignored:
            self.log.warn("these settings need a restart to take effect: {keys}", keys=", ".join(sorted(ignored)))
        self.events.publish("daemon", "reload", self.daemon_id, {"name": os.uname().nodename})
        return changed
