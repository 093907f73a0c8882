"""`pydocker tls generate`: the files, their modes and contents, and what it refuses.

openssl (not our code) checks that the chain verifies and that each certificate is fit for its
purpose; the end-to-end use with the docker CLI and docker-py is in tests/integration/test_tls_daemon.py."""

import ipaddress
import os
import shutil
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

FILES = {"ca.pem": 0o644, "ca-key.pem": 0o600, "server-cert.pem": 0o644, "server-key.pem": 0o600,
         "cert.pem": 0o644, "key.pem": 0o600}


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_writes_the_files_the_daemon_and_docker_cert_path_expect(run_cli, tmp_path):
    out = tmp_path / "certs"
    result = run_cli("tls", "generate", "--host", "daemon.example", "--host", "localhost",
                     "--ip", "192.0.2.7", "--ip", "::1", "--out", str(out))
    assert result.status == 0, result.err
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == FILES
    assert f"DOCKER_CERT_PATH={out}" in result.out and "--tlsverify" in result.out
    server = _cert(out / "server-cert.pem")
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["daemon.example", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.7"),
                                                          ipaddress.ip_address("::1")]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    client_usage = _cert(out / "cert.pem").extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(client_usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ca = _cert(out / "ca.pem").extensions.get_extension_for_class(x509.BasicConstraints).value
    assert ca.ca is True and ca.path_length == 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_verifies_each_certificate_for_its_purpose(run_cli, tmp_path):
    assert run_cli("tls", "generate", "--host", "localhost", "--out", str(tmp_path)).status == 0

    def verify(purpose, name):
        return subprocess.run(["openssl", "verify", "-purpose", purpose, "-CAfile",
                               str(tmp_path / "ca.pem"), str(tmp_path / name)],
                              capture_output=True, text=True)
    assert verify("sslserver", "server-cert.pem").returncode == 0
    assert verify("sslclient", "cert.pem").returncode == 0
    assert verify("sslclient", "server-cert.pem").returncode != 0  # a server cert is no client cert


def test_days_sets_the_validity(run_cli, tmp_path):
    assert run_cli("tls", "generate", "--ip", "127.0.0.1", "--days", "30", "--out", str(tmp_path)).status == 0
    cert = _cert(tmp_path / "cert.pem")
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 30


def test_existing_files_are_kept_unless_forced(run_cli, tmp_path):
    assert run_cli("tls", "generate", "--host", "localhost", "--out", str(tmp_path)).status == 0
    before = {name: (tmp_path / name).read_bytes() for name in FILES}
    result = run_cli("tls", "generate", "--host", "localhost", "--out", str(tmp_path))
    assert result.status == 1
    assert "use --force" in result.err and "ca.pem" in result.err
    assert {name: (tmp_path / name).read_bytes() for name in FILES} == before
    assert run_cli("tls", "generate", "--host", "localhost", "--force", "--out", str(tmp_path)).status == 0
    assert (tmp_path / "ca.pem").read_bytes() != before["ca.pem"]


def test_force_tightens_the_mode_of_an_existing_key(run_cli, tmp_path):
    (tmp_path / "key.pem").write_text("old")
    os.chmod(tmp_path / "key.pem", 0o644)
    assert run_cli("tls", "generate", "--host", "localhost", "--force", "--out", str(tmp_path)).status == 0
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize("args, message", [
    ([], "name at least one --host or --ip"),
    (["--ip", "1.2.3"], "invalid IP address '1.2.3'"),
    (["--host", "h", "--days", "0"], "--days must be at least 1"),
])
def test_bad_input_writes_nothing(run_cli, tmp_path, args, message):
    out = tmp_path / "out"
    result = run_cli("tls", "generate", *args, "--out", str(out))
    assert result.status == 1
    assert message in result.err
    assert not out.exists()


def test_unknown_subcommand_is_a_usage_error(run_cli):
    result = run_cli("tls", "sign")
    assert result.status == 125
    assert 'unknown command "sign"' in result.err
