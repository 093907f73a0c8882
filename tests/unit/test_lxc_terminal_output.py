"""The lxc driver's TTY output filter (no LXC needed): each "\\n" read from a tool's pty
has one "\\r" too many before it, also when a read ends between the two."""

from pydocker.drivers.exec.lxc.process import UndoOnlcr


def undone(*reads):
    out = []
    undo = UndoOnlcr(out.append)
    for data in reads:
        undo(data)
    undo.flush()
    return b"".join(out)


def test_one_cr_before_each_newline_is_taken_away():
    assert undone(b"a\r\r\nb\r\n") == b"a\r\nb\n"
    assert undone(b"a\r\r\r\n") == b"a\r\r\n"


def test_a_cr_ending_a_read_waits_for_the_next():
    assert undone(b"a\r", b"\nb\r", b"\r\n") == b"a\nb\r\n"
    assert undone(b"50%\r", b"60%\r") == b"50%\r60%\r"
