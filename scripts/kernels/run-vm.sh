#!/bin/sh
# run-vm.sh IMAGEDIR SRC JOB OUT [CGROUP]: boots IMAGEDIR's kernel under QEMU's software
# emulation (TCG; this host's /dev/kvm cannot run Debian's kernels) on a snapshot of its
# root.img, with SRC's working tree (tracked and untracked files, not ignored ones) as
# /src/pydocker and JOB as /job/run.sh, and cgroup v2 only (CGROUP=2, default) or the v1
# controllers (1). The guest has no network card. Its console is printed; what the job writes
# under /out lands in OUT; the exit status is the job's (125 if the VM never reported one).
# PDVM_TIMEOUT (seconds, default 3600), PDVM_CPUS, PDVM_MEM and PDVM_APPEND adjust the VM.
set -eu
img=$1; src=$2; job=$3; out=$4; cgroup=${5:-2}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/job"
cp "$job" "$work/job/run.sh"
(cd "$src" && git ls-files -co --exclude-standard -z |
    tar --null -T - -cf "$work/src.tar" --transform 's,^,src/pydocker/,')
tar -rf "$work/src.tar" -C "$work" job
truncate -s 256M "$work/out.img"
rm -f "$out/rc"
timeout "${PDVM_TIMEOUT:-3600}" qemu-system-x86_64 -accel tcg -cpu max \
    -smp "${PDVM_CPUS:-2}" -m "${PDVM_MEM:-4G}" \
    -display none -no-reboot -nodefaults -serial stdio -nic none \
    -kernel "$img/vmlinuz" -initrd "$img/initrd" \
    -append "root=/dev/vda rw console=ttyS0 init=/sbin/pdvm-init quiet loglevel=3 panic=-1 pdvm.cgroup=$cgroup ${PDVM_APPEND:-}" \
    -drive file="$img/root.img",format=raw,if=virtio,snapshot=on \
    -drive file="$work/src.tar",format=raw,if=virtio,readonly=on \
    -drive file="$work/out.img",format=raw,if=virtio < /dev/null || true
tar -xf "$work/out.img" -C "$out" 2>/dev/null || true
exit "$(cat "$out/rc" 2>/dev/null || echo 125)"
