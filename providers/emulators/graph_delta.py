"""Delta queries of the Graph emulator: message delta per mail folder and calendarView delta
(https://learn.microsoft.com/graph/delta-query-messages, .../delta-query-events).

A round starts from the query options (first request) or from a deltaLink's state. It takes a
snapshot of the ids to report (everything in the folder or view, or what changed since the
state's watermark) and pages through it: each page renders its ids as they are now (an id no
longer there becomes `@removed`) and links to the next page with a `$skiptoken`, or ends with a
`$deltatoken` naming the watermark taken when the round started. Changes made while a round
pages are reported again by the next round: Graph allows such replays, clients must not mind.
Tokens are kept server side, as Exchange keeps sync states; `expire` forgets them all, and a
forgotten or unknown token is answered 410 Gone with a Location to restart (or, as Exchange
also does, 400/404 syncStateNotFound)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from providers.emulators.google_call import Reply
from providers.emulators.graph_call import Call, Handler
from providers.emulators.graph_errors import GraphError, bad_request, invalid_filter
from providers.emulators.graph_query import (
    Expand,
    ReceivedSince,
    parse_expand,
    parse_filter,
    parse_select,
)
from providers.emulators.graph_resources import (
    MESSAGE_SELECTABLE,
    event_resource,
    message_resource,
    removed,
)
from providers.emulators.graph_time import iso_seconds, parse_iso

FILTER_CAP = 5000
"""message-delta.md: with $filter, delta returns at most 5,000 messages."""
DEFAULT_PAGE = 10
MAX_PAGE = 1000
_CHANGE_TYPES = frozenset({"created", "updated", "deleted"})


@dataclass(frozen=True, slots=True)
class DeltaQuery:
    """What the first request asked for; tokens carry it to later rounds."""

    kind: Literal["message", "event"]
    folder: str | None = None
    select: tuple[str, ...] | None = None
    expand: Expand | None = None
    received: ReceivedSince | None = None
    change_type: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(slots=True)
class Round:
    query: DeltaQuery
    since: int | None
    """The watermark of the deltaLink this round follows; None for the first round."""
    watermark: int
    ids: list[str]
    size: int = DEFAULT_PAGE
    """The page size the round's first request asked for; a later page may ask another."""


@dataclass(frozen=True, slots=True)
class Page:
    round: Round
    offset: int


@dataclass(frozen=True, slots=True)
class Point:
    """A deltaLink's state: the query and the sequence it has seen up to."""

    query: DeltaQuery
    watermark: int


@dataclass
class DeltaTokens:
    states: dict[str, Page | Point] = field(default_factory=dict)
    expired_status: Literal[410, 400, 404] = 410

    def issue(self, state: Page | Point) -> str:
        token = secrets.token_urlsafe(32)
        self.states[token] = state
        return token

    expired: dict[str, Page | Point] = field(default_factory=dict)
    """Forgotten states, kept only to build the Location of their 410."""

    def expire(self) -> None:
        self.expired.update(self.states)
        self.states.clear()


def _expired(call: Call, restart: str) -> GraphError:
    status = call.backend.deltas.expired_status
    if status == 410:
        return GraphError(
            410,
            "SyncStateNotFound",
            "The sync state generation is not found; generation=1;[highest=2][2].",
            headers={"Location": restart},
        )
    return GraphError(
        status,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again.",
    )


def _message_path(call: Call, folder: str) -> str:
    folder_id = call.backend.mailbox.folder_ids[folder]
    return f"{call.origin}/v1.0/me/mailFolders('{folder_id}')/messages/delta"


def _event_path(call: Call) -> str:
    return f"{call.origin}/v1.0/me/calendarView/delta"


def _state(call: Call, base: str) -> Page | Point | None:
    """The state a token names; None for a first request, or for an empty $deltatoken (the
    Location of a 410: start again). 410 etc. for a token that is lost or unknown."""
    tokens = [n for n in ("$skiptoken", "$deltatoken") if n in call.query]
    if not tokens or call.query[tokens[0]] == "":
        return None
    if len(call.query) > 1:
        others = sorted(set(call.query) - {tokens[0]})
        raise bad_request(
            f"Query options ({', '.join(others)}) cannot be combined with a state token; "
            "they are encoded in it."
        )
    token = call.query[tokens[0]]
    deltas = call.backend.deltas
    state = deltas.states.get(token)
    if state is None:
        lost = deltas.expired.get(token)
        query = lost.round.query if isinstance(lost, Page) else lost.query if lost else None
        raise _expired(call, base + _restart_query(query))
    return state


def _restart_query(query: DeltaQuery | None) -> str:
    """The query of a 410's Location: an empty $deltatoken (and the view's window)."""
    if query is None or query.start is None or query.end is None:
        return "?$deltatoken="
    return (
        f"?startDateTime={iso_seconds(query.start)}&endDateTime={iso_seconds(query.end)}"
        "&$deltatoken="
    )


Renderer = Callable[[str, Round], dict[str, Any] | None]
"""Renders one id of a round as it is now: the resource, `@removed`, or None (not reported)."""


