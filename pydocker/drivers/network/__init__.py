"""The network drivers (``INetworkDriver``): bridge (pyroute2 for bridges,
raw rtnetlink for each connect, iptables, published ports), host and null;
the userland proxy and embedded DNS (the only reactor-aware modules); and
the generators of a container's resolv.conf, hosts, hostname and legacy
link environment, which ``pydocker.networking`` uses.

Everything except ``proxy`` and ``dns`` is blocking code that the daemon calls
from worker threads.
"""
