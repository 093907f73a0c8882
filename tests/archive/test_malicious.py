"""A corpus of hostile layer tars, one per attack class; none may touch the host.

Each case builds its tar with the test, extracts it into a fresh root, and
checks both the outcome (a clear InvalidParameter, or the write re-rooted
inside the root) and that the host file it aimed at is unchanged.
"""

import pytest

from pydocker.archive import apply_layer
from pydocker.errdefs import InvalidParameter
from pydocker.testing.graphtest import LayerTar


def assert_host_untouched(host):
    passwd = host / "passwd"
    assert passwd.read_text() == "original\n"
    assert passwd.stat().st_nlink == 1
    assert sorted(p.name for p in host.iterdir()) == ["passwd"]


def climb(root, target):
    """A relative path from inside ``root`` up and over to ``target``."""
    return "../" * (len(root.parts) + 2) + str(target).lstrip("/")


def test_dotdot_escape_is_refused(root, host):
    layer = LayerTar().file("../host/evil", b"x")
    with pytest.raises(InvalidParameter, match=r"\.\./host/evil"):
        apply_layer(root, layer.stream())
    layer = LayerTar().file("a/../../../" + str(host / "evil").lstrip("/"), b"x")
    with pytest.raises(InvalidParameter, match="escapes"):
        apply_layer(root, layer.stream())
    assert_host_untouched(host)


def test_absolute_path_is_rerooted(root, host):
    apply_layer(root, LayerTar().file(str(host / "passwd"), b"evil\n").stream())
    assert (root / str(host / "passwd").lstrip("/")).read_bytes() == b"evil\n"
    assert_host_untouched(host)


def test_write_through_absolute_symlink_stays_inside(root, host):
    with pytest.raises(InvalidParameter, match="missing"):
        apply_layer(root, LayerTar().symlink("link", str(host)).file("link/passwd", b"evil\n").stream())
    assert_host_untouched(host)
    # when the link's target exists *inside* the root, the write lands there
    layer = LayerTar().dir(str(host).lstrip("/")).symlink("link2", str(host)).file("link2/passwd", b"evil\n")
    apply_layer(root, layer.stream())
    assert (root / str(host).lstrip("/") / "passwd").read_bytes() == b"evil\n"
    assert_host_untouched(host)


def test_write_through_escaping_relative_symlink_stays_inside(root, host):
    layer = (LayerTar().dir(str(host).lstrip("/"))
             .symlink("up", climb(root, host)).file("up/passwd", b"evil\n"))
    apply_layer(root, layer.stream())
    assert (root / str(host).lstrip("/") / "passwd").read_bytes() == b"evil\n"
    assert_host_untouched(host)


def test_hard_link_to_host_file_is_refused(root, host):
    with pytest.raises(InvalidParameter, match="stolen"):
        apply_layer(root, LayerTar().hardlink("stolen", climb(root, host / "passwd")).stream())
    with pytest.raises(InvalidParameter, match="not in the layer"):
        apply_layer(root, LayerTar().hardlink("stolen2", str(host / "passwd")).stream())
    assert_host_untouched(host)


def test_hard_link_through_symlink_links_the_symlink_itself(root, host):
    layer = LayerTar().symlink("lnk", str(host / "passwd")).hardlink("stolen", "lnk").file("stolen", b"evil\n")
    apply_layer(root, layer.stream())
    assert (root / "stolen").read_bytes() == b"evil\n"
    assert_host_untouched(host)


def test_directory_replaced_by_symlinked_parent(root, host):
    layer = LayerTar().dir("sub").file("sub/ok", b"ok").symlink("sub", str(host)).file("sub/passwd", b"evil\n")
    with pytest.raises(InvalidParameter):
        apply_layer(root, layer.stream())
    assert (root / "sub").is_symlink()
    assert_host_untouched(host)


def test_whiteouts_through_symlink_do_not_delete_host_files(root, host):
    for layer in (LayerTar().symlink("link", str(host)).whiteout("link/passwd"),
                  LayerTar().symlink("link", str(host)).opaque("link")):
        with pytest.raises(InvalidParameter):
            apply_layer(root, layer.stream())
        (root / "link").unlink()
    assert_host_untouched(host)


def test_whiteout_names_cannot_climb(root, host):
    for bad in (".wh..", "../.wh.passwd"):
        with pytest.raises(InvalidParameter):
            apply_layer(root, LayerTar().file(bad).stream())
    assert_host_untouched(host)


@pytest.mark.parametrize("name", [
    "x" * 256,                      # one component over NAME_MAX
    "dir/" + "é" * 128,             # 256 bytes in UTF-8, 128 characters
    "/".join(["d" * 200] * 21),     # every component fits, the path does not (PATH_MAX)
])
def test_a_name_too_long_for_the_filesystem_is_refused_by_name(root, host, name):
    with pytest.raises(InvalidParameter, match="longer than") as refused:
        apply_layer(root, LayerTar().file(name, b"x").stream())
    assert name in str(refused.value)
    assert_host_untouched(host)


def test_the_longest_allowed_name_is_extracted(root):
    name = "y" * 255
    apply_layer(root, LayerTar().file(name, b"x").stream())
    assert (root / name).read_bytes() == b"x"


def test_a_symlink_target_too_long_is_refused_by_name(root):
    with pytest.raises(InvalidParameter, match="symlink 'link'"):
        apply_layer(root, LayerTar().symlink("link", "t/" * 2048).stream())
