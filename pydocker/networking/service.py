"""The NetworkService: the one owner of networks, endpoints and addresses.

Its state (the networks, each running container's endpoints, the taken
addresses) belongs to the reactor thread. Driver calls block, so they run in
the worker pool with the records handed to them, and the service keeps what
they return; the store's db thread writes the snapshots (dicts) it is handed,
in order. Networks are written before a create or remove answers; an
endpoint's record goes behind the container's start (none outlives the
daemon: the next start hands the stored ones to their drivers to clean up).

Each network names its driver (``NetworkDrivers``); ``bridge``, ``host``
and ``none`` are the networks the built-in drivers predefine. The runtime
calls ``on_create``, ``write_files``, ``link_env``, ``hook`` and ``release``
around a container's life; the network jobs call the rest.

(Just over 400 lines: one class, the single owner of the network state; its parts
share the tables of networks, endpoints and attachments.)
"""

import secrets
import time

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from pydocker.containers import paths
from pydocker.drivers.network.bridgenets import OPT_BRIDGE_NAME
from pydocker.drivers.network.model import Endpoint, Network
from pydocker.errdefs import Conflict, Forbidden, InvalidParameter, NotFound
from pydocker.networking import modes, settings
from pydocker.networking.addresses import AddressBook
from pydocker.networking.sandbox import Sandboxes, network_mode
from pydocker.store import containers as container_store, networks as network_store

BUILTIN_DRIVERS = ("bridge", "host", "null")
DEFAULT_NETWORK = "bridge"


def new_id():
    return secrets.token_hex(32)


class _Attachment:
    """A running container's endpoints ({network id: Endpoint})."""

    def __init__(self, container, pid):
        self.container = container
        self.pid = pid
        self.endpoints = {}


