"""Rewriting a file bind-mounted into a running container (its /etc/hosts when a
network or a link changes) so that a reader there never sees it empty or cut short.

A bind mount holds the inode, so the file cannot be replaced by a rename: it is
rewritten where it is. Truncating first (``open(path, "w")``) left it empty until the
write came. Here the new text goes over the old in one ``pwrite``, padded with
newlines up to the old length (blank lines mean nothing in hosts, resolv.conf or
hostname files), and only then is the file cut to the new length: at every moment
it holds the whole new text, or the whole old one, or the new one with blank lines
after it. What no file write can promise is that a read racing the one copy of the
bytes into the page cache sees none of it half done (the kernel's reads take no
lock against it); that window is the length of a memcpy of a few hundred bytes.
"""

import os


def rewrite(path, text):
    """Give ``path`` the content ``text`` in place (created 0644 if missing)."""
    data = text.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        padding = os.fstat(fd).st_size - len(data)
        padded = data + b"\n" * padding if padding > 0 else data
        written = 0
        while written < len(padded):
            written += os.pwrite(fd, padded[written:], written)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
