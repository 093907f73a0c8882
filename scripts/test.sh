#!/bin/sh
# Runs the whole suite as root in private mount and network namespaces, so mounts vanish with
# the namespace and all network traffic stays on loopback. Each test directory runs in its own
# pytest process: Twisted's reactor cannot be restarted, and the kernel-level suites each run one.
# Extra arguments go to every pytest run. The last line sums up all runs (but for the unit tests'
# second run, as the user nobody, which says its own result: scripts/test-unit-nonroot.sh).
set -e
cd "$(dirname "$0")/.."
exec unshare --mount --net --fork sh -c '
  mount --make-rprivate /
  ip link set lo up
  results=$(mktemp -d)
  status=0
  for dir in unit store archive graph exec kernels network registry client integration; do
    [ -d "tests/$dir" ] || continue
    echo "== tests/$dir"
    .venv/bin/python -m pytest -ra -p no:cacheprovider --timeout=600 \
        --junitxml="$results/$dir.xml" "tests/$dir" "$@" || status=1
    if [ "$dir" = unit ]; then
      echo "== tests/unit as nobody"
      sh scripts/test-unit-nonroot.sh "$@" || status=1
    fi
  done
  .venv/bin/python scripts/summarize_junit.py "$results"/*.xml
  rm -rf "$results"
  exit $status
' sh "$@"
