"""The seams of the network layer.

``INetworkDriver`` is what the NetworkService calls for the networks of one
driver (``docker network create -d NAME``); drivers are found in the
``pydocker.networkdrivers`` entry-point group, the built-in ``bridge``,
``host`` and ``null`` included, so a third-party driver is a package that
declares an entry point there. ``IPortProxy`` is the userland proxy the
daemon runs on its reactor and hands to drivers that publish ports.
"""

from zope.interface import Attribute, Interface


class INetworkDriver(Interface):
    """A network driver, constructed once per daemon as ``Driver(config, proxy)``:
    ``config`` is the daemon's ``NetworkConfig`` (``-b``, ``--bip``, ``--mtu``
    ...), ``proxy`` an IPortProxy (None without the userland proxy).

    It keeps no records: the NetworkService owns networks, endpoints and
    addresses, hands them in (``Network``, ``Endpoint`` from ``model``) and
    stores what comes back, so what a driver must remember of a network or an
    endpoint goes in its ``data``. Its methods block (netlink, iptables): the
    service calls them from worker threads, several at a time, so a driver
    serialises its own kernel work. Errors are ``pydocker.errdefs`` kinds.
    """

    name = Attribute("The driver's name, as registered in pydocker.networkdrivers")

    def setup(networks, stale_endpoints):
        """At daemon start: make the kernel side of ``networks`` (this
        driver's, as stored) real again and remove what is left of
        ``stale_endpoints`` (their containers died with the last run).
        Returns the networks the driver predefines (``bridge``, ``host``,
        ``none``), made or updated from the stored ones, for the service to
        store; ``[]`` for none."""

    def teardown(networks):
        """At daemon stop, every endpoint already disconnected: remove what
        setup and create_network made in the kernel. Records stay."""

    def create_network(network, existing):
        """Make ``network`` real (id, name, the IPAM fields as asked, labels,
        options, internal); ``existing`` are this driver's other networks.
        Returns it completed (a chosen subnet and gateway, ``data``)."""

    def delete_network(network):
        """Remove a network that has no endpoints."""

    def connect(network, endpoint, netns, ports=()):
        """Attach the network namespace ``netns`` (a pid or a path) with
        ``endpoint`` (its id, the address the service allocated, a requested
        MAC, aliases) and publish ``ports`` (PortSpecs). Returns the Endpoint
        completed (gateway, MAC, PortBindings, ``data``). All or nothing: on
        error nothing of it is left."""

    def disconnect(network, endpoint):
        """Undo connect: ports, interfaces, rules. Tolerates a vanished netns."""


class IPortProxy(Interface):
    """Userland forwarding of a host port to a container. Called from worker
    threads; raises Conflict when the host port cannot be bound."""

    def start(binding, container_ip):
        """Forward ``binding.host_ip:binding.host_port`` to the container."""

    def stop(binding):
        """Stop forwarding (no error when not running)."""

    def stop_all():
        """Stop every forwarder."""
