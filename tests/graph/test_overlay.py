"""overlay2 specifics: on-disk layout, real overlay mounts, the lower-layer limit."""

import os

import pytest

from pydocker.drivers.graph.overlay import MAX_LOWERS, OverlayDriver
from pydocker.errdefs import InvalidParameter
from pydocker.testing.graphtest import LayerTar


def mount_type(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == path:
                return fields[fields.index("-") + 1]
    return None


@pytest.fixture
def driver(tmp_path):
    d = OverlayDriver(str(tmp_path / "overlay2"), {})
    yield d
    d.cleanup()


def test_layout(driver):
    driver.create("base")
    driver.create("child", "base")
    home = driver.home
    base_link = open(os.path.join(home, "base", "link")).read()
    assert len(base_link) == 26
    assert os.readlink(os.path.join(home, "l", base_link)) == "../base/diff"
    assert not os.path.exists(os.path.join(home, "base", "lower"))
    assert open(os.path.join(home, "child", "lower")).read() == f"l/{base_link}"
    assert os.path.isdir(os.path.join(home, "child", "work"))
    assert driver.metadata("child")["LowerDir"] == os.path.join(home, "base", "diff")
    driver.remove("child")
    assert not os.path.exists(os.path.join(home, "child"))
    assert sorted(os.listdir(os.path.join(home, "l"))) == [base_link]


def test_get_mounts_overlay_and_last_put_unmounts(driver):
    driver.create("base")
    driver.apply_diff("base", None, LayerTar().file("hello", b"world").stream())
    driver.create("child", "base")
    merged = driver.get("child")
    assert mount_type(merged) == "overlay"
    driver.get("child")
    driver.put("child")
    assert mount_type(merged) == "overlay"
    with open(os.path.join(merged, "hello"), "rb") as f:
        assert f.read() == b"world"
    os.unlink(os.path.join(merged, "hello"))  # leaves a whiteout in the child's diff
    driver.put("child")
    assert mount_type(merged) is None
    whiteout = os.lstat(os.path.join(driver.home, "child", "diff", "hello"))
    assert whiteout.st_rdev == 0
    assert [(c.path, int(c.kind)) for c in driver.changes("child", "base")] == [("/hello", 2)]


def test_too_many_lowers_is_refused(driver):
    parent = None
    for depth in range(MAX_LOWERS + 1):
        driver.create(f"l{depth}", parent)
        parent = f"l{depth}"
    with pytest.raises(InvalidParameter, match="maximum is 128"):
        driver.create("one-too-many", parent)
    assert not driver.exists("one-too-many")
    assert len(open(os.path.join(driver.home, parent, "lower")).read()) < os.sysconf("SC_PAGE_SIZE")


def test_unknown_option(tmp_path):
    with pytest.raises(InvalidParameter, match="overlay2.size"):
        OverlayDriver(str(tmp_path / "o"), {"overlay2.size": "1G"})


def test_the_deepest_allowed_stack_mounts_with_relative_lower_dirs(driver):
    """128 lowers do not fit in a page as absolute paths: the mount is made from the
    driver's home with relative ones, and every layer shows through."""
    parent = None
    for depth in range(MAX_LOWERS):
        driver.create(f"d{depth}", parent)
        with open(os.path.join(driver.home, f"d{depth}", "diff", f"f{depth}"), "w") as f:
            f.write(str(depth))
        parent = f"d{depth}"
    driver.create_rw("top", parent)
    merged = driver.get("top")
    try:
        assert mount_type(merged) == "overlay"
        assert sorted(os.listdir(merged)) == sorted(f"f{n}" for n in range(MAX_LOWERS))
        assert open(os.path.join(merged, "f0")).read() == "0"
    finally:
        driver.put("top")
    assert mount_type(merged) is None
