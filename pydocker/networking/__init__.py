"""Container networking on the daemon's side: the NetworkService (networks,
endpoints, addresses), the drivers it loads per network, and each
container's sandbox (hosts, resolv.conf, link environment, embedded DNS).
The kernel work is the drivers' (``pydocker.drivers.network``)."""
