"""Running containers: their root filesystems, process specs, I/O and the monitor that
follows each one from start to exit (restart policies included)."""
