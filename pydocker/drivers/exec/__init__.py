"""Exec drivers: turn a ``spec.ContainerSpec`` into a running, isolated process.

``interfaces`` holds the seams (``IExecDriver``, ``IContainerIO``), ``spec``
the plain data the jobs layer fills in, ``cgroups`` the v1/v2 resource code,
and ``native`` the built-in driver (namespaces, mounts, capabilities, seccomp
through its own init helper). Nothing here knows about jobs or HTTP.
"""
