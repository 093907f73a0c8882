#!/bin/sh
# The main job: start a daemon on a temporary root, import a busybox image made from the host's
# busybox-static, run a container and show its output, then stop the daemon and clean up.
set -eu
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pydocker.demo "$@"
