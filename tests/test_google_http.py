"""GoogleCalls against the emulator: which failures are retried, how long it waits, and how a
rate-limited batch is cut into smaller ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import google_auth_httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from mailagent.errors import AuthError, RateLimited
from providers.emulators import GoogleEmulator
from providers.google_http import CountingHttp, GoogleCalls
from providers.retry import RetryPolicy

RAW = (
    b"From: Jane <jane@acme.example>\r\nTo: pat@example.com\r\nSubject: Hello\r\n"
    b"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nHi\r\n"
)


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(user_address="pat@example.com") as running:
        yield running


@dataclass
class Client:
    calls: GoogleCalls
    gmail: Any
    sleeps: list[float]


@pytest.fixture
def client(emulator: GoogleEmulator) -> Iterator[Client]:
    http = CountingHttp(timeout=10)
    authed = google_auth_httplib2.AuthorizedHttp(
        Credentials(token=emulator.static_token), http=http
    )
    gmail = build(
        "gmail",
        "v1",
        http=authed,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": emulator.base_url},
    )
    sleeps: list[float] = []
    yield Client(
        GoogleCalls(http, "a", "reconnect", RetryPolicy(attempts=4), sleeps.append), gmail, sleeps
    )
    http.close()


def test_a_rate_limited_batch_is_retried_in_smaller_batches(
    emulator: GoogleEmulator, client: Client
) -> None:
    ids = [emulator.add_message(RAW, ["INBOX"]) for _ in range(10)]
    calls, gmail, sleeps = client.calls, client.gmail, client.sleeps
    emulator.inject("429", method="gmail.users.messages.get", times=10, retry_after=2)
    requests = [(i, gmail.users().messages().get(userId="me", id=i)) for i in ids]
    results, failures = calls.batch(emulator.gmail_batch_uri, requests, "get")
    assert sorted(results) == sorted(ids)
    assert failures == {}
    assert emulator.stats.http_requests == 3  # 10 parts, then the 10 failed ones as 5 + 5
    assert sleeps
    assert sleeps[0] >= 2


def test_retries_are_bounded_and_the_error_says_so(
    emulator: GoogleEmulator, client: Client
) -> None:
    calls, gmail, sleeps = client.calls, client.gmail, client.sleeps
    emulator.inject("403-user-rate", times=10)
    with pytest.raises(RateLimited, match="after 4 attempts"):
        calls.execute(gmail.users().getProfile(userId="me"), "profile")
    assert len(sleeps) == 3
    assert [s <= RetryPolicy().base_delay * 2**n for n, s in enumerate(sleeps)] == [True] * 3


def test_a_refused_token_is_not_retried(emulator: GoogleEmulator, client: Client) -> None:
    calls, gmail, sleeps = client.calls, client.gmail, client.sleeps
    emulator.expire_tokens()
    with pytest.raises(AuthError):
        calls.execute(gmail.users().getProfile(userId="me"), "profile")
    assert sleeps == []
