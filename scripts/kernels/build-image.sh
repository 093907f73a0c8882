#!/bin/sh
# build-image.sh OUTDIR SRC [SUITE]: builds a Debian SUITE root filesystem with mmdebstrap as
# OUTDIR/root.img (ext4) with its kernel and initrd beside it (OUTDIR/vmlinuz, OUTDIR/initrd).
# It holds the packages in ./packages, guest-init as /sbin/pdvm-init, the host's docker CLI and a
# venv at /opt/venv with SRC installed editable at /src/pydocker (the VM replaces that tree with
# the one under test at boot; only setup.cfg/pyproject.toml matter here).
set -eu
out=$1; src=$(cd "$2" && pwd); suite=${3:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
rm -rf "$out/root"
(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf "$out/src.tar")
packages=$(grep -v '^#' "$here/packages" | paste -sd, -)
# The initramfs only needs to find a virtio disk with ext4 on it.
mmdebstrap --variant=minbase --components=main --include="$packages" \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo MODULES=list > "$1/etc/initramfs-tools/conf.d/pdvm"; printf "virtio_pci\nvirtio_blk\next4\n" >> "$1/etc/initramfs-tools/modules"' \
    --customize-hook="install -m 755 '$here/guest-init' \"\$1/sbin/pdvm-init\"" \
    --customize-hook='if [ -x /usr/local/bin/docker ]; then cp /usr/local/bin/docker "$1/usr/local/bin/docker"; fi' \
    --customize-hook="mkdir -p \"\$1/src/pydocker\"; tar -xf '$out/src.tar' -C \"\$1/src/pydocker\"" \
    --customize-hook='cp /etc/ssl/certs/ca-certificates.crt "$1/tmp/host-ca.crt"' \
    --customize-hook='chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PIP_CERT=/tmp/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 sh -ec "python3 -m venv /opt/venv; /opt/venv/bin/pip install -q --upgrade pip; /opt/venv/bin/pip install -q -e \"/src/pydocker[test]\"; rm -f /tmp/host-ca.crt"' \
    "$suite" "$out/root"
rm -f "$out/src.tar"
cp "$out"/root/boot/vmlinuz-* "$out/vmlinuz"
cp "$out"/root/boot/initrd.img-* "$out/initrd"
rm -f "$out/root.img"
mkfs.ext4 -q -L pdroot -d "$out/root" "$out/root.img" 4G
rm -rf "$out/root"
