"""Graph drivers: how image and container layers are stored and stacked.

``interfaces.IGraphDriver`` is the seam; ``registry.new_driver`` finds and
chooses a driver; the built-ins are ``vfs``, ``overlay``, ``btrfs`` and
``devmapper``, with ``naive`` giving diffs to those that keep full copies.
"""
