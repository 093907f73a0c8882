"""``cp``: files between the host and a container, through the archive endpoints.

The API moves tar archives: ``GET``/``PUT /containers/{id}/archive?path=``,
with ``HEAD`` (the ``X-Docker-Container-Path-Stat`` header) to learn whether a
destination inside the container is a directory. A copy named after its
destination (not into it) is done by renaming the archive's top entry.
"""

import base64
import json
import os
import tarfile
import tempfile

from ..errors import APIError, ClientError
from ..flags import FlagSet
from ..localio import binary, file_chunks, stdout_bytes

def _split(arg):
    """``container:path`` -> (container, path); a host path -> (None, path)."""
    if arg == "-" or arg.startswith(("/", ".")):
        return None, arg
    container, sep, path = arg.partition(":")
    return (container, path) if sep else (None, arg)


def cp(cli, argv):
    flags = FlagSet("cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
                    "        pydocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
                    "Copy files/folders between a container and the local filesystem",
                    min_args=2, max_args=2)
    flags.bool("-a", "--archive", help="Archive mode (copy all uid/gid information)")
    flags.bool("-L", "--follow-link", help="Always follow symbol link in SRC_PATH")
    flags.bool("-q", "--quiet", help="Suppress progress output during copy")
    opts, args = flags.parse(argv)
    (src_ctr, src), (dst_ctr, dst) = _split(args[0]), _split(args[1])
    if src_ctr and dst_ctr:
        raise ClientError("copying between containers is not supported")
    if not src_ctr and not dst_ctr:
        raise ClientError("must specify at least one container source")
    if src_ctr:
        return _from_container(cli, src_ctr, src, dst)
    return _to_container(cli, src, dst_ctr, dst, opts.follow_link)


def _stat(cli, container, path):
    """The container path's stat, or None when it does not exist."""
    try:
        response = cli.api.request("HEAD", f"/containers/{container}/archive", {"path": path})
    except APIError as exc:
        if exc.not_found:
            return None
        raise
    with response:
        header = response.header("X-Docker-Container-Path-Stat")
    return json.loads(base64.b64decode(header)) if header else {}


def _from_container(cli, container, src, dst):
    response = cli.api.request("GET", f"/containers/{container}/archive", {"path": src})
    if dst == "-":
        out = stdout_bytes(cli)
        with response:
            for data in response.iter_chunks():
                out.write(data)
        out.flush()
        return 0
    with response, tempfile.TemporaryFile() as spool:
        for data in response.iter_chunks():
            spool.write(data)
        spool.seek(0)
        _extract(spool, dst)
    return 0


def _extract(fileobj, dst):
    """Extract into ``dst`` when it is a directory, else as ``dst`` itself."""
    into_dir = os.path.isdir(dst)
    parent = dst if into_dir else (os.path.dirname(os.path.abspath(dst)))
    if not os.path.isdir(parent):
        raise ClientError(f"destination directory {parent!r} must exist")
    with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
        for member in archive:
            name = member.name.lstrip("/")
            first = name.split("/", 1)[0]
            if not into_dir:
                name = os.path.basename(dst) + name[len(first):]
            member.name = name
            archive.extract(member, parent, filter="tar")


def _to_container(cli, src, container, dst, follow):
    info = _stat(cli, container, dst)
    is_dir = info is not None and (info.get("mode", 0) & 0x80000000)  # Go's ModeDir bit
    if src == "-":
        body = file_chunks(binary(cli.stdin))
        cli.api.request("PUT", f"/containers/{container}/archive", {"path": dst}, body,
                        {"Content-Type": "application/x-tar"}).close()
        return 0
    if not os.path.lexists(src):
        raise ClientError(f"stat {src}: no such file or directory")
    if is_dir or dst.endswith("/"):
        target_dir, arcname = dst, os.path.basename(os.path.normpath(src))
    else:
        target_dir, arcname = os.path.dirname(dst) or "/", os.path.basename(dst)
    with tempfile.TemporaryFile() as spool:
        with tarfile.open(fileobj=spool, mode="w") as archive:
            archive.dereference = follow
            archive.add(src, arcname=arcname)
        spool.seek(0)
        cli.api.request("PUT", f"/containers/{container}/archive", {"path": target_dir},
                        file_chunks(spool), {"Content-Type": "application/x-tar"}).close()
    return 0

