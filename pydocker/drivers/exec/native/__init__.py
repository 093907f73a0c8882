"""The native exec driver. ``driver`` runs in the daemon; ``init`` (with
``linux``, ``rootfs``, ``users``, ``capabilities``) runs as the per-container
helper and must stay free of heavy imports, so this file imports nothing."""
