"""GraphClient against the Graph emulator: $batch in twenties, parts retried by themselves
after Retry-After, a token refreshed once after a 401, bounded retries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from mailagent.errors import AuthError, RateLimited
from providers.emulators.graph import GraphEmulator
from providers.graph_http import GraphClient, GraphRequest

RAW = (
    b"From: Jane <jane@acme.example>\r\nTo: pat@example.com\r\nSubject: Hello\r\n"
    b"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nMessage-ID: <m{n}@acme.example>\r\n\r\nHi\r\n"
)


@dataclass
class Tokens:
    emulator: GraphEmulator
    refreshes: int = 0
    current: str = field(default="")

    def __call__(self, force_refresh: bool) -> str:
        if force_refresh or not self.current:
            self.refreshes += int(force_refresh)
            self.current = self.emulator.issue_token()
        return self.current


@pytest.fixture
def emulator() -> Iterator[GraphEmulator]:
    with GraphEmulator(user_address="pat@example.com") as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(emulator: GraphEmulator, sleeps: list[float]) -> Iterator[GraphClient]:
    with httpx.Client(timeout=10) as http:
        yield GraphClient(
            http,
            Tokens(emulator),
            "a",
            "reconnect",
            base=emulator.base_url,
            attempts=4,
            sleep=sleeps.append,
        )


def _gets(emulator: GraphEmulator, count: int) -> list[GraphRequest]:
    ids = [
        emulator.add_message(RAW.replace(b"{n}", str(n).encode()), "inbox") for n in range(count)
    ]
    return [GraphRequest(i, "GET", f"/me/messages/{i}?$select=id,subject") for i in ids]


def test_a_batch_goes_in_twenties(emulator: GraphEmulator, client: GraphClient) -> None:
    requests = _gets(emulator, 25)
    answers = client.batch(requests, "get")
    assert sorted(answers) == sorted(r.id for r in requests)
    assert {a.status for a in answers.values()} == {200}
    assert emulator.stats.http_requests == 2
    assert emulator.stats.max_in_flight <= 4


def test_throttled_parts_are_retried_by_themselves_after_retry_after(
    emulator: GraphEmulator, client: GraphClient, sleeps: list[float]
) -> None:
    requests = _gets(emulator, 10)
    emulator.inject("429", operation="messages.get", times=4, retry_after=7)
    answers = client.batch(requests, "get")
    assert {a.status for a in answers.values()} == {200}
    assert emulator.stats.http_requests == 2
    assert emulator.stats.calls["messages.get"] == 14  # 10, then the 4 throttled ones again
    assert sleeps
    assert sleeps[0] >= 7


def test_a_401_refreshes_the_token_once(emulator: GraphEmulator, client: GraphClient) -> None:
    client.send("GET", "/me/mailFolders/inbox")
    emulator.expire_tokens()
    assert client.send("GET", "/me/mailFolders/inbox").status == 200
    assert isinstance(client.token, Tokens)
    assert client.token.refreshes == 1
    emulator.inject("401", times=5)
    with pytest.raises(AuthError, match="connected again"):
        client.send("GET", "/me/mailFolders/inbox")


def test_retries_are_bounded(
    emulator: GraphEmulator, client: GraphClient, sleeps: list[float]
) -> None:
    emulator.inject("429", times=10, retry_after=1)
    with pytest.raises(RateLimited, match="after 4 attempts"):
        client.send("GET", "/me/mailFolders/inbox")
    assert len(sleeps) == 3
