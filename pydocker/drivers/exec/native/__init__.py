"""The native exec driver. ``driver``, ``launch`` and ``spawner_client`` run in
the daemon; ``spawner`` is the daemon's one long-lived helper process, which
forks a launcher running ``init`` (with ``linux``, ``rootfs``, ``users``,
``capabilities``) per container start or exec. Those must stay free of heavy
imports (the spawner's memory is paid once per daemon), so this file imports
nothing."""
