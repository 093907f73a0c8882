"""The layer store: images and their layers on the graph driver, recorded in the store.

The "graph" service of the daemon's tree. Reactor thread: it hands the driver's
blocking calls to the worker pool and the records to the db thread. At start it
removes the layers a crash left without a record; at stop it lets the driver clean up.
"""

import os
import time

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from pydocker.images import config as imgconfig
from pydocker.images import ids
from pydocker.images.layers import register_layer
from pydocker.images.tarsplit import ChunkReader, LayerSplits
from pydocker.registry.digest import VerifyingReader
from pydocker.store import images as q


class LayerStore(service.Service):
    name = "graph"
    log = Logger()

    def __init__(self, workers, db, graph, events, data_root):
        self._workers = workers
        self.db = db
        self.graph = graph      # the graph driver (IGraphDriver)
        self._events = events
        self.splits = LayerSplits(os.path.join(data_root, "image", "tarsplit"))

    def startService(self):
        super().startService()
        return self.sweep_orphans()

    @defer.inlineCallbacks
    def stopService(self):
        yield self._workers.run(self.graph.cleanup)
        yield super().stopService()

    @defer.inlineCallbacks
    def sweep_orphans(self):
        """Remove graph-driver layers no record knows (a crash between making a layer and
        recording it). Run at start, before the API listens: a layer a running job is making
        has no record yet and would look orphaned. Returns the removed ids."""
        known = yield self.db.run(q.known_cache_ids)
        present = yield self._workers.run(self.graph.ids)
        orphans = [layer_id for layer_id in present if layer_id not in known]
        for layer_id in orphans:
            try:
                yield self._workers.run(self.graph.remove, layer_id)
                self.log.info("removed orphan layer {id}", id=layer_id)
            except Exception as e:
                self.log.warn("removing orphan layer {id} failed: {e}", id=layer_id, e=e)
        return orphans

    @defer.inlineCallbacks
    def add_layer(self, parent_chain_id, stream, expected_diff_id=None, decompress=True):
        """``apply_layer`` from the reactor: the stored LayerRow."""
        stored, _ours = yield self._workers.run(
            self.apply_layer, parent_chain_id, stream, expected_diff_id, decompress)
        return stored

    def apply_layer(self, parent_chain_id, stream, expected_diff_id=None, decompress=True,
                    verified=False):
        """Apply ``stream`` on top of ``parent_chain_id`` into a fresh driver layer, recording
        its tar-split, and record the layer at once (so the next one can build on it).
        Blocking: a worker thread (import, load, commit through ``add_layer``; a pull's target
        directly). ``decompress=False``: the stream is already a plain tar; ``verified=True``:
        it already hashed to ``expected_diff_id`` (see ``register_layer``). On any failure
        (e.g. a DigestMismatch at the stream's end) nothing of it stays (``register_layer``).
        Returns (stored LayerRow, whether it is this call's: identical content already stored
        wins and the new copy is dropped)."""
        parent = self.db.run_from_worker(q.get_layer, parent_chain_id) if parent_chain_id else None
        cache_id, diff_id, size = register_layer(
            self.graph, self.splits, parent.cache_id if parent else None, stream,
            expected_diff_id, decompress, verified)
        return self._record(parent_chain_id, cache_id, diff_id, size)

    @defer.inlineCallbacks
    def record_layer(self, parent_chain_id, cache_id, diff_id, size):
        """Record driver layer ``cache_id`` (written in place: a build step), from the reactor;
        identical content already stored wins (ours goes). Returns the stored LayerRow."""
        stored, _ours = yield self._workers.run(self._record, parent_chain_id, cache_id, diff_id, size)
        return stored

    def _record(self, parent_chain_id, cache_id, diff_id, size):
        """Blocking: record driver layer ``cache_id``; (stored LayerRow, whether it is ours)."""
        layer = q.LayerRow(ids.chain_id(parent_chain_id, diff_id), diff_id, parent_chain_id, cache_id, size)
        stored = self.db.run_from_worker(q.insert_layer, layer)
        if stored.cache_id != cache_id:
            self.graph.remove(cache_id)
            return stored, False
        return stored, True

    @defer.inlineCallbacks
    def release(self, chain_ids):
        """Drop the layers of ``chain_ids`` (registered by a load or a commit, parent first)
        that no image ended up using."""
        def release(conn):
            freed = []
            for chain in reversed(chain_ids):
                freed.extend(q.release_chain(conn, chain))
            return freed
        yield self.free_layers((yield self.db.run(release)))

    @defer.inlineCallbacks
    def free_layers(self, freed):
        """Remove what the store no longer records (``freed``: LayerRows from ``release_chain`` or
        ``delete_image``): their driver layers, and the tar-splits of diff IDs no layer has now."""
        for layer in freed:
            yield self._workers.run(self.graph.remove, layer.cache_id)
        splits = self.splits

        def drop_unused_splits(conn):
            # On the db thread, so no layer of the same content is recorded in between.
            for diff_id in q.unused_diff_ids(conn, {layer.diff_id for layer in freed}):
                splits.remove(diff_id)

        if freed:
            yield self.db.run(drop_unused_splits)

    def original_tar_opener(self, row, parent):
        """A function opening the layer's original tar: rebuilt from its tar-split when one was
        recorded, else the driver's diff. Either way it is verified against the diff ID before
        anything is read to the end, so a registry or a saved tarball never gets a layer that
        does not match the config."""
        graph, splits = self.graph, self.splits

        def open_tar():
            if splits.has(row.diff_id):
                root = graph.get(row.cache_id)
                source = ChunkReader(splits.assemble(row.diff_id, root), lambda: graph.put(row.cache_id))
                what = f"layer {row.diff_id} rebuilt from its tar-split"
            else:
                source = graph.diff(row.cache_id, parent.cache_id if parent else None)
                what = (f"layer {row.diff_id} (no tar-split was recorded for it and the graph "
                        f"driver's diff does not reproduce its original tar)")
            return _ClosingReader(source, row.diff_id, what)
        return open_tar

    @defer.inlineCallbacks
    def store_image(self, config, top_layer, parent=None, ref=None):
        """Record an image config (exact bytes) and optionally tag it; returns the image ID."""
        raw = imgconfig.serialize(config)
        image = q.ImageRow(ids.image_id(raw), raw, top_layer, parent, time.time_ns())

        def record(conn):
            q.insert_image(conn, image)
            if ref is not None:
                q.tag(conn, ref, image.id)

        yield self.db.run(record)
        self._events.publish("image", "import" if parent is None else "commit", image.id,
                              {"name": ref.familiar() if ref else image.id})
        if ref is not None:
            self._events.publish("image", "tag", image.id, {"name": ref.familiar()})
        return image.id


class _ClosingReader(VerifyingReader):
    """A verified reader that also closes its source (releasing a mount)."""

    def close(self):
        if not self.closed:
            close = getattr(self._stream, "close", None)
            if close:
                close()
        super().close()
