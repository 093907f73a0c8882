"""The graph driver seam: how layers are stored, stacked and diffed.

Modelled on Docker's ``graphdriver.Driver`` (ProtoDriver + Differ).  A
driver is constructed as ``Driver(home, options)``: ``home`` is its own
directory under the data root, ``options`` its own ``--storage-opt`` keys.
The constructor raises ``PrerequisiteMissing`` when the host cannot run the
driver and ``InvalidParameter`` for an unknown or bad option.  With
``--userns-remap`` it is called as ``Driver(home, options, idmap=mapping)``
(a ``pydocker.userns.IdentityMapping``): layer roots then belong to the
remapped root, ``apply_diff`` shifts owners to host ids and ``diff`` back;
a driver without the keyword cannot serve a remapped daemon.  All methods
block; callers run them in a worker thread.
"""

from zope.interface import Attribute, Interface


class IGraphDriver(Interface):
    name = Attribute("The driver's name, e.g. 'overlay2' (what `docker info` shows).")
    home = Attribute("The driver's own directory.")

    def status():
        """A list of (key, value) string pairs for `docker info`'s DriverStatus."""

    def metadata(id):
        """A dict of driver-specific facts about layer ``id`` (GraphDriver.Data)."""

    def cleanup():
        """Unmount everything the driver mounted; called at daemon shutdown."""

    def create(id, parent=None):
        """Make read-only layer ``id`` on top of ``parent`` (None for a base layer).

        Raises Conflict if ``id`` exists, NotFound if ``parent`` does not."""

    def create_rw(id, parent=None):
        """Make a container's read-write layer ``id`` on top of ``parent``."""

    def remove(id):
        """Delete layer ``id``; removing a missing layer is not an error."""

    def get(id):
        """Mount (if needed) and return the path of layer ``id``'s root filesystem.

        Reference-counted: every get() must be paired with a put().  Raises
        NotFound for an unknown layer."""

    def put(id):
        """Release one get() of ``id``; the last release unmounts."""

    def exists(id):
        """True if layer ``id`` exists."""

    def ids():
        """The ids of every layer the driver holds, half-made ones included.

        The daemon compares them with its records at start and removes the
        layers nobody knows (what a crash between create and record left)."""

    def diff(id, parent=None):
        """A readable file object of the layer tar of ``id``'s changes over ``parent``."""

    def changes(id, parent=None):
        """The list of ``pydocker.archive.Change`` of ``id`` over ``parent``."""

    def apply_diff(id, parent, stream):
        """Extract the layer tar ``stream`` into ``id`` (created on ``parent``); returns bytes applied.

        On bad input it raises InvalidParameter and leaves ``id`` as it was
        before the call (empty on top of ``parent``): never a half layer."""

    def diff_size(id, parent=None):
        """The size in bytes of ``id``'s changes over ``parent``."""
