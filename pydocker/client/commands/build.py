"""``pydocker build``: send a context to the daemon's classic builder and show its stream.

The context is a directory (sent as a tar with ``.dockerignore`` applied; the
Dockerfile and .dockerignore always go), ``-`` (a tar, or a lone Dockerfile, on
stdin) or a URL the daemon fetches itself (http(s), or a git repository). A
Dockerfile outside the context travels inside it as ``.dockerfile.<hex>``, as the
docker CLI does.
"""

import io
import json
import os
import secrets
import tarfile
import tempfile

from ...builder.dockerignore import Ignore
from ..errors import ClientError, StreamError
from ..flags import FlagSet
from ..localio import binary, file_chunks
from ..units import human_size

_TAR_MAGIC_OFFSET = 257


def _flags():
    flags = FlagSet("build [OPTIONS] PATH | URL | -", "Build an image from a Dockerfile", min_args=1, max_args=1)
    flags.list("-t", "--tag", help="Name and optionally a tag in the \"name:tag\" format")
    flags.string("-f", "--file", help="Name of the Dockerfile (Default is \"PATH/Dockerfile\")")
    flags.list("--build-arg", help="Set build-time variables")
    flags.string("--target", help="Set the target build stage to build")
    flags.list("--label", help="Set metadata for an image")
    flags.bool("--no-cache", help="Do not use cache when building the image")
    flags.bool("--pull", help="Always attempt to pull a newer version of the image")
    flags.bool("-q", "--quiet", help="Suppress the build output and print image ID on success")
    flags.string("--iidfile", help="Write the image ID to the file")
    flags.string("--network", help="Set the networking mode for the RUN instructions during build")
    flags.list("--add-host", help="Add a custom host-to-IP mapping (\"host:ip\")")
    flags.bool("--rm", default=True, help="Remove intermediate containers (a failed step's too)")
    flags.bool("--force-rm", help="Always remove intermediate containers")
    flags.string("--platform", help="Set platform if server is multi-platform capable")
    flags.list("--cache-from", help="Images to consider as cache sources")
    return flags


def _key_values(items, what, environ=None):
    result = {}
    for item in items or ():
        key, eq, value = item.partition("=")
        if not key:
            raise ClientError(f"invalid {what}: {item!r}")
        result[key] = value if eq else (environ or {}).get(key)
    return result


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def _context_tar(directory, dockerfile_data, dockerfile_name):
    """A spooled tar of ``directory`` without what .dockerignore excludes."""
    ignore = Ignore.read(directory)
    spool = tempfile.TemporaryFile()
    with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        always = {".dockerignore", dockerfile_name}
        for rel, _ in ignore.walk(directory):
            always.discard(rel)
            _add_path(tar, directory, rel)
        for rel in sorted(always):
            if os.path.lexists(os.path.join(directory, rel)):
                _add_path(tar, directory, rel)
        if dockerfile_data is not None:
            _add_bytes(tar, dockerfile_name, dockerfile_data)
    spool.seek(0)
    return spool


def _add_path(tar, directory, rel):
    info = tar.gettarinfo(os.path.join(directory, rel), arcname=rel)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if info.isreg():
        with open(os.path.join(directory, rel), "rb") as f:
            tar.addfile(info, f)
    else:
        tar.addfile(info)


def _stdin_context(cli):
    """A context from stdin: a tar as is, or a lone Dockerfile wrapped in one."""
    data = binary(cli.stdin).read()
    if len(data) > _TAR_MAGIC_OFFSET + 5 and data[_TAR_MAGIC_OFFSET:_TAR_MAGIC_OFFSET + 5] == b"ustar" or \
            data[:2] == b"\x1f\x8b":
        return io.BytesIO(data)
    spool = io.BytesIO()
    with tarfile.open(fileobj=spool, mode="w") as tar:
        _add_bytes(tar, "Dockerfile", data)
    spool.seek(0)
    return spool


def _prepare(cli, opts, source):
    """(body or None, params) of the build request."""
    params = {}
    if source.startswith(("http://", "https://", "git://", "git@", "github.com/")):
        params["remote"] = source
        if opts.file:
            params["dockerfile"] = opts.file
        return None, params
    if source == "-":
        if opts.file == "-":
            raise ClientError("invalid argument: can't use stdin for both build context and dockerfile")
        if opts.file:
            params["dockerfile"] = opts.file
        return _stdin_context(cli), params
    if not os.path.isdir(source):
        raise ClientError(f"unable to prepare context: path \"{source}\" not found")
    dockerfile_data, name = None, opts.file or "Dockerfile"
    if opts.file == "-":
        dockerfile_data, name = binary(cli.stdin).read(), f".dockerfile.{secrets.token_hex(10)}"
    elif opts.file:
        path = os.path.abspath(opts.file if os.path.isabs(opts.file) or os.path.exists(opts.file)
                               else os.path.join(source, opts.file))
        inside = os.path.relpath(path, os.path.abspath(source))
        if inside.startswith(".."):
            try:
                with open(path, "rb") as f:
                    dockerfile_data = f.read()
            except OSError as e:
                raise ClientError(f"unable to prepare context: {e}") from None
            name = f".dockerfile.{secrets.token_hex(10)}"
        else:
            name = inside
    elif not os.path.exists(os.path.join(source, "Dockerfile")):
        raise ClientError(f"unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                          f"lstat {os.path.abspath(os.path.join(source, 'Dockerfile'))}: no such file or directory")
    params["dockerfile"] = name
    return _context_tar(source, dockerfile_data, name), params


def build(cli, argv):
    opts, args = _flags().parse(argv)
    body, params = _prepare(cli, opts, args[0])
    params.update({
        "t": opts.tag or None, "target": opts.target, "nocache": opts.no_cache or None, "pull": opts.pull or None,
        "q": opts.quiet or None, "rm": opts.rm, "forcerm": opts.force_rm or None, "networkmode": opts.network,
        "extrahosts": opts.add_host or None, "platform": opts.platform, "version": "1",
        "buildargs": json.dumps(_key_values(opts.build_arg, "build-arg", os.environ)) if opts.build_arg else None,
        "labels": json.dumps(_key_values(opts.label, "label")) if opts.label else None,
        "cachefrom": json.dumps(opts.cache_from) if opts.cache_from else None,
    })
    if body is not None and not opts.quiet:
        size = body.seek(0, os.SEEK_END)
        body.seek(0)
        cli.out.write(f"Sending build context to Docker daemon  {human_size(size)}\n\n")
        cli.out.flush()
    chunks = file_chunks(body) if body is not None else b""
    headers = {"Content-Type": "application/x-tar"} if body is not None else {}
    image_id = _show(cli, cli.api.stream_json("POST", "/build", params, chunks, headers), opts.quiet)
    if opts.iidfile and image_id:
        with open(opts.iidfile, "w") as f:
            f.write(image_id)
    return 0


def _show(cli, messages, quiet):
    """Print the daemon's stream; the built image's ID (from ``aux``, or -q's line)."""
    image_id = ""
    for message in messages:
        if message.get("errorDetail") or message.get("error"):
            detail = message.get("errorDetail") or {}
            raise StreamError(detail.get("message") or message.get("error"))
        if isinstance(message.get("aux"), dict) and message["aux"].get("ID"):
            image_id = message["aux"]["ID"]
        text = message.get("stream")
        if text:
            if quiet:
                image_id = text.strip() or image_id
            cli.out.write(text)
            cli.out.flush()
        elif message.get("status"):
            cli.out.write(message["status"] + "\n")
    return image_id
