"""Google Calendar v3 Event resources as `CalendarEvent`s, and the events.list sync rounds.

The event's Google `id` is its identity (an instance of a recurring event has its own id, which
a reschedule keeps). Deleted events come back from an incremental sync with nothing but their
id and `status: cancelled`, so a cancelled event is reported as removed, not read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailagent.core.models import (
    SNIPPET_LIMIT,
    Attendee,
    CalendarEvent,
    EventStatus,
    Person,
    ResponseStatus,
)
from mailagent.errors import NotFound
from providers.base import Skipped, Window
from providers.ical import video_links

log = logging.getLogger(__name__)

RESPONSES = {
    "needsAction": ResponseStatus.NEEDS_ACTION,
    "accepted": ResponseStatus.ACCEPTED,
    "declined": ResponseStatus.DECLINED,
    "tentative": ResponseStatus.TENTATIVE,
}
STATUSES = {
    "confirmed": EventStatus.CONFIRMED,
    "tentative": EventStatus.TENTATIVE,
    "cancelled": EventStatus.CANCELLED,
}
IGNORED_TYPES = frozenset({"birthday", "focusTime", "outOfOffice", "workingLocation"})
"""Event types that are never meetings with other people."""
PAGE_SIZE = 2500


class SyncTokenExpired(Exception):
    """HTTP 410 fullSyncRequired: the stored sync token is no longer valid."""


def _moment(value: Mapping[str, Any], zone: ZoneInfo) -> tuple[datetime, bool]:
    if "dateTime" in value:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(value.get("timeZone"), zone))
        return moment, False
    day = date.fromisoformat(str(value["date"]))
    return datetime.combine(day, time(), tzinfo=zone), True


def _zone(name: object, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(str(name)) if name else fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def _person(value: object) -> Person | None:
    if not isinstance(value, Mapping) or not value.get("email"):
        return None
    return Person(str(value.get("displayName", "")), str(value["email"]).lower())


def event_from_resource(resource: Mapping[str, Any], zone: ZoneInfo) -> CalendarEvent:
    """Raises KeyError or ValueError for a resource without a readable start."""
    start, all_day = _moment(resource["start"], zone)
    end, _ = _moment(resource.get("end", resource["start"]), zone)
    if end < start:
        start, end = end, start
    if all_day and end <= start:
        end = start + timedelta(days=1)
    organizer = _person(resource.get("organizer"))
    attendees = tuple(
        Attendee(
            str(a.get("displayName", "")),
            str(a["email"]).lower(),
            organizer=bool(a.get("organizer")),
            response=RESPONSES.get(str(a.get("responseStatus")), ResponseStatus.UNKNOWN),
            resource=bool(a.get("resource")),
            optional=bool(a.get("optional")),
        )
        for a in resource.get("attendees", ())
        if isinstance(a, Mapping) and a.get("email")
    )
    urls: list[str] = []
    if resource.get("hangoutLink"):
        urls.append(str(resource["hangoutLink"]))
    for entry in resource.get("conferenceData", {}).get("entryPoints", ()):
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            urls.append(str(entry["uri"]))
    for text in (resource.get("location", ""), resource.get("description", "")):
        urls.extend(video_links(str(text)))
    original = resource.get("originalStartTime")
    recurrence_id = _moment(original, zone)[0] if isinstance(original, Mapping) else None
    return CalendarEvent(
        id=str(resource["id"]),
        uid=str(resource.get("iCalUID") or resource["id"]),
        title=str(resource.get("summary", "")),
        start=start,
        end=end,
        all_day=all_day,
        status=STATUSES.get(str(resource.get("status")), EventStatus.CONFIRMED),
        organizer=organizer,
        attendees=attendees,
        description=str(resource.get("description", ""))[:SNIPPET_LIMIT],
        location=str(resource.get("location", "")),
        conference_urls=tuple(dict.fromkeys(urls)),
        recurring=bool(resource.get("recurringEventId")),
        recurrence_id=recurrence_id,
        sequence=int(resource.get("sequence", 0) or 0),
    )


@dataclass(frozen=True, slots=True)
class CalendarRound:
    events: list[CalendarEvent]
    removed: list[str]
    sync_token: str
    full: bool
    skipped: list[Skipped]


def read_calendar(
    list_page: Callable[[dict[str, Any]], Mapping[str, Any]],
    *,
    sync_token: str | None,
    window: Window,
    zone: ZoneInfo,
) -> CalendarRound:
    """One events.list round: the window in full (no token) or the changes since `sync_token`.

    `list_page(params)` runs one events.list call; it raises `SyncTokenExpired` on 410, which
    makes this a full round. Only the last page carries `nextSyncToken`."""
    base: dict[str, Any] = {"singleEvents": True, "maxResults": PAGE_SIZE}
    if sync_token is not None:
        try:
            return _pages(list_page, {**base, "syncToken": sync_token}, zone, full=False)
        except SyncTokenExpired:
            log.info("calendar sync token expired; reading the window again")
    window_params = {
        **base,
        "timeMin": window.start.isoformat(),
        "timeMax": window.end.isoformat(),
    }
    return _pages(list_page, window_params, zone, full=True)


def _pages(
    list_page: Callable[[dict[str, Any]], Mapping[str, Any]],
    params: dict[str, Any],
    zone: ZoneInfo,
    *,
    full: bool,
) -> CalendarRound:
    events: list[CalendarEvent] = []
    removed: list[str] = []
    skipped: list[Skipped] = []
    page_token: str | None = None
    while True:
        page = list_page({**params, "pageToken": page_token} if page_token else params)
        for item in page.get("items", ()):
            if not isinstance(item, Mapping) or not item.get("id"):
                continue
            if item.get("eventType") in IGNORED_TYPES or (
                item.get("status") == "cancelled" and "start" not in item
            ):
                removed.append(str(item["id"]))
                continue
            try:
                events.append(event_from_resource(item, zone))
            except (KeyError, ValueError, TypeError) as exc:
                skipped.append(Skipped(f"calendar event {item['id']}", f"unreadable: {exc!r}"))
        page_token = page.get("nextPageToken")
        if not page_token:
            token = page.get("nextSyncToken")
            if not token:
                raise NotFound("events.list ended without a nextSyncToken")
            return CalendarRound(events, removed, str(token), full, skipped)
