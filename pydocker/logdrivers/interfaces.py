"""The seam for log drivers."""

from zope.interface import Attribute, Interface


class ILogDriver(Interface):
    """Receives a container's output. Constructed without arguments; one instance serves
    every container."""

    name = Attribute("The driver's name, as in --log-driver.")
    readable = Attribute("True when ``docker logs`` can read back what it wrote.")

    def validate(options):
        """Check --log-opt keys and values; raise InvalidParameter naming a bad one."""

    def open(container, log_path, options):
        """A writer for one run of ``container``: ``write(stream, data)``, ``close()``;
        readable drivers' writers also offer ``follow(callback)``."""
