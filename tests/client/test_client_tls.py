"""--tls/--tlsverify against a TLS stand-in (tests/client/standin.py) with certificates
made by openssl at test time: the server name is checked, client certificates are sent."""

import shutil
import subprocess

import pytest

from standin import TLSStandIn

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, a server certificate for DNS:localhost only, and a client certificate."""
    d = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
             "-out", "ca.pem", "-days", "1", "-subj", "/CN=test-ca", cwd=d)
    for name, ext in (("server", "subjectAltName=DNS:localhost"),
                      ("client", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem",
                 "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", "-extfile",
                 f"{name}.ext", cwd=d)
    return d


VERSION = {"Version": "tls", "ApiVersion": "1.44", "MinAPIVersion": "1.24"}


@pytest.fixture
def tls_server(certs):
    with TLSStandIn(str(certs / "server.pem"), str(certs / "server-key.pem"),
                    cafile=str(certs / "ca.pem")) as server:
        server.json("GET", "/version", VERSION)
        yield server


def _client_flags(certs):
    return ["--tlscacert", str(certs / "ca.pem"), "--tlscert", str(certs / "client.pem"),
            "--tlskey", str(certs / "client-key.pem")]


def test_tlsverify_accepts_the_right_server_name(tls_server, certs, run_cli):
    result = run_cli("--tlsverify", *_client_flags(certs), "-H", tls_server.url,
                     "version", "-f", "{{.Server.Version}}")
    assert result.status == 0, result.err
    assert result.out == "tls\n"


def test_tlsverify_rejects_a_name_the_certificate_does_not_cover(tls_server, certs, run_cli):
    result = run_cli("--tlsverify", *_client_flags(certs), "-H",
                     f"tcp://127.0.0.1:{tls_server.port}", "version", "-f", "x")
    assert result.status == 1
    assert "error during connect" in result.err
    assert "127.0.0.1" in result.err


def test_cert_path_environment_supplies_the_files(tls_server, certs, run_cli, monkeypatch,
                                                  tmp_path):
    for src, dst in (("ca.pem", "ca.pem"), ("client.pem", "cert.pem"),
                     ("client-key.pem", "key.pem")):
        shutil.copy(certs / src, tmp_path / dst)
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_HOST", tls_server.url)
    result = run_cli("version", "-f", "{{.Server.Version}}")
    assert result.status == 0, result.err
    assert result.out == "tls\n"


def test_missing_certificate_file_is_a_clear_error(certs, run_cli, tmp_path):
    result = run_cli("--tlsverify", "--tlscacert", str(tmp_path / "nope.pem"), "-H",
                     "tcp://localhost:1", "ps")
    assert result.status == 1
    assert "nope.pem" in result.err
