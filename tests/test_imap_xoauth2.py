"""IMAP with XOAUTH2: the access tokens of a Google or Microsoft sign-in log in to a real
Dovecot server, which checks each token with its issuer (an introspection endpoint on
loopback answering from the fake Google or Microsoft sign-in service that issued it).

Google: the Google emulator's /token endpoint renews the access token from the stored
refresh token, exactly as oauth2.googleapis.com would, and the demo scenario drafts the same
through the CLI as on Maildir. Microsoft: the sign-in runs against `FakeEntra` (MSAL's
http_client) for the Outlook IMAP scope, and the token it leaves in the cache logs in.
A token the server refuses is renewed once; a revoked sign-in asks to connect again.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailagent.config import load_config
from mailagent.core.detect import UserIdentity
from mailagent.errors import AuthError
from mailagent.scenario import load_scenario
from mailagent.wiring import build_provider, close_provider
from providers.base import Window
from providers.emulators.google import GoogleEmulator
from providers.google_auth import GOOGLE_IMAP_SCOPES, GOOGLE_KIND, GoogleTokenSource
from providers.imap import ImapProvider, ImapSettings
from providers.outlook_auth import IMAP_SCOPES, MsalTokenSource, cache_path_for
from providers.outlook_auth import connect_device_flow as microsoft_sign_in
from providers.testservers.dovecot import DovecotServer, OAuth2Settings
from providers.testservers.imap_scenario import ImapScenarioMailbox
from providers.testservers.oauth_introspection import IntrospectionServer

from .conftest import DEMO
from .scenario_support import TOKEN_ENV, Timeline, play_cli, same_as_maildir, without_clock
from .test_google_connect import NO_PROXY
from .test_imap_provider import file_calendar, fresh_user, write_imap_config
from .test_outlook_connect import CLIENT_ID, FakeEntra

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=30), NOW + timedelta(days=30))
Claims = Callable[[str], Mapping[str, Any] | None]


class Issuers:
    """The introspection lookup: asks each fake sign-in service in turn about a token."""

    def __init__(self) -> None:
        self.services: list[Claims] = []

    def __call__(self, token: str) -> Mapping[str, Any] | None:
        return next((c for s in self.services if (c := s(token)) is not None), None)


def dovecot_for(issuers: Issuers, scope: str) -> Iterator[DovecotServer]:
    with (
        IntrospectionServer(issuers) as endpoint,
        DovecotServer(oauth2=OAuth2Settings(endpoint.url, scope=scope)) as server,
    ):
        yield server


@pytest.fixture(scope="module")
def issuers() -> Issuers:
    return Issuers()


@pytest.fixture(scope="module")
def google_dovecot(issuers: Issuers) -> Iterator[DovecotServer]:
    yield from dovecot_for(issuers, GOOGLE_IMAP_SCOPES[0])


@pytest.fixture(scope="module")
def microsoft_dovecot(issuers: Issuers) -> Iterator[DovecotServer]:
    yield from dovecot_for(issuers, IMAP_SCOPES[0])


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in NO_PROXY.items():
        monkeypatch.setenv(name, value)


def google_record(google: GoogleEmulator) -> dict[str, Any]:
    """What `mailagent connect imap` stores for imap_auth = "google" (see test_connect_imap)."""
    return {
        "kind": GOOGLE_KIND,
        "refresh_token": google.refresh_token,
        "token_uri": google.token_uri,
        "client_id": "fake-client.apps.googleusercontent.com",
        "client_secret": "fake-secret",
        "scopes": list(GOOGLE_IMAP_SCOPES),
        "granted_scopes": list(GOOGLE_IMAP_SCOPES),
    }


def provider(server: DovecotServer, user: str, token: Callable[[bool], str]) -> ImapProvider:
    settings = ImapSettings(
        host=server.host, port=server.port, security="plain", username=user, oauth_token=token
    )
    return ImapProvider(
        settings, user=UserIdentity(user, "Alex Kim"), timezone=ZoneInfo("UTC"), account="a"
    )


def read_once(server: DovecotServer, user: str, token: Callable[[bool], str]) -> list[str]:
    """One read through a new connection; the commands it sent."""
    imap = provider(server, user, token)
    try:
        imap.read_changes(None, WINDOW)
    finally:
        imap.close()
    return imap.command_log


def test_the_demo_drafts_the_same_over_xoauth2_with_a_google_sign_in(
    tmp_path: Path, google_dovecot: DovecotServer, issuers: Issuers
) -> None:
    scenario = without_clock(load_scenario(DEMO))
    user = fresh_user(scenario)
    with GoogleEmulator(user_address=user) as google:
        issuers.services.append(google.token_info)

        def on_imap(root: Path) -> tuple[Timeline, list[str]]:
            line, write = file_calendar(root)
            config = write_imap_config(
                scenario,
                root,
                google_dovecot,
                user,
                line,
                auth="google",
                record=google_record(google),
            )
            mailbox = ImapScenarioMailbox(google_dovecot, user, calendar=write)
            env = {**TOKEN_ENV, **NO_PROXY}
            return play_cli(scenario, mailbox, config, env)

        same_as_maildir(scenario, tmp_path, on_imap)
        assert google.stats.token_requests >= len(scenario.sync_times())


def test_a_refused_token_is_renewed_once_on_the_same_connection(
    google_dovecot: DovecotServer, issuers: Issuers, no_proxy: None
) -> None:
    user = f"renew-{fresh_user(load_scenario(DEMO))}"
    with GoogleEmulator(user_address=user) as google:
        issuers.services.append(google.token_info)
        source = GoogleTokenSource(google_record(google), account="a")
        assert read_once(google_dovecot, user, source)[:2] == ["AUTHENTICATE", "LIST"]
        google.expire_tokens()  # Google revoked the access token before it expired

        commands = read_once(google_dovecot, user, source)

        assert commands[:3] == ["AUTHENTICATE", "AUTHENTICATE", "LIST"]
        assert google.stats.token_requests == 2


def test_a_token_of_another_scope_is_refused(
    google_dovecot: DovecotServer, issuers: Issuers, no_proxy: None
) -> None:
    """A Gmail API sign-in (gmail.readonly and so on) cannot log in to IMAP: the server wants
    https://mail.google.com/, which is why `connect imap` asks for it."""
    user = f"scope-{fresh_user(load_scenario(DEMO))}"
    with GoogleEmulator(user_address=user) as google:
        issuers.services.append(google.token_info)
        record = google_record(google) | {
            "scopes": ["https://www.googleapis.com/auth/gmail.readonly"]
        }
        with pytest.raises(AuthError) as caught:
            read_once(google_dovecot, user, GoogleTokenSource(record, account="a"))
        assert "refused the login" in str(caught.value)


