"""Layer archives: safe extraction, layer tars and change lists.

A library: no Twisted, no engine.  Graph drivers and the image/layer code
call these from worker threads.
"""

from .apply import apply_layer
from .changes import Change, ChangeKind, changes, changes_size
from .copy import path_stat, read_path, write_path
from .pack import PipeStream, TarStream, diff_tar, tar_directory, tar_path
from .whiteouts import NAIVE, OVERLAY, IWhiteoutFormat, whiteout_format

__all__ = [
    "apply_layer", "Change", "ChangeKind", "changes", "changes_size", "PipeStream", "TarStream", "diff_tar",
    "tar_directory", "tar_path", "path_stat", "read_path", "write_path", "NAIVE", "OVERLAY", "IWhiteoutFormat", "whiteout_format",
]
