import io
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from standin import StandIn  # noqa: E402

from pydocker.client import cli  # noqa: E402


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


class Result:
    def __init__(self, status, out, err):
        self.status, self.out, self.err = status, out, err


@pytest.fixture
def run_cli(monkeypatch):
    """Run the client in-process; return its status and captured output."""
    for name in ("DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv, stdin="", out=None):
        """``stdin`` is text, or a file object with a real descriptor (for hijacks);
        ``out``, a text stream over a BytesIO, lets a test watch the output as it comes."""
        out = out or io.TextIOWrapper(io.BytesIO(), write_through=True)
        err = io.TextIOWrapper(io.BytesIO(), write_through=True)
        stdin = io.StringIO(stdin) if isinstance(stdin, str) else stdin
        status = cli.main(list(argv), stdout=out, stderr=err, stdin=stdin)
        return Result(status, out.buffer.getvalue().decode(), err.buffer.getvalue().decode())
    return run
