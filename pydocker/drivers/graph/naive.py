"""Diffs for drivers whose layers are full copies (vfs, btrfs, devicemapper).

Such a driver has no record of what a layer changed, so — like Docker's
NaiveDiffDriver — the differ mounts the layer and its parent and compares
the two trees.  Mix :class:`NaiveDiffer` into a driver that implements the
rest of :class:`~.interfaces.IGraphDriver`.
"""

from pydocker.archive import NAIVE, apply_layer, changes, changes_size, diff_tar, tar_directory


class NaiveDiffer:
    # The --userns-remap mapping that shifts owners; a driver constructed with one sets it.
    idmap = None

    def diff(self, id, parent=None):
        layer = self.get(id)
        try:
            if parent is None:
                stream = tar_directory(layer, NAIVE, idmap=self.idmap)
            else:
                found = self._changes_against(layer, parent)
                stream = diff_tar(found, layer, NAIVE, idmap=self.idmap)
        except BaseException:
            self.put(id)
            raise
        return _ReleasingStream(stream, lambda: self.put(id))

    def changes(self, id, parent=None):
        layer = self.get(id)
        try:
            return self._changes_against(layer, parent)
        finally:
            self.put(id)

    def diff_size(self, id, parent=None):
        layer = self.get(id)
        try:
            return changes_size(self._changes_against(layer, parent), layer)
        finally:
            self.put(id)

    def apply_diff(self, id, parent, stream):
        layer = self.get(id)
        try:
            size = apply_layer(layer, stream, NAIVE, idmap=self.idmap)
        except BaseException:
            self.put(id)
            self._discard(id, parent)
            raise
        self.put(id)
        return size

    def _discard(self, id, parent):
        """Replace a half-applied layer by a fresh one on the same parent."""
        self.remove(id)
        self.create(id, parent)

    def _changes_against(self, layer, parent):
        if parent is None:
            return changes(layer, None, NAIVE)
        parent_root = self.get(parent)
        try:
            return changes(layer, parent_root, NAIVE)
        finally:
            self.put(parent)


class _ReleasingStream:
    """A layer tar stream that releases the layer's mount when closed."""

    def __init__(self, stream, release):
        self._stream = stream
        self._release = release

    def read(self, size=-1):
        return self._stream.read(size)

    def readinto(self, buf):
        return self._stream.readinto(buf)

    def close(self):
        if self._release is not None:
            self._stream.close()
            release, self._release = self._release, None
            release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