def test_a_revoked_google_sign_in_asks_to_connect_imap_again(
    tmp_path: Path, google_dovecot: DovecotServer, issuers: Issuers, no_proxy: None
) -> None:
    scenario = without_clock(load_scenario(DEMO))
    user = fresh_user(scenario)
    with GoogleEmulator(user_address=user) as google:
        issuers.services.append(google.token_info)
        line, write_calendar = file_calendar(tmp_path)
        write_calendar([])
        config = write_imap_config(
            scenario,
            tmp_path,
            google_dovecot,
            user,
            line,
            auth="google",
            record=google_record(google),
        )
        google.revoke()
        account = load_config(config).accounts[0]
        imap = build_provider(account, lambda: NOW, state=tmp_path / "state.db")
        try:
            with pytest.raises(AuthError) as caught:
                imap.read_changes(None, WINDOW)
        finally:
            close_provider(imap)
    assert "Google refused to renew the access token" in str(caught.value)
    assert caught.value.advice == (
        f"run: mailagent connect imap --account {account.name} --client-secrets FILE"
    )


def test_a_microsoft_sign_in_for_outlook_imap_logs_in(
    tmp_path: Path, microsoft_dovecot: DovecotServer, issuers: Issuers
) -> None:
    entra = FakeEntra(username=f"ms-{fresh_user(load_scenario(DEMO))}")
    entra.expected_scopes = {*IMAP_SCOPES, "openid", "profile", "offline_access"}
    issuers.services.append(
        lambda token: (
            {"active": True, "email": entra.username, "scope": IMAP_SCOPES[0]}
            if token in entra.access_tokens
            else None
        )
    )
    record = microsoft_sign_in(
        CLIENT_ID,
        authority=entra.authority,
        cache=cache_path_for("a", tmp_path / "state.db"),
        announce=lambda message: None,
        http_client=entra,
        instance_discovery=False,
        scopes=IMAP_SCOPES,
    )
    source = MsalTokenSource(record, account="a", http_client=entra, instance_discovery=False)

    commands = read_once(microsoft_dovecot, entra.username, source)

    assert entra.problems == []
    assert commands[:2] == ["AUTHENTICATE", "LIST"]
    assert record["scopes"] == list(IMAP_SCOPES)
    assert "Mail.Send" not in " ".join(entra.scopes_requested)


def test_no_access_token_reaches_the_logs(
    google_dovecot: DovecotServer, issuers: Issuers, caplog: pytest.LogCaptureFixture
) -> None:
    user = f"logs-{fresh_user(load_scenario(DEMO))}"
    token = "ya29.never-logged-" + user
    issuers.services.append(
        lambda t: (
            {"active": True, "email": user, "scope": GOOGLE_IMAP_SCOPES[0]} if t == token else None
        )
    )
    caplog.set_level(logging.DEBUG)

    read_once(google_dovecot, user, lambda fresh: token)

    sasl = base64.b64encode(f"user={user}\1auth=Bearer {token}\1\1".encode()).decode()
    assert "AUTHENTICATE" in caplog.text  # imapclient logs the commands at DEBUG...
    assert token not in caplog.text  # ...but neither the token
    assert sasl[len(sasl) // 2 :] not in caplog.text  # nor the SASL answer that carries it
