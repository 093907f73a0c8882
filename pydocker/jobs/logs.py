"""``docker logs``: a container's log, from its log driver, followed while it runs;
and the stdcopy framing that attach and exec share."""

import struct
import time
from dataclasses import dataclass

from twisted.internet import defer

from pydocker.errdefs import InvalidParameter
from pydocker.logdrivers import attributes, jsonfile


class LogJobs:
    """container.logs. Reactor thread; the log files are read in workers."""

    def __init__(self, engine, runtime, containers):
        self.engine = engine
        self.runtime = runtime
        self.containers = containers

    def jobs(self):
        return {"container.logs": container_logs}


@dataclass
class LogsRequest:
    name: str
    follow: bool = False
    stdout: bool = False
    stderr: bool = False
    since: int = 0
    until: int = 0
    timestamps: bool = False
    tail: int = None
    details: bool = False


MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def frame_header(stream, size):
    """stdcopy framing: 1 byte stream (1 stdout, 2 stderr), 3 zero bytes, 4-byte big-endian length."""
    return struct.pack(">BxxxI", 1 if stream == "stdout" else 2, size)


def frame(stream, data):
    return frame_header(stream, len(data)) + data


@defer.inlineCallbacks
def container_logs(svc, job):
    req, out = job.request, job.output
    if not (req.stdout or req.stderr):
        raise InvalidParameter("Bad parameters: you must choose at least one stream")
    container = svc.containers.get(req.name)
    driver, _ = svc.runtime.log_driver(container)
    if not driver.readable:
        raise InvalidParameter(f'configured logging driver does not support reading ("{driver.name}")')
    tty = bool(container.config.get("Tty"))
    out.set_content_type(RAW if tty else MULTIPLEXED)
    wanted = {s for s, on in (("stdout", req.stdout), ("stderr", req.stderr)) if on}

    def render(entry):
        if entry["stream"] not in wanted:
            return
        data = entry["log"].encode()
        if req.details:
            data = attributes.details_prefix(entry.get("attrs")).encode() + data
        if req.timestamps:
            data = entry["time"].encode() + b" " + data
        out.write(data if tty else frame(entry["stream"], data))

    live_io = svc.runtime.io_of(container) if req.follow else None
    writer = live_io.log_writer if live_io else None
    backlog, finished = [], defer.Deferred()
    replaying = True
    unsubscribe, limit = None, None
    if writer is not None:
        def on_entry(entry):
            if entry is None:
                if not finished.called:
                    finished.callback(None)
            elif replaying:
                backlog.append(entry)
            else:
                render(entry)
        unsubscribe, limit = yield writer.follow(on_entry)
    path = svc.runtime.log_path(container)
    entries = yield svc.engine.run_blocking(jsonfile.read_entries, path, req.since or None, req.until or None,
                                        req.tail, limit)
    out.flush_headers()
    for entry in entries + backlog:
        render(entry)
    replaying = False
    if writer is None:
        return
    out.on_close(lambda: not finished.called and finished.callback(None))
    timer = None
    if req.until:
        delay = max(0.0, req.until / 1e9 - time.time())
        timer = svc.engine.call_later(delay, lambda: not finished.called and finished.callback(None))
    try:
        yield finished
    finally:
        unsubscribe()
        if timer is not None and timer.active():
            timer.cancel()
