"""Attaching to a container's stdio over a hijacked connection, and TTY resizing."""

from dataclasses import dataclass

from twisted.internet import defer

from pydocker.logdrivers import jsonfile
from pydocker.errdefs import Conflict, InvalidParameter
from pydocker.jobs.logs import MULTIPLEXED, RAW, frame_header

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


class AttachJobs:
    """Attaching clients to a container's streams, and TTY resizes. Reactor thread."""

    def __init__(self, engine, runtime, containers, execdriver):
        self.engine = engine
        self.runtime = runtime
        self.containers = containers
        self.execdriver = execdriver

    def jobs(self):
        return {"container.attach": attach, "container.resize": resize}


def parse_detach_keys(text):
    """'ctrl-p,ctrl-q' → b'\\x10\\x11' (Docker's syntax: ctrl-<a-z@[\\\\]^_> or one character).

    Empty means Docker's default. dockerd has no daemon-wide setting: a user's default
    lives in the client's config.json (``detachKeys``), which the clients send."""
    keys = bytearray()
    for key in (text or DEFAULT_DETACH_KEYS).split(","):
        key = key.strip()
        if key.startswith("ctrl-") and len(key) == 6:
            c = key[5].lower()
            if "a" <= c <= "z":
                keys.append(ord(c) - ord("a") + 1)
            elif c in "@[\\]^_":
                keys.append(ord(c) - 64 if c != "@" else 0)
            else:
                raise InvalidParameter(f"invalid detach key {key!r}")
        elif len(key) == 1:
            keys.append(ord(key))
        else:
            raise InvalidParameter(f"invalid detach key {key!r}")
    return bytes(keys)


class DetachMatcher:
    """Finds the detach sequence in stdin, across chunk boundaries; passes the rest through."""

    def __init__(self, keys):
        self.keys = keys
        self._held = b""

    def feed(self, data):
        """(bytes to forward, detached?)"""
        if not self.keys:
            return data, False
        data = self._held + data
        self._held = b""
        index = data.find(self.keys)
        if index >= 0:
            return data[:index], True
        for n in range(min(len(self.keys) - 1, len(data)), 0, -1):
            if data.endswith(self.keys[:n]):
                self._held = data[-n:]
                return data[:-n], False
        return data, False


def stream_consumer(outputs, stream, wanted, framed):
    """The consumer of ``outputs`` writing the ``wanted`` streams to one client (in stdcopy
    frames if ``framed``); it holds the container's output while the client's connection
    is over its high-water mark."""

    def send(kind, data):
        if kind in wanted:
            if framed:  # the header on its own: large chunks are not copied to prefix it
                stream.write(frame_header(kind, len(data)))
            stream.write(data)
            outputs.hold(send, stream.when_writable())

    return send


@dataclass
class AttachRequest:
    name: str
    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    stream: bool = False
    logs: bool = False
    detach_keys: str = ""
    version: tuple = (1, 44)
    raw: bool = False  # the websocket endpoint carries output without stdcopy frames


@defer.inlineCallbacks
def attach(svc, job):
    req = job.request
    container = svc.containers.get(req.name)
    if container.paused:
        raise Conflict("You cannot attach to a paused container, unpause it first")
    if container.removing:
        raise Conflict("You cannot attach to a container that is being removed")
    tty = bool(container.config.get("Tty"))
    keys = parse_detach_keys(req.detach_keys)
    job.output.set_content_type(RAW if tty or req.version < (1, 42) else MULTIPLEXED)
    stream = job.output.upgrade()
    wanted = {s for s, on in (("stdout", req.stdout), ("stderr", req.stderr)) if on}

    attachments = svc.runtime.attachments(container)
    send = stream_consumer(attachments.outputs, stream, wanted, framed=not (tty or req.raw))

    if req.logs and svc.runtime.log_driver(container)[0].readable:
        entries = yield svc.engine.run_blocking(jsonfile.read_entries, svc.runtime.log_path(container))
        for entry in entries:
            send(entry["stream"], entry["log"].encode())
    if not req.stream:
        return
    done = defer.Deferred()
    session = _Session(svc.runtime, container, stream, keys, done)
    attachments.outputs.add(send)
    attachments.on_exit.add(session.container_exited)
    if req.stdin and container.config.get("OpenStdin"):
        attachments.on_start.add(session.container_started)
        stream.read(session.stdin_data, session.stdin_closed)
    stream.on_close(session.client_gone)
    svc.runtime.publish(container, "attach")
    try:
        yield done
    finally:
        attachments.outputs.discard(send)
        attachments.on_exit.discard(session.container_exited)
        attachments.on_start.discard(session.container_started)
        svc.runtime.detach(container)


class _Session:
    """One attached client: its stdin, detach keys and the end of the attachment."""

    def __init__(self, runtime, container, stream, keys, done):
        self.runtime = runtime
        self.container = container
        self.stream = stream
        self.matcher = DetachMatcher(keys if container.config.get("Tty") else b"")
        self.done = done
        self.pending = []  # stdin that arrived before the process started
        self.eof = False

    def _stdin(self):
        io = self.runtime.io_of(self.container)
        return io.stdin if io is not None and io.stdin is not None else None

    def stdin_data(self, data):
        data, detached = self.matcher.feed(data)
        target = self._stdin()
        if data:
            if target is None:
                self.pending.append(data)
            else:
                target.write(data)
        if detached:
            self.runtime.publish(self.container, "detach")
            self._finish()

    def stdin_closed(self):
        """The client closed its stdin. Without a TTY and with StdinOnce the container's stdin
        closes too; with a TTY the attachment just ends (the container keeps its terminal),
        as dockerd does."""
        if self.container.config.get("Tty"):
            self._finish()
            return
        self.eof = True
        target = self._stdin()
        if target is not None and self.container.config.get("StdinOnce"):
            target.close()

    def container_started(self, io):
        pending, self.pending = self.pending, []
        for data in pending:
            io.stdin.write(data)
        if self.eof and self.container.config.get("StdinOnce"):
            io.stdin.close()

    def container_exited(self, exit_code):
        self._finish()

    def client_gone(self):
        self._finish()

    def _finish(self):
        if not self.done.called:
            self.done.callback(None)


@dataclass
class ResizeRequest:
    name: str
    height: int
    width: int


def resize(svc, job):
    req = job.request
    container = svc.containers.get(req.name)
    if not container.running:
        raise Conflict(f"Container {container.id} is not running")
    svc.execdriver.resize(container.id, req.height, req.width)
