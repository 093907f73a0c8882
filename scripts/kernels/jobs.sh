# What make test-kernels runs inside the guest, from the source tree (/src/pydocker): the
# devicemapper conformance suite, tests/exec and the daemon checks of tests/kernels, each
# writing its JUnit XML under /out. Per-test timeouts allow for a 25x slower guest. The
# image has gcc for the escape tests' static racer: its absence is a failure here, not a skip.
export PYDOCKER_TEST_RACER=required
status=0
for job in "graph -k devicemapper" exec kernels; do
    set -- $job
    name=$1
    shift
    echo "== tests/$name $*"
    .venv/bin/python -m pytest -ra -p no:cacheprovider --timeout=3600 \
        --junitxml="/out/$name.xml" "tests/$name" "$@" || status=1
done
exit $status
