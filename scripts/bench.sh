#!/bin/sh
# `make bench`: the benchmarks that compare pydocker with Docker's dockerd (README.md,
# "Benchmarks"), one after another, each as root in its own private mount and network
# namespaces as its docstring asks. What each prints goes to the terminal and to
# bench/results/<name>.txt (BENCH_RESULTS=DIR for another place).
#
#   sh scripts/bench.sh                                   # all of them (an hour or more)
#   sh scripts/bench.sh lifecycle.py --runs 3 --skip-ps   # one, with its own options
#
# Figures are only worth comparing on a quiet machine: the load average is printed first.
set -u
cd "$(dirname "$0")/.."
PY=$(pwd)/.venv/bin/python
OUT=${BENCH_RESULTS:-bench/results}
mkdir -p "$OUT"
FAILED=""

# run NAME [ARGS...]: bench/NAME in private namespaces, its output kept in $OUT.
run() {
    name=$1
    shift
    log="$OUT/${name%.*}.txt"
    echo "== bench/$name $*"
    {
        case "$name" in
        *.py) unshare --mount --net --fork sh -c \
                  'mount --make-rprivate /; ip link set lo up; exec "$@"' sh "$PY" "bench/$name" "$@" ;;
        *.sh) sh "bench/$name" "$@" ;;  # it starts dockerd in namespaces of its own
        *) echo "bench: $name is not a bench/ script" >&2; false ;;
        esac
        echo $? >"$log.status"
    } 2>&1 | tee "$log"
    status=$(cat "$log.status")
    rm -f "$log.status"
    [ "$status" = 0 ] || FAILED="$FAILED $name($status)"
    echo "-> $log"
}

[ "$(id -u)" = 0 ] || { echo "bench: run as root (the daemons make namespaces, mounts, bridges)" >&2; exit 2; }
[ -x "$PY" ] || { echo "bench: no $PY; run make venv first" >&2; exit 2; }
command -v dockerd >/dev/null || echo "bench: dockerd not installed: only pydocker's side is measured"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT/"

if [ $# -gt 0 ]; then
    run "$@"
else
    run lifecycle.py
    run io_throughput.py
    run network_run.py --dockerd
    run network_throughput.py
    run pull_push.py --dockerd
    run load_bench.py
    run build.py
    if command -v hyperfine >/dev/null && command -v dockerd >/dev/null; then
        run client_startup.sh
    else
        echo "== bench/client_startup.sh skipped: it needs hyperfine and dockerd"
    fi
fi

if [ -n "$FAILED" ]; then
    echo "bench: failed:$FAILED" >&2
    exit 1
fi
echo "bench: done; results in $OUT/"
