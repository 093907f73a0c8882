"""A container's side of its networks: the files the runtime bind-mounts
(hostname, /etc/hosts, resolv.conf), the environment of its legacy links and
its embedded DNS server with the names it answers.

What it reads (networks, endpoints) is the NetworkService's, through
``view``: ``network_named``, ``default_network``, ``endpoints_of`` and
``containers_of``. Its own state, each running container's DNS server,
belongs to the reactor thread; host files are read and container files
written by worker threads, from text made on the reactor.
"""

import os

from twisted.internet import defer

from pydocker.containers.links import parse_link
from pydocker.drivers.network import dns
from pydocker.errdefs import NotFound
from pydocker.networking import bindfile, hosts, linkenv, resolvconf

HOST_RESOLV_CONF = "/etc/resolv.conf"
HOST_HOSTS = "/etc/hosts"


def network_mode(container):
    return container.host_config.get("NetworkMode") or "default"


class Sandboxes:
    def __init__(self, reactor, workers, config, containers, view):
        self._reactor = reactor
        self._workers = workers
        self._config = config
        self._containers = containers
        self._view = view
        self._dns = {}  # container id -> its EmbeddedDNS

    # -- files ---------------------------------------------------------------

    def write_files(self, container, directory):
        """hostname, hosts and resolv.conf in ``directory``, for the runtime to bind-mount."""
        hostname = container.config.get("Hostname") or container.id[:12]
        if network_mode(container) == "host":
            return self._workers.run(_write_host_files, directory, hostname, self._extra_hosts_text(container))
        return self._workers.run(_write_files, directory, hostname, self._hosts_text(container),
                                 self._resolv_options(container))

    def rewrite_hosts(self, container, directory):
        """/etc/hosts again once the addresses are known, in place (it may be
        bind-mounted already: ``bindfile``); a host-mode container keeps the host's."""
        if network_mode(container) == "host":
            return defer.succeed(None)
        return self._workers.run(bindfile.rewrite, os.path.join(directory, "hosts"), self._hosts_text(container))

    def _user_networks(self, container):
        """The user-defined networks in the container's settings."""
        found = (self._view.network_named(name) for name in container.network_settings.get("Networks") or {})
        return [n for n in found if n is not None and not n.default]

    def _resolv_options(self, container):
        hc = container.host_config
        return dict(dns=hc.get("Dns") or [str(s) for s in self._config.dns],
                    dns_search=hc.get("DnsSearch") or list(self._config.dns_search),
                    dns_options=hc.get("DnsOptions") or list(self._config.dns_opts),
                    embedded_dns=bool(self._user_networks(container))
                    and not network_mode(container).startswith("container:"))

    def _extra_hosts(self, container):
        default = self._view.default_network()
        gateway = default.gateway if default else ""
        return [hosts.parse_extra_host(text, gateway) for text in container.host_config.get("ExtraHosts") or []]

    def _extra_hosts_text(self, container):
        return "".join(f"{ip}\t{name}\n" for name, ip in self._extra_hosts(container))

    def _hosts_text(self, container):
        config = container.config
        ips = [e.ip_address for e in self._view.endpoints_of(container.id).values() if e.ip_address]
        links = [(ip, list(dict.fromkeys([alias, other.name, other.id[:12]])))
                 for alias, other, ip in self._linked(container)]
        return hosts.hosts_file(config.get("Hostname") or container.id[:12], ips,
                                config.get("Domainname") or "", self._extra_hosts(container), links)

    # -- legacy links ----------------------------------------------------------

    def _linked(self, container):
        """``[(alias, container, ip)]`` of the container's running legacy links."""
        found = []
        for text in container.host_config.get("Links") or []:
            name, alias = parse_link(text)
            try:
                other = self._containers.get(name)
            except NotFound:
                continue
            ip = next((e.ip_address for e in self._view.endpoints_of(other.id).values()), "")
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

    # -- embedded DNS -----------------------------------------------------------

    @defer.inlineCallbacks
    def ensure_dns(self, container, pid):
        """The embedded DNS, once the container is on a user-defined network.
        It serves until ``stop_dns`` at the container's release, through
        disconnects too: the DNAT rules in the namespace name its ports, and a
        new server after a reconnect would sit behind the old rules (refused
        queries)."""
        if container.id in self._dns or not self._user_networks(container):
            return
        self._dns[container.id] = None  # taken: a concurrent connect waits for no second one
        try:
            upstream, (udp, tcp) = yield self._workers.run(
                _upstream_and_listeners, self._resolv_options(container), self._forwards(container), pid)
            try:
                server = dns.EmbeddedDNS(self._reactor, lambda name: self._lookup(container, name),
                                         [(ip, 53) for ip in upstream], lambda ip: self._reverse(container, ip))
                server.serve(udp, tcp)
            finally:
                udp.close()
                tcp.close()
        except Exception:
            self._dns.pop(container.id, None)
            raise
        if container.id in self._dns:
            self._dns[container.id] = server
        else:  # released meanwhile
            yield server.stop()

    def stop_dns(self, container):
        server = self._dns.pop(container.id, None)
        return server.stop() if server is not None else defer.succeed(None)

    def _forwards(self, container):
        """Whether names no container has go upstream: not when every network
        of the container, the default bridge included, is internal (Docker
        forwards nothing without a way out)."""
        found = (self._view.network_named(name) for name in container.network_settings.get("Networks") or {})
        return not all(n.internal for n in found if n is not None and n.subnet)

    def _user_endpoints(self, container):
        """``[(network, container, Endpoint)]`` on the asker's user networks."""
        return [(network, other, endpoint) for network in self._attached_user_networks(container)
                for other, endpoint in self._view.containers_of(network.id)]

    def _attached_user_networks(self, container):
        """The user networks the asker is connected to now."""
        found = (self._view.network(network_id) for network_id in self._view.endpoints_of(container.id))
        return [n for n in found if n is not None and not n.default]

    def _reverse(self, container, ip):
        """``name.network`` of the container holding ``ip`` on one of the asker's user networks."""
        return next((f"{other.name}.{network.name}" for network, other, endpoint
                     in self._user_endpoints(container) if endpoint.ip_address == ip), None)

    def _lookup(self, container, name):
        """Addresses of ``name``, optionally suffixed with a network's name, on
        the asker's user networks: first as an alias of the asker's own links
        on a network (``EndpointSettings.Links``, which only the asker sees),
        then as a container name, network alias or short id (Docker's order)."""
        networks = self._attached_user_networks(container)
        links = {network.id: _link_aliases(container, network) for network in networks}
        return (self._addresses(networks, name, lambda network, wanted: links[network.id].get(wanted))
                or self._addresses(networks, name, lambda network, wanted: wanted))

    def _addresses(self, networks, name, target):
        """Addresses of the containers that ``target(network, name)`` names on
        each network (``name`` without the network's suffix; None names nothing)."""
        found = []
        for network in networks:
            suffix = "." + network.name.lower()
            wanted = target(network, name[:-len(suffix)] if name.endswith(suffix) else name)
            for other, endpoint in self._view.containers_of(network.id) if wanted else ():
                if wanted in _dns_names(other, endpoint) and endpoint.ip_address not in found:
                    found.append(endpoint.ip_address)
        return found


