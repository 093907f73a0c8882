"""The registry client's IPullTarget on our layer store.

A pull runs on a worker thread; the graph driver is called right here (it blocks), the
database only through ``db.run`` on its own thread (``blockingCallFromThread``).
Each applied layer is recorded at once so the next layer can build on it, and listed in
``created`` so a pull that fails later can release them (no layer without an image stays).
"""

from twisted.internet.threads import blockingCallFromThread
from zope.interface import implementer

from pydocker.images.layers import register_layer
from pydocker.registry import IPullTarget
from pydocker.store import images as q


@implementer(IPullTarget)
class LayerStoreTarget:
    def __init__(self, layers, reactor):
        self._layers = layers  # the LayerStore
        self._reactor = reactor
        self.created = []  # LayerRows this pull added, parent first

    def _db(self, f, *args):
        return blockingCallFromThread(self._reactor, self._layers.db.run, f, *args)

    def has_image(self, image_id):
        return self._db(q.get_image, image_id) is not None

    def has_layer(self, layer):
        return self._db(q.get_layer, layer.chain_id) is not None

    def apply_layer(self, layer, stream):
        """Apply into a fresh driver layer, recording its tar-split (register_layer removes
        both on any failure, e.g. the stream's DigestMismatch at its end). The registry
        client already decompressed the blob, so the tar is taken as it comes."""
        graph = self._layers.graph
        parent = self._db(q.get_layer, layer.parent_chain_id) if layer.parent_chain_id else None
        cache_id, diff_id, size = register_layer(
            graph, self._layers.splits, parent.cache_id if parent else None, stream, layer.diff_id,
            decompress=False)
        row = q.LayerRow(layer.chain_id, diff_id, layer.parent_chain_id, cache_id, size)
        stored = self._db(q.insert_layer, row)
        if stored.cache_id != cache_id:  # another pull stored the same layer meanwhile
            graph.remove(cache_id)
        else:
            self.created.append(stored)
