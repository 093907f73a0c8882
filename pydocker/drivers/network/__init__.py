"""The network drivers (``INetworkDriver``): bridge (pyroute2 for bridges,
raw rtnetlink for each connect, iptables, published ports), host and null;
the userland proxy and the embedded DNS server (the only reactor-aware
modules).

Everything except ``proxy`` and ``dns`` is blocking code that the daemon calls
from worker threads.
"""