def _link_aliases(container, network):
    """``{alias: linked name}`` (lower case) of the container's links on one network."""
    endpoint_settings = (container.network_settings.get("Networks") or {}).get(network.name) or {}
    return {alias.lower(): target.lower()
            for target, alias in map(parse_link, endpoint_settings.get("Links") or [])}


def _dns_names(container, endpoint):
    """The names (lower case) a container answers to on one network."""
    return {container.name.lower(), container.id[:12], *(a.lower() for a in endpoint.aliases)}


# -- worker-thread parts -------------------------------------------------------------

def _upstream_and_listeners(resolv_options, forwards, pid):
    """The servers unknown names go to, and the DNS listeners in the namespace."""
    upstream = resolvconf.container_resolv_conf(_read(HOST_RESOLV_CONF), **resolv_options).upstream
    return (upstream if forwards else []), dns.open_listeners(pid)


def _write_files(directory, hostname, hosts_text, resolv_options):
    resolv = resolvconf.container_resolv_conf(_read(HOST_RESOLV_CONF), **resolv_options)
    bindfile.rewrite(os.path.join(directory, "hostname"), hosts.hostname_file(hostname))
    bindfile.rewrite(os.path.join(directory, "hosts"), hosts_text)
    bindfile.rewrite(os.path.join(directory, "resolv.conf"), resolv.content)


def _write_host_files(directory, hostname, extra_hosts_text):
    """A host-mode container sees the host's hosts (with its extra hosts) and resolv.conf."""
    bindfile.rewrite(os.path.join(directory, "hostname"), hosts.hostname_file(hostname))
    bindfile.rewrite(os.path.join(directory, "hosts"), _read(HOST_HOSTS) + extra_hosts_text)
    bindfile.rewrite(os.path.join(directory, "resolv.conf"), _read(HOST_RESOLV_CONF))


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


