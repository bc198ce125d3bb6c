"""The Dovecot test server and the IMAP scenario mailbox, against a real Dovecot 2.3.

No skips: if Dovecot is missing or cannot start, `DovecotServer` raises and these tests fail."""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

import httpx
import imapclient
import pytest
from imapclient.exceptions import IMAPClientAbortError, LoginError
from imapclient.imapclient import DRAFTS, SENT

from mailagent.core.models import CalendarEvent, Folder
from mailagent.scenario import Scenario, ScenarioMailbox, load_scenario
from providers.mime import parse_message
from providers.testservers import dovecot
from providers.testservers.dovecot import DovecotServer, OAuth2Settings
from providers.testservers.imap_scenario import ImapScenarioMailbox
from providers.testservers.oauth_introspection import IntrospectionMode, IntrospectionServer

from .conftest import DEMO

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    with DovecotServer() as running:
        yield running


def counts(server: DovecotServer, user: str) -> dict[str, int]:
    with server.connect(user) as client:
        return {f: client.folder_status(f, [b"MESSAGES"])[b"MESSAGES"] for f in ("INBOX", "Sent")}


def dropped(client: imapclient.IMAPClient) -> bool:
    """Whether the server has closed `client`'s connection (NOOP until it notices, up to 5 s)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            client.noop()
        except (IMAPClientAbortError, OSError):
            with contextlib.suppress(OSError):
                client.shutdown()
            return True
        time.sleep(0.05)
    client.logout()
    return False


def test_login_capabilities_and_special_folders(server: DovecotServer) -> None:
    with server.connect() as client:
        assert {b"CONDSTORE", b"QRESYNC", b"SPECIAL-USE", b"UIDPLUS", b"MOVE", b"IDLE"} <= set(
            client.capabilities()
        )
        assert client.find_special_folder(SENT) == "Sent"
        assert client.find_special_folder(DRAFTS) == "Drafts"


def test_a_dovecot_that_cannot_start_is_an_error_not_a_skip(
    server: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuntimeError, match="dovecot exited with status 1"):
        DovecotServer(executable="false").start()
    # Another server on the port greets too: this one must notice that it failed to listen.
    monkeypatch.setattr(dovecot, "free_port", lambda: server.port)
    with pytest.raises(RuntimeError, match=r"(?s)dovecot.log.*Address already in use"):
        DovecotServer().start()


def test_restart_keeps_the_port_and_the_mail_and_drops_connections() -> None:
    with DovecotServer(user="restart@example.com") as own:
        port = own.port
        with own.connect() as client:
            client.append("INBOX", b"From: a@example.org\r\nSubject: kept\r\n\r\nhello\r\n")
        before = own.connect()
        before.select_folder("INBOX")
        own.restart()
        assert dropped(before)
        assert own.port == port
        assert counts(own, own.user) == {"INBOX": 1, "Sent": 0}


def test_kill_connections_drops_the_users_sessions(server: DovecotServer) -> None:
    server.kill_connections("nobody-connected@example.com")  # nothing to kick is not an error
    client = server.connect("kicked@example.com")
    client.select_folder("INBOX")
    server.kill_connections("kicked@example.com")
    assert dropped(client)


def test_change_uidvalidity(server: DovecotServer) -> None:
    user = "uidvalidity@example.com"
    with server.connect(user) as client:
        client.append("INBOX", b"From: a@example.org\r\nSubject: one\r\n\r\nhello\r\n")
        before = client.select_folder("INBOX")[b"UIDVALIDITY"]
    changed = server.change_uidvalidity(user, "INBOX")
    with server.connect(user) as client:
        after = client.select_folder("INBOX")
    assert after[b"UIDVALIDITY"] == changed != before
    assert after[b"EXISTS"] == 1


def test_fill_writes_indexed_dated_messages(server: DovecotServer) -> None:
    user = "fill@example.com"
    server.fill(user, 5_000, seed=7, now=NOW)
    found = counts(server, user)
    assert sum(found.values()) == 5_000
    assert 500 < found["Sent"] < 1_000  # sent_share 0.15
    with server.connect(user) as client:
        client.select_folder("INBOX", readonly=True)
        unseen = len(client.search(["UNSEEN"]))
        uids = client.search(["ALL"])
        first, last = uids[0], uids[-1]
        fetched = client.fetch([first, last], ["INTERNALDATE", "BODY.PEEK[]"])
    assert 0.2 < unseen / found["INBOX"] < 0.4
    dates = [fetched[uid][b"INTERNALDATE"] for uid in (first, last)]
    assert NOW - timedelta(days=90) <= dates[0] <= dates[1] <= NOW  # UIDs follow the dates
    message = parse_message(fetched[last][b"BODY[]"], folder=Folder.INBOX, id=str(last))
    assert message.date == dates[1]
    assert message.to[0].address == user


def demo() -> Scenario:
    return load_scenario(DEMO)


def test_scenario_mail_arrives_once_when_its_date_has_passed(server: DovecotServer) -> None:
    scenario = demo()
    published: list[Sequence[CalendarEvent]] = []
    mailbox: ScenarioMailbox = ImapScenarioMailbox(
        server, scenario.spec.user.address, calendar=published.append
    )
    times = scenario.sync_times()

    def due(folder: str, moment: datetime) -> int:
        return sum(
            1
            for m in scenario.spec.messages
            if m.folder == folder and scenario.local(m.date) <= moment
        )

    early = times[len(times) // 4]
    mailbox.materialize(scenario, early)
    assert counts(server, scenario.spec.user.address) == {
        "INBOX": due("inbox", early),
        "Sent": due("sent", early),
    }
    for _ in range(2):  # a second materialize delivers nothing twice
        mailbox.materialize(scenario, times[-1])
    assert counts(server, scenario.spec.user.address) == {"INBOX": 5, "Sent": 1}
    assert due("inbox", times[-1]) == 5
    assert published[-1] == scenario.events_at(times[-1])
    assert len(published) == 3
    with server.connect(scenario.spec.user.address) as client:
        client.select_folder("Sent", readonly=True)
        sent = client.fetch(client.search(["ALL"]), ["FLAGS", "INTERNALDATE", "BODY.PEEK[]"])
    (item,) = sent.values()
    assert imapclient.SEEN in item[b"FLAGS"]
    parsed = parse_message(item[b"BODY[]"], folder=Folder.SENT, id="1")
    assert item[b"INTERNALDATE"] == parsed.date


def draft(key: str, body: str) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Alex Kim <alex@example.com>"
    message["To"] = "Sam Patel <sam.patel@globex.com>"
    message["Subject"] = "Thank you"
    message["Date"] = email.utils.format_datetime(NOW - timedelta(days=1))
    message["Message-ID"] = f"<{key}@mailagent.invalid>"
    message["X-Mailagent-Key"] = key
    message.set_content(body)
    return bytes(message)


def test_user_sends_edits_and_deletes_drafts(server: DovecotServer) -> None:
    user = "drafts@example.com"
    mailbox = ImapScenarioMailbox(server, user)
    with server.connect(user) as client:
        for key in ("k-send", "k-delete"):
            client.append("Drafts", draft(key, "Hi Sam,\n\nThank you."), flags=[imapclient.DRAFT])
    before = {m.agent_key: m for m in mailbox.drafts()}
    assert set(before) == {"k-send", "k-delete"}
    with pytest.raises(LookupError):  # SEARCH HEADER matches substrings; the key must match
        mailbox.delete_draft("k-")

    mailbox.edit_draft("k-send", "P.S. One more thing.")
    edited = {m.agent_key: m for m in mailbox.drafts()}
    assert set(edited) == {"k-send", "k-delete"}
    assert edited["k-send"].id != before["k-send"].id  # a client saves a new message
    assert "P.S. One more thing." in edited["k-send"].snippet

    mailbox.send_draft("k-send", NOW)
    assert [m.agent_key for m in mailbox.drafts()] == ["k-delete"]
    with server.connect(user) as client:
        client.select_folder("Sent", readonly=True)
        (item,) = client.fetch(client.search(["ALL"]), ["FLAGS", "BODY.PEEK[]"]).values()
    assert imapclient.SEEN in item[b"FLAGS"]
    sent = parse_message(item[b"BODY[]"], folder=Folder.SENT, id="1")
    assert (sent.agent_key, sent.date) == ("k-send", NOW)
    assert "P.S. One more thing." in sent.snippet

    mailbox.delete_draft("k-delete")
    assert mailbox.drafts() == []
    with pytest.raises(LookupError):
        mailbox.delete_draft("k-delete")


# -- XOAUTH2 and OAUTHBEARER, checked by the introspection endpoint --

GMAIL_SCOPE = "https://mail.google.com/"
TOKENS: dict[str, dict[str, Any]] = {
    "ya29.alex": {"active": True, "email": "alex@example.com", "scope": f"openid {GMAIL_SCOPE}"},
    "ya29.sam": {"active": True, "email": "sam@example.com", "scope": GMAIL_SCOPE},
    "ya29.no-mail-scope": {"active": True, "email": "alex@example.com", "scope": "openid email"},
    "ya29.revoked": {"active": False, "email": "alex@example.com", "scope": GMAIL_SCOPE},
}
REFUSED = r"\[AUTHENTICATIONFAILED\]"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[IntrospectionServer]:
    with IntrospectionServer(TOKENS.get) as running:
        yield running


@pytest.fixture(scope="module")
def oauth_server(endpoint: IntrospectionServer) -> Iterator[DovecotServer]:
    settings = OAuth2Settings(endpoint.url, mode="post", scope=GMAIL_SCOPE)
    with DovecotServer(oauth2=settings) as running:
        yield running


def token_login(
    server: DovecotServer,
    token: str,
    *,
    user: str | None = None,
    mechanism: Literal["XOAUTH2", "OAUTHBEARER"] = "XOAUTH2",
) -> imapclient.IMAPClient:
    """A plain-text IMAP connection, logged in with `token`; the caller logs out."""
    client = imapclient.IMAPClient(server.host, server.port, ssl=False, timeout=30)
    try:
        if mechanism == "XOAUTH2":
            client.oauth2_login(user or server.user, token)
        else:
            client.oauthbearer_login(user or server.user, token)
    except BaseException:
        client.shutdown()
        raise
    return client


def asked(endpoint: IntrospectionServer, since: int) -> list[tuple[str, str, bool]]:
    return [(s.mode, s.token, s.known) for s in endpoint.served[since:]]


def test_a_token_the_endpoint_knows_logs_in(
    oauth_server: DovecotServer, endpoint: IntrospectionServer
) -> None:
    before = len(endpoint.served)
    with token_login(oauth_server, "ya29.alex") as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    with token_login(oauth_server, "ya29.alex", mechanism="OAUTHBEARER") as client:
        client.select_folder("INBOX")
    assert asked(endpoint, before) == [("post", "ya29.alex", True)] * 2


def test_an_unknown_or_revoked_token_is_refused(
    oauth_server: DovecotServer, endpoint: IntrospectionServer
) -> None:
    before = len(endpoint.served)
    for token in ("ya29.unknown", "ya29.revoked"):
        with pytest.raises(LoginError, match=REFUSED):
            token_login(oauth_server, token)
    assert asked(endpoint, before) == [
        ("post", "ya29.unknown", False),
        ("post", "ya29.revoked", True),
    ]


def test_a_token_without_the_required_scope_is_refused(
    oauth_server: DovecotServer, endpoint: IntrospectionServer
) -> None:
    before = len(endpoint.served)
    with pytest.raises(LoginError, match=REFUSED):
        token_login(oauth_server, "ya29.no-mail-scope")
    # The endpoint vouched for the token: Dovecot's `scope` check refused it.
    assert asked(endpoint, before) == [("post", "ya29.no-mail-scope", True)]


def test_a_token_for_another_user_is_refused(
    oauth_server: DovecotServer, endpoint: IntrospectionServer
) -> None:
    before = len(endpoint.served)
    with pytest.raises(LoginError, match=REFUSED):
        token_login(oauth_server, "ya29.sam")
    assert asked(endpoint, before) == [("post", "ya29.sam", True)]  # refused on its email claim
    with token_login(oauth_server, "ya29.sam", user="sam@example.com") as client:
        client.select_folder("INBOX")


def test_the_password_is_no_token_and_still_a_password(
    oauth_server: DovecotServer, endpoint: IntrospectionServer
) -> None:
    before = len(endpoint.served)
    for mechanism in ("XOAUTH2", "OAUTHBEARER"):
        with pytest.raises(LoginError, match=REFUSED):
            token_login(oauth_server, oauth_server.password, mechanism=mechanism)
    # Dovecot hands a token to each passdb as the password; the static one, which would take
    # "secret", serves PLAIN and LOGIN only, so the endpoint's word is the only one.
    assert asked(endpoint, before) == [("post", oauth_server.password, False)] * 2
    with oauth_server.connect() as client:
        client.select_folder("INBOX")
    client = imapclient.IMAPClient(oauth_server.host, oauth_server.port, ssl=False, timeout=30)
    try:
        with pytest.raises(LoginError, match=REFUSED):
            client.login(oauth_server.user, "ya29.alex")  # nor is a token a password
    finally:
        client.shutdown()


@pytest.mark.parametrize("mode", ["auth", "get"])
def test_the_other_introspection_modes(mode: IntrospectionMode) -> None:
    """Without `scope`, a token with any scope will do."""
    with (
        IntrospectionServer(TOKENS.get) as own_endpoint,
        DovecotServer(oauth2=OAuth2Settings(own_endpoint.url_for(mode), mode=mode)) as server,
    ):
        with token_login(server, "ya29.no-mail-scope") as client:
            client.select_folder("INBOX")
        with pytest.raises(LoginError, match=REFUSED):
            token_login(server, "ya29.unknown")
        assert asked(own_endpoint, 0) == [
            (mode, "ya29.no-mail-scope", True),
            (mode, "ya29.unknown", False),
        ]


def test_the_endpoint_answers_each_mode(endpoint: IntrospectionServer) -> None:
    before = len(endpoint.served)
    with httpx.Client(timeout=5) as http:
        auth = http.get(endpoint.url, headers={"Authorization": "Bearer ya29.alex"})
        get = http.get(endpoint.url_for("get") + "ya29.unknown")
        post = http.post(endpoint.url, data={"token": "ya29.sam", "token_type_hint": "x"})
        no_token = http.post(endpoint.url, data={})
    assert (auth.status_code, auth.json()) == (200, TOKENS["ya29.alex"])
    assert (get.status_code, get.json()) == (200, {"active": False})  # RFC 7662 section 2.2
    assert (post.status_code, post.json()) == (200, TOKENS["ya29.sam"])
    assert no_token.status_code == 400
    assert no_token.json()["error"] == "invalid_request"
    assert asked(endpoint, before) == [
        ("auth", "ya29.alex", True),
        ("get", "ya29.unknown", False),
        ("post", "ya29.sam", True),
    ]
    assert "ya29" not in repr(endpoint.served)
