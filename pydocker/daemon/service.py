"""The daemon's service tree: store, drivers, engine and one listener per ``-H``.

``Daemon.prepare()`` does everything that can fail on bad configuration
synchronously, before the reactor runs, so a bad start exits with a clear
message and touches nothing. ``startService`` opens the listeners;
``stopService`` stops accepting, lets running jobs finish within a bound,
stops containers, cleans up and removes the socket and pid file.
"""

import os
import uuid
from types import SimpleNamespace

from sqlalchemy import select
from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from pydocker.daemon import deadline, leftovers, listeners, pidfile
from pydocker.daemon.stalls import StallMonitor
from pydocker.daemon.options import ConfigError, parse_key_value
from pydocker.drivers import plugins
from pydocker.drivers.exec import cgroups
from pydocker.drivers.exec.interfaces import IExecDriver
from pydocker.drivers.graph import registry as graph_registry
from pydocker.daemon.http.resource import ApiResource, ApiSite
from pydocker.daemon.http.routes import all_routes
from pydocker.engine.events import EventBus
from pydocker.engine.job import Engine
from pydocker.jobs import JOB_MODULES, distribution
from pydocker.drivers.network.proxy import UserlandProxy
from pydocker.logdrivers.interfaces import ILogDriver
from pydocker.networking.drivers import NetworkDrivers, driver_config
from pydocker.networking.service import NetworkService
from pydocker.runtime import restore
from pydocker.runtime.monitor import Runtime
from pydocker.store import schema
from pydocker.store.db import Database
from pydocker import userns
from pydocker.userns import ownership

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


class Daemon(service.MultiService):
    log = Logger()

    def __init__(self, config, reactor):
        super().__init__()
        self.config = config
        self._reactor = reactor
        self._ports = []
        self._endpoints = []
        self._unix_paths = []
        self._stalls = None
        self.engine = None

    # -- start-up ---------------------------------------------------------
    def prepare(self):
        """Validate against the host and build everything; raises ConfigError/PrerequisiteMissing."""
        c = self.config
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
        self.db = Database(os.path.join(c.data_root, "pydocker.db"), self._reactor)
        self.workers = ThreadPool(minthreads=0, maxthreads=WORKER_THREADS, name="pydocker-workers")
        services = {
            "config": c,
            "db": self.db,
            "events": EventBus(),
            "daemon_id": self.db.run_sync(_daemon_id),
            "warnings": [],
            "idmap": idmap,
        }
        self.engine = Engine(self._reactor, self.workers, services)
        services = self.engine.services
        services["graph"] = graph_registry.new_driver(c.data_root, c.storage_driver, _key_values(c.storage_opts),
                                                      idmap)
        services["execdriver"] = _exec_driver(c, self._reactor)
        services["logdrivers"] = _log_drivers(c)
        services["containers"] = restore.load_index(self.engine)
        services["runtime"] = Runtime(self.engine)
        services["network"] = NetworkService(
            self._reactor, SimpleNamespace(run=self.engine.run_blocking), self.db, services["events"],
            services["containers"], c, NetworkDrivers(driver_config(c), UserlandProxy(self._reactor)))
        services["distribution"] = distribution.DistributionService.from_config(c, self._reactor)
        for module in JOB_MODULES:
            self.engine.install(module)
        self._site = ApiSite(ApiResource(self.engine, all_routes(), c.api_cors_header))
        for host in c.hosts:
            self._endpoints.extend(listeners.endpoint_for(self._reactor, host, c.group, tls))

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
        if getattr(self, "db", None) is not None:
            self.db.engine.dispose()
        if getattr(self, "_pidfile", None):
            pidfile.release(self._pidfile)

    def startService(self):
        super().startService()
        if self.config.debug:
            self._stalls = StallMonitor(self._reactor)
            self._stalls.start()
        self.db.start()
        self.workers.start()
        return self._start()

    @defer.inlineCallbacks
    def _start(self):
        yield self.engine.network.startService()
        yield restore.restore(self.engine)
        for description, endpoint in self._endpoints:
            port = yield endpoint.listen(self._site)
            self._ports.append(port)
            self.log.info("API listening on {where}", where=description)
        self.engine.events.publish("daemon", "start", self.engine.daemon_id, {"name": os.uname().nodename})

    # -- shut-down --------------------------------------------------------
    @defer.inlineCallbacks
    def stopService(self):
        """Stop within ``--shutdown-timeout`` plus a short grace: containers get their stop
        signal at once while running jobs finish (jobs such as ``wait`` or ``attach`` end
        with the containers), anything left is abandoned, and a stuck thread cannot keep
        the process alive past the deadline."""
        timeout = self.config.shutdown_timeout
        deadline.arm(timeout + STOP_GRACE_SECONDS, self._release_files)
        if self._stalls is not None:
            self._stalls.stop()
        self.log.info("shutting down: no new connections")
        for port in self._ports:
            yield defer.maybeDeferred(port.stopListening)
        self._ports = []
        containers = self.engine.runtime.shutdown(timeout)
        jobs = self.engine.drain(timeout)
        try:
            yield containers
        except Exception as e:  # a failed clean-up must not keep the daemon alive
            self.log.error("stopping containers failed: {e}", e=e)
        yield jobs
        try:
            yield self.engine.network.stopService()
        except Exception as e:
            self.log.error("removing the network set-up failed: {e}", e=e)
        yield super().stopService()
        yield self.engine.run_blocking(self.engine.graph.cleanup)
        yield self.engine.run_blocking(cgroups.remove_parent, self.config.cgroup_parent)
        self.db.stop()
        self._release_files()
        self.log.info("daemon stopped")
        self.workers.stop()  # joins: a stuck worker is cut short by the deadline

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
        self.engine.events.publish("daemon", "reload", self.engine.daemon_id, {"name": os.uname().nodename})
        return changed
