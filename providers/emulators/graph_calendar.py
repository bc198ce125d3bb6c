"""The Graph emulator's calendar in memory, with no I/O and no locking: Outlook event resources
put and deleted by id, each change appended to one log that calendarView delta rounds read
after their watermark, and the overlap test of a calendar view window. `put` fills in what
Exchange sets itself (createdDateTime, lastModifiedDateTime, changeKey, bodyPreview...) and
the default values Graph shows for what the caller left out
(https://learn.microsoft.com/graph/api/resources/event). Series (recurrence) are not expanded:
every event is a singleInstance, an occurrence or an exception as the caller says."""

from __future__ import annotations

import base64
import copy
import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from providers.emulators.graph_mime import preview
from providers.emulators.graph_store import EVENT_KIND, id_kind
from providers.emulators.graph_time import iso_ticks, parse_date_time_zone, zero_time

STORE_FIELDS = ("createdDateTime", "lastModifiedDateTime", "changeKey", "webLink")
"""Fields `put` always sets itself; the rest of a resource is the caller's."""


def _defaults(user: tuple[str, str]) -> dict[str, Any]:
    name, address = user
    return {
        "categories": [],
        "transactionId": None,
        "originalStartTimeZone": "UTC",
        "originalEndTimeZone": "UTC",
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": True,
        "hasAttachments": False,
        "subject": "",
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": True,
        "responseRequested": True,
        "seriesMasterId": None,
        "showAs": "busy",
        "type": "singleInstance",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": True,
        "isDraft": False,
        "hideAttendees": False,
        "responseStatus": {"response": "organizer", "time": zero_time()},
        "body": {"contentType": "html", "content": ""},
        "location": {
            "displayName": "",
            "locationType": "default",
            "uniqueIdType": "unknown",
            "address": {},
            "coordinates": {},
        },
        "locations": [],
        "recurrence": None,
        "attendees": [],
        "organizer": {"emailAddress": {"name": name, "address": address}},
        "onlineMeeting": None,
    }


@dataclass(slots=True)
class StoredEvent:
    resource: dict[str, Any]
    start: datetime
    end: datetime
    all_day: bool
    entered: int
    """The sequence at which it was first put (changeType=created)."""


@dataclass
class Calendar:
    salt: bytes
    user: tuple[str, str]
    events: dict[str, StoredEvent] = field(default_factory=dict)
    log: list[tuple[int, str]] = field(default_factory=list)
    seq: int = 0

    def put(self, resource: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Insert or replace an event by id; ValueError for an id this mailbox did not make
        or start/end that are not dateTimeTimeZone values."""
        event_id = resource.get("id")
        if not isinstance(event_id, str) or id_kind(self.salt, event_id) != EVENT_KIND:
            raise ValueError(f"event id {event_id!r} is not an event id of this mailbox")
        start = parse_date_time_zone(resource.get("start"))
        end = parse_date_time_zone(resource.get("end"))
        all_day = bool(resource.get("isAllDay", False))
        if all_day:
            start = datetime.combine(start.date(), datetime.min.time(), UTC)
            end = max(datetime.combine(end.date(), datetime.min.time(), UTC), start)
            end = end if end > start else start + timedelta(days=1)
        previous = self.events.get(event_id)
        stored = {**_defaults(self.user), **copy.deepcopy(resource)}
        stored["createdDateTime"] = (
            previous.resource["createdDateTime"] if previous else iso_ticks(now)
        )
        stored["lastModifiedDateTime"] = iso_ticks(now)
        self.seq += 1
        digest = hashlib.sha1(f"{event_id}/{self.seq}".encode(), usedforsecurity=False)
        stored["changeKey"] = base64.b64encode(digest.digest()[:16]).decode()
        stored["webLink"] = (
            "https://outlook.office365.com/owa/?itemid="
            + quote(event_id, safe="")
            + "&exvsurl=1&path=/calendar/item"
        )
        stored.setdefault("iCalUId", "040000008200E00074C5B7101A82E008" + digest.hexdigest())
        if "bodyPreview" not in resource:
            body = stored["body"]
            stored["bodyPreview"] = preview(
                body.get("contentType", "html"), body.get("content", "")
            )
        self.events[event_id] = StoredEvent(
            stored, start, end, all_day, previous.entered if previous else self.seq
        )
        self.log.append((self.seq, event_id))
        return copy.deepcopy(stored)

    def delete(self, event_id: str) -> None:
        if self.events.pop(event_id, None) is None:
            raise KeyError(f"no event {event_id}")
        self.seq += 1
        self.log.append((self.seq, event_id))

    def changes_since(self, since: int, until: int) -> list[str]:
        start = bisect_right(self.log, since, key=lambda entry: entry[0])
        stop = bisect_right(self.log, until, key=lambda entry: entry[0])
        last: dict[str, None] = {}
        for _, event_id in self.log[start:stop]:
            last.pop(event_id, None)
            last[event_id] = None
        return list(last)

    def overlapping(self, start: datetime, end: datetime) -> list[StoredEvent]:
        """Events of the view [start, end), by start time."""
        found = [e for e in self.events.values() if e.start < end and e.end > start]
        found.sort(key=lambda e: (e.start, e.resource["id"]))
        return found

    def in_view(self, event_id: str, start: datetime, end: datetime) -> bool:
        event = self.events.get(event_id)
        return event is not None and event.start < end and event.end > start
