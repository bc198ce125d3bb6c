"""Everything of the Google emulator behind the socket, in `Backend`: the mailbox and calendar,
the clock, OAuth tokens (the /token endpoint and the bearer check), pending faults, the counters
(`Stats`) and one lock. `Backend.call` serves a plain request and each part of a batch alike:
route, auth, counting, fault injection, parameter check, then the handler under the state lock.
Counting follows https://developers.google.com/gmail/api/reference/quota (units per method);
calls are counted once authenticated, including the ones a fault then fails, because Google
counts a rejected call against the per-user rate too."""

from __future__ import annotations

import secrets
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from providers.emulators.calendar_handlers import CALENDAR_HANDLERS
from providers.emulators.calendar_store import Calendar
from providers.emulators.faults import take_fault
from providers.emulators.gmail_handlers import GMAIL_HANDLERS
from providers.emulators.gmail_mailbox import Mailbox
from providers.emulators.google_call import DROP, Call, Handler, Reply, error_reply
from providers.emulators.google_errors import ApiError
from providers.emulators.google_faults import Fault, fault_error
from providers.emulators.google_fields import select_fields
from providers.emulators.google_routes import QUOTA_UNITS, check_params, match_route

HANDLERS: dict[str, Handler] = {**GMAIL_HANDLERS, **CALENDAR_HANDLERS}
"""Every route's handler, by discovery method id."""


@dataclass
class Stats:
    http_requests: int = 0
    """Outer HTTP requests to the API (a batch counts once; /token requests do not count)."""
    token_requests: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    """Authenticated calls by discovery method id; every batch part counts."""
    quota_units: Counter[str] = field(default_factory=Counter)


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "authError",
        status="UNAUTHENTICATED",
        location="Authorization",
        location_type="header",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
        detail="Invalid Credentials",
    )


class Backend:
    """Everything behind the socket: state, clock, tokens, faults, counters and one lock."""

    def __init__(self, user_address: str, *, refresh_token: str, static_token: str) -> None:
        self.lock = threading.RLock()
        self.user_address = user_address.lower()
        self.mailbox = Mailbox(self.user_address)
        self.calendar = Calendar(self.user_address)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.latency = 0.0
        self.refresh_token = refresh_token
        self.static_token = static_token
        self.static_valid = True
        self.revoked = False
        self.issued: dict[str, str] = {}
        """Live access tokens and the scopes each was issued for."""
        self.faults: list[Fault] = []
        self.stats = Stats()
        self.batch_order: Literal["request", "reversed"] = "request"

    # -- auth --

    def token_endpoint(self, body: bytes) -> Reply:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        with self.lock:
            self.stats.token_requests += 1
            grant = form.get("grant_type", [""])[0]
            if grant != "refresh_token":
                return Reply(
                    400,
                    {
                        "error": "unsupported_grant_type",
                        "error_description": f"Invalid grant_type: {grant}",
                    },
                )
            if not form.get("client_id"):
                return Reply(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Could not determine client ID from request.",
                    },
                )
            if self.revoked or form.get("refresh_token", [""])[0] != self.refresh_token:
                return Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            token = "ya29.emu-" + secrets.token_urlsafe(24)
            scope = form.get("scope", [""])[0] or (
                "https://www.googleapis.com/auth/gmail.modify "
                "https://www.googleapis.com/auth/calendar.readonly"
            )
            self.issued[token] = scope
        return Reply(
            200,
            {"access_token": token, "expires_in": 3599, "scope": scope, "token_type": "Bearer"},
        )

    def authorized(self, headers: dict[str, str], query: dict[str, list[str]]) -> bool:
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer":
            token = (query.get("access_token") or query.get("oauth_token") or [""])[0]
        token = token.strip()
        with self.lock:
            if token and token == self.static_token and self.static_valid:
                return True
            return token in self.issued

    # -- faults --

    def take_fault(
        self, method_ids: set[str], *, drops: bool, others: bool, in_batch: bool = False
    ) -> Fault | None:
        """Consume the oldest pending fault aimed at one of `method_ids` (or at any method) of
        the wanted kinds: drops (a whole HTTP request) and/or the others (one call)."""
        with self.lock:
            return take_fault(
                self.faults,
                lambda fault: (
                    (fault.method is None or fault.method in method_ids)
                    and not (in_batch and fault.direct_only)
                ),
                drops=drops,
                others=others,
            )

    # -- one call --

    def call(
        self,
        http_method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        *,
        api: str | None = None,
    ) -> Reply:
        """Serve one API call; `api` limits routing to one API (inside a batch)."""
        parsed = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        override = {k.lower(): v for k, v in headers.items()}.get("x-http-method-override", "")
        if http_method == "POST" and override:
            # What Google's client libraries send for a GET whose URL passes 2,048 characters
            # (a long `q`): a POST of the query as a form, the real method in this header.
            http_method = override.upper()
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            query = {**query, **form}
            body = b""
        matched = match_route(http_method, parsed.path)
        if matched is None or (api is not None and matched[0].api != api):
            return error_reply(
                ApiError(404, f"Not Found: {parsed.path}", "notFound", status="NOT_FOUND")
            )
        route, path = matched
        if not self.authorized(headers, query):
            return error_reply(unauthorized())
        with self.lock:
            self.stats.calls[route.method_id] += 1
            self.stats.quota_units[route.method_id] += QUOTA_UNITS.get(route.method_id, 1)
        fault = self.take_fault(
            {route.method_id}, drops=api is None, others=True, in_batch=api is not None
        )
        if fault is not None and fault.kind != "drop-after":
            return DROP if fault.kind == "drop" else error_reply(fault_error(fault))
        try:
            check_params(route, query)
            with self.lock:
                reply = HANDLERS[route.method_id](Call(self, route, path, query, body))
        except ApiError as error:
            return error_reply(error)
        if fault is not None:  # "drop-after": served, but the answer is lost
            return DROP
        fields = query.get("fields", [""])[-1]
        if fields and reply.body is not None:
            reply = Reply(reply.status, select_fields(reply.body, fields), reply.headers)
        return reply
