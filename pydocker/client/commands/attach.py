"""``logs``, ``attach`` and ``exec``: the commands that stream a container's I/O."""

import os
import sys

from ..errors import ClientError, StatusError
from ..flags import FlagSet
from ..localio import binary


def logs(cli, argv):
    from ..stdcopy import FrameError, copy_stream
    from ..times import filter_timestamp

    flags = FlagSet("logs [OPTIONS] CONTAINER", "Fetch the logs of a container",
                    min_args=1, max_args=1)
    flags.bool("--details", help="Show extra details provided to logs")
    flags.bool("-f", "--follow", help="Follow log output")
    flags.string("--since", help="Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") "
                 "or relative (e.g. \"42m\" for 42 minutes)")
    flags.string("-n", "--tail", default="all", help="Number of lines to show from the end "
                 "of the logs")
    flags.bool("-t", "--timestamps", help="Show timestamps")
    flags.string("--until", help="Show logs before a timestamp")
    opts, args = flags.parse(argv)
    info = cli.api.get(f"/containers/{args[0]}/json")
    try:
        params = {"stdout": True, "stderr": True, "follow": opts.follow or None,
                  "tail": opts.tail, "timestamps": opts.timestamps or None,
                  "details": opts.details or None,
                  "since": opts.since and filter_timestamp(opts.since),
                  "until": opts.until and filter_timestamp(opts.until)}
    except ValueError as exc:
        raise ClientError(str(exc)) from None
    response = cli.api.request("GET", f"/containers/{info['Id']}/logs", params)
    with response:
        try:
            copy_stream(response.read_some, binary(cli.out, sys.stdout.buffer),
                        binary(cli.err, sys.stderr.buffer),
                        (info.get("Config") or {}).get("Tty", False))
        except FrameError as exc:
            raise ClientError(str(exc)) from None
    return 0


def attach(cli, argv):
    from .run import run_attached

    flags = FlagSet("attach [OPTIONS] CONTAINER",
                    "Attach local standard input, output, and error streams to a running "
                    "container", min_args=1, max_args=1)
    flags.string("--detach-keys", help="Override the key sequence for detaching a container")
    flags.bool("--no-stdin", help="Do not attach STDIN")
    flags.bool("--sig-proxy", default=True, help="Proxy all received signals to the process")
    opts, args = flags.parse(argv)
    info = cli.api.get(f"/containers/{args[0]}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise ClientError("You cannot attach to a stopped container, start it first")
    if state.get("Paused"):
        raise ClientError("You cannot attach to a paused container, unpause it first")
    config = info.get("Config") or {}
    streams = {"stdout", "stderr"}
    if config.get("OpenStdin") and not opts.no_stdin:
        streams.add("stdin")
    return run_attached(cli, info["Id"], tty=config.get("Tty", False), streams=streams,
                        detach_keys=opts.detach_keys, sig_proxy=opts.sig_proxy, start=False,
                        detach_fails=True)


def exec_(cli, argv):
    from ..runconfig import env_list
    from ..session import ESCAPE_MESSAGE, Session, stdin_fd, terminal_size

    flags = FlagSet("exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                    "Execute a command in a running container", interspersed=False,
                    min_args=2)
    flags.bool("-d", "--detach", help="Detached mode: run command in the background")
    flags.string("--detach-keys", help="Override the key sequence for detaching a container")
    flags.list("-e", "--env", help="Set environment variables")
    flags.list("--env-file", help="Read in a file of environment variables")
    flags.bool("-i", "--interactive", help="Keep STDIN open even if not attached")
    flags.bool("--privileged", help="Give extended privileges to the command")
    flags.bool("-t", "--tty", help="Allocate a pseudo-TTY")
    flags.string("-u", "--user", help="Username or UID (format: \"<name|uid>[:<group|gid>]\")")
    flags.string("-w", "--workdir", help="Working directory inside the container")
    opts, args = flags.parse(argv)
    detach_keys = cli.detach_keys(opts.detach_keys)
    body = {"AttachStdin": opts.interactive and not opts.detach,
            "AttachStdout": not opts.detach, "AttachStderr": not opts.detach,
            "Tty": opts.tty, "Cmd": args[1:], "Env": env_list(opts.env, opts.env_file) or None,
            "Privileged": opts.privileged, "User": opts.user or "",
            "WorkingDir": opts.workdir or "", "DetachKeys": detach_keys or ""}
    exec_id = cli.api.post(f"/containers/{args[0]}/exec", body=body)["Id"]
    if opts.detach:
        cli.api.post(f"/exec/{exec_id}/start", body={"Detach": True, "Tty": opts.tty})
        return 0
    start = {"Detach": False, "Tty": opts.tty}
    size = terminal_size(1) if opts.tty and os.isatty(1) else None
    if size:
        start["ConsoleSize"] = list(size)  # the TTY starts at the terminal's size, as the docker CLI asks
    response = cli.api.hijack(f"/exec/{exec_id}/start", body=start)

    def resize(rows, cols):
        cli.api.post(f"/exec/{exec_id}/resize", {"h": rows, "w": cols})

    session = Session(response, tty=opts.tty, stdin=opts.interactive,
                      detach_keys=detach_keys, resize=resize, in_fd=stdin_fd(cli.stdin),
                      out=binary(cli.out), err=binary(cli.err))
    if not session.run():
        raise ClientError(ESCAPE_MESSAGE, status=1)
    status = (cli.api.get(f"/exec/{exec_id}/json") or {}).get("ExitCode") or 0
    if status:
        raise StatusError(status)
    return 0

