"""Remote access over TLS: a real daemon with --tlsverify on two TCP listeners, driven by the
docker CLI 28, docker-py, pydocker's client and openssl; certificates from `pydocker tls generate`."""

import datetime
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

import pytest

from pydocker import __version__, tlsgen
from pydocker.testing.daemon import DaemonProcess
from pydocker.testing.sockets import free_port

pytestmark = pytest.mark.kernel


def cert_dir(base, name, ca, client):
    """A DOCKER_CERT_PATH: ca.pem, and cert.pem/key.pem when ``client`` is given."""
    d = base / name
    d.mkdir()
    (d / "ca.pem").write_bytes(ca.cert_pem())
    if client is not None:
        client.write(d / "cert.pem", d / "key.pem")
    return d


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """The helper's set, plus client directories that must be refused."""
    base = tmp_path_factory.mktemp("tls")
    good = base / "good"
    proc = subprocess.run([sys.executable, "-m", "pydocker", "tls", "generate", "--host", "localhost",
                           "--ip", "127.0.0.1", "--out", str(good)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ca = tlsgen.Issued(*_load(good / "ca.pem", good / "ca-key.pem"))
    other_ca = tlsgen.make_ca("another CA")
    long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
    return {
        "good": good,
        "no-client-cert": cert_dir(base, "no-client-cert", ca, None),
        "other-ca": cert_dir(base, "other-ca", ca, tlsgen.issue(other_ca, "intruder", "client")),
        "expired": cert_dir(base, "expired", ca, tlsgen.issue(ca, "old", "client", days=1, not_before=long_ago)),
        "server-as-client": _server_as_client(base, good),
    }


def _load(cert_path, key_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return (x509.load_pem_x509_certificate(cert_path.read_bytes()),
            load_pem_private_key(key_path.read_bytes(), None))


def _server_as_client(base, good):
    """The server's own certificate offered as a client one: right CA, wrong purpose."""
    d = base / "server-as-client"
    d.mkdir()
    shutil.copy(good / "ca.pem", d / "ca.pem")
    shutil.copy(good / "server-cert.pem", d / "cert.pem")
    shutil.copy(good / "server-key.pem", d / "key.pem")
    return d


@pytest.fixture(scope="module")
def tls_daemon(tmp_path_factory, certs):
    """--tlsverify on a loopback listener and an all-addresses one; the unix socket stays plain."""
    good = certs["good"]
    loopback, anywhere = free_port(), free_port()
    d = DaemonProcess(tmp_path_factory.mktemp("daemon"), extra_args=[
        "--tlsverify", f"--tlscacert={good / 'ca.pem'}", f"--tlscert={good / 'server-cert.pem'}",
        f"--tlskey={good / 'server-key.pem'}",
        "-H", f"tcp://127.0.0.1:{loopback}", "-H", f"tcp://0.0.0.0:{anywhere}"])
    d.start()
    d.tcp_ports = (loopback, anywhere)
    try:
        d.import_busybox()
        yield d
    finally:
        status = d.stop()
    assert status == 0, d.log()
    assert "Traceback" not in d.log()


def tls_env(cert_path, port, host="localhost"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(cert_path), DOCKER_HOST=f"tcp://{host}:{port}")
    return env


def run(argv, env, input=None, timeout=60):
    return subprocess.run(argv, env=env, input=input, capture_output=True, text=True, timeout=timeout)


PYDOCKER = [sys.executable, "-m", "pydocker"]
SERVER_VERSION = __version__ + "\n"


@pytest.fixture(params=["docker", "pydocker"])
def client(request, docker_cli):
    return [docker_cli] if request.param == "docker" else PYDOCKER


# -- what works -----------------------------------------------------------------------------------

def test_version_ps_and_run_with_the_helpers_certificates(tls_daemon, certs, client):
    env = tls_env(certs["good"], tls_daemon.tcp_ports[0])
    version = run(client + ["version", "--format", "{{.Server.Version}}"], env)
    assert (version.returncode, version.stdout) == (0, SERVER_VERSION), version.stderr
    ps = run(client + ["ps", "-a"], env)
    assert ps.returncode == 0 and ps.stdout.startswith("CONTAINER ID"), ps.stderr
    hi = run(client + ["run", "--rm", "busybox", "echo", "hi"], env)
    assert (hi.returncode, hi.stdout) == (0, "hi\n"), hi.stderr + tls_daemon.log()[-2000:]


def test_stdin_half_close_over_tls_keeps_the_output(tls_daemon, certs, client):
    """End of stdin (close_notify from the docker CLI and from ours) must not cut the output."""
    env = tls_env(certs["good"], tls_daemon.tcp_ports[0])
    data = os.urandom(100000).hex()
    proc = run(client + ["run", "--rm", "-i", "busybox", "sh", "-c", "cat; seq 1 20000"], env, input=data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == data + "".join(f"{i}\n" for i in range(1, 20001))


def test_a_build_context_streams_over_tls(tls_daemon, certs, client, tmp_path):
    """The context arrives in TLS records, its chunked framing split anywhere among them."""
    env = dict(tls_env(certs["good"], tls_daemon.tcp_ports[0]), DOCKER_BUILDKIT="0")
    data = os.urandom(3 << 20)
    (tmp_path / "blob").write_bytes(data)
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY blob /blob\n")
    tag = f"tls-build-{client[0].rsplit('/', 1)[-1]}"
    built = run(client + ["build", "-q", "-t", tag, str(tmp_path)], env)
    assert built.returncode == 0, built.stderr + tls_daemon.log()[-2000:]
    summed = run(client + ["run", "--rm", tag, "md5sum", "/blob"], env)
    assert summed.stdout.split()[:1] == [hashlib.md5(data).hexdigest()], summed.stderr
    assert run(client + ["rmi", tag], env).returncode == 0


def test_exec_with_stdin_over_tls(tls_daemon, certs, client):
    env = tls_env(certs["good"], tls_daemon.tcp_ports[0])
    started = run(client + ["run", "-d", "busybox", "sleep", "60"], env)
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        proc = run(client + ["exec", "-i", cid, "sh", "-c", "cat; echo end"], env, input="in exec\n")
        assert (proc.returncode, proc.stdout) == (0, "in exec\nend\n"), proc.stderr
    finally:
        run(client + ["rm", "-f", cid], env)


def test_a_bare_tcp_fin_also_ends_stdin(tls_daemon, certs):
    """Older clients half-close the TCP socket under TLS instead of sending close_notify."""
    from pydocker.client.api import APIClient
    from pydocker.client.hosts import parse_host
    from pydocker.client.stdcopy import Demuxer
    from pydocker.client.transport import TLSConfig

    good = certs["good"]
    api = APIClient(parse_host(f"tcp://localhost:{tls_daemon.tcp_ports[0]}", tls=True),
                    TLSConfig(True, str(good / "ca.pem"), str(good / "cert.pem"), str(good / "key.pem")))
    cid = api.json("POST", "/containers/create", body=json.dumps(
        {"Image": "busybox", "Cmd": ["sh", "-c", "cat; echo after-eof"], "OpenStdin": True,
         "StdinOnce": True, "AttachStdin": True, "AttachStdout": True}).encode(),
        headers={"Content-Type": "application/json"})["Id"]
    try:
        resp = api.hijack(f"/containers/{cid}/attach", {"stream": 1, "stdin": 1, "stdout": 1})
        api.post(f"/containers/{cid}/start")
        resp.sock.sendall(b"typed\n")
        resp.sock._sock.shutdown(socket.SHUT_WR)  # under the TLS layer: no close_notify
        demuxer, out = Demuxer(), b""
        while chunk := resp.read_some():
            out += b"".join(payload for _, payload in demuxer.feed(chunk))
        assert out == b"typed\nafter-eof\n"
    finally:
        api.delete(f"/containers/{cid}", {"force": 1})


def test_every_tcp_listener_serves_tls(tls_daemon, certs, client):
    env = tls_env(certs["good"], tls_daemon.tcp_ports[1], host="127.0.0.1")
    proc = run(client + ["version", "--format", "{{.Server.Version}}"], env)
    assert (proc.returncode, proc.stdout) == (0, SERVER_VERSION), proc.stderr


def test_unix_socket_stays_plain(tls_daemon):
    assert tls_daemon.ping()
    assert tls_daemon.client("version", "--format", "{{.Server.Version}}").stdout == SERVER_VERSION


@pytest.fixture
def docker_py(monkeypatch):
    """docker-py, with requests' CA-bundle variables unset: they override TLSConfig's CA."""
    docker = pytest.importorskip("docker")
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    return docker


def test_docker_py_with_tlsconfig(tls_daemon, certs, docker_py):
    docker = docker_py
    good = certs["good"]
    tls = docker.tls.TLSConfig(client_cert=(str(good / "cert.pem"), str(good / "key.pem")),
                               ca_cert=str(good / "ca.pem"), verify=True)
    client = docker.DockerClient(base_url=f"tcp://localhost:{tls_daemon.tcp_ports[0]}", tls=tls)
    try:
        assert client.ping() is True
        assert client.version()["ApiVersion"] == "1.44"
        assert client.containers.run("busybox", ["echo", "from docker-py"], remove=True) == b"from docker-py\n"
    finally:
        client.close()


def test_docker_py_without_a_client_certificate_is_refused(tls_daemon, certs, docker_py):
    tls = docker_py.tls.TLSConfig(ca_cert=str(certs["good"] / "ca.pem"), verify=True)
    with pytest.raises(docker_py.errors.DockerException, match="(?i)certificate required"):
        docker_py.DockerClient(base_url=f"tcp://localhost:{tls_daemon.tcp_ports[0]}", tls=tls)


# -- what is refused ------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["no-client-cert", "other-ca", "expired", "server-as-client"])
@pytest.mark.parametrize("listener", [0, 1])
def test_docker_cli_without_a_valid_client_certificate_is_refused(tls_daemon, certs, docker_cli,
                                                                  which, listener):
    env = tls_env(certs[which], tls_daemon.tcp_ports[listener], host="127.0.0.1")
    proc = run([docker_cli, "version", "--format", "{{.Server.Version}}"], env)
    assert proc.returncode != 0
    assert __version__ not in proc.stdout
    assert "tls" in proc.stderr.lower() or "certificate" in proc.stderr.lower(), proc.stderr


@pytest.mark.parametrize("which, alert", [
    ("no-client-cert", "certificate required"), ("other-ca", "unknown ca"),
    ("expired", "certificate expired"), ("server-as-client", "unsupported certificate")])
def test_pydocker_without_a_valid_client_certificate_is_refused(tls_daemon, certs, which, alert):
    env = tls_env(certs[which], tls_daemon.tcp_ports[0])
    proc = run(PYDOCKER + ["ps"], env)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == f"error during connect: remote error: tls: {alert}\n"


def test_the_server_name_is_checked(tls_daemon, certs, client):
    """The certificate names localhost and 127.0.0.1, not 127.0.0.2 (loopback too, in this netns)."""
    env = tls_env(certs["good"], tls_daemon.tcp_ports[1], host="127.0.0.2")
    proc = run(client + ["version", "--format", "{{.Server.Version}}"], env)
    assert proc.returncode != 0
    assert "127.0.0.2" in proc.stderr, proc.stderr


@pytest.mark.parametrize("version, accepted", [
    ("-tls1", False), ("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)])
def test_only_tls_1_2_and_newer(tls_daemon, certs, version, accepted):
    openssl = shutil.which("openssl") or pytest.skip("openssl not installed")
    good = certs["good"]
    proc = subprocess.run(
        [openssl, "s_client", version, "-cipher", "DEFAULT@SECLEVEL=0", "-connect",
         f"127.0.0.1:{tls_daemon.tcp_ports[0]}", "-CAfile", str(good / "ca.pem"),
         "-cert", str(good / "cert.pem"), "-key", str(good / "key.pem"), "-ign_eof"],
        input="GET /_ping HTTP/1.0\r\n\r\n", capture_output=True, text=True, timeout=30)
    answered = "HTTP/1.0 200 OK" in proc.stdout or "HTTP/1.1 200 OK" in proc.stdout
    assert answered is accepted, proc.stdout + proc.stderr
    if not accepted:
        assert "protocol version" in proc.stderr or "no protocols available" in proc.stderr, proc.stderr


@pytest.mark.parametrize("cipher, accepted", [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", True), ("ECDHE-ECDSA-CHACHA20-POLY1305", True),
    ("ECDHE-ECDSA-AES128-SHA", False), ("ECDHE-ECDSA-AES256-SHA384", False)])
def test_tls_1_2_offers_only_aead_ciphers(tls_daemon, certs, cipher, accepted):
    openssl = shutil.which("openssl") or pytest.skip("openssl not installed")
    good = certs["good"]
    proc = subprocess.run(
        [openssl, "s_client", "-tls1_2", "-cipher", cipher, "-connect", f"127.0.0.1:{tls_daemon.tcp_ports[0]}",
         "-cert", str(good / "cert.pem"), "-key", str(good / "key.pem"), "-ign_eof"],
        input="GET /_ping HTTP/1.0\r\n\r\n", capture_output=True, text=True, timeout=30)
    assert ("HTTP/1.0 200 OK" in proc.stdout) is accepted, proc.stdout + proc.stderr


def test_plain_http_gets_a_clear_400_and_the_daemon_keeps_serving(tls_daemon, certs, docker_cli):
    port = tls_daemon.tcp_ports[0]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = read_to_end(s)
    assert answer.startswith(b"HTTP/1.0 400 Bad Request\r\n")
    assert b"Client sent an HTTP request to an HTTPS server." in answer
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    proc = run([docker_cli, "-H", f"tcp://127.0.0.1:{port}", "version"], env)
    assert proc.returncode != 0 and "HTTPS server" in proc.stderr, proc.stderr
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:  # neither HTTP nor TLS
        s.sendall(b"\x00\x01\x02garbage\r\n\r\n")
        assert not read_to_end(s).startswith(b"HTTP")  # closed at once (a hang times out)
    good = run(PYDOCKER + ["version", "--format", "{{.Server.Version}}"], tls_env(certs["good"], port))
    assert good.stdout == SERVER_VERSION, good.stderr


def read_to_end(sock):
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_python_ssl_client_refuses_tls_1_1_server_side(tls_daemon):
    """Independent of openssl's CLI: a context capped at TLS 1.1 cannot complete a handshake."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot offer TLS 1.1 at all")
    with socket.create_connection(("127.0.0.1", tls_daemon.tcp_ports[0]), timeout=10) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="localhost")


# -- start-up refusals ----------------------------------------------------------------------------

def _start_refused(base, args):
    d = DaemonProcess(base, extra_args=[*args, "-H", f"tcp://127.0.0.1:{free_port()}"])
    proc = subprocess.run(d.args(), capture_output=True, text=True, timeout=60)
    assert not os.path.exists(d.pidfile), "a refused start left its pid file"
    assert not os.path.exists(d.socket), "a refused start left a socket"
    return proc


@pytest.fixture(scope="module")
def bad_server_files(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    ca = tlsgen.make_ca()
    ca.write(base / "ca.pem", base / "ca-key.pem")
    server = tlsgen.issue(ca, "localhost", "server", hosts=["localhost"])
    server.write(base / "server-cert.pem", base / "server-key.pem")
    tlsgen.issue(ca, "other", "server").write(base / "other-cert.pem", base / "other-key.pem")
    long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
    tlsgen.issue(ca, "old", "server", days=1, not_before=long_ago).write(base / "old-cert.pem", base / "old-key.pem")
    tlsgen.make_ca(days=1, not_before=long_ago).write(base / "old-ca.pem", base / "old-ca-key.pem")
    (base / "junk.pem").write_text("not a certificate\n")
    return base


@pytest.mark.parametrize("cert, key, ca, message", [
    ("missing.pem", "server-key.pem", "ca.pem", "missing.pem: no such file"),
    ("server-cert.pem", "missing-key.pem", "ca.pem", "missing-key.pem: no such file"),
    ("server-cert.pem", "server-key.pem", "missing-ca.pem", "missing-ca.pem: no such file"),
    ("server-cert.pem", "other-key.pem", "ca.pem", "does not match the certificate"),
    ("old-cert.pem", "old-key.pem", "ca.pem", "expired on"),
    ("server-cert.pem", "server-key.pem", "old-ca.pem", "expired on"),
    ("junk.pem", "server-key.pem", "ca.pem", "holds no PEM certificate"),
    ("server-cert.pem", "junk.pem", "ca.pem", "not a valid unencrypted PEM private key"),
])
def test_start_refused_with_a_clear_message(tmp_path, bad_server_files, cert, key, ca, message):
    b = bad_server_files
    proc = _start_refused(tmp_path / "d", ["--tlsverify", f"--tlscert={b / cert}", f"--tlskey={b / key}",
                                           f"--tlscacert={b / ca}"])
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_tcp_without_tls_on_a_public_address_warns_loudly(tmp_path):
    # --bridge=none: the module's tls_daemon, still running, keeps the pydocker0 bridge and
    # iptables chains of this namespace, which a second daemon's stop would remove.
    d = DaemonProcess(tmp_path / "d", extra_args=["-H", f"tcp://0.0.0.0:{free_port()}", "--bridge=none"]).start()
    try:
        assert "WITHOUT TLS" in d.log()
    finally:
        assert d.stop() == 0


def test_tls_without_verify_encrypts_but_asks_for_no_certificate(tmp_path, certs):
    good, port = certs["good"], free_port()
    d = DaemonProcess(tmp_path / "d", extra_args=[
        "--tls", f"--tlscert={good / 'server-cert.pem'}", f"--tlskey={good / 'server-key.pem'}",
        "-H", f"tcp://127.0.0.1:{port}", "--bridge=none"]).start()  # as above
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CERT_PATH"] = str(tmp_path / "empty")  # no client certificate to send
        proc = run(PYDOCKER + ["--tls", "-H", f"tcp://127.0.0.1:{port}", "version", "-f",
                               "{{.Server.Version}}"], env)
        assert (proc.returncode, proc.stdout) == (0, SERVER_VERSION), proc.stderr
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            assert read_to_end(s).startswith(b"HTTP/1.0 400 Bad Request")
    finally:
        assert d.stop() == 0, d.log()
