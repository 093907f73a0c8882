"""``create`` and ``run``.

``run`` follows the docker CLI's order so that no output is lost and the exit
code is the container's: create (pulling the image when it is missing),
attach and ask for ``wait`` *before* start, start, pump the streams, then
take the status from the wait response.
"""

import os

from ..errors import APIError, ClientError, StatusError
from ..flags import FlagSet
from ..runconfig import add_container_flags, container_spec


def _flags(command):
    flags = FlagSet(f"{command} [OPTIONS] IMAGE [COMMAND] [ARG...]",
                    "Create and run a new container from an image" if command == "run"
                    else "Create a new container", interspersed=False, min_args=1)
    add_container_flags(flags)
    if command == "run":
        flags.bool("-d", "--detach", help="Run container in background and print container ID")
        flags.string("--detach-keys", help="Override the key sequence for detaching a container")
        flags.bool("--sig-proxy", default=True, help="Proxy received signals to the process")
    return flags


def create(cli, argv):
    opts, args = _flags("create").parse(argv)
    container_id = create_container(cli, opts, args[0], args[1:])
    cli.out.write(container_id + "\n")
    return 0


def create_container(cli, opts, image, command):
    """Create the container (pulling a missing image per --pull); return its ID."""
    body, name = container_spec(opts, image, command)
    if opts.pull not in ("always", "missing", "never"):
        raise ClientError(f'invalid pull option: \'{opts.pull}\': must be one of "always", '
                          '"missing" or "never"')
    if opts.pull == "always":
        _pull(cli, image, opts.quiet, opts.platform)
    params = {"name": name, "platform": opts.platform}
    try:
        result = cli.api.post("/containers/create", params, body)
    except APIError as exc:
        if not (exc.not_found and opts.pull == "missing" and "image" in exc.daemon_message.lower()):
            raise
        cli.err.write(f"Unable to find image '{_with_tag(image)}' locally\n")
        _pull(cli, image, opts.quiet, opts.platform)
        result = cli.api.post("/containers/create", params, body)
    for warning in result.get("Warnings") or []:
        cli.err.write(f"WARNING: {warning}\n")
    if opts.cidfile:
        _write_cidfile(opts.cidfile, result["Id"])
    return result["Id"]


def _with_tag(image):
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in image else image + ":latest"


def _pull(cli, image, quiet, platform):
    """The image pulled for the platform asked, as the docker CLI does before a create."""
    from .images import pull_image

    pull_image(cli, image, quiet=quiet, out=cli.err, announce_default_tag=False, platform=platform)


def _write_cidfile(path, container_id):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ClientError(f"container ID file found, make sure the other container isn't "
                          f"running or delete {path}") from None
    with os.fdopen(fd, "w") as f:
        f.write(container_id)


def run(cli, argv):
    opts, args = _flags("run").parse(argv)
    if opts.detach and opts.attach:
        raise ClientError("Conflicting options: -a and -d")
    try:
        container_id = create_container(cli, opts, args[0], args[1:])
        if opts.detach:
            cli.api.post(f"/containers/{container_id}/start")
            cli.out.write(container_id + "\n")
            return 0
    except APIError as exc:
        raise _run_failure(exc) from None
    attach_streams = set(a.lower() for a in opts.attach) or {"stdout", "stderr"}
    if opts.interactive and not opts.attach:
        attach_streams.add("stdin")
    return run_attached(cli, container_id, tty=opts.tty, streams=attach_streams,
                        detach_keys=opts.detach_keys, autoremove=opts.rm,
                        sig_proxy=opts.sig_proxy)


