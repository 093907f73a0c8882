#!/bin/sh
# The unit tests need no root: run tests/unit as the unprivileged user nobody (uid 65534, no
# groups, no capabilities) on a root-owned copy of the tree, with a HOME that does not exist
# and read-only empty /tmp, /var/tmp and /dev/shm (TMPDIR, where tmp_path lives, is the one
# place nobody may write), so a unit test that needs root or writes outside its tmp_path
# fails here. Run as root (it sets up a private mount namespace; nothing is left behind):
#
#   sh scripts/test-unit-nonroot.sh [pytest args]
#
# The venv's interpreter and packages may live where nobody cannot reach them (a pyenv under
# /root, which is 0700): they are bind-mounted, read-only, into a tmpfs nobody can reach.
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ "$(id -u)" = 0 ] || { echo "$0: run as root (it switches to nobody itself)" >&2; exit 2; }
[ -x "$PY" ] || { echo "$0: no $PY; run make venv first" >&2; exit 2; }
BASE=$($PY -c 'import os, sys; print(os.path.realpath(sys.base_prefix))')
SITE=$($PY -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
EXE=$($PY -c 'import os, sys; print(os.path.basename(os.path.realpath(sys.executable)))')
T=$(mktemp -d /run/pydocker-unit-nonroot.XXXXXX)
trap 'rmdir "$T"' EXIT
git ls-files -co --exclude-standard | unshare --mount sh -c '
  set -eu
  T=$1 BASE=$2 SITE=$3 EXE=$4
  shift 4
  mount --make-rprivate /
  mount -t tmpfs -o mode=755 tmpfs "$T"
  mkdir "$T/src" "$T/python" "$T/site" "$T/scratch"
  tar -cf - -T - | tar -xf - -C "$T/src"
  chown 65534:65534 "$T/scratch"
  mount --bind -o ro "$BASE" "$T/python"
  mount --bind -o ro "$SITE" "$T/site"
  for shared in /tmp /var/tmp /dev/shm; do
    mount -t tmpfs -o ro,mode=755 tmpfs "$shared"
  done
  cd "$T/src"
  exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    env -i PATH=/usr/bin:/bin HOME=/nonexistent TMPDIR="$T/scratch" LANG=C.UTF-8 \
        PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$T/src:$T/site" LD_LIBRARY_PATH="$T/python/lib" \
    "$T/python/bin/$EXE" -m pytest -p no:cacheprovider -q tests/unit "$@"
' sh "$T" "$BASE" "$SITE" "$EXE" "$@"
