"""The Calendar v3 method handler of the emulator, events.list, in `CALENDAR_HANDLERS`: it checks
the request's parameters as Google does (the ones syncToken excludes, orderBy, the time window,
the time zone), reads the page or sync token, asks the store for the rows that answer it, and
writes the next page or sync token. A sync token names the calendar's generation and change
sequence; one from an older generation gets 410 (fullSyncRequired)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from providers.emulators.calendar_listing import EventFilter, Row, list_rows
from providers.emulators.calendar_store import Calendar, rfc3339
from providers.emulators.google_base64 import b64decode_any, b64url
from providers.emulators.google_call import Call, Handler, Reply
from providers.emulators.google_errors import ApiError

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
    rows = list_rows(calendar, flt, call.backend.now)
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


CALENDAR_HANDLERS: dict[str, Handler] = {"calendar.events.list": events_list}
