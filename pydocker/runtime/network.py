"""Container networking: the seam between the runtime and the network driver.

The runtime calls ``on_create``, ``write_files``, ``hook`` and ``release``
around a container's life; the network jobs call the management methods
(``create``, ``remove``, ``connect``, ``disconnect`` ...). Driver calls block,
so they go to the engine's worker pool; the reactor thread keeps the
in-memory view: the networks (so ``on_create`` can resolve names at once),
which running container holds which endpoint, and each container's embedded
DNS.
"""

import ipaddress
import os
import secrets
import socket

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from pydocker.containers.links import parse_link
from pydocker.drivers import plugins
from pydocker.drivers.network import dns, hosts, linkenv, netns, resolvconf, settings
from pydocker.drivers.network.config import NetworkConfig
from pydocker.drivers.network.interfaces import INetworkDriver
from pydocker.drivers.network.model import Endpoint
from pydocker.drivers.network.proxy import UserlandProxy
from pydocker.drivers.network.writebehind import WriteBehindStore
from pydocker.errdefs import Conflict, Forbidden, InvalidParameter, NotFound
from pydocker.store.networks import NetworkStore

DRIVER = "bridge"
BUILTIN = {"host": "host", "none": "null"}  # network name -> driver
DEFAULT_MODES = ("", "default", "bridge")
HOST_RESOLV_CONF = "/etc/resolv.conf"
HOST_HOSTS = "/etc/hosts"


def new_id():
    return secrets.token_hex(32)


def network_config(config):
    """The bridge driver's options from the daemon's."""
    def text(value):
        return str(value) if value else ""
    return NetworkConfig(
        bridge=text(config.bridge), bip=text(config.bip), fixed_cidr=text(config.fixed_cidr),
        default_gateway=text(config.default_gateway), ip=text(config.ip) or "0.0.0.0",
        ip_forward=config.ip_forward, ip_masq=config.ip_masq, iptables=config.iptables,
        icc=config.icc, mtu=config.mtu, userland_proxy=config.userland_proxy)


def network_mode(container):
    return container.host_config.get("NetworkMode") or "default"


class _Attachment:
    """A running container's endpoints ({network id: Endpoint}) and DNS."""

    def __init__(self, container, pid):
        self.container = container
        self.pid = pid
        self.endpoints = {}
        self.dns = None


