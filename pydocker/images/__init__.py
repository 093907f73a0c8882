"""Images and layers: identities, layer registration, image configs, save/load formats.

Blocking code for worker threads; the database side lives in ``pydocker.store.images``.
"""
