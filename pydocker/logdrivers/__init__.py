"""Log drivers: where a container's output goes (entry-point group ``pydocker.logdrivers``)."""
