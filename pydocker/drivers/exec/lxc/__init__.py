"""The lxc exec driver (``pydocker -d -e lxc``): the same ``ContainerSpec`` as the
native driver, run by LXC's tools. ``config`` writes LXC's configuration,
``inroot`` checks the container's filesystem from the host, ``hooks`` is the
start/stop handshake, ``seccomp`` the profile translation, ``process`` the
tool processes, ``driver`` the ``IExecDriver``."""
