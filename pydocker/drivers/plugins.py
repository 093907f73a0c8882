"""Loading driver classes from entry points, checked against their interface.

Every driver kind (graph, exec, network) is an entry-point group; built-in
drivers are registered the same way in setup.cfg, so a plugin is a package
that declares an entry point in the right group.
"""

import importlib.metadata

from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyClass

from pydocker.errdefs import InvalidParameter, SystemError_


def available(group):
    """{name: entry point} of every installed driver of ``group``."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}


def load(group, name, interface, kind="driver"):
    """The class of driver ``name`` in ``group``, verified to provide ``interface``."""
    found = available(group)
    if name not in found:
        raise InvalidParameter(f"unknown {kind} {name!r} (available: {', '.join(sorted(found))})")
    try:
        cls = found[name].load()
        verifyClass(interface, cls)
    except (ImportError, AttributeError, Invalid) as e:
        raise SystemError_(f"{kind} plugin {name!r} ({found[name].value}) is broken: {e}") from None
    return cls
