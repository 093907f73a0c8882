"""The graph driver conformance suite, written once and run against every driver.

Docker's ``graphtest`` idea: the behaviour every :class:`IGraphDriver`
must share is tested here, and each driver's test module only says how to
build the driver.  Plugin authors can run it on their own driver::

    import pytest
    from pydocker.testing.graphtest import GraphDriverConformance

    class TestMyDriver(GraphDriverConformance):
        @pytest.fixture
        def driver(self, tmp_path):
            d = MyDriver(str(tmp_path / "mydriver"), {})
            yield d
            d.cleanup()

The tests need root (owners, device nodes, mounts); run them in a private
mount namespace (``unshare --mount``) so a failed test leaves no mounts.
"""

import hashlib
import io
import os
import stat
import tarfile

import pytest
from zope.interface.verify import verifyObject

from pydocker.archive import ChangeKind
from pydocker.drivers.graph.interfaces import IGraphDriver
from pydocker.errdefs import Conflict, InvalidParameter, NotFound


class LayerTar:
    """Builds a layer tar in memory, entry by entry, for tests."""

    def __init__(self, mtime=1_600_000_000):
        self._buf = io.BytesIO()
        self._tar = tarfile.open(fileobj=self._buf, mode="w", format=tarfile.PAX_FORMAT)
        self.mtime = mtime

    def _add(self, name, type, data=None, **attrs):
        info = tarfile.TarInfo(name)
        info.type = type
        info.mtime = self.mtime
        info.mode = attrs.pop("mode", 0o755 if type == tarfile.DIRTYPE else 0o644)
        xattrs = attrs.pop("xattrs", {})
        info.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape") for k, v in xattrs.items()}
        for key, value in attrs.items():
            setattr(info, key, value)
        if data is not None:
            info.size = len(data)
        self._tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return self

    def dir(self, name, **attrs):
        return self._add(name, tarfile.DIRTYPE, **attrs)

    def file(self, name, data=b"", **attrs):
        return self._add(name, tarfile.REGTYPE, data, **attrs)

    def symlink(self, name, target, **attrs):
        return self._add(name, tarfile.SYMTYPE, linkname=target, mode=0o777, **attrs)

    def hardlink(self, name, target, **attrs):
        return self._add(name, tarfile.LNKTYPE, linkname=target, **attrs)

    def fifo(self, name, **attrs):
        return self._add(name, tarfile.FIFOTYPE, **attrs)

    def chardev(self, name, major, minor, **attrs):
        return self._add(name, tarfile.CHRTYPE, devmajor=major, devminor=minor, **attrs)

    def blockdev(self, name, major, minor, **attrs):
        return self._add(name, tarfile.BLKTYPE, devmajor=major, devminor=minor, **attrs)

    def whiteout(self, name):
        parent, _, base = name.rpartition("/")
        return self.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}")

    def opaque(self, directory):
        return self.file(f"{directory}/.wh..wh..opq")

    def bytes(self):
        self._tar.close()
        return self._buf.getvalue()

    def stream(self):
        return io.BytesIO(self.bytes())


def tree_snapshot(root):
    """{relative path: comparable facts} for every entry under ``root``, overlay whiteouts excluded."""
    facts = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                continue
            rel = os.path.relpath(path, root)
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            else:
                content = st.st_rdev
            xattrs = {n: os.getxattr(path, n, follow_symlinks=False) for n in os.listxattr(path, follow_symlinks=False)
                      if not n.startswith("trusted.overlay.")}
            mtime = None if stat.S_ISDIR(st.st_mode) else st.st_mtime_ns // 10**9
            facts[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, content, xattrs,
                          mtime)
    return facts


