"""Back-pressure from attached clients to the container (issue 5): a slow reader makes the
container's writes block instead of the daemon buffering its output, as under dockerd.
The daemon's memory is read from /proc/PID/status (VmRSS) while the client lags."""

import hashlib
import json
import os
import socket
import time

import pytest

from pydocker.testing import rawhttp
from pydocker.testing.hijack import FrameReader, open_hijack

pytestmark = pytest.mark.kernel

MIB = 1024 * 1024
# The daemon may grow by this much while a client lags, against ~200 MB without back-pressure.
RSS_SLACK = 48 * MIB
# ~200 MB of base64 text: its hash goes to stderr before the data goes to stdout.
BIG = "head -c 150000000 /dev/urandom | base64 > /f; sha256sum /f >&2; cat /f"


def vmrss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Received:
    """What one multiplexed attach stream delivered: stdout hashed, stderr kept."""

    def __init__(self):
        self.stdout = hashlib.sha256()
        self.size = 0
        self.stderr = b""

    def __call__(self, stream, payload):
        if stream == 1:
            self.stdout.update(payload)
            self.size += len(payload)
        else:
            self.stderr += payload


def test_slow_attached_client_bounds_daemon_memory_and_loses_nothing(busybox_daemon):
    d = busybox_daemon
    cid = d.client("create", "--name", "big", "busybox", "sh", "-c", BIG).stdout.strip()
    received = Received()
    reader = FrameReader(open_hijack(d.socket, "/v1.44/containers/big/attach?stream=1&stdout=1&stderr=1",
                                     timeout=60), received)
    baseline = vmrss(d.proc.pid)
    d.client("start", "big")
    while not received.stderr.endswith(b"\n"):  # the file is written and hashed: cat starts now
        assert reader.read(), "the stream ended before the hash"
    peak = baseline
    lag_until = time.monotonic() + 6
    while time.monotonic() < lag_until:  # stalled, then ~1 MB/s: the container must wait for us
        time.sleep(0.05)
        if time.monotonic() > lag_until - 3:
            reader.read(65536)
        peak = max(peak, vmrss(d.proc.pid))
    lagged = received.size
    reads = 0
    while reader.read(1 << 20):
        reads += 1
        if reads % 64 == 0:
            peak = max(peak, vmrss(d.proc.pid))
    assert lagged < 50 * MIB, "the client got ahead of its own reading pace?"
    assert peak - baseline < RSS_SLACK, f"daemon RSS grew by {(peak - baseline) // MIB} MiB"
    expected = received.stderr.split()[0].decode()
    assert received.size > 200_000_000
    assert received.stdout.hexdigest() == expected  # every byte, in order
    assert d.client("wait", "big").stdout.strip() == "0"
    logged = hashlib.sha256()
    with open(os.path.join(d.root, "containers", cid, f"{cid}-json.log"), "rb") as log:
        for line in log:
            entry = json.loads(line)
            if entry["stream"] == "stdout":
                logged.update(entry["log"].encode())
    assert logged.hexdigest() == expected  # the log writer lost nothing while reading was paused
    d.client("rm", "big")


def _drain(reader, quiet, limit=256 * MIB):
    """Read until nothing arrives for ``quiet`` seconds (or ``limit`` bytes came: the
    output did not stop); returns how much came."""
    reader.sock.settimeout(quiet)
    total = 0
    try:
        while total < limit and (n := reader.read(1 << 20)):
            total += n
    except socket.timeout:
        pass
    return total


def _flows(reader, amount):
    """Whether ``amount`` bytes arrive with no 30 s silence on the way (a flowing stream on
    a loaded machine, not a rate)."""
    return _drain(reader, 30, limit=amount) >= amount


def test_one_stalled_client_pauses_the_others_until_it_leaves(busybox_daemon):
    d = busybox_daemon
    d.client("run", "-d", "--name", "zero", "busybox", "cat", "/dev/zero")
    path = "/v1.44/containers/zero/attach?stream=1&stdout=1"
    stalled = open_hijack(d.socket, path)
    reader = FrameReader(open_hijack(d.socket, path), lambda stream, payload: None)
    baseline = vmrss(d.proc.pid)
    first = _drain(reader, 5)  # the stalled client fills up; then the output stops for all
    assert first < 64 * MIB
    assert _drain(reader, 3) < 4 * MIB  # held: only what was already in flight
    assert vmrss(d.proc.pid) - baseline < RSS_SLACK
    stalled.close()  # the client that held everyone leaves: output flows again
    assert _flows(reader, 16 * MIB)
    reader.sock.close()
    d.client("rm", "-f", "zero")


def test_slow_exec_client_blocks_the_exec(busybox_daemon):
    d = busybox_daemon
    d.client("run", "-d", "--name", "ex", "busybox", "sleep", "600")
    body = {"AttachStdout": True, "AttachStderr": True, "Cmd": ["cat", "/dev/zero"]}
    exec_id = _post_json(d.socket, "/v1.44/containers/ex/exec", body)["Id"]
    baseline = vmrss(d.proc.pid)
    sock = open_hijack(d.socket, f"/v1.44/exec/{exec_id}/start", json.dumps({"Detach": False}).encode())
    time.sleep(3)  # not reading: the exec must block, not fill the daemon
    assert vmrss(d.proc.pid) - baseline < RSS_SLACK
    assert _flows(FrameReader(sock, lambda stream, payload: None), MIB)
    sock.close()
    d.client("rm", "-f", "ex")


def test_a_stream_still_paused_when_the_exec_ends_is_flushed_and_closed(busybox_daemon):
    """The exec ends while its client's connection is over the mark: the stream must still
    be flushed and closed (the stream's producer steps down before the close)."""
    d = busybox_daemon
    d.client("run", "-d", "--name", "ex", "busybox", "sleep", "600")
    body = {"AttachStdout": True, "AttachStderr": True, "Cmd": ["head", "-c", str(8 * MIB), "/dev/zero"]}
    exec_id = _post_json(d.socket, "/v1.44/containers/ex/exec", body)["Id"]
    received = Received()
    reader = FrameReader(open_hijack(d.socket, f"/v1.44/exec/{exec_id}/start", b'{"Detach": false}'), received)
    while reader.read(65536):  # slowly, to the end
        time.sleep(0.01)
    assert received.size == 8 * MIB
    d.client("rm", "-f", "ex")


def _post_json(socket_path, path, body):
    answer = rawhttp.request(socket_path, "POST", path, body)
    assert answer.status == 201, answer.body
    return answer.json()
