"""The seams of the network layer.

``INetworkDriver`` is what the daemon calls (from worker threads: it blocks);
``IAllocationStore`` is what the driver persists through (the daemon's SQLite
store implements it; ``memstore`` is the in-memory one); ``IPortProxy`` is the
userland proxy the daemon runs on its reactor.
"""

from zope.interface import Attribute, Interface


class INetworkDriver(Interface):
    """A network driver, constructed as ``Driver(config, store, proxy=None)``."""

    name = Attribute("The driver's name, as registered in pydocker.networkdrivers")
    default_network_id = Attribute("Id of the daemon's default network (after setup)")

    def setup():
        """Create or adopt the default bridge, install our iptables chains and
        rebuild the rules of every stored network and endpoint. Idempotent."""

    def teardown():
        """Remove what setup and connect made: bridges we created, our chains
        and rules, running proxies; endpoints still connected are disconnected
        first. Network records stay in the store."""

    def create_network(network_id, name, options=None):
        """Create a user-defined network; ``options`` is a dict with ``subnet``,
        ``gateway``, ``ip_range``, ``internal``, ``labels`` and ``options``
        (driver options such as ``com.docker.network.bridge.name``).
        Returns its NetworkRecord."""

    def delete_network(network_id):
        """Delete a user-defined network that has no endpoints."""

    def networks():
        """All NetworkRecords, the default one included."""

    def connect(network_id, endpoint_id, netns_ref, requested_ip=None, mac=None,
                aliases=(), ports=()):
        """Attach the network namespace ``netns_ref`` (a pid or a path) and publish
        ``ports`` (PortSpecs). Returns an Endpoint. Fails whole: on error
        nothing of the endpoint is left."""

    def disconnect(endpoint):
        """Undo connect: ports, veth, rules, IP. Tolerates a vanished netns."""

    def endpoints():
        """All connected Endpoints."""

    def cleanup_stale(live_endpoint_ids):
        """After a crash: remove endpoints, veths, rules and allocations not
        owned by one of ``live_endpoint_ids``."""


class IAllocationStore(Interface):
    """Persistence of networks, endpoints and IP allocations."""

    def allocations(network_id):
        """``{ip: owner}`` of the addresses taken in a network."""

    def add_endpoint(endpoint):
        """Record an Endpoint and take its address (owned by the endpoint) in
        one transaction; raise Conflict when the address is already taken."""

    def remove_endpoint(endpoint):
        """Forget an Endpoint and release its address in one transaction (no
        error when absent)."""

    def release(network_id, ip):
        """Forget an allocation (no error when absent)."""

    def list_networks():
        """All NetworkRecords."""

    def save_network(record):
        """Insert or replace a NetworkRecord."""

    def delete_network(network_id):
        """Forget a network, its endpoints and its allocations."""

    def list_endpoints():
        """All Endpoints."""


class IPortProxy(Interface):
    """Userland forwarding of a host port to a container. Called from worker
    threads; raises Conflict when the host port cannot be bound."""

    def start(binding, container_ip):
        """Forward ``binding.host_ip:binding.host_port`` to the container."""

    def stop(binding):
        """Stop forwarding (no error when not running)."""

    def stop_all():
        """Stop every forwarder."""
