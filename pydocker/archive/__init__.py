"""Layer archives: safe extraction, layer tars and change lists.

A library: no Twisted, no engine.  Graph drivers and the image/layer code
call these from worker threads.
"""

from .apply import apply_layer
from .changes import Change, ChangeKind, changes, changes_size
from .pack import TarStream, diff_tar, tar_directory
from .whiteouts import NAIVE, OVERLAY, IWhiteoutFormat, whiteout_format

__all__ = [
    "apply_layer", "Change", "ChangeKind", "changes", "changes_size", "TarStream", "diff_tar",
    "tar_directory", "NAIVE", "OVERLAY", "IWhiteoutFormat", "whiteout_format",
]
