"""``docker exec``: exec instances, started over a hijacked connection, inspected, resized.

Exec instances live in memory, as in dockerd: they belong to a running container and
end with it.
"""

import fcntl
import os
import struct
import termios
from dataclasses import dataclass, field

from twisted.internet import defer
from twisted.python.failure import Failure

from pydocker.containers import createconfig
from pydocker.errdefs import Conflict, InvalidParameter, NotFound
from pydocker.fields import STR_LIST, UINT_PAIR, check
from pydocker.jobs.attach import DetachMatcher, parse_detach_keys, stream_consumer
from pydocker.jobs.logs import MULTIPLEXED, RAW
from pydocker.runtime.io import ContainerIO
from pydocker.runtime.spec import exec_spec

EXEC_TYPES = {
    "AttachStdin": bool, "AttachStdout": bool, "AttachStderr": bool, "DetachKeys": str, "Tty": bool,
    "Env": STR_LIST, "Cmd": STR_LIST, "Privileged": bool, "User": str, "WorkingDir": str,
    "ConsoleSize": UINT_PAIR,
}


class ExecJobs:
    """``docker exec``: the exec instances of running containers. Reactor thread: it
    owns ``execs`` (exec id -> ExecInstance)."""

    def __init__(self, engine, runtime, containers, execdriver):
        self.engine = engine
        self.runtime = runtime
        self.containers = containers
        self.execdriver = execdriver
        self.execs = {}
        runtime.on_stopped(lambda container: _forget(self, container))

    def jobs(self):
        return {"exec.create": create, "exec.start": start, "exec.inspect": inspect, "exec.resize": resize}


@dataclass
class ExecInstance:
    id: str
    container_id: str
    config: dict
    running: bool = False
    exit_code: int = None
    pid: int = 0
    io: object = None
    started: bool = False
    done: object = field(default=None, repr=False)


@dataclass
class ExecCreateRequest:
    name: str
    body: dict


def create(svc, job):
    req = job.request
    body = check(req.body, EXEC_TYPES, "")
    if not body.get("Cmd"):
        raise InvalidParameter("No exec command specified")
    createconfig.check_env(body.get("Env"), "Env", unsets=True)
    container = svc.containers.get(req.name)
    _check_running(container)
    exec_id = os.urandom(32).hex()
    svc.execs[exec_id] = ExecInstance(exec_id, container.id, dict(body))
    svc.runtime.publish(container, "exec_create: " + " ".join(body["Cmd"]), execID=exec_id)
    return {"Id": exec_id}


def _check_running(container):
    if not container.running or container.state.get("Restarting"):
        raise Conflict(f"Container {container.id} is not running")
    if container.paused:
        raise Conflict(f"Container {container.id} is paused, unpause the container before exec")


def _get(svc, exec_id):
    try:
        return svc.execs[exec_id]
    except KeyError:
        raise NotFound(f"No such exec instance: {exec_id}") from None


@dataclass
class ExecStartRequest:
    id: str
    detach: bool = False
    tty: bool = False
    version: tuple = (1, 44)
    console_size: tuple = ()  # (height, width) the TTY starts with


