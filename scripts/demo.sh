#!/bin/sh
# The main job: start a daemon on a temporary root, import a busybox image made from the host's
# busybox-static, run containers and show their output, then stop the daemon and clean up.
# It runs in private mount and network namespaces so the demo leaves the host's mounts,
# bridges and iptables rules exactly as it found them.
set -eu
cd "$(dirname "$0")/.."
exec unshare --mount --net --fork sh -c '
  mount --make-rprivate /
  ip link set lo up
  exec .venv/bin/python scripts/demo.py
'