def base_layer_tar():
    """A small layer with one of each kind of entry."""
    return (LayerTar()
            .dir("etc").file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
            .file("etc/shadow", b"root:*:1::::::\n", mode=0o640, uid=0, gid=42)
            .dir("bin").file("bin/tool", b"\x7fELF" + b"x" * 5000, mode=0o4755)
            .symlink("bin/alias", "tool").hardlink("bin/tool2", "bin/tool")
            .dir("data", mode=0o1777, uid=1000, gid=1000)
            .file("data/owned", b"mine", uid=1000, gid=1001, xattrs={"user.note": b"hello"})
            .file("data/cap", b"ping", xattrs={"security.capability": b"\x01\x00\x00\x02" + b"\x00" * 16})
            .dir("dev").fifo("dev/pipe").chardev("dev/null", 1, 3, mode=0o666)
            .dir("doomed").file("doomed/a", b"a").file("doomed/b", b"b")
            .dir("opaque").file("opaque/old", b"old")
            .dir("keep").file("keep/x", b"x").file("keep/y", b"y"))


def child_layer_tar():
    """Changes on top of :func:`base_layer_tar`: modify, add, delete, make opaque."""
    return (LayerTar(mtime=1_700_000_000)
            .dir("etc").file("etc/passwd", b"root:x:0:0::/root:/bin/sh\nnew:x:5:5::/:/bin/sh\n")
            .file("etc/added", b"added")
            .whiteout("doomed")
            .dir("keep").whiteout("keep/x")
            .dir("opaque").opaque("opaque").file("opaque/new", b"new"))


