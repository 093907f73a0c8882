"""vfs: every layer is a plain directory holding a full copy of its parent.

Slow and space-hungry, but works on any filesystem; the fallback when
nothing better is available.  Copies keep owners, modes, times, xattrs,
hard links and holes; ``--reflink=auto`` makes them cheap on filesystems
that share extents (btrfs, xfs).
"""

import os
import shutil
import subprocess

from zope.interface import implementer

from pydocker.errdefs import Conflict, NotFound, SystemError_
from pydocker.userns import ownership

from .dirlayers import DirectoryLayers
from .interfaces import IGraphDriver
from .layerid import check_layer_id
from .naive import NaiveDiffer
from .options import check_known
from .refcount import RefCounts


def copy_tree(source, dest):
    """Copy the contents of ``source`` into the existing directory ``dest``, preserving everything."""
    result = subprocess.run(["cp", "-a", "--reflink=auto", "--sparse=always", "--", source + "/.", dest],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemError_(f"copying layer {source} to {dest} failed: {result.stderr.strip()}")


@implementer(IGraphDriver)
class VFSDriver(DirectoryLayers, NaiveDiffer):
    name = "vfs"

    def __init__(self, home, options, idmap=None):
        check_known(self.name, options, ())
        self.home = home
        self.idmap = idmap
        for path in (home, os.path.join(home, "dir"), os.path.join(home, "staging")):
            ownership.traversable_dir(path, idmap)
        self._refs = RefCounts()

    def _dir(self, id):
        return os.path.join(self.home, "dir", check_layer_id(id))

    def status(self):
        return []

    def create(self, id, parent=None):
        path = self._dir(id)
        if os.path.lexists(path):
            raise Conflict(f"vfs: layer {id} already exists")
        if parent is not None and not self.exists(parent):
            raise NotFound(f"vfs: parent layer {parent} of {id} does not exist")
        # Staged outside dir/: a suffixed name there could be another layer's id ("<id>-init").
        staging = os.path.join(self.home, "staging", id)
        shutil.rmtree(staging, ignore_errors=True)
        os.mkdir(staging, 0o755)
        ownership.owned_by_root(staging, self.idmap)
        try:
            if parent is not None:
                copy_tree(self._dir(parent), staging)
            os.rename(staging, path)  # a crash mid-copy never leaves a layer that looks whole
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    create_rw = create

    def remove(self, id):
        self._refs.drop(id)
        shutil.rmtree(self._dir(id), ignore_errors=True)

    def ids(self):
        return _subdirectories(os.path.join(self.home, "dir"))


def _subdirectories(path):
    with os.scandir(path) as entries:
        return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
