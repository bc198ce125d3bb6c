"""HTTP face of the Google emulator: routes, auth, faults, counting, batch, JSON resources.

Design notes:

- `ROUTES` is the whole API surface, as data. Each route names its discovery method id, and a
  test checks every route against the discovery documents shipped with google-api-python-client
  (method id, HTTP method, path, parameters), so the emulator cannot serve what Google does not.
  Unknown query parameters get 400, so clients cannot lean on parameters Google lacks.
- One `Backend.call` path serves a plain request and each part of a batch alike: route, auth,
  parameter check, counting, fault injection, then the handler under the state lock.
- Counting follows https://developers.google.com/gmail/api/reference/quota (units per method);
  calls are counted once authenticated, including the ones a fault then fails, because Google
  counts a rejected call against the per-user rate too.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import Message as MimePart
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from providers.emulators.gmail_query import QueryContext
from providers.emulators.google_state import (
    ApiError,
    Calendar,
    EventFilter,
    HistoryRecord,
    Mailbox,
    Row,
    StoredMessage,
    b64decode_any,
    b64url,
    bad_request,
    body_text,
    decode_value,
    not_found,
    raw_headers,
    read_facts,
    rfc3339,
    snippet,
)

# --- routes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    method_id: str
    http_method: str
    path_template: str
    """The discovery `path` (Gmail) or `servicePath + path` (Calendar), without a leading /."""
    params: frozenset[str]
    """Query parameters of the method this route accepts (path parameters are in the template)."""

    @property
    def api(self) -> str:
        return self.method_id.split(".", 1)[0]


_G = "gmail/v1/users/{userId}"
ROUTES: tuple[Route, ...] = (
    Route("gmail.users.getProfile", "GET", f"{_G}/profile", frozenset()),
    Route(
        "gmail.users.messages.list",
        "GET",
        f"{_G}/messages",
        frozenset({"q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"}),
    ),
    Route(
        "gmail.users.messages.get",
        "GET",
        f"{_G}/messages/{{id}}",
        frozenset({"format", "metadataHeaders"}),
    ),
    Route(
        "gmail.users.threads.get",
        "GET",
        f"{_G}/threads/{{id}}",
        frozenset({"format", "metadataHeaders"}),
    ),
    Route(
        "gmail.users.history.list",
        "GET",
        f"{_G}/history",
        frozenset({"startHistoryId", "historyTypes", "labelId", "maxResults", "pageToken"}),
    ),
    Route("gmail.users.drafts.create", "POST", f"{_G}/drafts", frozenset()),
    Route("gmail.users.drafts.get", "GET", f"{_G}/drafts/{{id}}", frozenset({"format"})),
    Route(
        "gmail.users.drafts.list",
        "GET",
        f"{_G}/drafts",
        frozenset({"q", "maxResults", "pageToken", "includeSpamTrash"}),
    ),
    Route("gmail.users.drafts.update", "PUT", f"{_G}/drafts/{{id}}", frozenset()),
    Route("gmail.users.drafts.delete", "DELETE", f"{_G}/drafts/{{id}}", frozenset()),
    Route(
        "calendar.events.list",
        "GET",
        "calendar/v3/calendars/{calendarId}/events",
        frozenset(
            {
                "alwaysIncludeEmail",
                "eventTypes",
                "iCalUID",
                "maxAttendees",
                "maxResults",
                "orderBy",
                "pageToken",
                "privateExtendedProperty",
                "q",
                "sharedExtendedProperty",
                "showDeleted",
                "showHiddenInvitations",
                "singleEvents",
                "syncToken",
                "timeMax",
                "timeMin",
                "timeZone",
                "updatedMin",
            }
        ),
    ),
)

STANDARD_PARAMS: dict[str, frozenset[str]] = {
    "gmail": frozenset(
        {
            "$.xgafv",
            "access_token",
            "alt",
            "callback",
            "fields",
            "key",
            "oauth_token",
            "prettyPrint",
            "quotaUser",
            "uploadType",
            "upload_protocol",
        }
    ),
    "calendar": frozenset(
        {"alt", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "userIp"}
    ),
}
"""The top-level `parameters` of gmail.v1.json and calendar.v3.json."""

QUOTA_UNITS: dict[str, int] = {
    "gmail.users.getProfile": 1,
    "gmail.users.history.list": 2,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.drafts.get": 5,
    "gmail.users.drafts.list": 5,
    "gmail.users.drafts.create": 10,
    "gmail.users.drafts.delete": 10,
    "gmail.users.drafts.update": 15,
    "gmail.users.threads.get": 10,
}
"""https://developers.google.com/gmail/api/reference/quota; threads.get is not on the page we
read and is commonly cited as 10. Calendar methods count 1 each."""

BATCH_PATHS = {"/batch/gmail/v1": "gmail", "/batch/calendar/v3": "calendar"}
"""The API-specific batch endpoints of the batch guides. Not the discovery `batchPath` "batch":
Google discontinued the global batch endpoints, so a client must not depend on it."""
BATCH_LIMITS = {"gmail": 100, "calendar": 1000}
"""https://developers.google.com/gmail/api/guides/batch (100 calls);
https://developers.google.com/calendar/api/guides/batch (1000 calls)."""


