"""Interactive sessions: detach keys, and the terminal's mode restored after raw mode.

The TTY test drives ``run -it`` through a real pseudo-terminal against the
stand-in server (tests/client/standin.py)."""

import fcntl
import io
import os
import struct
import termios
import threading
import time

import pytest

from pydocker.client.errors import ClientError
from pydocker.client.session import Session, parse_detach_keys


@pytest.mark.parametrize("spec, keys", [
    (None, b"\x10\x11"), ("ctrl-p,ctrl-q", b"\x10\x11"), ("ctrl-a", b"\x01"),
    ("ctrl-@,x", b"\x00x"), ("ctrl-[", b"\x1b"),
])
def test_parse_detach_keys(spec, keys):
    assert parse_detach_keys(spec) == keys


def test_bad_detach_keys_are_rejected():
    with pytest.raises(ClientError, match="Invalid detach keys"):
        parse_detach_keys("ctrl-pq")


def test_scan_holds_back_a_partial_sequence_and_releases_it_on_mismatch():
    session = Session(response=None, tty=True, stdin=True, in_fd=0)
    assert session._scan_detach(b"ab\x10", 0) == (b"ab", 1, False)
    assert session._scan_detach(b"\x10z", 1) == (b"\x10\x10z", 0, False)  # ctrl-p ctrl-p z
    assert session._scan_detach(b"c\x10\x11tail", 0) == (b"c", 0, True)


def test_run_it_detaches_and_restores_the_terminal(standin, run_cli):
    received = []
    upgraded, finished = threading.Event(), threading.Event()
    standin.json("POST", "/containers/create", {"Id": "c1"}, 201)
    standin.json("POST", "/containers/c1/start", {}, 200)
    standin.json("POST", "/containers/c1/wait", {"StatusCode": 0})
    standin.json("POST", "/containers/c1/resize", {}, 200)

    @standin.route("POST", "/containers/c1/attach")
    def attach(handler, body):
        handler.wfile.write(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\n"
                            b"Upgrade: tcp\r\n\r\nwelcome\r\n")
        handler.wfile.flush()
        upgraded.set()
        while True:
            try:
                data = handler.connection.recv(4096)
            except ConnectionResetError:
                break
            if not data:
                break
            received.append(data)
        handler.close_connection = True
        finished.set()

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(slave)

    screen = io.TextIOWrapper(io.BytesIO(), write_through=True)

    def type_keys():
        upgraded.wait(10)
        for _ in range(1000):  # type only once the client made the terminal raw
            if not termios.tcgetattr(slave)[3] & termios.ICANON:
                break
            time.sleep(0.01)
        deadline = time.monotonic() + 30
        while b"welcome" not in screen.buffer.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)  # the greeting is shown before detaching ends the output
        os.write(master, b"ls\r")
        os.write(master, b"\x10\x11")

    typist = threading.Thread(target=type_keys)
    typist.start()
    try:
        with os.fdopen(slave, "rb", closefd=False) as stdin:
            result = run_cli("-H", standin.url, "run", "-it", "busybox", stdin=stdin, out=screen)
        typist.join()
        assert result.status == 0, result.err
        assert result.out == "welcome\r\n"
        assert finished.wait(10)  # the server has read all the client sent
        assert b"".join(received) == b"ls\r"  # the detach keys never reach the container
        assert termios.tcgetattr(slave) == before
        create = [r for r in standin.requests if r["path"].endswith("/create")][0]
        assert b'"Tty": true' in create["body"]
        resize = [r for r in standin.requests if r["path"].endswith("/resize")]
        assert resize and resize[0]["query"] == "h=30&w=100"
    finally:
        os.close(master)
        os.close(slave)
