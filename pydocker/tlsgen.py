"""Certificates for remote access: a CA, a server certificate and a client certificate.

Docker's documentation asks the user to run a dozen openssl commands; this
module does the same with ``cryptography`` (which pyOpenSSL depends on), so
``pydocker tls generate`` can write a working set in one step. The tests use
it too, to make certificates from other CAs and already-expired ones.

Keys are ECDSA P-256: small, fast to make, and accepted by the docker CLI,
docker-py and OpenSSL alike.
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_DAYS = 365
# Where each part goes: the names the daemon flags and DOCKER_CERT_PATH expect.
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
SERVER_CERT, SERVER_KEY = "server-cert.pem", "server-key.pem"
CLIENT_CERT, CLIENT_KEY = "cert.pem", "key.pem"
ALL_FILES = (CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY)


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self):
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())

    def write(self, cert_path, key_path):
        """Write the certificate (0644) and the key (0600, never readable by others)."""
        _write(cert_path, self.cert_pem(), 0o644)
        _write(key_path, self.key_pem(), 0o600)


def _write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # an existing file keeps its old mode through O_CREAT


def _validity(days, not_before):
    start = not_before or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    return start, start + datetime.timedelta(days=days)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name="pydocker CA", days=DEFAULT_DAYS, not_before=None):
    """A self-signed CA that may sign end-entity certificates only."""
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _validity(days, not_before)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(cert, key)


def _key_usage(cert_sign=False):
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def issue(ca, common_name, usage, hosts=(), ips=(), days=DEFAULT_DAYS, not_before=None):
    """A certificate signed by ``ca`` for ``usage`` ("server" or "client").

    A server certificate names every host and IP address a client may dial
    in its subjectAltName, which is what clients check the address against.
    """
    eku = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}[usage]
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _validity(days, not_before)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(), critical=True)
               .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    names = [x509.DNSName(h) for h in hosts] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def check_ip(text):
    """The address as text, or ValueError with the bad value named."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"invalid IP address {text!r}") from None


def generate(out_dir, hosts, ips, days=DEFAULT_DAYS, overwrite=False):
    """Write the CA, the server pair and the client pair into ``out_dir``; return the paths.

    Existing files are refused unless ``overwrite``: replacing a CA silently
    would lock out every client holding a certificate from the old one.
    """
    if not hosts and not ips:
        raise ValueError("name at least one --host or --ip the daemon is reached at")
    ips = [check_ip(a) for a in ips]
    if days < 1:
        raise ValueError("--days must be at least 1")
    paths = {name: os.path.join(out_dir, name) for name in ALL_FILES}
    existing = [p for p in paths.values() if os.path.exists(p)]
    if existing and not overwrite:
        names = ", ".join(os.path.basename(p) for p in existing)
        raise FileExistsError(f"{names} already in {out_dir}: use --force to replace them")
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    ca = make_ca(days=days)
    server = issue(ca, (list(hosts) + ips)[0], "server", hosts=hosts, ips=ips, days=days)
    client = issue(ca, "client", "client", days=days)
    ca.write(paths[CA_CERT], paths[CA_KEY])
    server.write(paths[SERVER_CERT], paths[SERVER_KEY])
    client.write(paths[CLIENT_CERT], paths[CLIENT_KEY])
    return paths
