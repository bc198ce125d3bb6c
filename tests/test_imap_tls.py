"""The IMAP provider over TLS against a real Dovecot 2.3 with a throwaway certificate: implicit
TLS (imaps) and STARTTLS sync mail, a certificate the client does not trust is refused by
default with an error naming the server, and a plain connection is what it says.

Each test logs in as its own user, and Dovecot's log line for that login says whether the
session was encrypted ("TLS") or not."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import imapclient
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from mailagent.core.detect import UserIdentity
from mailagent.core.models import Folder
from mailagent.errors import Transient
from providers.base import Window
from providers.imap import ImapProvider, ImapSettings, Security
from providers.testservers.dovecot import DovecotServer

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = Window(start=NOW - timedelta(days=30), end=NOW + timedelta(days=1))


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    with DovecotServer(tls=True) as running:
        yield running


def provider(
    server: DovecotServer,
    user: str,
    security: Security,
    port: int,
    context: ssl.SSLContext | None,
) -> ImapProvider:
    settings = ImapSettings(
        host=server.host,
        port=port,
        security=security,
        username=user,
        password=server.password,
        ssl_context=context,
        timeout=10,
    )
    return ImapProvider(settings, user=UserIdentity(user), timezone=ZoneInfo("UTC"), account="a")


def deliver(server: DovecotServer, user: str, subject: str) -> None:
    """Put one message from a recruiter in `user`'s INBOX (over the plain port)."""
    message = EmailMessage()
    message["From"] = "Robin Recruiter <robin@acme.example>"
    message["To"] = user
    message["Subject"] = subject
    message["Date"] = NOW.strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@acme.example>"
    message.set_content("Thanks for your time today.\n")
    with server.connect(user) as client:
        client.append("INBOX", message.as_bytes(), msg_time=NOW)


def sync_twice(imap: ImapProvider, server: DovecotServer, user: str) -> list[str]:
    """A first sync, a message arriving, a second sync: the subjects the second one read."""
    try:
        first = imap.read_changes(None, WINDOW)
        deliver(server, user, f"Next steps for {user}")
        second = imap.read_changes(first.cursor, WINDOW)
    finally:
        imap.close()
    assert [m.folder for m in second.messages] == [Folder.INBOX]
    return [m.subject for m in second.messages]


def logins(server: DovecotServer, user: str, expected: int = 0) -> list[str]:
    """Dovecot's log lines for `user`'s logins (they reach the log within milliseconds). After
    `sync_twice`: the provider's (one connection for both syncs), then `deliver`'s (plain)."""
    deadline = time.monotonic() + 5
    while True:
        log = (server.root / "dovecot.log").read_text(errors="replace")
        lines = [line for line in log.splitlines() if f"Login: user=<{user}>," in line]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def test_the_server_has_a_private_key_and_a_certificate_for_loopback(
    server: DovecotServer,
) -> None:
    assert server.tls_port not in (0, server.port)
    cert = x509.load_pem_x509_certificate(server.ca_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= timedelta(days=1, minutes=5)
    assert cert.not_valid_before_utc <= datetime.now(UTC) < cert.not_valid_after_utc
    key = server.root / "tls" / "server.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    text = server.config.read_text()
    assert f"ssl = yes\nssl_cert = <{server.ca_file}\nssl_key = <{key}\n" in text
    # The context trusts that certificate only, checks host names, and 127.0.0.1 and localhost
    # are both names of it.
    context = server.ssl_context()
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509"] == 1
    for host in ("127.0.0.1", "localhost"):
        with imapclient.IMAPClient(host, server.tls_port, ssl=True, ssl_context=context) as c:
            assert c.welcome.startswith(b"* OK")
    with (
        socket.create_connection((server.host, server.tls_port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"),
    ):
        context.wrap_socket(raw, server_hostname="mail.example.com")


def test_a_plain_server_has_no_tls() -> None:
    with DovecotServer() as plain:
        assert plain.tls_port == 0
        assert "ssl = no\n" in plain.config.read_text()
        assert "inet_listener imaps {\n    port = 0\n" in plain.config.read_text()
        assert not (plain.root / "tls").exists()
        with pytest.raises(RuntimeError, match="without tls=True"):
            plain.ssl_context()
        with plain.connect() as client:
            assert b"STARTTLS" not in client.capabilities()


def test_implicit_tls_syncs_with_a_context_that_trusts_the_certificate(
    server: DovecotServer,
) -> None:
    user = "imaps@example.com"
    imap = provider(server, user, "tls", server.tls_port, server.ssl_context())
    assert sync_twice(imap, server, user) == [f"Next steps for {user}"]
    provider_login, delivery_login = logins(server, user, 2)
    assert ", TLS," in provider_login
    assert ", TLS," not in delivery_login


def test_starttls_on_the_plain_port_syncs_encrypted(server: DovecotServer) -> None:
    user = "starttls@example.com"
    imap = provider(server, user, "starttls", server.port, server.ssl_context())
    assert sync_twice(imap, server, user) == [f"Next steps for {user}"]
    provider_login, delivery_login = logins(server, user, 2)
    assert ", TLS," in provider_login
    assert ", TLS," not in delivery_login


def test_plain_security_is_not_encrypted(server: DovecotServer) -> None:
    user = "plain@example.com"
    imap = provider(server, user, "plain", server.port, server.ssl_context())
    assert sync_twice(imap, server, user) == [f"Next steps for {user}"]
    provider_login, _ = logins(server, user, 2)
    assert "TLS" not in provider_login


def test_implicit_tls_verifies_the_certificate_by_default(server: DovecotServer) -> None:
    user = "untrusted@example.com"
    imap = provider(server, user, "tls", server.tls_port, None)  # the system's trusted CAs
    with pytest.raises(Transient) as caught:
        imap.read_changes(None, WINDOW)
    imap.close()
    message = str(caught.value)
    assert message.startswith(f"IMAP 127.0.0.1:{server.tls_port}: cannot connect (")
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
    assert logins(server, user) == []


def test_starttls_verifies_the_certificate_by_default(server: DovecotServer) -> None:
    user = "untrusted-starttls@example.com"
    imap = provider(server, user, "starttls", server.port, None)
    try:
        with pytest.raises(
            Transient, match=rf"^IMAP 127\.0\.0\.1:{server.port}: .*CERTIFICATE_VERIFY_FAILED"
        ):
            imap.read_changes(None, WINDOW)
    finally:
        imap.close()
        assert logins(server, user) == []
