"""What a killed daemon leaves in its data root that no record owns, removed at start.

Every file under ``<data-root>/tmp`` is scratch of one daemon run (pull download
spools ``pydocker-pull-*``, upload and load spools), and an image layer's
tar-split record is staged beside the records until its layer is stored. A crash
mid-pull leaves them behind for good; the next start, before any job runs, is
the one moment nobody is writing them.
"""

import os
import shutil

from twisted.logger import Logger

from pydocker.images import tarsplit

log = Logger()


def scratch_dir(data_root):
    return os.path.join(data_root, "tmp")


def remove_scratch(data_root):
    """Empty ``<data-root>/tmp`` and drop staged tar-split records (blocking, at start)."""
    removed = 0
    directory = scratch_dir(data_root)
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)
        removed += 1
    removed += tarsplit.remove_staging(os.path.join(data_root, "image", "tarsplit"))
    if removed:
        log.info("removed {n} partial download(s) and scratch file(s) a previous run left", n=removed)
