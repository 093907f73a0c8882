#!/bin/sh
# Runs the whole suite as root in private mount and network namespaces, so mounts vanish with
# the namespace and all network traffic stays on loopback.
set -e
cd "$(dirname "$0")/.."
exec unshare --mount --net --fork sh -c '
  mount --make-rprivate /
  ip link set lo up
  exec .venv/bin/python -m pytest -ra "$@"
' sh "$@"
