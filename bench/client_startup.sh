#!/bin/sh
# Start-up time of `pydocker version` against a live daemon, beside the floor
# (the interpreter doing nothing) and Docker's own CLI against the same daemon.
#
#   bench/client_startup.sh [unix:///path/to/daemon.sock]
#
# With no argument it starts Docker's dockerd in private mount and network
# namespaces on a temporary data root, measures against it, and stops it.
# Needs hyperfine; run as root for the dockerd case.
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RUNS=${RUNS:-40}

# Bytecode must exist, or every run would compile the client afresh.
env -u PYTHONDONTWRITEBYTECODE $PY -m compileall -q pydocker/__init__.py pydocker/__main__.py \
    pydocker/client >/dev/null

cleanup() { :; }
HOST=${1:-}
if [ -z "$HOST" ]; then
    command -v dockerd >/dev/null || { echo "dockerd not installed; pass a socket" >&2; exit 2; }
    TMP=$(mktemp -d /tmp/pydocker-client-bench.XXXXXX)
    unshare --mount --net --fork sh -c '
        mount --make-rprivate /
        ip link set lo up
        exec dockerd --data-root "$1/root" --exec-root "$1/exec" --pidfile "$1/pid" \
            -H "unix://$1/sock" --bridge=none --iptables=false --ip6tables=false \
            --cgroup-parent=/pydocker-client-bench' sh "$TMP" >"$TMP/log" 2>&1 &
    DPID=$!
    cleanup() {
        # unshare --fork ignores SIGTERM while it waits, so stop dockerd itself.
        [ -f "$TMP/pid" ] && kill "$(cat "$TMP/pid")" 2>/dev/null || true
        wait "$DPID" 2>/dev/null || true
        for d in /sys/fs/cgroup/*/pydocker-client-bench /sys/fs/cgroup/pydocker-client-bench; do
            [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
        done
        rm -rf "$TMP"
    }
    trap cleanup EXIT INT TERM
    HOST="unix://$TMP/sock"
    i=0
    until [ -S "$TMP/sock" ] && docker -H "$HOST" version >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 100 ] || { cat "$TMP/log" >&2; exit 1; }; sleep 0.2
    done
fi

set -- "$PY -c pass" "$PY -m pydocker -H $HOST version" ".venv/bin/pydocker -H $HOST version"
if command -v docker >/dev/null; then
    set -- "$@" "docker -H $HOST version"
fi
mkdir -p bench/results
hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown bench/results/client_startup.md "$@"
