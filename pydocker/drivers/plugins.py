"""Loading driver classes from entry points, checked against their interface.

Every driver kind (graph, exec, network) is an entry-point group; built-in
drivers are registered the same way in setup.cfg, so a plugin is a package
that declares an entry point in the right group.
"""

import configparser
import importlib.metadata
import os

from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyClass

from pydocker.errdefs import InvalidParameter, PrerequisiteMissing, SystemError_


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


SOURCE_SETUP_CFG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "setup.cfg")


def check_installed(setup_cfg=SOURCE_SETUP_CFG):
    """Refuse to start when pydocker runs from a source tree whose setup.cfg declares
    drivers that the installed metadata lacks: an editable install made before setup.cfg
    changed keeps the old entry points, and the daemon would otherwise start without
    them (a built-in network driver "not installed", ``--net=none`` a 404). Installed
    as a package (no setup.cfg beside it) the metadata is all there is to go by."""
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(setup_cfg) or not parser.has_section("options.entry_points"):
        return
    stale = []
    for group, text in parser.items("options.entry_points"):
        if not group.startswith("pydocker."):
            continue
        installed = {name: ep.value for name, ep in available(group).items()}
        for line in text.strip().splitlines():
            name, _, value = (part.strip() for part in line.partition("="))
            if installed.get(name) != value:
                stale.append(f"{group} {name}")
    if stale:
        root = os.path.dirname(setup_cfg)
        raise PrerequisiteMissing(
            f"pydocker's installed entry points are older than {setup_cfg} (missing or "
            f"different: {', '.join(stale)}): a stale install. Re-install it with the Python "
            f"that runs the daemon: `python -m pip install -e {root}` (or `make venv` there)")
