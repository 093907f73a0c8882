"""A file rewritten in place (a container's bind-mounted /etc/hosts) is never seen empty or
cut short by a reader that reads it meanwhile. Real file, a reader in its own process (so
no interpreter lock orders the two), thousands of rewrites between a long and a short text;
on the old truncate-then-write the reader saw it empty."""

import os
import subprocess
import sys

from pydocker.networking import bindfile

LONG = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + "".join(
    f"172.18.0.{i}\tweb{i} alias{i}\n" for i in range(2, 40))
SHORT = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.18.0.2\tweb\n"

READER = r"""
import os, sys
path, stop, shortest = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad, reads = [], 0
print("reading", flush=True)
while not os.path.exists(stop):
    with open(path, "rb") as f:
        data = f.read()
    reads += 1
    if len(data) < shortest:
        bad.append(data)
print(reads, len(bad), repr(bad[:3]))
"""


def test_a_reader_never_sees_it_empty_or_short(tmp_path):
    path, stop = tmp_path / "hosts", tmp_path / "stop"
    bindfile.rewrite(str(path), LONG)
    inode = path.stat().st_ino
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(stop), str(len(SHORT))],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline() == "reading\n"
        for i in range(3000):
            bindfile.rewrite(str(path), SHORT if i % 2 == 0 else LONG)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    reads, bad, sample = out.split(" ", 2)
    assert int(reads) > 0
    assert bad == "0", sample
    assert path.stat().st_ino == inode
    assert path.read_text() == LONG


def test_the_new_text_replaces_a_longer_or_shorter_one_exactly(tmp_path):
    path = tmp_path / "resolv.conf"
    bindfile.rewrite(str(path), LONG)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644 & ~_umask())
    bindfile.rewrite(str(path), SHORT)
    assert path.read_text() == SHORT
    bindfile.rewrite(str(path), LONG)
    assert path.read_text() == LONG


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
