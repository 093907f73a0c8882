"""The network drivers: the bridge driver (pyroute2 for bridges, raw
rtnetlink for each connect, iptables), its IP and port allocation, its
write-behind store, the userland proxy and embedded DNS (the only
reactor-aware modules), and the generators of a container's resolv.conf,
hosts, hostname and legacy link environment.

Everything except ``proxy`` and ``dns`` is blocking code that the daemon calls
from worker threads.
"""
