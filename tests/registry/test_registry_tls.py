"""TLS to a registry: CA and client certificates from certs.d/HOST:PORT, verification on
when the registry is not insecure, and unverified TLS for insecure ones (loopback)."""

import pytest
from pydocker.testing.registry import bytes_layer, image_of, layer_tar
from registry_pki import issue, make_ca

from pydocker.errdefs import InvalidParameter
from pydocker.registry import RegistryService
from pydocker.registry.errors import RegistryUnavailable


@pytest.fixture
def pki(tmp_path):
    ca = make_ca()
    server = issue(ca, "127.0.0.1")
    server_cert, server_key = server.write(str(tmp_path), "server")
    ca_path = ca.write(str(tmp_path), "ca")[0]
    return ca, server_cert, server_key, ca_path


def image():
    return image_of([bytes_layer(layer_tar({"tls": b"over TLS"}))])


def strict_service(tmp_path):
    """Loopback *not* treated as insecure, so verification really happens."""
    return RegistryService(certs_dir=str(tmp_path / "certs.d"), default_insecure_cidrs=(),
                           tmpdir=str(tmp_path))


def test_ca_from_certs_d_is_trusted(tmp_path, store, make_registry, pki):
    ca, cert, key, _ = pki
    registry = make_registry(tls={"certificate": cert, "key": key})
    service = strict_service(tmp_path)
    name = f"{registry.host}/tls/app"
    with pytest.raises(RegistryUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        service.push(name, image())

    host_dir = tmp_path / "certs.d" / registry.host
    host_dir.mkdir(parents=True)
    ca.write(str(host_dir), "ca")
    (host_dir / "ca.key").unlink()  # only the certificate belongs there
    pushed = service.push(name, image())
    assert service.pull(name, store).digest == pushed.digest


def test_client_certificate_from_certs_d(tmp_path, store, make_registry, pki):
    ca, cert, key, ca_path = pki
    registry = make_registry(tls={"certificate": cert, "key": key, "clientcas": [ca_path]})
    host_dir = tmp_path / "certs.d" / registry.host
    host_dir.mkdir(parents=True)
    (host_dir / "ca.crt").write_bytes(ca.cert_pem)
    service = strict_service(tmp_path)
    name = f"{registry.host}/mtls/app"
    with pytest.raises(RegistryUnavailable, match="(?i)certificate"):
        service.push(name, image())  # the registry demands a client certificate

    issue(ca, "pydocker client", server=False).write(str(host_dir), "client", cert_ext=".cert")
    pushed = service.push(name, image())
    assert service.pull(name, store).digest == pushed.digest


def test_client_key_without_certificate_is_reported(tmp_path, make_registry, pki):
    ca, cert, key, _ = pki
    registry = make_registry(tls={"certificate": cert, "key": key})
    host_dir = tmp_path / "certs.d" / registry.host
    host_dir.mkdir(parents=True)
    (host_dir / "lonely.key").write_bytes(ca.key_pem)
    with pytest.raises(InvalidParameter, match="missing client certificate"):
        strict_service(tmp_path).push(f"{registry.host}/x/y", image())


def test_insecure_registry_uses_unverified_tls(service, store, make_registry, pki):
    """127.0.0.0/8 is insecure by default: TLS without a trusted CA still works."""
    _, cert, key, _ = pki
    registry = make_registry(tls={"certificate": cert, "key": key})
    pushed = service.push(f"{registry.host}/insecure/app", image())
    assert service.pull(f"{registry.host}/insecure/app", store).digest == pushed.digest
