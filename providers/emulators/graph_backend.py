"""Everything of the Graph emulator behind the socket, in `Backend`: the mailbox and calendar,
the clock, delta states, bearer tokens, pending faults, the in-flight gauge, the counters
(`Stats`) and one lock. `Backend.call` serves a plain request and each part of a $batch alike:
route, auth, counting, fault injection, query-option check, then the handler under the lock.
Calls are counted once routed and authenticated, including those a fault then fails, since
Graph counts a throttled request against the app's and mailbox's limits too
(https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits)."""

from __future__ import annotations

import secrets
import threading
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from providers.emulators.faults import DROP_KINDS, take_fault
from providers.emulators.google_call import DROP, Reply
from providers.emulators.graph_calendar import Calendar
from providers.emulators.graph_call import Call, Handler
from providers.emulators.graph_delta import DELTA_HANDLERS, DeltaTokens
from providers.emulators.graph_errors import (
    GraphError,
    mailbox_concurrency,
    unauthorized,
    unknown_segment,
)
from providers.emulators.graph_faults import DEFAULT_RETRY_AFTER, Fault, fault_error
from providers.emulators.graph_handlers import MESSAGE_HANDLERS
from providers.emulators.graph_query import parse_prefer
from providers.emulators.graph_routes import check_options, match_route
from providers.emulators.graph_store import Mailbox

HANDLERS: dict[str, Handler] = {**DELTA_HANDLERS, **MESSAGE_HANDLERS}
"""Every operation's handler, by operation key."""

CONCURRENCY_LIMIT = 4
"""Outlook: 4 concurrent requests per app and mailbox
(https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits)."""

VERSION_PREFIX = "/v1.0/"


@dataclass
class Stats:
    http_requests: int = 0
    """HTTP requests (a $batch counts once), including those refused for concurrency."""
    calls: Counter[str] = field(default_factory=Counter)
    """Routed, authenticated calls by operation key; every $batch part counts."""
    batch_sizes: list[int] = field(default_factory=list)
    max_in_flight: int = 0
    """The most HTTP requests seen in flight at once (refused ones included)."""
    concurrency_refusals: int = 0


class Backend:
    """Everything behind the socket: state, clock, tokens, faults, counters and one lock."""

    def __init__(self, user_address: str, user_name: str, *, static_token: str) -> None:
        self.lock = threading.RLock()
        self.mailbox = Mailbox(user_address, user_name)
        self.calendar = Calendar(self.mailbox.salt, self.mailbox.user)
        self.deltas = DeltaTokens()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.latency = 0.0
        self.static_token = static_token
        self.static_valid = True
        self.issued: set[str] = set()
        self.expired: set[str] = set()
        self.faults: list[Fault] = []
        self.stats = Stats()
        self.batch_order: Literal["request", "reversed"] = "request"
        self.concurrency_limit = CONCURRENCY_LIMIT
        self.in_flight = 0

    # -- auth --

    def issue_token(self) -> str:
        token = "EwBIA8l6BAAU" + secrets.token_urlsafe(48)
        with self.lock:
            self.issued.add(token)
        return token

    def expire_tokens(self) -> None:
        with self.lock:
            self.expired |= self.issued | {self.static_token}
            self.issued.clear()
            self.static_valid = False

    def auth_error(self, headers: dict[str, str]) -> GraphError | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return unauthorized("Access token is empty.")
        with self.lock:
            if (token == self.static_token and self.static_valid) or token in self.issued:
                return None
            if token in self.expired:
                return unauthorized("Access token has expired or is not yet valid.")
        return unauthorized("CompactToken parsing failed with error code: 80049217")

    # -- faults and concurrency --

    def take_fault(
        self, targets: list[tuple[str, str]], *, drops: bool, others: bool
    ) -> Fault | None:
        """Consume the oldest pending fault aimed at one of `targets` ((operation, path and
        query) pairs) of the wanted kinds: drops (a whole HTTP request) and/or the others."""
        with self.lock:
            return take_fault(
                self.faults,
                lambda fault: any(fault.aims_at(op, target) for op, target in targets),
                drops=drops,
                others=others,
            )

    def enter(self) -> bool:
        """Count an HTTP request in; False when it is over the mailbox's concurrency limit."""
        with self.lock:
            self.stats.http_requests += 1
            self.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.in_flight)
            if self.in_flight > self.concurrency_limit:
                self.stats.concurrency_refusals += 1
                return False
            return True

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def concurrency_reply(self, headers: dict[str, str]) -> Reply:
        return self.error_reply(mailbox_concurrency(DEFAULT_RETRY_AFTER), headers)

    # -- answers --

    def error_reply(self, error: GraphError, headers: dict[str, str]) -> Reply:
        request_id = str(uuid.uuid4())
        client_id = headers.get("client-request-id") or request_id
        body = error.body(
            date=self.now.strftime("%Y-%m-%dT%H:%M:%S"),
            request_id=request_id,
            client_request_id=client_id,
        )
        stamp = (("request-id", request_id), ("client-request-id", client_id))
        return Reply(error.status, body, (*error.headers.items(), *stamp))

    def call(
        self,
        http_method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        *,
        origin: str,
        in_batch: bool = False,
    ) -> Reply:
        """Serve one request to /v1.0/...; in a batch, drop faults are the batch's business."""
        parsed = urllib.parse.urlsplit(target)
        if not parsed.path.startswith(VERSION_PREFIX):
            segment = parsed.path.strip("/").split("/")[0]
            return self.error_reply(unknown_segment(segment), headers)
        path = parsed.path[len(VERSION_PREFIX) :]
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        try:
            route, params = match_route(http_method, path)
        except GraphError as error:
            return self.error_reply(error, headers)
        denied = self.auth_error(headers)
        if denied is not None:
            return self.error_reply(denied, headers)
        with self.lock:
            self.stats.calls[route.operation] += 1
        aim = path + ("?" + urllib.parse.unquote(parsed.query) if parsed.query else "")
        fault = self.take_fault([(route.operation, aim)], drops=not in_batch, others=True)
        if fault is not None and fault.kind == "drop":
            return DROP
        if fault is not None and fault.kind not in DROP_KINDS:
            return self.error_reply(fault_error(fault), headers)
        try:
            check_options(route, query)
            prefer = parse_prefer([headers.get("prefer", "")])
            with self.lock:
                call = Call(self, route, params, query, headers, prefer, body, origin)
                reply = HANDLERS[route.operation](call)
        except GraphError as error:
            return self.error_reply(error, headers)
        if fault is not None:  # "drop-after": served, but the answer is lost
            return DROP
        request_id = str(uuid.uuid4())
        stamp = (
            ("request-id", request_id),
            ("client-request-id", headers.get("client-request-id") or request_id),
        )
        return Reply(reply.status, reply.body, (*reply.headers, *stamp), raw=reply.raw)