def match_route(http_method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    segments = path.strip("/").split("/")
    for route in ROUTES:
        if route.http_method != http_method:
            continue
        template = route.path_template.split("/")
        if len(template) != len(segments):
            continue
        found: dict[str, str] = {}
        for want, have in zip(template, segments, strict=True):
            if want.startswith("{"):
                if not have:
                    break
                found[want[1:-1]] = urllib.parse.unquote(have)
            elif want != have:
                break
        else:
            return route, found
    return None


# --- replies, faults, stats ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()

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


FaultKind = Literal["429", "403-rate", "403-user-rate", "500", "503", "drop"]
FAULT_KINDS: tuple[str, ...] = ("429", "403-rate", "403-user-rate", "500", "503", "drop")


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    method: str | None
    """A discovery method id; None: any method."""
    times: int
    retry_after: float | None = None


def fault_error(fault: Fault) -> ApiError:
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    exhausted = "RESOURCE_EXHAUSTED"
    table = {
        "429": (429, "Too many requests", "rateLimitExceeded", "usageLimits", exhausted),
        "403-rate": (403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits", None),
        "403-user-rate": (
            403,
            "User Rate Limit Exceeded",
            "userRateLimitExceeded",
            "usageLimits",
            None,
        ),
        "500": (500, "Backend Error", "backendError", "global", "INTERNAL"),
        "503": (503, "The service is currently unavailable.", "backendError", "global", None),
    }
    code, message, reason, domain, status = table[fault.kind]
    status = status or {403: "PERMISSION_DENIED", 503: "UNAVAILABLE"}[code]
    return ApiError(code, message, reason, domain=domain, status=status, headers=headers)


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


# --- the backend ---------------------------------------------------------------------------------


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
        self.issued: set[str] = set()
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
            self.issued.add(token)
        scope = form.get("scope", [""])[0] or (
            "https://www.googleapis.com/auth/gmail.modify "
            "https://www.googleapis.com/auth/calendar.readonly"
        )
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

    def take_fault(self, method_ids: set[str], *, drops: bool, others: bool) -> Fault | None:
        """Consume the oldest pending fault aimed at one of `method_ids` (or at any method) of
        the wanted kinds: drops (a whole HTTP request) and/or the others (one call)."""
        with self.lock:
            for index, fault in enumerate(self.faults):
                if not (drops if fault.kind == "drop" else others):
                    continue
                if fault.method is not None and fault.method not in method_ids:
                    continue
                if fault.times <= 1:
                    del self.faults[index]
                else:
                    self.faults[index] = replace(fault, times=fault.times - 1)
                return fault
        return None

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
        fault = self.take_fault({route.method_id}, drops=api is None, others=True)
        if fault is not None:
            return DROP if fault.kind == "drop" else error_reply(fault_error(fault))
        try:
            unknown = set(query) - route.params - STANDARD_PARAMS[route.api]
            if unknown:
                name = sorted(unknown)[0]
                raise bad_request(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message."
                )
            alt = query.get("alt", ["json"])[-1]
            if alt != "json":
                raise bad_request(f"Invalid value '{alt}' for parameter alt")
            with self.lock:
                reply = HANDLERS[route.method_id](Call(self, route, path, query, body))
        except ApiError as error:
            return error_reply(error)
        fields = query.get("fields", [""])[-1]
        if fields and reply.body is not None:
            reply = Reply(reply.status, select_fields(reply.body, fields), reply.headers)
        return reply


# --- partial responses (the `fields` parameter) ---------------------------------------------------

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(spec: str) -> FieldTree:
    """`items(id,summary),nextPageToken` or `messages/id` -> a tree; None below a name: all."""
    tree, _ = _fields_list(spec.replace(" ", ""), 0)
    return tree


def _fields_list(spec: str, pos: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    while pos < len(spec) and spec[pos] != ")":
        if spec[pos] == ",":
            pos += 1
            continue
        name, sub, pos = _fields_item(spec, pos)
        previous = tree.get(name)
        if name in tree and previous is not None and sub is not None:
            previous.update(sub)
        else:
            tree[name] = None if name in tree and previous is None else sub
    return tree, pos


def _fields_item(spec: str, pos: int) -> tuple[str, FieldTree | None, int]:
    start = pos
    while pos < len(spec) and spec[pos] not in ",()/":
        pos += 1
    name = spec[start:pos]
    if pos < len(spec) and spec[pos] == "/":
        child, sub, pos = _fields_item(spec, pos + 1)
        return name, {child: sub}, pos
    if pos < len(spec) and spec[pos] == "(":
        sub_tree, pos = _fields_list(spec, pos + 1)
        return name, sub_tree, pos + 1
    return name, None, pos


def select_fields(value: Any, spec: str | FieldTree | None) -> Any:
    tree = parse_fields(spec) if isinstance(spec, str) else spec
    if tree is None:
        return value
    if isinstance(value, list):
        return [select_fields(v, tree) for v in value]
    if isinstance(value, dict):
        if "*" in tree:
            return value
        return {k: select_fields(value[k], sub) for k, sub in tree.items() if k in value}
    return value


# --- handlers ------------------------------------------------------------------------------------


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


def _page_token(offset: int) -> str:
    return b64url(f"p{offset}".encode()).rstrip("=")


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = b64decode_any(token).decode()
        if text.startswith("p") and text[1:].isdigit():
            return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise bad_request("Invalid pageToken", "invalidArgument")


def _check_user(call: Call) -> None:
    user = call.path.get("userId", "me")
    if user != "me" and user.lower() != call.backend.user_address:
        raise ApiError(
            403, f"Delegation denied for {user}", "forbidden", status="PERMISSION_DENIED"
        )


def _format(call: Call, allowed: tuple[str, ...]) -> str:
    value = (call.one("format") or "full").lower()
    if value not in allowed:
        raise bad_request(f"Invalid value '{value}' for parameter format")
    return value


def _message(call: Call, message_id: str) -> StoredMessage:
    if not message_id or any(c not in "0123456789abcdef" for c in message_id.lower()):
        raise bad_request("Invalid id value", "invalidArgument")
    message = call.mailbox.messages.get(message_id.lower())
    if message is None:
        raise not_found()
    return message


def _labels(message: StoredMessage) -> list[str]:
    return sorted(message.labels)


def message_resource(
    message: StoredMessage, fmt: str, metadata_headers: list[str] | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {"id": message.id, "threadId": message.thread_id}
    if message.labels:
        resource["labelIds"] = _labels(message)
    text, _ = body_text(message.raw)
    resource["snippet"] = snippet(text)
    resource["sizeEstimate"] = len(message.raw)
    resource["historyId"] = str(message.history_id)
    resource["internalDate"] = str(message.internal_ms)
    if fmt == "raw":
        resource["raw"] = b64url(message.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers or []}
        headers = [
            {"name": n, "value": decode_value(v)}
            for n, v in raw_headers(message.raw)
            if not wanted or n.lower() in wanted
        ]
        ctype = next((v for n, v in raw_headers(message.raw) if n.lower() == "content-type"), "")
        mime = ctype.split(";")[0].strip().lower() or "text/plain"
        resource["payload"] = {"mimeType": mime, "headers": headers}
    elif fmt == "full":
        parsed = BytesParser(policy=compat32).parsebytes(message.raw)
        resource["payload"] = _payload(parsed, "", message)
    return resource


def _payload(part: MimePart, part_id: str, message: StoredMessage) -> dict[str, Any]:
    if part_id == "":
        headers = [{"name": n, "value": decode_value(v)} for n, v in raw_headers(message.raw)]
    else:
        headers = [
            {"name": n, "value": decode_value(" ".join(str(v).split()))} for n, v in part.items()
        ]
    filename = part.get_filename() or ""
    result: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": filename,
        "headers": headers,
    }
    if part.is_multipart():
        result["body"] = {"size": 0}
        children = part.get_payload()
        result["parts"] = [
            _payload(child, f"{part_id}.{i}" if part_id else str(i), message)
            for i, child in enumerate(children if isinstance(children, list) else [])
        ]
        return result
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    if filename:
        token = b64url(f"{message.id}/{part_id}".encode()).rstrip("=")
        result["body"] = {"attachmentId": "ANGjdJ" + token, "size": len(data)}
    elif data:
        result["body"] = {"size": len(data), "data": b64url(data)}
    else:
        result["body"] = {"size": 0}
    return result


def _brief(message: StoredMessage, labels: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"id": message.id, "threadId": message.thread_id}
    if labels and message.labels:
        found["labelIds"] = _labels(message)
    return found


def get_profile(call: Call) -> Reply:
    _check_user(call)
    box = call.mailbox
    return Reply(
        200,
        {
            "emailAddress": call.backend.user_address,
            "messagesTotal": len(box.messages),
            "threadsTotal": len(box.threads),
            "historyId": str(box.history_id),
        },
    )


def _listing(call: Call, ids: list[str], key: str, render: Callable[[str], Any]) -> Reply:
    size = call.integer("maxResults", 100, 500)
    offset = _page_offset(call.one("pageToken"))
    page = ids[offset : offset + size]
    body: dict[str, Any] = {}
    if page:
        body[key] = [render(i) for i in page]
    if offset + size < len(ids):
        body["nextPageToken"] = _page_token(offset + size)
    body["resultSizeEstimate"] = len(ids)
    return Reply(200, body)


def messages_list(call: Call) -> Reply:
    _check_user(call)
    ids = call.mailbox.search(
        call.one("q"),
        call.many("labelIds"),
        bool(call.boolean("includeSpamTrash")),
        call.context(),
    )
    box = call.mailbox
    return _listing(call, ids, "messages", lambda i: _brief(box.messages[i]))


def messages_get(call: Call) -> Reply:
    _check_user(call)
    message = _message(call, call.path["id"])
    fmt = _format(call, ("minimal", "full", "raw", "metadata"))
    return Reply(200, message_resource(message, fmt, call.many("metadataHeaders")))


def threads_get(call: Call) -> Reply:
    _check_user(call)
    thread_id = call.path["id"].lower()
    fmt = _format(call, ("minimal", "full", "metadata"))
    messages = call.mailbox.thread_messages(thread_id)
    if not messages:
        _message(call, thread_id)  # 400 for a malformed id, else 404
        raise not_found()
    headers = call.many("metadataHeaders")
    return Reply(
        200,
        {
            "id": thread_id,
            "historyId": str(max(m.history_id for m in messages)),
            "messages": [message_resource(m, fmt, headers) for m in messages],
        },
    )


_HISTORY_TYPES = {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}


def history_list(call: Call) -> Reply:
    _check_user(call)
    box = call.mailbox
    start_text = call.one("startHistoryId")
    if not start_text:
        raise bad_request("Missing required parameter: startHistoryId", "invalidArgument")
    if not start_text.isdigit():
        raise bad_request(f"Invalid startHistoryId: {start_text}", "invalidArgument")
    start = int(start_text)
    if start < box.history_floor:
        raise not_found()
    types = set(call.many("historyTypes"))
    if types - _HISTORY_TYPES:
        raise bad_request(f"Invalid value for historyTypes: {sorted(types - _HISTORY_TYPES)[0]}")
    label = call.one("labelId")
    size = call.integer("maxResults", 100, 500)
    after = max(start, _page_offset(call.one("pageToken")))
    records: list[dict[str, Any]] = []
    more = False
    for record in box.history_since(after):
        if types and record.kind not in types:
            continue
        if label and label not in record.labels and label not in record.changed:
            continue
        if len(records) == size:
            more = True
            break
        records.append(_history_record(record))
    body: dict[str, Any] = {}
    if records:
        body["history"] = records
    if more:
        body["nextPageToken"] = _page_token(int(records[-1]["id"]))
    body["historyId"] = str(box.history_id)
    return Reply(200, body)


def _history_record(record: HistoryRecord) -> dict[str, Any]:
    brief = {"id": record.message_id, "threadId": record.thread_id}
    full = {**brief, "labelIds": list(record.labels)} if record.labels else dict(brief)
    entry: dict[str, Any] = {"id": str(record.id), "messages": [brief]}
    if record.kind == "messageAdded":
        entry["messagesAdded"] = [{"message": full}]
    elif record.kind == "messageDeleted":
        entry["messagesDeleted"] = [{"message": full}]
    else:
        key = "labelsAdded" if record.kind == "labelAdded" else "labelsRemoved"
        entry[key] = [{"message": full, "labelIds": list(record.changed)}]
    return entry


def _draft_message(call: Call) -> tuple[bytes, str | None]:
    body = call.json_body()
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("raw"), str):
        raise bad_request("Missing draft message", "invalidArgument")
    try:
        raw = b64decode_any(message["raw"])
    except ValueError:
        raise bad_request(
            "Invalid value at 'draft.message.raw' (TYPE_BYTES), Base64 decoding failed",
            "invalidArgument",
        ) from None
    if not raw.strip():
        raise bad_request("Missing draft message", "invalidArgument")
    thread = message.get("threadId")
    return raw, str(thread) if thread else None


def add_draft_message(backend: Backend, raw: bytes, thread_id: str | None) -> StoredMessage:
    """A draft joins `thread_id` only if that thread exists, the draft's In-Reply-To/References
    name one of its messages and the subject matches; otherwise it silently gets a new thread,
    as Gmail does (see the Message.threadId field in the discovery document)."""
    facts = read_facts(raw)
    box = backend.mailbox
    joined = None
    if thread_id and thread_id in box.threads:
        joined = box.find_thread(facts.subject, facts.refs, within=thread_id)
    stamp = facts.date or backend.now
    return box.add(
        raw,
        ["DRAFT"],
        int(stamp.timestamp() * 1000),
        facts=facts,
        thread_id=joined,
        auto_thread=False,
    )


def _draft_reply(draft_id: str, message: StoredMessage) -> dict[str, Any]:
    return {"id": draft_id, "message": _brief(message, labels=True)}


def drafts_create(call: Call) -> Reply:
    _check_user(call)
    raw, thread_id = _draft_message(call)
    message = add_draft_message(call.backend, raw, thread_id)
    draft_id = call.mailbox.new_draft_id()
    call.mailbox.set_draft(draft_id, message.id)
    return Reply(200, _draft_reply(draft_id, message))


def _draft(call: Call) -> tuple[str, StoredMessage]:
    draft_id = call.path["id"]
    message_id = call.mailbox.drafts.get(draft_id)
    if message_id is None:
        raise not_found()
    return draft_id, call.mailbox.messages[message_id]


def drafts_get(call: Call) -> Reply:
    _check_user(call)
    draft_id, message = _draft(call)
    fmt = _format(call, ("minimal", "full", "raw", "metadata"))
    return Reply(200, {"id": draft_id, "message": message_resource(message, fmt)})


def drafts_list(call: Call) -> Reply:
    _check_user(call)
    box = call.mailbox
    ids = [
        i
        for i in box.search(
            call.one("q"), ["DRAFT"], bool(call.boolean("includeSpamTrash")), call.context()
        )
        if i in box.draft_by_message
    ]
    return _listing(
        call,
        ids,
        "drafts",
        lambda i: {"id": box.draft_by_message[i], "message": _brief(box.messages[i])},
    )


def drafts_update(call: Call) -> Reply:
    _check_user(call)
    draft_id, old = _draft(call)
    raw, thread_id = _draft_message(call)
    message = add_draft_message(call.backend, raw, thread_id)
    call.mailbox.set_draft(draft_id, message.id)
    call.mailbox.delete(old.id)
    return Reply(200, _draft_reply(draft_id, message))


def drafts_delete(call: Call) -> Reply:
    _check_user(call)
    draft_id, message = _draft(call)
    call.mailbox.set_draft(draft_id, None)
    call.mailbox.delete(message.id)
    return Reply(204)


# --- calendar ------------------------------------------------------------------------------------

_SYNC_CONFLICTS = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)


def _calendar_error(code: int, message: str, reason: str, **extra: str) -> ApiError:
    return ApiError(
        code,
        message,
        reason,
        domain=extra.get("domain", "global"),
        location=extra.get("location"),
        location_type="parameter" if "location" in extra else None,
    )


def _rfc3339(call: Call, name: str) -> datetime | None:
    value = call.one(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in value.upper():
        raise _calendar_error(400, "Bad Request", "badRequest")
    return moment


def _sync_token(calendar: Calendar, seq: int) -> str:
    return b64url(f"s{calendar.generation}.{seq}".encode()).rstrip("=")


def _gone() -> ApiError:
    return _calendar_error(
        410,
        "Sync token is no longer valid, a full sync is required.",
        "fullSyncRequired",
        domain="calendar",
        location="syncToken",
    )


def _read_sync_token(calendar: Calendar, token: str) -> int:
    try:
        generation, _, seq = b64decode_any(token).decode()[1:].partition(".")
        if int(generation) == calendar.generation:
            return int(seq)
    except (ValueError, UnicodeDecodeError):
        pass
    raise _gone()


def _properties(call: Call, name: str) -> tuple[tuple[str, str], ...]:
    found = []
    for value in call.many(name):
        key, eq, wanted = value.partition("=")
        if not eq:
            raise _calendar_error(400, "Bad Request", "badRequest")
        found.append((key, wanted))
    return tuple(found)


def events_list(call: Call) -> Reply:
    calendar = call.calendar
    calendar_id = call.path["calendarId"].lower()
    if calendar_id not in {"primary", calendar.owner}:
        raise _calendar_error(404, "Not Found", "notFound")
    sync = call.one("syncToken")
    if sync is not None:
        for name in _SYNC_CONFLICTS:
            if name in call.query:
                raise _calendar_error(
                    400,
                    f"The parameter {name} is not allowed with syncToken.",
                    "invalidParameter",
                    location=name,
                )
    single = bool(call.boolean("singleEvents"))
    order = call.one("orderBy")
    if order not in {None, "startTime", "updated"}:
        raise _calendar_error(400, f"Invalid value '{order}' for orderBy", "invalidParameter")
    if order == "startTime" and not single:
        raise _calendar_error(
            400, "The requested ordering is not available for the particular query.", "badRequest"
        )
    time_min, time_max = _rfc3339(call, "timeMin"), _rfc3339(call, "timeMax")
    if time_min is not None and time_max is not None and time_min >= time_max:
        raise _calendar_error(
            400,
            "The specified time range is empty.",
            "timeRangeEmpty",
            domain="calendar",
            location="timeMax",
        )
    zone_name = call.one("timeZone")
    if zone_name is not None:
        try:
            ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise _calendar_error(400, "Invalid time zone definition.", "invalid") from None
    page = call.one("pageToken")
    snapshot, offset, since = calendar.seq, 0, None
    if page:
        try:
            fields = b64decode_any(page).decode().split(".")
            snapshot, offset = int(fields[0]), int(fields[1])
            since = int(fields[2]) if fields[2] else None
        except (ValueError, IndexError, UnicodeDecodeError):
            raise _calendar_error(400, "Invalid page token value.", "invalid") from None
    elif sync is not None:
        since = _read_sync_token(calendar, sync)
    types = call.many("eventTypes")
    max_attendees = call.one("maxAttendees")
    flt = EventFilter(
        time_min=time_min,
        time_max=time_max,
        single=single,
        show_deleted=bool(call.boolean("showDeleted")),
        since=since,
        updated_min=_rfc3339(call, "updatedMin"),
        ical_uid=call.one("iCalUID"),
        q=call.one("q"),
        event_types=frozenset(types) if types else None,
        private=_properties(call, "privateExtendedProperty"),
        shared=_properties(call, "sharedExtendedProperty"),
        max_attendees=int(max_attendees) if max_attendees and max_attendees.isdigit() else None,
    )
    rows = calendar.rows(flt, call.backend.now)
    rows.sort(key=_row_order(order))
    size = call.integer("maxResults", 250, 2500)
    chunk = rows[offset : offset + size]
    body: dict[str, Any] = {
        "kind": "calendar#events",
        "etag": f'"p3{snapshot:014d}"',
        "summary": calendar.owner,
        "updated": rfc3339(
            max((e.updated for e in calendar.events.values()), default=calendar.created)
        ),
        "timeZone": zone_name or calendar.time_zone,
        "accessRole": "owner",
        "defaultReminders": [{"method": "popup", "minutes": 10}],
    }
    if offset + size < len(rows):
        state = f"{snapshot}.{offset + size}.{'' if since is None else since}"
        body["nextPageToken"] = b64url(state.encode()).rstrip("=")
    else:
        body["nextSyncToken"] = _sync_token(calendar, snapshot)
    body["items"] = [r.item for r in chunk]
    return Reply(200, body)


def _row_order(order: str | None) -> Callable[[Row], Any]:
    if order == "startTime":
        return lambda r: (r.start.timestamp(), r.order)
    if order == "updated":
        return lambda r: (r.updated.timestamp(), r.order)
    return lambda r: r.order


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "gmail.users.getProfile": get_profile,
    "gmail.users.messages.list": messages_list,
    "gmail.users.messages.get": messages_get,
    "gmail.users.threads.get": threads_get,
    "gmail.users.history.list": history_list,
    "gmail.users.drafts.create": drafts_create,
    "gmail.users.drafts.get": drafts_get,
    "gmail.users.drafts.list": drafts_list,
    "gmail.users.drafts.update": drafts_update,
    "gmail.users.drafts.delete": drafts_delete,
    "calendar.events.list": events_list,
}


# --- batch ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchPart:
    content_id: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def parse_batch(content_type: str, body: bytes) -> list[BatchPart]:
    """Split a multipart/mixed batch into its application/http requests
    (https://developers.google.com/gmail/api/guides/batch)."""
    envelope = BytesParser(policy=compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not envelope.is_multipart():
        raise bad_request("Batch request is not multipart/mixed")
    parts: list[BatchPart] = []
    children = envelope.get_payload()
    for part in children if isinstance(children, list) else []:
        if not isinstance(part, MimePart):
            continue
        payload = part.get_payload()
        text = payload if isinstance(payload, str) else ""
        head, _, rest = text.replace("\r\n", "\n").partition("\n\n")
        request_line, _, header_text = head.partition("\n")
        pieces = request_line.split()
        if len(pieces) < 2:
            raise bad_request("Invalid batch part: no request line")
        headers = {k.lower(): v for k, v in HeaderParser().parsestr(header_text).items()}
        inner_body = rest.encode("utf-8", "surrogateescape")
        length = headers.get("content-length")
        if length and length.isdigit():
            inner_body = inner_body[: int(length)]
        parts.append(
            BatchPart(part.get("Content-ID", ""), pieces[0], pieces[1], headers, inner_body)
        )
    return parts


def serve_batch(backend: Backend, api: str, headers: dict[str, str], body: bytes) -> Reply | bytes:
    """Returns DROP, an error Reply, or the multipart body (its boundary is its first line)."""
    try:
        parts = parse_batch(headers.get("content-type", ""), body)
    except ApiError as error:
        return error_reply(error)
    if not parts:
        return error_reply(bad_request("Batch request contains no parts"))
    if len(parts) > BATCH_LIMITS[api]:
        return error_reply(
            bad_request(f"Too many requests in a batch: at most {BATCH_LIMITS[api]} are allowed")
        )
    methods = {
        m[0].method_id
        for p in parts
        if (m := match_route(p.method, urllib.parse.urlsplit(p.target).path)) is not None
    }
    if backend.take_fault(methods, drops=True, others=False) is not None:
        return DROP
    outer = {k: v for k, v in headers.items() if not k.startswith("content-")}
    answers = [
        (
            part,
            backend.call(part.method, part.target, {**outer, **part.headers}, part.body, api=api),
        )
        for part in parts
    ]
    if backend.batch_order == "reversed":
        answers.reverse()
    boundary = "batch_" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for part, reply in answers:
        content_id = part.content_id.strip()
        inner = content_id[1:-1] if content_id.startswith("<") else content_id
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        lines = [
            f"--{boundary}",
            "Content-Type: application/http",
            f"Content-ID: <response-{inner}>",
            "",
            f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Error')}",
            "Content-Type: application/json; charset=UTF-8",
            *(f"{k}: {v}" for k, v in reply.headers),
            f"Content-Length: {len(payload)}",
            "",
        ]
        chunks.append("\r\n".join(lines).encode() + b"\r\n" + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"{boundary}\n".encode() + b"".join(chunks)


# --- HTTP ----------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold the second one back ~40 ms on every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the standalone server print what matters themselves."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        backend = self.server.backend
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urllib.parse.urlsplit(self.path).path
        if path != "/token":
            with backend.lock:
                backend.stats.http_requests += 1
        if backend.latency > 0:
            time.sleep(backend.latency)
        if path == "/token" and self.command == "POST":
            # Closing after each token answer lets clients that refresh through a throwaway
            # httplib2.Http (googleapiclient's batch does) leave no socket open behind them.
            self.close_connection = True
            self._send(backend.token_endpoint(body), (("Connection", "close"),))
        elif path in BATCH_PATHS and self.command == "POST":
            result = serve_batch(backend, BATCH_PATHS[path], headers, body)
            if isinstance(result, bytes):
                boundary, _, payload = result.partition(b"\n")
                self._write(200, payload, f"multipart/mixed; boundary={boundary.decode()}", ())
            else:
                self._send(result)
        else:
            self._send(backend.call(self.command, self.path, headers, body))

    def _send(self, reply: Reply, extra: tuple[tuple[str, str], ...] = ()) -> None:
        if reply.dropped:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        headers = reply.headers + extra
        self._write(reply.status, payload, "application/json; charset=UTF-8", headers)

    def _write(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...],
    ) -> None:
        self.send_response(status, REASONS.get(status))
        if status != 204:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, backend: Backend) -> None:
        self.backend = backend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._open_lock:
            if add:
                self._open.add(connection)
            else:
                self._open.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections so they end."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
