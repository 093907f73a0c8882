"""overlay2: layers stacked by the kernel's overlay filesystem.

On-disk layout (Docker's overlay2)::

    <home>/l/<SHORT>        -> ../<id>/diff   short names keep mount options small
    <home>/<id>/diff/       the layer's own changes (overlay whiteouts inside)
    <home>/<id>/link        SHORT
    <home>/<id>/lower       l/SHORT1:l/SHORT2:...  parent first (absent for a base layer)
    <home>/<id>/work/       overlay's scratch dir
    <home>/<id>/merged/     the mount point

A layer's ``diff/`` dir *is* its diff, so diff/changes/apply_diff need no
mounts.  Lower dirs are given as paths relative to ``<home>`` when the
absolute option string would not fit in one page; the mount is then done by
mount(8) run in ``<home>`` (the daemon's cwd is shared by all its threads and
must not move, and a fork from a worker thread is not safe).
"""

import errno
import os
import secrets
import shutil
import subprocess

from zope.interface import implementer

from pydocker.archive import OVERLAY, apply_layer, changes, tar_directory
from pydocker.errdefs import Conflict, InvalidParameter, NotFound, PrerequisiteMissing, SystemError_
from pydocker.userns import ownership

from .interfaces import IGraphDriver
from .layerid import check_layer_id
from .mount import fs_name, is_mountpoint, mount, nearest_existing, unmount
from .options import check_known
from .refcount import RefCounts

MAX_LOWERS = 128
_SHORT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SHORT_LENGTH = 26
_UNSUPPORTED_BACKING = {"overlayfs", "aufs", "zfs", "ecryptfs", "nfs", "fuse"}
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PROBE_PREFIX = "probe-"


def kernel_supports_overlay():
    """True if overlay is in /proc/filesystems, loading the module once if needed."""
    def listed():
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == "overlay" for line in f if line.strip())
    if listed():
        return True
    subprocess.run(["modprobe", "overlay"], capture_output=True)
    return listed()