@defer.inlineCallbacks
def start(svc, job):
    req = job.request
    instance = _get(svc, req.id)
    if instance.started:
        raise Conflict(f"Error: Exec command {instance.id} has already run")
    container = svc.containers.get(instance.container_id)
    _check_running(container)
    config = instance.config
    tty = bool(config.get("Tty"))
    instance.io = ContainerIO()
    instance.started = True
    stream = None
    if not req.detach:
        # The framing follows the start request's Tty, not the exec's (as dockerd):
        # docker-py starts a TTY exec without it and reads stdcopy frames.
        job.output.set_content_type(RAW if req.tty or req.version < (1, 42) else MULTIPLEXED)
        stream = job.output.upgrade()
        wanted = {s for s, on in (("stdout", config.get("AttachStdout")),
                                  ("stderr", config.get("AttachStderr"))) if on}
        send = stream_consumer(instance.io.outputs, stream, wanted, framed=not req.tty)
        instance.io.outputs.add(send)
    svc.runtime.publish(container, "exec_start: " + " ".join(config["Cmd"]), execID=instance.id)
    if stream is None:      # a refusal is the HTTP answer
        exited = svc.execdriver.exec(container.id, exec_spec(config), instance.io)
    else:                   # after the upgrade only the stream and the exit code can tell it
        exited = defer.maybeDeferred(svc.execdriver.exec, container.id, exec_spec(config), instance.io)
        exited.addErrback(_report_start_error, send)
    instance.running = True
    if tty and req.console_size:
        instance.io.started_d.addCallback(lambda _: _resize(instance, *req.console_size))
    exited.addBoth(_finished, svc, instance, container)
    if stream is None:
        return
    if config.get("AttachStdin"):
        keys = parse_detach_keys(config.get("DetachKeys"))
        matcher = DetachMatcher(keys if tty else b"")
        pending = []

        def on_data(data):
            data, detached = matcher.feed(data)
            if data:
                if instance.io.stdin is None:
                    pending.append(data)
                else:
                    instance.io.stdin.write(data)
            if detached:
                instance.io.outputs.discard(send)  # its output no longer goes to this client
                stream.close()

        def on_eof():
            if instance.io.stdin is not None:
                instance.io.stdin.close()
            else:
                pending.append(None)

        stream.read(on_data, on_eof)
        instance.io.started_d.addCallback(lambda _: _flush_pending(instance.io, pending))
    done = defer.Deferred()
    stream.on_close(lambda: not done.called and done.callback(None))
    exited.addBoth(lambda _: not done.called and done.callback(None))
    yield done


def _flush_pending(io, pending):
    for data in pending:
        if data is None:
            io.stdin.close()
        else:
            io.stdin.write(data)


def _report_start_error(reason, send):
    """A process that could not start: its error goes to the client's stdout, as
    dockerd writes it there once the connection is hijacked."""
    send("stdout", (str(reason.value) + "\r\n").encode())
    return reason


def _finished(outcome, svc, instance, container):
    instance.running = False
    instance.pid = 0
    if not isinstance(outcome, Failure):
        instance.exit_code = outcome.exit_code
    else:
        # dockerd: 127 for a command not found, 126 for any other failed exec.
        instance.exit_code = 127 if getattr(outcome.value, "exit_code", 0) == 127 else 126
    svc.runtime.publish(container, "exec_die", execID=instance.id, exitCode=instance.exit_code)
    return None


@dataclass
class ExecRequest:
    id: str


def inspect(svc, job):
    instance = _get(svc, job.request.id)
    config = instance.config
    cmd = list(config["Cmd"])
    io = instance.io
    return {
        "CanRemove": False,
        "ContainerID": instance.container_id,
        "DetachKeys": config.get("DetachKeys", ""),
        "ExitCode": instance.exit_code,
        "ID": instance.id,
        "OpenStderr": bool(config.get("AttachStderr")),
        "OpenStdin": bool(config.get("AttachStdin")),
        "OpenStdout": bool(config.get("AttachStdout")),
        "ProcessConfig": {"arguments": cmd[1:], "entrypoint": cmd[0], "privileged": bool(config.get("Privileged")),
                          "tty": bool(config.get("Tty")), "user": config.get("User", "")},
        "Running": instance.running,
        "Pid": io.pid if io is not None and instance.running and io.pid else 0,
    }


@dataclass
class ExecResizeRequest:
    id: str
    height: int
    width: int


def resize(svc, job):
    req = job.request
    _resize(_get(svc, req.id), req.height, req.width)


def _resize(instance, height, width):
    """Size the exec's TTY; a resize that arrives before the process started (clients send
    one at once) is applied when it starts."""
    io = instance.io
    if instance.running and io is not None and io.stdin is None and instance.config.get("Tty"):
        io.started_d.addCallback(lambda _: _resize(instance, height, width))
        return
    stdin = io.stdin if io is not None else None
    if not instance.running or stdin is None or stdin.master_fd is None:
        raise Conflict(f"exec {instance.id} has no running TTY to resize")
    fcntl.ioctl(stdin.master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def _forget(svc, container):
    """A stopped container's exec instances go with it."""
    for exec_id in [i for i, inst in svc.execs.items() if inst.container_id == container.id]:
        del svc.execs[exec_id]
