"""Layers that are plain directories used in place (vfs, btrfs): nothing is
mounted, so ``get`` only checks and counts a reference and ``put`` drops it."""

import os

from pydocker.errdefs import NotFound


class DirectoryLayers:
    """A mixin for a graph driver with ``name``, ``_dir(id)`` (the layer's
    directory) and ``_refs`` (a ``RefCounts``)."""

    def metadata(self, id):
        self._check_exists(id)
        return {}

    def cleanup(self):
        pass  # nothing is mounted

    def get(self, id):
        self._check_exists(id)
        self._refs.increment(id)
        return self._dir(id)

    def put(self, id):
        self._refs.decrement(id)

    def exists(self, id):
        return os.path.isdir(self._dir(id))

    def _check_exists(self, id):
        if not self.exists(id):
            raise NotFound(f"{self.name}: no such layer {id}")