@implementer(IGraphDriver)
class OverlayDriver:
    name = "overlay2"

    def __init__(self, home, options, idmap=None):
        check_known(self.name, options, ())
        if not kernel_supports_overlay():
            raise PrerequisiteMissing("overlay2: the kernel does not support the overlay filesystem")
        self.home = home
        self.idmap = idmap
        self.backing_fs = fs_name(nearest_existing(home))
        if self.backing_fs in _UNSUPPORTED_BACKING:
            raise PrerequisiteMissing(f"overlay2: cannot use {home}: it is on {self.backing_fs}, "
                                      f"which cannot be an overlay upper layer")
        ownership.traversable_dir(home, idmap)
        os.makedirs(os.path.join(home, "l"), mode=0o700, exist_ok=True)
        self._probe_mount()
        self._refs = RefCounts()

    def _probe_mount(self):
        """Mount a tiny overlay once: the only sure test that this host and backing fs can."""
        probe = os.path.join(self.home, _PROBE_PREFIX + secrets.token_hex(4))
        try:
            for part in ("lower", "upper", "work", "merged"):
                os.makedirs(os.path.join(probe, part))
            mount("overlay", os.path.join(probe, "merged"), "overlay",
                  data=f"lowerdir={probe}/lower,upperdir={probe}/upper,workdir={probe}/work")
            unmount(os.path.join(probe, "merged"))
        except OSError as e:
            raise PrerequisiteMissing(f"overlay2: cannot mount overlay on {self.backing_fs} at {self.home}: "
                                      f"{e.strerror}") from None
        finally:
            shutil.rmtree(probe, ignore_errors=True)

    # paths

    def _dir(self, id, *parts):
        return os.path.join(self.home, check_layer_id(id), *parts)

    def _lowers(self, id):
        """The layer's lower entries, 'l/SHORT', parent first; [] for a base layer."""
        try:
            with open(self._dir(id, "lower")) as f:
                return [entry for entry in f.read().strip().split(":") if entry]
        except FileNotFoundError:
            return []

    def _lower_dirs(self, id):
        return [os.path.realpath(os.path.join(self.home, entry)) for entry in self._lowers(id)]

    # IGraphDriver

    def status(self):
        return [("Backing Filesystem", self.backing_fs), ("Supports d_type", "true"),
                ("Native Overlay Diff", "true"), ("userxattr", "false")]

    def metadata(self, id):
        self._check_exists(id)
        data = {"UpperDir": self._dir(id, "diff")}
        lowers = self._lower_dirs(id)
        if lowers:
            data.update(LowerDir=":".join(lowers), WorkDir=self._dir(id, "work"), MergedDir=self._dir(id, "merged"))
        return data

    def cleanup(self):
        for id in self._refs.active():
            unmount(self._dir(id, "merged"))
            self._refs.drop(id)

    def create(self, id, parent=None):
        layer = self._dir(id)
        if os.path.lexists(layer):
            raise Conflict(f"overlay2: layer {id} already exists")
        lowers = []
        if parent is not None:
            self._check_exists(parent)
            lowers = self._parent_link(parent) + self._lowers(parent)
            if len(lowers) > MAX_LOWERS:
                raise InvalidParameter(f"overlay2: layer {id} would have {len(lowers)} lower layers; "
                                       f"the maximum is {MAX_LOWERS}")
        os.mkdir(layer, 0o700)
        try:
            ownership.traversable_dir(layer, self.idmap)
            self._populate(id, lowers)
        except BaseException:
            self.remove(id)
            raise

    create_rw = create

    def _parent_link(self, parent):
        with open(self._dir(parent, "link")) as f:
            return ["l/" + f.read().strip()]

    def _populate(self, id, lowers):
        self._make_diff_dir(id)
        short = "".join(secrets.choice(_SHORT_ALPHABET) for _ in range(_SHORT_LENGTH))
        os.symlink(os.path.join("..", id, "diff"), os.path.join(self.home, "l", short))
        _write(self._dir(id, "link"), short)
        if lowers:
            _write(self._dir(id, "lower"), ":".join(lowers))
            for part in ("work", "merged"):
                os.mkdir(self._dir(id, part), 0o700)
                ownership.owned_by_root(self._dir(id, part), self.idmap)

    def _make_diff_dir(self, id):
        """The layer's root directory: it belongs to the (remapped) root."""
        os.mkdir(self._dir(id, "diff"), 0o755)
        ownership.owned_by_root(self._dir(id, "diff"), self.idmap)

    def remove(self, id):
        layer = self._dir(id)
        self._refs.drop(id)
        unmount(os.path.join(layer, "merged"))
        try:
            with open(os.path.join(layer, "link")) as f:
                os.unlink(os.path.join(self.home, "l", f.read().strip()))
        except (FileNotFoundError, ValueError):
            pass
        shutil.rmtree(layer, ignore_errors=True)

    def get(self, id):
        self._check_exists(id)
        lowers = self._lowers(id)
        if not lowers:
            self._refs.increment(id)
            return self._dir(id, "diff")
        merged = self._dir(id, "merged")
        if self._refs.increment(id) == 1 and not is_mountpoint(merged):
            try:
                self._mount(id, lowers)
            except OSError as e:
                self._refs.decrement(id)
                raise SystemError_(f"overlay2: cannot mount layer {id}: {e}") from None
        return merged

    def _mount(self, id, lowers):
        absolute = (f"lowerdir={':'.join(os.path.join(self.home, entry) for entry in lowers)},"
                    f"upperdir={self._dir(id, 'diff')},workdir={self._dir(id, 'work')}")
        if len(absolute) < _PAGE:
            mount("overlay", self._dir(id, "merged"), "overlay", data=absolute)
            return
        relative = f"lowerdir={':'.join(lowers)},upperdir={id}/diff,workdir={id}/work"
        if len(relative) >= _PAGE:
            raise OSError(errno.E2BIG, "overlay mount options do not fit in a page")
        _mount_from(self.home, f"{id}/merged", relative)

    def put(self, id):
        if self._refs.decrement(id) == 0 and self._lowers(id):
            unmount(self._dir(id, "merged"))

    def exists(self, id):
        return os.path.isdir(self._dir(id, "diff"))

    def ids(self):
        with os.scandir(self.home) as entries:
            return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)
                          and e.name != "l" and not e.name.startswith(_PROBE_PREFIX))

    def _check_exists(self, id):
        if not self.exists(id):
            raise NotFound(f"overlay2: no such layer {id}")

    # the native differ: a layer's diff dir is its diff

    def diff(self, id, parent=None):
        self._check_exists(id)
        return tar_directory(self._dir(id, "diff"), OVERLAY, idmap=self.idmap)

    def changes(self, id, parent=None):
        self._check_exists(id)
        return changes(self._dir(id, "diff"), self._lower_dirs(id), OVERLAY)

    def apply_diff(self, id, parent, stream):
        self._check_exists(id)
        diff = self._dir(id, "diff")
        try:
            return apply_layer(diff, stream, OVERLAY, idmap=self.idmap)
        except BaseException:
            shutil.rmtree(diff)  # never leave a half layer behind
            self._make_diff_dir(id)
            raise

    def diff_size(self, id, parent=None):
        self._check_exists(id)
        seen = set()
        total = 0
        for dirpath, _, filenames in os.walk(self._dir(id, "diff")):
            for name in filenames:
                st = os.lstat(os.path.join(dirpath, name))
                if (st.st_dev, st.st_ino) not in seen and not OVERLAY.is_whiteout(st):
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_size
        return total


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _mount_from(directory, target, data):
    """mount(2) with paths relative to ``directory``: by util-linux's mount(8) run there.

    The daemon's own cwd is shared by all its threads, and ``os.fork()`` from a worker
    thread of a threaded process may copy locks another thread holds; a spawned
    command has a cwd of its own and execs at once. This path is taken only when the
    absolute lower dirs do not fit in a page (images with scores of layers)."""
    proc = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", data, target], cwd=directory,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise OSError(errno.EIO, f"mount overlay on {target}: {proc.stderr.strip() or proc.returncode}")
