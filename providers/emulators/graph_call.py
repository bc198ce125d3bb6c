"""What an operation handler of the Graph emulator works with: a `Call` is one authenticated
request (the backend, the matched route, path parameters, query options, headers and body, the
origin its links are built on) with helpers that read its Prefer header and query options as
Graph does and collect the preferences it applied (the `Preference-Applied` header)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from providers.emulators.google_call import Reply
from providers.emulators.graph_errors import GraphError, bad_request
from providers.emulators.graph_query import parse_positive
from providers.emulators.graph_routes import Route
from providers.emulators.graph_time import resolve_zone

if TYPE_CHECKING:
    from providers.emulators.graph_backend import Backend


@dataclass
class Call:
    backend: Backend
    route: Route
    path: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    prefer: dict[str, str]
    body: bytes
    origin: str
    """"http://host:port", the scheme and authority of links in answers."""
    applied: list[str] = field(default_factory=list)

    def option(self, name: str) -> str | None:
        return self.query.get(name)

    def json_body(self, *, optional: bool = False) -> dict[str, Any]:
        if not self.body.strip():
            if optional:
                return {}
            raise bad_request("Empty Payload. JSON content expected.", "ErrorInvalidRequest")
        kind = self.headers.get("content-type", "application/json").split(";")[0].strip()
        if kind.lower() != "application/json":
            raise bad_request(
                f"Content type '{kind}' is not supported by this emulator; send JSON.",
                "ErrorInvalidRequest",
            )
        try:
            value = json.loads(self.body)
        except ValueError:
            raise bad_request("Invalid JSON in the request body.", "RequestBodyRead") from None
        if not isinstance(value, dict):
            raise bad_request("The request body must be a JSON object.", "RequestBodyRead")
        return value

    def body_type(self) -> str | None:
        """`Prefer: outlook.body-content-type="text"|"html"`; None: as stored."""
        wanted = self.prefer.get("outlook.body-content-type")
        if wanted is None or wanted.lower() not in {"text", "html"}:
            return None
        self.applied.append(f'outlook.body-content-type="{wanted.lower()}"')
        return wanted.lower()

    def zone(self) -> tuple[str, ZoneInfo]:
        """`Prefer: outlook.timezone="..."` (a Windows or IANA name): the name to show and the
        zone; UTC when absent or unknown."""
        name = self.prefer.get("outlook.timezone")
        zone = resolve_zone(name) if name else None
        if name is None or zone is None:
            return "UTC", ZoneInfo("UTC")
        self.applied.append(f'outlook.timezone="{name}"')
        return name, zone

    def page_size(self, maximum: int) -> int | None:
        """`Prefer: odata.maxpagesize=N`, else $top; None when the request names neither."""
        wanted = parse_positive(
            self.prefer.get("odata.maxpagesize"), "odata.maxpagesize", maximum=maximum
        )
        if wanted is not None:
            self.applied.append(f"odata.maxpagesize={wanted}")
            return wanted
        return parse_positive(self.option("$top"), "$top", maximum=maximum)

    def reply(self, status: int, body: dict[str, Any] | None) -> Reply:
        headers: tuple[tuple[str, str], ...] = ()
        if self.applied:
            headers = (("Preference-Applied", ", ".join(dict.fromkeys(self.applied))),)
        return Reply(status, body, headers)

    def context(self, fragment: str) -> str:
        """An `@odata.context` URL for this mailbox."""
        return f"{self.origin}/v1.0/$metadata#{fragment}"

    def users_context(self, fragment: str) -> str:
        return self.context(f"users('{self.backend.mailbox.user[1]}')/{fragment}")


Handler = Callable[[Call], Reply]
"""An operation handler: one for each operation key."""


def require(condition: bool, error: GraphError) -> None:
    if not condition:
        raise error
