"""What an API method handler of the Google emulator works with: a `Call` is one authenticated
call (the backend, the matched route, the path and query parameters, the body) with helpers
that read and check its parameters as Google does, and a `Reply` is the status, JSON body and
headers it answers with (`DROP`: close the connection without answering)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from providers.emulators.calendar_store import Calendar
from providers.emulators.gmail_mailbox import Mailbox
from providers.emulators.gmail_query import QueryContext
from providers.emulators.google_errors import ApiError, bad_request
from providers.emulators.google_routes import Route

if TYPE_CHECKING:
    from providers.emulators.google_backend import Backend


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    raw: bytes | None = None
    """A body that is not JSON (Graph's `$value`: a message's MIME, as text/plain)."""

    @property
    def dropped(self) -> bool:
        return self.status == 0


DROP = Reply(0)

REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def error_reply(error: ApiError) -> Reply:
    return Reply(error.code, error.body(), tuple(error.headers.items()))


@dataclass
class Call:
    backend: Backend
    route: Route
    path: dict[str, str]
    query: dict[str, list[str]]
    body: bytes

    @property
    def mailbox(self) -> Mailbox:
        return self.backend.mailbox

    @property
    def calendar(self) -> Calendar:
        return self.backend.calendar

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def many(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def integer(self, name: str, default: int, maximum: int) -> int:
        value = self.one(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise bad_request(f"Invalid value '{value}' for parameter {name}") from None
        if number < 0:
            raise bad_request(f"Invalid value '{value}' for parameter {name}")
        return min(number, maximum) if number else default

    def boolean(self, name: str) -> bool | None:
        value = self.one(name)
        if value is None:
            return None
        if value.lower() not in {"true", "false"}:
            raise bad_request(f"Invalid value '{value}' for parameter {name}")
        return value.lower() == "true"

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise bad_request("Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise bad_request("Invalid JSON payload received.")
        return body

    def context(self) -> QueryContext:
        return QueryContext(self.backend.now, self.backend.user_address)


Handler = Callable[[Call], Reply]
"""A method handler: one for each discovery method id."""
