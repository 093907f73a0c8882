"""User-namespace remapping (``--userns-remap``), as dockerd does it.

``idmap``: the container-to-host id ranges and the shifts they imply;
``subids``: /etc/subuid and /etc/subgid; ``remap``: what the flag names
(``default`` makes the ``dockremap`` user) turned into a mapping;
``ownership``: directories the remapped root must own or traverse.
A library: no Twisted, no engine.
"""

from .idmap import IdentityMapping, IdRange
from .remap import load_remapping

__all__ = ["IdentityMapping", "IdRange", "load_remapping"]
