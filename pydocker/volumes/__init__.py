"""Volumes: the drivers that hold their data, and the mount points containers get."""