def run_attached(cli, container_id, tty, streams, detach_keys=None, autoremove=False,
                 sig_proxy=True, start=True, detach_fails=False):
    """Attach, register the wait, start, pump; return the container's exit status.
    Detaching ends ``run`` with 0 and ``attach`` (``detach_fails``) with status 1 and
    "read escape sequence", as with the docker CLI."""
    from ..localio import binary
    from ..session import ESCAPE_MESSAGE, Session, stdin_fd

    detach_keys = cli.detach_keys(detach_keys)
    params = {"stream": True, "stdin": "stdin" in streams, "stdout": "stdout" in streams,
              "stderr": "stderr" in streams, "detachKeys": detach_keys}
    # Before the attach, as the docker CLI: a signal the moment the container starts is its.
    restore_signals = _handle_signals(cli, container_id, sig_proxy) if not tty else None
    try:
        response = cli.api.hijack(f"/containers/{container_id}/attach", params)
        condition = "removed" if autoremove else "next-exit"
        waiter = cli.api.request("POST", f"/containers/{container_id}/wait",
                                 {"condition": condition})
        try:
            if start:
                cli.api.post(f"/containers/{container_id}/start")
        except APIError as exc:
            response.close()
            waiter.close()
            raise _run_failure(exc) from None

        def resize(rows, cols):
            cli.api.post(f"/containers/{container_id}/resize", {"h": rows, "w": cols})

        session = Session(response, tty=tty, stdin="stdin" in streams, detach_keys=detach_keys,
                          resize=resize, in_fd=stdin_fd(cli.stdin), out=binary(cli.out),
                          err=binary(cli.err))
        finished = session.run()
    finally:
        if restore_signals:
            restore_signals()
    if not finished:
        waiter.close()
        if detach_fails:
            raise ClientError(ESCAPE_MESSAGE, status=1)
        return 0
    return _exit_status(waiter)


def _run_failure(exc):
    """The docker CLI's statuses for a container that could not run: 127 when
    the command is missing, 126 when it cannot be executed, 125 otherwise."""
    text = exc.daemon_message.lower()
    if "executable file not found" in text or "no such file or directory" in text:
        status = 127
    elif "permission denied" in text:
        status = 126
    else:
        status = 125
    return ClientError(f"pydocker: {exc.message}", status=status)


def _exit_status(waiter):
    import json

    with waiter:
        body = waiter.read()
    try:
        result = json.loads(body)
    except ValueError:
        raise ClientError(f"error waiting for container: {body.decode(errors='replace')}") from None
    error = (result.get("Error") or {}).get("Message")
    if error:
        raise ClientError(f"Error response from daemon: {error}", status=125)
    status = result.get("StatusCode", 0)
    if status:
        raise StatusError(status)
    return 0


# Never forwarded, as by the docker CLI: child and pipe events are the client's own, and
# faults cannot be caught; uncatchable and real-time signals are left out too.
UNPROXIED = {"SIGCHLD", "SIGPIPE", "SIGURG", "SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE",
             "SIGILL", "SIGTRAP", "SIGRTMIN", "SIGRTMAX"}
GIVE_UP_AFTER = 3  # SIGINT/SIGTERMs


def _handle_signals(cli, container_id, proxy):
    """While attached without a TTY, as the docker CLI: every signal the client receives is
    forwarded to the container (``--sig-proxy``, the default), and the client itself stays
    attached until its third SIGINT/SIGTERM. Returns a function restoring the handlers."""
    import signal

    interrupts = (signal.SIGINT, signal.SIGTERM)
    numbers = [s for s in signal.Signals if s.name not in UNPROXIED] if proxy else list(interrupts)
    received = []

    def on_signal(signum, frame):
        if proxy:
            try:
                cli.api.post(f"/containers/{container_id}/kill",
                             {"signal": signal.Signals(signum).name})
            except ClientError as exc:
                cli.err.write(f"{exc}\n")
        if signum in interrupts:
            received.append(signum)
            if len(received) == GIVE_UP_AFTER:
                raise ClientError(f"got {GIVE_UP_AFTER} SIGTERM/SIGINTs, forcefully exiting", status=1)

    previous = {number: signal.signal(number, on_signal) for number in numbers}

    def restore():
        for number, handler in previous.items():
            signal.signal(number, handler)
    return restore