class GraphDriverConformance:
    """Tests every graph driver must pass.  Subclasses provide a ``driver`` fixture."""

    deep_chain = 24  # how many stacked layers test_deep_chain builds

    @pytest.fixture
    def driver(self):
        raise NotImplementedError("a conformance test class must define the `driver` fixture")

    def _apply(self, driver, id, parent, layer):
        """Create ``id`` on ``parent`` and apply ``layer`` (a LayerTar or a readable stream)."""
        driver.create(id, parent)
        return driver.apply_diff(id, parent, layer.stream() if isinstance(layer, LayerTar) else layer)

    def _view(self, driver, id):
        root = driver.get(id)
        try:
            return tree_snapshot(root)
        finally:
            driver.put(id)

    def test_provides_interface(self, driver):
        assert verifyObject(IGraphDriver, driver)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in driver.status())

    def test_create_get_remove(self, driver):
        driver.create("base")
        assert driver.exists("base")
        root = driver.get("base")
        assert os.path.isdir(root) and os.listdir(root) == []
        driver.put("base")
        assert isinstance(driver.metadata("base"), dict)
        driver.remove("base")
        assert not driver.exists("base")
        driver.remove("base")  # removing twice is harmless

    def test_ids_lists_every_layer(self, driver):
        assert driver.ids() == []
        self._apply(driver, "base", None, base_layer_tar())
        driver.create("c1-init", "base")
        driver.create_rw("c1", "c1-init")
        assert sorted(driver.ids()) == ["base", "c1", "c1-init"]
        assert self._view(driver, "c1") == self._view(driver, "base")  # "<id>-init" is a layer like any
        driver.remove("c1")
        assert sorted(driver.ids()) == ["base", "c1-init"]

    def test_bad_requests(self, driver):
        driver.create("base")
        with pytest.raises(Conflict):
            driver.create("base")
        with pytest.raises(NotFound):
            driver.create("child", "no-such-parent")
        assert not driver.exists("child")
        with pytest.raises(NotFound):
            driver.get("no-such-layer")
        with pytest.raises(InvalidParameter):
            driver.create("../escape")

    def test_get_put_reference_counts(self, driver):
        self._apply(driver, "base", None, base_layer_tar())
        driver.create("child", "base")
        first = driver.get("child")
        second = driver.get("child")
        assert first == second
        driver.put("child")
        with open(os.path.join(first, "etc/passwd"), "rb") as f:  # still usable after one put
            assert f.read().startswith(b"root:")
        driver.put("child")
        driver.remove("child")
        assert not driver.exists("child")

    def test_apply_diff_keeps_every_attribute(self, driver):
        size = self._apply(driver, "base", None, base_layer_tar())
        assert size > 5000
        view = self._view(driver, "base")
        assert view["etc/shadow"][1:4] == (0o640, 0, 42)
        assert view["bin/tool"][1] == 0o4755
        assert view["bin/alias"][4] == "tool"
        assert view["data"][1:4] == (0o1777, 1000, 1000)
        assert view["data/owned"][5] == {"user.note": b"hello"}
        assert view["data/cap"][5]["security.capability"].startswith(b"\x01\x00\x00\x02")
        assert view["dev/pipe"][0] == stat.S_IFIFO
        assert view["dev/null"][0] == stat.S_IFCHR and view["dev/null"][4] == os.makedev(1, 3)
        assert view["etc/passwd"][6] == 1_600_000_000
        root = driver.get("base")
        try:
            assert os.stat(os.path.join(root, "bin/tool")).st_ino == os.stat(os.path.join(root, "bin/tool2")).st_ino
        finally:
            driver.put("base")

    def test_parent_visible_in_child_and_child_writes_stay_there(self, driver):
        self._apply(driver, "base", None, base_layer_tar())
        driver.create_rw("container", "base")
        assert self._view(driver, "container") == self._view(driver, "base")
        root = driver.get("container")
        try:
            with open(os.path.join(root, "etc/passwd"), "a") as f:
                f.write("extra\n")
            os.unlink(os.path.join(root, "keep/y"))
        finally:
            driver.put("container")
        base = self._view(driver, "base")
        assert "keep/y" in base and b"extra" not in open_in(driver, "base", "etc/passwd")
        changes = {c.path: c.kind for c in driver.changes("container", "base")}
        assert changes["/etc/passwd"] == ChangeKind.MODIFY
        assert changes["/keep/y"] == ChangeKind.DELETE

    def test_whiteouts_and_opaque_dirs(self, driver):
        self._apply(driver, "base", None, base_layer_tar())
        self._apply(driver, "child", "base", child_layer_tar())
        view = self._view(driver, "child")
        assert "doomed" not in view and "doomed/a" not in view
        assert "keep/x" not in view and "keep/y" in view
        assert "opaque/old" not in view and "opaque/new" in view
        assert "etc/added" in view and "bin/tool" in view
        changes = {c.path: c.kind for c in driver.changes("child", "base")}
        assert changes["/etc/passwd"] == ChangeKind.MODIFY
        assert changes["/etc/added"] == ChangeKind.ADD
        assert changes["/doomed"] == ChangeKind.DELETE
        assert changes["/keep/x"] == ChangeKind.DELETE
        assert changes["/opaque/new"] == ChangeKind.ADD
        assert changes["/opaque/old"] == ChangeKind.DELETE
        assert "/bin/tool" not in changes

    def test_diff_round_trip(self, driver):
        self._apply(driver, "base", None, base_layer_tar())
        self._apply(driver, "child", "base", child_layer_tar())
        with driver.diff("base") as stream:
            self._apply(driver, "base-copy", None, stream)
        assert self._view(driver, "base-copy") == self._view(driver, "base")
        with driver.diff("child", "base") as stream:
            self._apply(driver, "child-copy", "base", stream)
        assert self._view(driver, "child-copy") == self._view(driver, "child")

    def test_diff_size(self, driver):
        self._apply(driver, "base", None, base_layer_tar())
        self._apply(driver, "child", "base", LayerTar().file("big", b"z" * 12345))
        assert driver.diff_size("child", "base") == 12345

    def test_bad_diff_leaves_no_half_layer(self, driver):
        self._apply(driver, "base", None, base_layer_tar())
        driver.create("child", "base")
        good = LayerTar().file("first", b"1" * 3000).file("second", b"2" * 3000).bytes()
        with pytest.raises(InvalidParameter):
            driver.apply_diff("child", "base", io.BytesIO(good[:2500]))
        assert driver.exists("child")
        assert self._view(driver, "child") == self._view(driver, "base")
        assert driver.changes("child", "base") == []

    def test_deep_chain(self, driver):
        parent = None
        for depth in range(self.deep_chain):
            id = f"layer{depth}"
            self._apply(driver, id, parent, LayerTar().file(f"f{depth}", str(depth).encode()))
            parent = id
        view = self._view(driver, parent)
        assert {f"f{d}" for d in range(self.deep_chain)} <= set(view)


def open_in(driver, id, relpath):
    """The content of ``relpath`` in layer ``id``."""
    root = driver.get(id)
    try:
        with open(os.path.join(root, relpath), "rb") as f:
            return f.read()
    finally:
        driver.put(id)
