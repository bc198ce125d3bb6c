"""Throwaway TLS certificates for the test servers: `self_signed` writes a certificate for
127.0.0.1 and localhost, and its key, that a client trusts by loading the certificate itself
(`ssl.create_default_context(cafile=...)`)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateFiles", "self_signed"]

VALIDITY = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)  # valid from a little before now, for a lagging clock


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    cert: Path
    """The certificate, PEM: what the server presents and what a client trusts."""
    key: Path
    """Its private key, PEM, unencrypted, mode 0600."""


def self_signed(folder: Path, *, name: str = "server") -> CertificateFiles:
    """Write `<name>.pem` and `<name>.key` to `folder`: a new EC P-256 key and a certificate
    for IP 127.0.0.1 and DNS localhost, self-signed, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailagent test server")])
    now = datetime.now(UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    files = CertificateFiles(cert=folder / f"{name}.pem", key=folder / f"{name}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created 0600 (never readable by others, not even for a moment), by whoever runs the
    # server: root, whose Dovecot config process reads it, or the user Dovecot runs as.
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)  # whatever the umask
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    return files
