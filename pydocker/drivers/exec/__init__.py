"""Exec drivers: turn a ``spec.ContainerSpec`` into a running, isolated process.

``interfaces`` holds the seams (``IExecDriver``, ``IContainerIO``), ``spec``
the plain data the jobs layer fills in, ``cgroups`` the v1/v2 resource code,
``stdio`` the daemon-side ends of a container's stdio; ``native`` is the
built-in driver (namespaces, mounts, capabilities, seccomp through its own
spawner and launchers) and ``lxc`` the same spec run by LXC's tools, sharing the cgroup,
stdio and validation code. Nothing here knows about jobs or HTTP.
"""
