"""The seam for volume drivers (entry-point group ``pydocker.volumedrivers``)."""

from zope.interface import Attribute, Interface


class IVolumeDriver(Interface):
    """Holds the data of volumes. Constructed as ``Driver(root)``; blocking methods."""

    name = Attribute("The driver's name, e.g. 'local'.")

    def create(name, options):
        """Make the volume; return its mount point (a host directory). Bad options: InvalidParameter."""

    def remove(name):
        """Delete the volume's data."""

    def mount(name, options):
        """Make the data reachable at the mount point (e.g. mount a device); return the path."""

    def unmount(name):
        """Undo ``mount`` when the last container using the volume stops."""