class ContainerNetworking:
    log = Logger()

    def __init__(self, engine, config, reactor):
        self._engine = engine
        self._config = config
        self._reactor = reactor
        self.enabled = config.bridge != "none"
        self._store = None
        self._driver_store = None  # the driver's view of the store: endpoint writes behind
        self._driver = None
        self._rows = []  # NetworkRow of every network, oldest first
        self._attached = {}  # container id -> _Attachment
        self._settling = set()  # Deferreds of disconnects finishing after a release

    # -- daemon life cycle -------------------------------------------------

    def start(self):
        # No container runs yet (they die with the daemon): addresses recorded
        # by a run that crashed are stale.
        index = self._engine.services.get("containers")
        for container in index.all() if index is not None else ():
            _forget_addresses(container)
        return self._engine.run_blocking(self._start).addCallback(self._set_rows)

    def _start(self):
        self._store = NetworkStore(self._engine.db.path, DRIVER)
        for name, driver in BUILTIN.items():
            self._store.ensure_network(new_id(), name, driver)
        if self.enabled:
            cls = plugins.load("pydocker.networkdrivers", DRIVER, INetworkDriver, "network driver")
            self._driver_store = WriteBehindStore(self._store)
            driver = cls(network_config(self._config), self._driver_store, UserlandProxy(self._reactor))
            driver.setup()
            # Containers die with the daemon: every stored endpoint is stale.
            driver.cleanup_stale([])
            self._driver = driver
        return self._store.rows()

    @defer.inlineCallbacks
    def stop(self):
        for attachment in list(self._attached.values()):
            yield self.release(attachment.container)
        yield self._settled()
        if self._driver is not None:
            yield self._engine.run_blocking(self._driver.teardown)
            self._driver = None
        if self._driver_store is not None:
            yield self._engine.run_blocking(self._driver_store.close)
            self._driver_store = None
        if self._store is not None:
            yield self._engine.run_blocking(self._store.close)
            self._store = None

    def _set_rows(self, rows):
        self._rows = [r for r in rows if self.enabled or r.driver != DRIVER]
        return self._rows

    def _refresh(self):
        return self._engine.run_blocking(self._store.rows).addCallback(self._set_rows)

    # -- finding networks --------------------------------------------------

    def networks(self):
        """Every network (NetworkRow), oldest first."""
        return list(self._rows)

    def find(self, ref):
        """A network by full id, exact name or unique id prefix (Docker's order)."""
        for test in (lambda r: r.id == ref, lambda r: r.name == ref):
            found = [r for r in self._rows if test(r)]
            if found:
                return found[0]
        found = [r for r in self._rows if ref and r.id.startswith(ref)]
        if len(found) > 1:
            raise InvalidParameter(f"network {ref} is ambiguous ({len(found)} matches found based on ID prefix)")
        if not found:
            raise NotFound(f"network {ref} not found")
        return found[0]

    def default_network(self):
        return next((r for r in self._rows if r.driver == DRIVER and r.record.default), None)

    def containers_of(self, network_id):
        """``[(container, Endpoint)]`` of the running containers on a network."""
        return [(a.container, a.endpoints[network_id]) for a in self._attached.values()
                if network_id in a.endpoints]

    def plugins(self):
        """Network drivers, as ``info`` lists them."""
        return [DRIVER, *BUILTIN.values()]

    # -- create --------------------------------------------------------------

    def on_create(self, container, networking_config):
        """Validate the container's networking and give it its NetworkSettings."""
        config, hc = container.config, container.host_config
        requested = check_endpoints((networking_config or {}).get("EndpointsConfig"))
        mode = network_mode(container)
        for text in hc.get("ExtraHosts") or []:
            hosts.parse_extra_host(text, host_gateway="0.0.0.0")
        settings.port_specs(config, hc)
        for text in hc.get("Links") or []:
            self._engine.containers.get(parse_link(text)[0])
        if mode.startswith("container:"):
            self._check_shared(container, mode)
            networks = {}
        elif mode == "host" or mode in BUILTIN or self._disabled_for(container):
            name = "host" if mode == "host" else "none"
            self._only(requested, (name, mode))
            networks = {name: settings.endpoint_settings(self.find(name).id, requested.get(name, {}))}
            if name == "host" and not config.get("Hostname"):
                config["Hostname"] = socket.gethostname()
        else:
            networks = self._bridge_endpoints(mode, requested, config)
        container.network_settings = settings.container_settings(networks)

    def _disabled_for(self, container):
        return not self.enabled or bool(container.config.get("NetworkDisabled"))

    def _only(self, requested, allowed):
        """Refuse endpoints besides the mode's own (host, none, or the mode as given)."""
        others = sorted(k for k in requested if k not in allowed)
        if others:
            raise InvalidParameter(f"container cannot be connected to network endpoints: "
                                   f"{allowed[0]}, {', '.join(others)}")

    def _check_shared(self, container, mode):
        """``container:X`` shares X's namespace: nothing of its own may be set."""
        config, hc = container.config, container.host_config
        other = self._engine.containers.get(mode.split(":", 1)[1])
        if other.id == container.id:
            raise InvalidParameter("cannot join own network namespace")
        if config.get("Hostname"):
            raise InvalidParameter("conflicting options: hostname and the network mode")
        if hc.get("PortBindings") or hc.get("PublishAllPorts") or config.get("ExposedPorts"):
            raise InvalidParameter("conflicting options: port publishing and the container type network mode")
        if hc.get("Dns") or hc.get("ExtraHosts") or config.get("MacAddress"):
            raise InvalidParameter("conflicting options: dns, extra hosts or mac address and the network mode")
        config["Hostname"] = other.config.get("Hostname") or other.id[:12]
        config["Domainname"] = other.config.get("Domainname") or ""

    def _bridge_endpoints(self, mode, requested, config):
        """``{name: settings}``: the network of the mode first, then the others requested."""
        primary = self.default_network() if mode in DEFAULT_MODES else self.find(mode)
        if primary is None or primary.driver != DRIVER:
            raise InvalidParameter(f"network {mode} cannot be used as a container's network mode")
        chosen = [(primary, requested.get(mode) or requested.get(primary.name) or {})]
        for key, endpoint_config in requested.items():
            if key == mode:
                continue
            row = self.find(key)
            if row.id == primary.id:
                continue
            if row.driver != DRIVER:
                raise InvalidParameter(f"container cannot be connected to network endpoints: {primary.name}, {row.name}")
            chosen.append((row, endpoint_config))
        networks = {}
        for index, (row, endpoint_config) in enumerate(chosen):
            endpoint_config = dict(endpoint_config)
            if index == 0 and config.get("MacAddress") and not endpoint_config.get("MacAddress"):
                endpoint_config["MacAddress"] = config["MacAddress"]  # the deprecated Config field
            self._check_endpoint(row, endpoint_config)
            networks[row.name] = settings.endpoint_settings(row.id, endpoint_config)
        return networks

    def _check_endpoint(self, row, endpoint_config):
        address, _ = settings.check_endpoint_config(row.name, endpoint_config)
        record = row.record
        if record.default and address:
            raise InvalidParameter("user specified IP address is supported on user defined networks only")
        if record.default and endpoint_config.get("Aliases"):
            raise InvalidParameter("network-scoped alias is supported only for containers in user defined networks")
        if address:
            if ipaddress.IPv4Address(address) not in ipaddress.IPv4Network(record.subnet):
                raise InvalidParameter(f"invalid address {address}: it does not belong to any of network "
                                       f"{row.name}'s subnets ({record.subnet})")

    # -- files ---------------------------------------------------------------

    def write_files(self, container, container_dir):
        """BLOCKING: hostname, hosts and resolv.conf for the runtime to bind-mount."""
        hostname = container.config.get("Hostname") or container.id[:12]
        _write(os.path.join(container_dir, "hostname"), hosts.hostname_file(hostname))
        if network_mode(container) == "host":
            _write(os.path.join(container_dir, "hosts"), _read(HOST_HOSTS) + self._extra_hosts_text(container))
            _write(os.path.join(container_dir, "resolv.conf"), _read(HOST_RESOLV_CONF))
            return
        _write(os.path.join(container_dir, "hosts"), self._hosts_text(container))
        _write(os.path.join(container_dir, "resolv.conf"), self._resolv_conf(container).content)

    def _user_networks(self, container):
        """Rows of the user-defined bridge networks in the container's settings."""
        rows = []
        for name in (container.network_settings.get("Networks") or {}):
            row = next((r for r in self._rows if r.name == name), None)
            if row is not None and row.driver == DRIVER and not row.record.default:
                rows.append(row)
        return rows

    def _resolv_conf(self, container):
        hc = container.host_config
        return resolvconf.container_resolv_conf(
            _read(HOST_RESOLV_CONF),
            dns=hc.get("Dns") or [str(s) for s in self._config.dns],
            dns_search=hc.get("DnsSearch") or list(self._config.dns_search),
            dns_options=hc.get("DnsOptions") or list(self._config.dns_opts),
            embedded_dns=bool(self._user_networks(container)) and not network_mode(container).startswith("container:"))

    def _host_gateway(self):
        default = self.default_network()
        return default.record.gateway if default else ""

    def _extra_hosts(self, container):
        return [hosts.parse_extra_host(text, self._host_gateway())
                for text in container.host_config.get("ExtraHosts") or []]

    def _extra_hosts_text(self, container):
        return "".join(f"{ip}\t{name}\n" for name, ip in self._extra_hosts(container))

    def _hosts_text(self, container):
        config = container.config
        attachment = self._attached.get(container.id)
        ips = [e.ip_address for e in attachment.endpoints.values() if e.ip_address] if attachment else []
        return hosts.hosts_file(config.get("Hostname") or container.id[:12], ips,
                                config.get("Domainname") or "", self._extra_hosts(container),
                                self._links(container))

    def _links(self, container):
        """Legacy ``--link name:alias`` entries: (ip, [alias, name, short id])."""
        return [(ip, list(dict.fromkeys([alias, other.name, other.id[:12]])))
                for alias, other, ip in self._linked(container)]

    def _linked(self, container):
        """``[(alias, container, ip)]`` of the container's running legacy links."""
        found = []
        for text in container.host_config.get("Links") or []:
            name, alias = parse_link(text)
            try:
                other = self._engine.containers.get(name)
            except NotFound:
                continue
            attachment = self._attached.get(other.id)
            ip = next(iter(attachment.endpoints.values())).ip_address if attachment and attachment.endpoints else ""
            if ip:
                found.append((alias, other, ip))
        return found

    def link_env(self, container):
        """The environment of the container's legacy links (``ALIAS_PORT_80_TCP``...),
        which its own variables override."""
        env = []
        for alias, other, ip in self._linked(container):
            exposed = [*(other.config.get("ExposedPorts") or {}), *(other.host_config.get("PortBindings") or {})]
            env += linkenv.link_env(alias, container.name, ip, exposed, other.config.get("Env") or [])
        return env

    # -- start and stop ------------------------------------------------------

    def hook(self, container):
        """``f(pid) -> Deferred`` connecting the container's namespace; None when
        it has none of its own (host, container: modes). A ``none`` container
        only gets its loopback up, as Docker's do. A host or none container is
        listed on its network from here on (``network inspect host``)."""
        mode = network_mode(container)
        if mode.startswith("container:"):
            return None
        networks = container.network_settings.get("Networks") or {}
        builtin = next((name for name in networks if name in BUILTIN), None)
        if builtin is not None:
            self._attach_builtin(container, self.find(builtin))
        if mode == "host":
            return None
        if builtin is not None or self._driver is None:
            return lambda pid: self._engine.run_blocking(netns.loopback_up, pid)
        return lambda pid: self._attach(container, pid)

    def _attach_builtin(self, container, row):
        """An endpoint without addresses on ``host`` or ``none``, as Docker gives one."""
        attachment = self._attached[container.id] = _Attachment(container, None)
        endpoint = Endpoint(endpoint_id=new_id(), network_id=row.id, ip_address="", prefix_len=0,
                            gateway="", mac_address="", host_veth="", container_ifname="",
                            bridge="", netns="")
        attachment.endpoints[row.id] = endpoint
        settings.connected(container.network_settings["Networks"][row.name], endpoint)
        self._publish("connect", row, container)

    @defer.inlineCallbacks
    def _attach(self, container, pid):
        yield self._settled()  # a restart may want the address its last run had
        attachment = _Attachment(container, pid)
        self._attached[container.id] = attachment
        # The embedded DNS needs the namespace only: it is set up beside the joins.
        outcomes = yield defer.DeferredList(
            [self._join_all(attachment), self._ensure_dns(attachment)], consumeErrors=True)
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
            yield self._join(attachment, self.find(name), specs if index == 0 else ())

    @defer.inlineCallbacks
    def _join(self, attachment, row, specs):
        """Connect one network (worker thread) and record the endpoint."""
        container = attachment.container
        if row.driver != DRIVER:
            raise InvalidParameter(f"container cannot be connected to network {row.name}")
        network_settings = container.network_settings
        endpoint_settings = network_settings["Networks"].get(row.name) or settings.endpoint_settings(row.id, {})
        address, mac = settings.check_endpoint_config(row.name, endpoint_settings)
        aliases = list(endpoint_settings.get("Aliases") or [])
        endpoint = yield self._engine.run_blocking(
            self._driver.connect, row.id, new_id(), attachment.pid, address or None, mac or None,
            aliases, list(specs))
        attachment.endpoints[row.id] = endpoint
        record = row.record
        short_id = container.id[:12]
        dns_names = None if record.default else list(dict.fromkeys([container.name, *aliases, short_id]))
        network_settings["Networks"][row.name] = connected = settings.connected(
            dict(endpoint_settings, NetworkID=row.id), endpoint, dns_names)
        if not record.default:  # API 1.44 and older list the short id among the aliases
            connected["Aliases"] = list(dict.fromkeys([*aliases, short_id]))
        if record.default:
            settings.top_level(network_settings, endpoint, record.bridge)
        if specs:
            network_settings["Ports"] = settings.ports_document(container.config, container.host_config,
                                                                endpoint.ports)
        network_settings["SandboxID"] = network_settings.get("SandboxID") or new_id()
        self._publish("connect", row, container)

    @defer.inlineCallbacks
    def _ensure_dns(self, attachment):
        """The embedded DNS, once the container is on a user-defined network.
        It serves until the container's release, through disconnects too:
        the DNAT rules in the namespace name its ports, and a new server
        after a reconnect would sit behind the old rules (refused queries)."""
        container = attachment.container
        if attachment.dns is not None or not self._user_networks(container):
            return
        upstream, (udp, tcp) = yield self._engine.run_blocking(
            lambda: (self._upstream(container), dns.open_listeners(attachment.pid)))
        try:
            server = dns.EmbeddedDNS(self._reactor, lambda name: self._lookup(attachment, name),
                                     [(ip, 53) for ip in upstream],
                                     lambda ip: self._reverse(attachment, ip))
            server.serve(udp, tcp)
        finally:
            udp.close()
            tcp.close()
        attachment.dns = server

    def _upstream(self, container):
        """BLOCKING: the resolvers names go to when no container has them;
        none when every network of the container, the default bridge
        included, is internal (Docker forwards nothing without a way out)."""
        names = container.network_settings.get("Networks") or {}
        if all(r.record.internal for r in self._rows if r.name in names and r.driver == DRIVER):
            return []
        return self._resolv_conf(container).upstream

    def _user_endpoints(self, attachment):
        """``[(row, container, Endpoint)]`` on the asker's user networks."""
        return [(row, container, endpoint) for row in self._attached_user_rows(attachment)
                for container, endpoint in self.containers_of(row.id)]

    def _attached_user_rows(self, attachment):
        """Rows of the user networks the asker is connected to now."""
        rows = (next((r for r in self._rows if r.id == network_id), None) for network_id in attachment.endpoints)
        return [r for r in rows if r is not None and r.driver == DRIVER and not r.record.default]

    def _reverse(self, attachment, ip):
        """``name.network`` of the container holding ``ip`` on one of the asker's user networks."""
        return next((f"{container.name}.{row.name}" for row, container, endpoint
                     in self._user_endpoints(attachment) if endpoint.ip_address == ip), None)

    def _lookup(self, attachment, name):
        """Addresses of ``name``, optionally suffixed with a network's name, on
        the asker's user networks: first as an alias of the asker's own links
        on a network (``EndpointSettings.Links``, which only the asker sees),
        then as a container name, network alias or short id (Docker's order)."""
        rows = self._attached_user_rows(attachment)
        links = {row.id: self._link_aliases(attachment.container, row) for row in rows}
        return (self._addresses(rows, name, lambda row, wanted: links[row.id].get(wanted))
                or self._addresses(rows, name, lambda row, wanted: wanted))

    def _addresses(self, rows, name, target):
        """Addresses of the containers that ``target(row, name)`` names on
        each row (``name`` without the row's suffix; None names nothing)."""
        found = []
        for row in rows:
            suffix = "." + row.name.lower()
            wanted = target(row, name[:-len(suffix)] if name.endswith(suffix) else name)
            for container, endpoint in self.containers_of(row.id) if wanted else ():
                if wanted in _dns_names(container, endpoint) and endpoint.ip_address not in found:
                    found.append(endpoint.ip_address)
        return found

    @staticmethod
    def _link_aliases(container, row):
        """``{alias: linked name}`` (lower case) of the container's links on one network."""
        endpoint_settings = (container.network_settings.get("Networks") or {}).get(row.name) or {}
        return {alias.lower(): target.lower()
                for target, alias in map(parse_link, endpoint_settings.get("Links") or [])}

    def _rewrite_hosts(self, container):
        """/etc/hosts again, now that the address is known: made here, written
        by a worker, in place (the file may already be bind-mounted)."""
        path = os.path.join(self._engine.runtime.container_dir(container.id), "hosts")
        return self._engine.run_blocking(_write, path, self._hosts_text(container))

    @defer.inlineCallbacks
    def release(self, container):
        """Disconnect a stopped container; safe to call twice. The driver's
        part (ports, rules, the veth, which the kernel is often deleting with
        the namespace already, the address) goes on after this fires, off the
        path of the container's exit; every later network change and start
        waits for it first (``_settled``), so nothing sees it half done."""
        attachment = self._attached.pop(container.id, None)
        if attachment is not None:
            if attachment.dns is not None:
                yield attachment.dns.stop()
            for network_id, endpoint in attachment.endpoints.items():
                self._settling_add(self._leave(container, network_id, endpoint))
        _forget_addresses(container)

    def _settling_add(self, d):
        self._settling.add(d)
        d.addBoth(lambda _: self._settling.discard(d))

    def _settled(self):
        """Fires once the disconnects that releases left going are done."""
        return defer.DeferredList(list(self._settling))

    @defer.inlineCallbacks
    def _leave(self, container, network_id, endpoint):
        try:
            if endpoint.host_veth:  # not a host or none endpoint
                yield self._engine.run_blocking(self._driver.disconnect, endpoint)
        except NotFound:
            pass
        except Exception as e:  # the container is gone either way; say what was left
            self.log.error("disconnecting {id} from {net}: {e}", id=container.id[:12], net=network_id[:12], e=e)
        row = next((r for r in self._rows if r.id == network_id), None)
        if row is not None:
            self._publish("disconnect", row, container)

    def _publish(self, action, row, container=None):
        attributes = {"name": row.name, "type": row.driver}
        if container is not None:
            attributes["container"] = container.id
        self._engine.events.publish("network", action, row.id, attributes)

    # -- live connect / disconnect ---------------------------------------------

    @defer.inlineCallbacks
    def connect(self, container, ref, endpoint_config):
        """``docker network connect``: at once when running, else at next start."""
        row = self.find(ref)
        mode = network_mode(container)
        if row.name == "host":
            raise Forbidden("container cannot be disconnected from host network or connected to host network")
        if mode == "host" or mode.startswith("container:"):
            raise Forbidden("container sharing network namespace with another container or host "
                            "cannot be connected to any other network")
        if row.driver != DRIVER or mode in BUILTIN or self._disabled_for(container):
            raise Forbidden("container cannot be connected to multiple networks with one of the "
                            "networks in private (none) mode")
        networks = container.network_settings.setdefault("Networks", {})
        if row.name in networks:
            raise Forbidden(f"endpoint with name {container.name} already exists in network {row.name}")
        endpoint_config = dict(endpoint_config or {})
        self._check_endpoint(row, endpoint_config)
        networks[row.name] = settings.endpoint_settings(row.id, endpoint_config)
        attachment = self._attached.get(container.id)
        if attachment is not None:
            yield self._settled()
            try:
                yield self._join(attachment, row, ())
                yield self._ensure_dns(attachment)
                yield self._rewrite_hosts(container)
            except Exception:
                del networks[row.name]
                endpoint = attachment.endpoints.pop(row.id, None)
                if endpoint is not None:
                    yield self._leave(container, row.id, endpoint)
                raise
        yield self._engine.runtime.persist(container)

    @defer.inlineCallbacks
    def disconnect(self, container, ref):
        row = self.find(ref)
        if row.name == "host" and network_mode(container) == "host":
            raise Forbidden("container cannot be disconnected from host network or connected to host network")
        networks = container.network_settings.get("Networks") or {}
        if row.name not in networks:
            raise Forbidden(f"container {container.id} is not connected to network {row.name}")
        attachment = self._attached.get(container.id)
        endpoint = attachment.endpoints.pop(row.id, None) if attachment else None
        if endpoint is not None:
            yield self._leave(container, row.id, endpoint)
            yield self._rewrite_hosts(container)
        del networks[row.name]
        if row.record and row.record.default:
            container.network_settings.update(settings.EMPTY_TOP_LEVEL)
        yield self._engine.runtime.persist(container)

    # -- network management ----------------------------------------------------

    @defer.inlineCallbacks
    def create(self, name, options):
        """A user-defined bridge network (``options`` as INetworkDriver.create_network)."""
        if self._driver is None:
            raise Forbidden("container networking is disabled (--bridge=none): networks cannot be created")
        if any(r.name == name for r in self._rows):
            raise Conflict(f"network with name {name} already exists")
        network_id = new_id()
        yield self._engine.run_blocking(self._driver.create_network, network_id, name, options)
        yield self._refresh()
        row = self.find(network_id)
        self._publish("create", row)
        return row

    @defer.inlineCallbacks
    def remove(self, ref):
        row = self.find(ref)
        if row.name in BUILTIN or (row.record and row.record.default):
            raise Forbidden(f"{row.name} is a pre-defined network and cannot be removed")
        if self.containers_of(row.id):
            raise Forbidden(f"error while removing network: network {row.name} id {row.id} has active endpoints")
        yield self._settled()
        yield self._engine.run_blocking(self._driver.delete_network, row.id)
        yield self._refresh()
        self._publish("destroy", row)


def _dns_names(container, endpoint):
    """The names (lower case) a container answers to on one network."""
    return {container.name.lower(), container.id[:12], *(a.lower() for a in endpoint.aliases)}


def _forget_addresses(container):
    """Clear a container's addresses, keeping its networks (as Docker shows a stopped one)."""
    network_settings = container.network_settings
    if network_settings:
        for endpoint_settings in (network_settings.get("Networks") or {}).values():
            settings.disconnected(endpoint_settings)
        network_settings.update(settings.EMPTY_TOP_LEVEL, Ports={})


def check_endpoints(endpoints_config):
    """``NetworkingConfig.EndpointsConfig`` as a dict of dicts."""
    if endpoints_config is None:
        return {}
    if not isinstance(endpoints_config, dict) or not all(isinstance(v, (dict, type(None)))
                                                         for v in endpoints_config.values()):
        raise InvalidParameter("invalid type for field NetworkingConfig.EndpointsConfig: "
                               "expected an object of endpoint settings")
    return {k: v or {} for k, v in endpoints_config.items()}


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