class NetworkService(service.Service):
    name = "network"
    log = Logger()

    def __init__(self, reactor, workers, store, events, containers, config, drivers):
        self._reactor = reactor
        self._workers = workers
        self._store = store
        self._events = events
        self._containers = containers
        self._config = config
        self._drivers = drivers
        self.enabled = config.bridge != "none"
        self._networks = {}  # id -> Network, oldest first
        self._attached = {}  # container id -> _Attachment
        self._addresses = AddressBook()
        self._set_up = set()  # names of the drivers set up
        self._setup_lock = defer.DeferredLock()
        self._creating = set()  # names of networks being created
        self._settling = set()  # Deferreds of disconnects finishing after a release
        self._sandboxes = Sandboxes(reactor, workers, config, containers, self)

    # -- daemon life cycle -------------------------------------------------

    @defer.inlineCallbacks
    def startService(self):
        """Load the stored networks, set every driver up, store what they predefine."""
        super().startService()
        # No container runs yet (they die with the daemon): addresses recorded
        # by a run that crashed are stale.
        for container in self._containers.all():
            settings.forget_addresses(container.network_settings)
        stored, stale = yield self._store.run(network_store.load)
        networks = [Network.from_dict(n) for n in stored]
        stale = [Endpoint.from_dict(e) for e in stale]
        names = [d for d in BUILTIN_DRIVERS if self.enabled or d != "bridge"]
        names += sorted({n.driver for n in networks} - set(BUILTIN_DRIVERS))
        for name in names:
            own = [n for n in networks if n.driver == name]
            self._networks.update((n.id, n) for n in own)
            ids = {n.id for n in own}
            try:
                yield self._driver(name, own, [e for e in stale if e.network_id in ids])
            except NotFound:
                self.log.error("network driver {name} is not installed: its networks are unusable", name=name)
        self._networks = dict(sorted(self._networks.items(), key=lambda item: (item[1].created, item[1].name)))
        yield self._store.run(network_store.remove_all_endpoints)

    @defer.inlineCallbacks
    def _driver(self, name, own=(), stale=()):
        """The driver ``name``, loaded and set up on first use (at start, or
        when a network first names it), its predefined networks stored."""
        driver = yield self._workers.run(self._drivers.load, name)
        yield self._setup_lock.acquire()
        try:
            if name not in self._set_up:
                predefined = yield self._workers.run(driver.setup, list(own), list(stale))
                for network in predefined:
                    yield self._store.run(network_store.save_network, network.to_dict())
                    self._networks[network.id] = network
                self._set_up.add(name)
        finally:
            self._setup_lock.release()
        return driver

    @defer.inlineCallbacks
    def stopService(self):
        """Release every container, then tear each driver down."""
        yield super().stopService()
        for attachment in list(self._attached.values()):
            yield self.release(attachment.container)
        yield self._settled()
        for name in sorted(self._set_up):
            driver = self._drivers.get(name)
            own = [n for n in self._networks.values() if n.driver == name]
            try:
                yield self._workers.run(driver.teardown, own)
            except Exception as e:  # the others are still to be torn down
                self.log.error("tearing down network driver {name}: {e}", name=name, e=e)

    # -- finding networks --------------------------------------------------

    def networks(self):
        """Every network, oldest first."""
        return list(self._networks.values())

    def network(self, network_id):
        return self._networks.get(network_id)

    def network_named(self, name):
        return next((n for n in self._networks.values() if n.name == name), None)

    def find(self, ref):
        """A network by full id, exact name or unique id prefix (Docker's order)."""
        found = self._networks.get(ref) or self.network_named(ref)
        if found is not None:
            return found
        found = [n for n in self._networks.values() if ref and n.id.startswith(ref)]
        if len(found) > 1:
            raise InvalidParameter(f"network {ref} is ambiguous ({len(found)} matches found based on ID prefix)")
        if not found:
            raise NotFound(f"network {ref} not found")
        return found[0]

    def default_network(self):
        """The network of ``--network default`` (the bridge driver's ``bridge``)."""
        return next((n for n in self._networks.values() if n.default and n.name == DEFAULT_NETWORK), None)

    def endpoints_of(self, container_id):
        """``{network id: Endpoint}`` of a running container."""
        attachment = self._attached.get(container_id)
        return dict(attachment.endpoints) if attachment else {}

    def containers_of(self, network_id):
        """``[(container, Endpoint)]`` of the running containers on a network."""
        return [(a.container, a.endpoints[network_id]) for a in self._attached.values()
                if network_id in a.endpoints]

    def plugins(self):
        """Network drivers, as ``info`` lists them."""
        return self._drivers.names()

    # -- a container's life ----------------------------------------------------

    def on_create(self, container, networking_config):
        """Validate the container's networking and give it its NetworkSettings."""
        container.network_settings = modes.container_settings(
            self, self._containers, container, networking_config, self.enabled)

    def write_files(self, container, directory):
        """hostname, hosts and resolv.conf for the runtime to bind-mount (a Deferred)."""
        return self._sandboxes.write_files(container, directory)

    def link_env(self, container):
        return self._sandboxes.link_env(container)

    def hook(self, container):
        """``f(pid) -> Deferred`` connecting the container's namespace; None when
        it has none of its own (``container:`` mode)."""
        if network_mode(container).startswith("container:"):
            return None
        return lambda pid: self._attach(container, pid)

    @defer.inlineCallbacks
    def _attach(self, container, pid):
        yield self._settled()  # a restart may want the address its last run had
        attachment = _Attachment(container, pid)
        self._attached[container.id] = attachment
        # The embedded DNS needs the namespace only: it is set up beside the joins.
        outcomes = yield defer.DeferredList(
            [self._join_all(attachment), self._sandboxes.ensure_dns(container, pid)], consumeErrors=True)
        failure = next((outcome for ok, outcome in outcomes if not ok), None)
        if failure is None:
            try:
                yield self._rewrite_hosts(container)
            except Exception:
                failure = Failure()
        if failure is not None:
            yield self.release(container)
            failure.raiseException()

    @defer.inlineCallbacks
    def _join_all(self, attachment):
        container = attachment.container
        specs = settings.port_specs(container.config, container.host_config)
        for index, name in enumerate(list(container.network_settings["Networks"])):
            network = self.find(name)
            publish = index == 0 and network.name not in modes.PREDEFINED
            yield self._join(attachment, network, specs if publish else ())

    @defer.inlineCallbacks
    def _join(self, attachment, network, specs):
        """Connect one network: an address taken here, the driver's part on a
        worker, the endpoint recorded and shown in the container's settings."""
        container = attachment.container
        driver = self._drivers.get(network.driver)
        network_settings = container.network_settings
        endpoint_settings = network_settings["Networks"].get(network.name) or settings.endpoint_settings(network.id, {})
        address, mac = settings.check_endpoint_config(network.name, endpoint_settings)
        aliases = list(endpoint_settings.get("Aliases") or [])
        endpoint = Endpoint(endpoint_id=new_id(), network_id=network.id, mac_address=mac, aliases=aliases)
        if network.subnet:
            endpoint.ip_address = self._addresses.take(network, endpoint.endpoint_id, address)
            endpoint.prefix_len = network.prefix_len
        try:
            endpoint = yield self._workers.run(driver.connect, network, endpoint, attachment.pid, list(specs))
        except Exception:
            self._addresses.give_back(network.id, endpoint.ip_address)
            raise
        attachment.endpoints[network.id] = endpoint
        self._write_behind(network_store.add_endpoint, endpoint.to_dict())
        short_id = container.id[:12]
        dns_names = None if network.default else list(dict.fromkeys([container.name, *aliases, short_id]))
        network_settings["Networks"][network.name] = connected = settings.connected(
            dict(endpoint_settings, NetworkID=network.id), endpoint, dns_names)
        if not network.default:  # API 1.44 and older list the short id among the aliases
            connected["Aliases"] = list(dict.fromkeys([*aliases, short_id]))
        elif network.name == DEFAULT_NETWORK:
            settings.top_level(network_settings, endpoint, network.options.get(OPT_BRIDGE_NAME, ""))
        if specs:
            network_settings["Ports"] = settings.ports_document(container.config, container.host_config,
                                                                endpoint.ports)
        network_settings["SandboxID"] = network_settings.get("SandboxID") or new_id()
        self._publish("connect", network, container)

    def _rewrite_hosts(self, container):
        return self._sandboxes.rewrite_hosts(container, paths.container_dir(self._config.data_root, container.id))

    @defer.inlineCallbacks
    def release(self, container):
        """Disconnect a stopped container; safe to call twice. The driver's
        part (ports, rules, the veth, which the kernel is often deleting with
        the namespace already) goes on after this fires, off the path of the
        container's exit; the address is given back when it is done, and
        every later network change and start waits for it first
        (``_settled``), so nothing sees it half done."""
        attachment = self._attached.pop(container.id, None)
        yield self._sandboxes.stop_dns(container)
        if attachment is not None:
            for network_id, endpoint in attachment.endpoints.items():
                self._settling_add(self._leave(container, network_id, endpoint))
        settings.forget_addresses(container.network_settings)

    def _settling_add(self, d):
        self._settling.add(d)
        d.addBoth(lambda _: self._settling.discard(d))

    def _settled(self):
        """Fires once the disconnects that releases left going are done."""
        return defer.DeferredList(list(self._settling))

    @defer.inlineCallbacks
    def _leave(self, container, network_id, endpoint):
        network = self._networks.get(network_id)
        try:
            if network is not None:
                yield self._workers.run(self._drivers.get(network.driver).disconnect, network, endpoint)
        except Exception as e:  # the container is gone either way; say what was left
            self.log.error("disconnecting {id} from {net}: {e}", id=container.id[:12], net=network_id[:12], e=e)
        self._addresses.give_back(network_id, endpoint.ip_address)
        self._write_behind(network_store.remove_endpoint, endpoint.to_dict())
        if network is not None:
            self._publish("disconnect", network, container)

    def _write_behind(self, f, snapshot):
        """An endpoint's record, written by the db thread after what is queued
        there; nothing waits for it, a failure is logged."""
        self._store.run(f, snapshot).addErrback(
            lambda failure: self.log.failure("storing an endpoint failed", failure))

    def _publish(self, action, network, container=None):
        attributes = {"name": network.name, "type": network.driver}
        if container is not None:
            attributes["container"] = container.id
        self._events.publish("network", action, network.id, attributes)

    # -- live connect / disconnect ---------------------------------------------

    @defer.inlineCallbacks
    def connect(self, container, ref, endpoint_config):
        """``docker network connect``: at once when running, else at next start."""
        network = self.find(ref)
        mode = network_mode(container)
        if network.name == "host":
            raise Forbidden("container cannot be disconnected from host network or connected to host network")
        if mode == "host" or mode.startswith("container:"):
            raise Forbidden("container sharing network namespace with another container or host "
                            "cannot be connected to any other network")
        if network.name in modes.PREDEFINED or mode in modes.PREDEFINED or self._disabled_for(container):
            raise Forbidden("container cannot be connected to multiple networks with one of the "
                            "networks in private (none) mode")
        networks = container.network_settings.setdefault("Networks", {})
        if network.name in networks:
            raise Forbidden(f"endpoint with name {container.name} already exists in network {network.name}")
        endpoint_config = dict(endpoint_config or {})
        modes.check_endpoint(network, endpoint_config)
        networks[network.name] = settings.endpoint_settings(network.id, endpoint_config)
        attachment = self._attached.get(container.id)
        if attachment is not None:
            yield self._settled()
            try:
                yield self._join(attachment, network, ())
                yield self._sandboxes.ensure_dns(container, attachment.pid)
                yield self._rewrite_hosts(container)
            except Exception:
                del networks[network.name]
                endpoint = attachment.endpoints.pop(network.id, None)
                if endpoint is not None:
                    yield self._leave(container, network.id, endpoint)
                raise
        yield self._store.run(container_store.save_record, container_store.record(container))

    def _disabled_for(self, container):
        return not self.enabled or bool(container.config.get("NetworkDisabled"))

    @defer.inlineCallbacks
    def disconnect(self, container, ref):
        network = self.find(ref)
        if network.name == "host" and network_mode(container) == "host":
            raise Forbidden("container cannot be disconnected from host network or connected to host network")
        networks = container.network_settings.get("Networks") or {}
        if network.name not in networks:
            raise Forbidden(f"container {container.id} is not connected to network {network.name}")
        attachment = self._attached.get(container.id)
        endpoint = attachment.endpoints.pop(network.id, None) if attachment else None
        if endpoint is not None:
            yield self._leave(container, network.id, endpoint)
            yield self._rewrite_hosts(container)
        del networks[network.name]
        if network.default and network.name == DEFAULT_NETWORK:
            container.network_settings.update(settings.EMPTY_TOP_LEVEL)
        yield self._store.run(container_store.save_record, container_store.record(container))

    # -- network management ----------------------------------------------------

    @defer.inlineCallbacks
    def create(self, name, options):
        """A user-defined network of the driver ``options["driver"]`` (the
        other options as ``jobs.networks.create_options`` makes them)."""
        if not self.enabled:
            raise Forbidden("container networking is disabled (--bridge=none): networks cannot be created")
        if self.network_named(name) is not None or name in self._creating:
            raise Conflict(f"network with name {name} already exists")
        self._creating.add(name)
        try:
            driver_name = options.get("driver") or "bridge"
            driver = yield self._driver(driver_name)
            draft = Network(id=new_id(), name=name, driver=driver_name, created=time.time_ns(),
                            subnet=options.get("subnet") or "", gateway=options.get("gateway") or "",
                            ip_range=options.get("ip_range") or "", internal=bool(options.get("internal")),
                            labels=dict(options.get("labels") or {}), options=dict(options.get("options") or {}))
            existing = [n for n in self._networks.values() if n.driver == driver_name]
            network = yield self._workers.run(driver.create_network, draft, existing)
            try:
                yield self._store.run(network_store.save_network, network.to_dict())
            except Exception:
                yield self._workers.run(driver.delete_network, network)
                raise
            self._networks[network.id] = network
        finally:
            self._creating.discard(name)
        self._publish("create", network)
        return network

    @defer.inlineCallbacks
    def remove(self, ref):
        network = self.find(ref)
        if network.default:
            raise Forbidden(f"{network.name} is a pre-defined network and cannot be removed")
        if self.containers_of(network.id):
            raise Forbidden(f"error while removing network: network {network.name} id {network.id} "
                            f"has active endpoints")
        yield self._settled()
        if self._networks.get(network.id) is not network:
            raise NotFound(f"network {ref} not found")  # removed meanwhile
        yield self._workers.run(self._drivers.get(network.driver).delete_network, network)
        del self._networks[network.id]
        self._addresses.forget(network.id)
        yield self._store.run(network_store.delete_network, network.id)
        self._publish("destroy", network)

