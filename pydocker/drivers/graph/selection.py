"""Finding, checking and choosing graph drivers.

Drivers are entry points in the ``pydocker.graphdrivers`` group (built-ins
are registered the same way), each checked with ``verifyClass`` when loaded.
An explicit choice wins; otherwise the first of :data:`PRIORITY` whose
prerequisites the host meets.  The driver that initialised a data root is
remembered as ``<root>/image/<driver>/`` (Docker's layout), and a restart
with a different driver is refused: its layers would be invisible.
"""

import os

from pydocker.drivers import plugins
from pydocker.errdefs import InvalidParameter, PrerequisiteMissing

from .interfaces import IGraphDriver

ENTRY_POINT_GROUP = "pydocker.graphdrivers"
ALIASES = {"overlay": "overlay2"}
PRIORITY = ("btrfs", "overlay2", "vfs")
# --storage-opt keys belong to the driver their prefix names ("dm.basesize" -> devicemapper).
OPTION_PREFIXES = {"devicemapper": "dm.", "overlay2": "overlay2.", "btrfs": "btrfs.", "vfs": "vfs."}


def canonical_name(name):
    return ALIASES.get(name, name)


def entry_points():
    """{driver name: entry point} of every installed graph driver."""
    return plugins.available(ENTRY_POINT_GROUP)


def load_driver_class(name):
    """The class of driver ``name`` (aliases accepted), checked against IGraphDriver."""
    return plugins.load(ENTRY_POINT_GROUP, canonical_name(name), IGraphDriver, "storage driver")


def driver_options(name, options):
    """The subset of ``options`` for driver ``name``; a key meant for no driver in use is refused."""
    prefix = OPTION_PREFIXES.get(name, name + ".")
    foreign = sorted(key for key in options if not key.startswith(prefix))
    if foreign:
        raise InvalidParameter(f"storage option(s) {', '.join(foreign)} do not apply to the {name} driver")
    return dict(options)


def previous_driver(root):
    """The driver that initialised data root ``root``, or None for a fresh root."""
    try:
        names = sorted(n for n in os.listdir(os.path.join(root, "image")) if n in entry_points())
    except FileNotFoundError:
        return None
    if len(names) > 1:
        raise InvalidParameter(f"{root} holds data of several storage drivers ({', '.join(names)}); "
                               f"clean it up or choose one with -s")
    return names[0] if names else None


def new_driver(root, name=None, options=None, idmap=None):
    """Construct the graph driver for data root ``root``.

    ``name`` is the ``-s`` choice (None: pick one); ``options`` the
    ``--storage-opt`` keys; ``idmap`` the ``--userns-remap`` mapping.
    Raises PrerequisiteMissing if an explicit driver cannot run here,
    InvalidParameter if ``root`` was initialised by another driver.
    """
    options = dict(options or {})
    previous = previous_driver(root)
    name = canonical_name(name) if name else None
    if name and previous and name != previous:
        raise InvalidParameter(f"{root} was initialised by the {previous} storage driver, not {name}: "
                               f"delete the data root or pass -s {previous}")
    name = name or previous
    if name:
        driver = _construct(name, root, options, idmap)
    else:
        driver = _first_usable(root, options, idmap)
    os.makedirs(os.path.join(root, "image", driver.name), mode=0o700, exist_ok=True)
    return driver


def _construct(name, root, options, idmap=None):
    cls = load_driver_class(name)
    home, options = os.path.join(root, name), driver_options(name, options)
    if idmap is None:
        return cls(home, options)
    try:
        return cls(home, options, idmap=idmap)
    except TypeError as e:
        if "idmap" not in str(e):
            raise
        raise PrerequisiteMissing(f"the {name} storage driver does not support --userns-remap") from None


def _first_usable(root, options, idmap=None):
    missing = []
    for name in PRIORITY:
        if any(not key.startswith(OPTION_PREFIXES.get(name, name + ".")) for key in options):
            missing.append(f"{name}: storage options are for another driver")
            continue
        try:
            return _construct(name, root, options, idmap)
        except PrerequisiteMissing as e:
            missing.append(str(e))
    raise PrerequisiteMissing("no usable storage driver: " + "; ".join(missing))
