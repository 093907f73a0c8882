#!/bin/sh
# make test-kernels: boots a Debian kernel under QEMU (software emulation) and runs
# jobs.sh in it: devicemapper's conformance suite, tests/exec and tests/kernels.
#   KERNEL_SUITE  Debian release whose kernel and userland the guest runs: bookworm (6.1,
#                 default) or trixie (6.12)
#   CGROUP        2: cgroup v2 only (default); 1: the v1 controllers plus a cgroup2 mount
#                 (refused for a kernel without v1's memory controller, as trixie's)
#   PDVM_CACHE    where guest images are kept (default /var/cache/pydocker-kernels), one per
#                 suite and hash of what goes into it, so a reused machine builds it once
#   PDVM_OUT      where the JUnit XML comes back (default build/test-kernels)
# Exits with the tests' status; the last line sums up the runs.
set -eu
cd "$(dirname "$0")/../.."
here=scripts/kernels
suite=${KERNEL_SUITE:-bookworm}
cgroup=${CGROUP:-2}
cache=${PDVM_CACHE:-/var/cache/pydocker-kernels}
out=${PDVM_OUT:-$PWD/build/test-kernels}
key=$({ cat "$here/build-image.sh" "$here/guest-init" "$here/packages" setup.cfg pyproject.toml
        echo "$suite"; [ ! -f /usr/local/bin/docker ] || cat /usr/local/bin/docker; } | sha256sum | cut -c1-16)
image=$cache/$suite-$key
if [ ! -f "$image/root.img" ]; then
    echo "test-kernels: building the $suite guest image in $image"
    mkdir -p "$cache"
    rm -rf "$cache/$suite-"*
    nice sh "$here/build-image.sh" "$image.part" . "$suite"
    mv "$image.part" "$image"
fi
# Debian's 6.12 (trixie) is built without the cgroup v1 memory and cpuset controllers
# (CONFIG_MEMCG_V1, CONFIG_CPUSETS_V1): a v1 layout there has no memory hierarchy, which the
# daemon refuses and every limit needs. Say so instead of booting a run that cannot pass.
if [ "$cgroup" = 1 ]; then
    config=$(debugfs -R "ls -p /boot" "$image/root.img" 2>/dev/null |
             awk -F/ '$6 ~ /^config-/ {print $6; exit}')
    if debugfs -R "cat /boot/$config" "$image/root.img" 2>/dev/null |
            grep -qx '# CONFIG_MEMCG_V1 is not set'; then
        echo "test-kernels: the $suite kernel has no cgroup v1 memory controller" \
             "(CONFIG_MEMCG_V1 is not set): CGROUP=1 needs another, e.g. KERNEL_SUITE=bookworm" >&2
        exit 2
    fi
fi
rm -rf "$out"
echo "test-kernels: $suite kernel, cgroup v$cgroup"
status=0
nice sh "$here/run-vm.sh" "$image" . "$here/jobs.sh" "$out" "$cgroup" || status=$?
if ls "$out"/*.xml > /dev/null 2>&1; then
    echo "test-kernels: $suite kernel, cgroup v$cgroup, results:"
    printf "kernels: "
    .venv/bin/python scripts/summarize_junit.py "$out"/*.xml
else
    echo "test-kernels ($suite, cgroup v$cgroup): no results came back (status $status)"
    [ "$status" -ne 0 ] || status=1
fi
exit $status
