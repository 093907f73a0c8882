"""The --userns-remap library without the kernel: subordinate id files, the
id mapping's shifts, and what a remap specification names (the passwd and
group lookups are this host's: root and nogroup exist on every Debian)."""

import pytest

from pydocker.errdefs import InvalidParameter
from pydocker.userns import remap, subids
from pydocker.userns.idmap import IdentityMapping, IdRange, ranges_from_subids


def write(tmp_path, text):
    path = tmp_path / "subuid"
    path.write_text(text)
    return str(path)


def test_subid_lines_by_name_or_uid_in_file_order(tmp_path):
    path = write(tmp_path, "# comment\nbob:200000:10\n\n1000:100:5\nalice:1:2\nbob:300000:20\n")
    assert subids.ranges_of(path, "bob", 1000) == [(200000, 10), (100, 5), (300000, 20)]
    assert subids.ranges_of(path, "carol", 1001) == []
    assert subids.ranges_of(str(tmp_path / "missing"), "bob", 1000) == []
    with pytest.raises(InvalidParameter, match="line 2"):
        subids.parse(write(tmp_path, "ok:1:2\nbroken:x:2\n"))


def test_next_free_range_skips_every_overlap(tmp_path):
    assert subids.next_free_start(write(tmp_path, "")) == 100000
    assert subids.next_free_start(write(tmp_path, "a:100000:65536\n")) == 165536
    # Unsorted, and one range ending inside the default window.
    assert subids.next_free_start(write(tmp_path, "b:230000:10\na:100000:65536\nc:160000:70000\n")) == 230010
    assert subids.next_free_start(write(tmp_path, "a:300000:65536\n")) == 100000


def test_mapping_shifts_both_ways_across_ranges():
    mapping = IdentityMapping(ranges_from_subids([(300000, 1000), (400000, 65536)]),
                              ranges_from_subids([(500000, 65536)]))
    assert mapping.uids == (IdRange(0, 300000, 1000), IdRange(1000, 400000, 65536))
    assert mapping.root_pair == (300000, 500000) and mapping.key == "300000.500000"
    assert mapping.to_host(1500, 1500) == (400500, 501500)
    assert mapping.to_container(400500, 501500) == (1500, 1500)
    with pytest.raises(InvalidParameter, match="container ID 66536 cannot be mapped"):
        mapping.to_host(0, 66536)
    with pytest.raises(InvalidParameter, match="host ID 0 cannot be mapped"):
        mapping.to_container(0, 500000)
    assert mapping.launcher_config() == {"uid_map": [[0, 300000, 1000], [1000, 400000, 65536]],
                                         "gid_map": [[0, 500000, 65536]]}


@pytest.mark.parametrize("spec, expected", [
    ("root", ("root", "root")), ("0", ("root", "root")), ("root:nogroup", ("root", "nogroup")),
    ("0:0", ("root", "root")),
])
def test_specifications_name_a_user_and_a_group(spec, expected):
    assert remap.resolve(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("a:b:c", "invalid user/group specification"), (":x", "invalid user/group specification"),
    ("no-such-user-here", "no user 'no-such-user-here'"), ("root:no-such-group", "no group 'no-such-group'"),
    ("4000000", "uid 4000000 has no entry"), ("0:4000000", "gid 4000000 has no entry"),
])
def test_bad_specifications_are_refused(spec, message):
    with pytest.raises(InvalidParameter, match=message):
        remap.resolve(spec)


def test_root_is_not_remapped_onto_itself():
    assert remap.load_remapping("root") == (None, "root:root")
