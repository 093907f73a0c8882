"""Fixtures shared by the integration tests that need a registry or a busybox tarball."""

import pytest

from pydocker.testing.images import find_busybox, make_rootfs_tar
from pydocker.testing.registry import TEST_PASSWORD, TEST_USER, htpasswd_line


@pytest.fixture(scope="module")
def busybox_tar(tmp_path_factory):
    if find_busybox() is None:
        pytest.skip("Debian's busybox-static is not installed")
    return make_rootfs_tar(str(tmp_path_factory.mktemp("busybox") / "rootfs.tar"))


@pytest.fixture
def registries(make_registry, tmp_path):
    """Factory of registries (``htpasswd=True`` for one that wants a login); killed after."""

    def start(name="registry", htpasswd=False, port=None):
        auth = None
        if htpasswd:
            workdir = tmp_path / name
            workdir.mkdir(exist_ok=True)
            (workdir / "htpasswd").write_text(htpasswd_line(TEST_USER, TEST_PASSWORD))
            auth = {"htpasswd": {"realm": "pydocker-test", "path": str(workdir / "htpasswd")}}
        return make_registry(auth=auth, name=name, port=port)

    return start


@pytest.fixture
def registry(registries):
    return registries()


class Engine:
    """A daemon under test, pydocker or dockerd, as the side-by-side tests see it."""

    def __init__(self, kind, socket, api):
        self.kind = kind
        self.socket = socket
        self.host = f"unix://{socket}"
        self.api = api  # the path prefix of the newest API version it speaks

    def request(self, method, path, body=None, headers=None):
        from pydocker.testing import rawhttp
        return rawhttp.request(self.socket, method, self.api + path, body, headers)

    def cli(self, *args, check=True, timeout=180, **kwargs):
        """The docker CLI against this daemon."""
        import subprocess
        proc = subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True,
                              timeout=timeout, **kwargs)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} against {self.kind} failed "
                                 f"({proc.returncode}): {proc.stderr}")
        return proc


@pytest.fixture(scope="module", params=["pydocker", "dockerd"])
def engine(request, tmp_path_factory, busybox_tar):
    """Each test runs against pydocker and, where Debian's docker.io is installed, against
    dockerd (no bridge, no iptables, in the test's namespaces): the same assertions state
    dockerd's behaviour and check that pydocker has it. Both hold a busybox:latest image."""
    import shutil
    from pydocker.testing import dockerd as docker_daemon
    from pydocker.testing.daemon import DaemonProcess
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    base = tmp_path_factory.mktemp(request.param)
    if request.param == "pydocker":
        d = DaemonProcess(base / "daemon").start()
        e = Engine("pydocker", d.socket, "/v1.44")
    else:
        missing = docker_daemon.available()
        if missing:
            pytest.skip(missing)
        d = docker_daemon.Dockerd(base / "dockerd").start()
        e = Engine("dockerd", d.socket, "/v1.41")  # Debian's dockerd 20.10
    try:
        e.cli("import", "-c", 'CMD ["/bin/sh"]', busybox_tar, "busybox:latest")
        yield e
    finally:
        status = d.stop()
        if request.param == "pydocker":
            assert status == 0, d.log()
