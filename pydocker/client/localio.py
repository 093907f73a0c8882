"""Local byte streams: chunked reads of files for request bodies, binary views
of the text streams the CLI was given, and safe writing of downloads."""

import os
import sys

from .errors import ClientError

CHUNK = 1 << 16


def file_chunks(f, size=CHUNK):
    """Yield ``f``'s content in chunks (a streamed, chunked request body)."""
    while True:
        data = f.read(size)
        if not data:
            return
        yield data


def binary(stream, fallback=None):
    """The byte stream behind a text stream (``sys.stdout`` -> ``sys.stdout.buffer``)."""
    return getattr(stream, "buffer", None) or fallback or stream


def isatty(f):
    try:
        return os.isatty(f.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def refuse_terminal(target):
    if isatty(target):
        raise ClientError("cowardly refusing to save to a terminal. Use the -o flag or "
                          "redirect")


def write_response_to(response, path, fallback):
    """Copy a raw response to ``path`` (a temp file renamed at the end, so a
    failure leaves no partial file) or, without a path, to ``fallback``."""
    with response:
        if not path:
            for data in response.iter_chunks():
                fallback.write(data)
            fallback.flush()
            return
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                for data in response.iter_chunks():
                    f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise ClientError(f"failed to save: {exc}") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def stdout_bytes(cli):
    return binary(cli.out, sys.stdout.buffer)
