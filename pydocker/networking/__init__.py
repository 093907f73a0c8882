"""Container networking on the daemon's side: the NetworkService (networks,
endpoints, addresses), the drivers it loads per network, a new container's
network settings (``modes``, ``settings``) and each container's sandbox
(hosts, resolv.conf, link environment, embedded DNS). The kernel work is the
drivers' (``pydocker.drivers.network``)."""
