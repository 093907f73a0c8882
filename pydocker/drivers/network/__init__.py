"""The network drivers: the bridge driver (pyroute2 + iptables), its IP and
port allocation, the userland proxy and embedded DNS (the only reactor-aware
modules), and the generators of a container's resolv.conf, hosts and hostname.

Everything except ``proxy`` and ``dns`` is blocking code that the daemon calls
from worker threads.
"""