def _serve(call: Call, round_: Round, offset: int, base: str, render: Renderer) -> Reply:
    size = call.page_size(MAX_PAGE) or round_.size
    if offset == 0:
        round_.size = size
    chunk = round_.ids[offset : offset + size]
    items = [item for item in (render(i, round_) for i in chunk) if item is not None]
    kind = round_.query.kind
    body: dict[str, Any] = {"@odata.context": call.context(f"Collection({kind})")}
    deltas = call.backend.deltas
    if offset + size < len(round_.ids):
        body["@odata.nextLink"] = f"{base}?$skiptoken={deltas.issue(Page(round_, offset + size))}"
    else:
        point = Point(round_.query, round_.watermark)
        body["@odata.deltaLink"] = f"{base}?$deltatoken={deltas.issue(point)}"
    body["value"] = items
    return call.reply(200, body)


# --- message delta -------------------------------------------------------------------------


def _message_query(call: Call, folder: str) -> DeltaQuery:
    change_type = call.option("changeType")
    if change_type is not None and change_type not in _CHANGE_TYPES:
        raise bad_request(f"Invalid value '{change_type}' for changeType.")
    order = call.option("$orderby")
    if order is not None and " ".join(order.split()).lower() != "receiveddatetime desc":
        raise bad_request("Only '$orderby=receivedDateTime desc' is supported with delta.")
    received = parse_filter(call.option("$filter"), tagged=False)
    if received is not None and not isinstance(received, ReceivedSince):
        raise invalid_filter()
    return DeltaQuery(
        "message",
        folder=folder,
        select=parse_select(call.option("$select"), MESSAGE_SELECTABLE, "Message"),
        expand=parse_expand(call.option("$expand")),
        received=received,
        change_type=change_type,
    )


def messages_delta(call: Call) -> Reply:
    mailbox = call.backend.mailbox
    folder = mailbox.folder(call.path["folder"])
    base = _message_path(call, folder)
    state = _state(call, base)
    if isinstance(state, Page):
        return _serve(call, state.round, state.offset, base, _message_renderer(call))
    if isinstance(state, Point):
        query = state.query
        if query.kind != "message" or query.folder != folder:
            raise _expired(call, base + "?$deltatoken=")
        ids = mailbox.changes_since(folder, state.watermark, mailbox.seq)
        round_ = Round(query, state.watermark, mailbox.seq, ids)
    else:
        query = _message_query(call, folder)
        messages = mailbox.in_folder(folder)
        if query.received is not None:
            messages = [m for m in messages if query.received.admits(m.received)]
        messages.sort(key=lambda m: (m.received, m.id), reverse=True)
        if query.received is not None:
            messages = messages[:FILTER_CAP]
        if query.change_type in {"updated", "deleted"}:
            messages = []
        round_ = Round(query, None, mailbox.seq, [m.id for m in messages])
    return _serve(call, round_, 0, base, _message_renderer(call))


def _message_renderer(call: Call) -> Renderer:
    mailbox = call.backend.mailbox
    body_type = call.body_type()

    def render(message_id: str, round_: Round) -> dict[str, Any] | None:
        query = round_.query
        message = mailbox.messages.get(message_id)
        if message is None or message.folder != query.folder:
            return (
                None
                if query.change_type in {"created", "updated"}
                else removed("message", message_id)
            )
        if round_.since is not None:
            if query.received is not None and not query.received.admits(message.received):
                return None
            created = message.entered > round_.since
            wanted = {None, "created" if created else "updated"}
            if query.change_type not in wanted:
                return None
        shown = message_resource(
            message, mailbox, select=query.select, expand=query.expand, body_type=body_type
        )
        return {"@odata.type": "#microsoft.graph.message", **shown}

    return render


# --- calendarView delta --------------------------------------------------------------------


def calendar_view_delta(call: Call) -> Reply:
    calendar = call.backend.calendar
    base = _event_path(call)
    state = _state(call, base)
    if isinstance(state, Page):
        return _serve(call, state.round, state.offset, base, _event_renderer(call))
    if isinstance(state, Point):
        if state.query.kind != "event":
            raise _expired(call, base + "?$deltatoken=")
        ids = calendar.changes_since(state.watermark, calendar.seq)
        round_ = Round(state.query, state.watermark, calendar.seq, ids)
    else:
        raw_start, raw_end = call.option("startDateTime"), call.option("endDateTime")
        if not raw_start or not raw_end:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string "
                "parameters StartDateTime and EndDateTime.",
            )
        try:
            start, end = parse_iso(raw_start), parse_iso(raw_end)
        except ValueError:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "The value of StartDateTime or EndDateTime is invalid.",
            ) from None
        query = DeltaQuery("event", start=start, end=end)
        events = calendar.overlapping(start, end)
        round_ = Round(query, None, calendar.seq, [e.resource["id"] for e in events])
    return _serve(call, round_, 0, base, _event_renderer(call))


def _event_renderer(call: Call) -> Renderer:
    calendar = call.backend.calendar
    zone_name, zone = call.zone()
    body_type = call.body_type()

    def render(event_id: str, round_: Round) -> dict[str, Any] | None:
        query = round_.query
        start, end = query.start, query.end
        event = calendar.events.get(event_id)
        if (
            event is None
            or start is None
            or end is None
            or not calendar.in_view(event_id, start, end)
        ):
            # Also for events outside the window that changed: Graph reports those as
            # removed too (event-delta.md), and clients must filter by date.
            return removed("event", event_id)
        shown = event_resource(event, zone_name=zone_name, zone=zone, body_type=body_type)
        return {"@odata.type": "#microsoft.graph.event", **shown}

    return render


DELTA_HANDLERS: dict[str, Handler] = {
    "messages.delta": messages_delta,
    "calendarView.delta": calendar_view_delta,
}
