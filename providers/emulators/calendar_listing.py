"""What an events.list request selects from the Calendar emulator's store: `EventFilter` holds
the request's filters (time window, sync mode, updatedMin, iCalUID, q, event types, extended
properties), and `list_rows` walks the stored events in the order they were first stored and
gives one `Row` for each item of the answer (a series expanded with singleEvents, a deletion as
a cancelled stub in sync mode or with showDeleted), with what the answer sorts by."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from providers.emulators.calendar_store import Calendar, StoredEvent


@dataclass(frozen=True, slots=True)
class Row:
    """One item of an events.list answer with what it sorts by."""

    item: dict[str, Any]
    start: datetime
    updated: datetime
    order: tuple[int, float]


@dataclass(frozen=True, slots=True)
class EventFilter:
    time_min: datetime | None = None
    time_max: datetime | None = None
    single: bool = False
    show_deleted: bool = False
    since: int | None = None
    """Sync mode: only what changed after this sequence number (deletions included)."""
    updated_min: datetime | None = None
    ical_uid: str | None = None
    q: str | None = None
    event_types: frozenset[str] | None = None
    private: tuple[tuple[str, str], ...] = ()
    shared: tuple[tuple[str, str], ...] = ()
    max_attendees: int | None = None


def list_rows(calendar: Calendar, flt: EventFilter, now: datetime) -> list[Row]:
    rows: list[Row] = []
    for stored in sorted(calendar.events.values(), key=lambda e: e.order):
        rows.extend(_rows_of(calendar, stored, flt, now))
    return rows


def _changed(stored: StoredEvent, flt: EventFilter) -> bool | None:
    """True/False in sync or updatedMin mode (whether to report it), None otherwise."""
    if flt.since is not None:
        return stored.seq > flt.since
    if flt.updated_min is not None:
        return stored.updated >= flt.updated_min
    return None


def _rows_of(
    calendar: Calendar, stored: StoredEvent, flt: EventFilter, now: datetime
) -> Iterator[Row]:
    resource = stored.resource
    changed = _changed(stored, flt)
    if changed is False:
        return
    incremental = changed is True
    if stored.tombstone:
        if flt.single and (incremental or flt.show_deleted):
            yield _row(calendar, stored, resource, flt, cancelled=True)
        return
    if "recurrence" in resource:
        yield from _series_rows(calendar, stored, flt, now, incremental)
        return
    instance = "recurringEventId" in resource
    master = calendar.events.get(resource["recurringEventId"]) if instance else None
    if stored.gone or (instance and (master is None or master.gone)):
        quirk = instance and not flt.single  # see events.list showDeleted in the discovery doc
        if (incremental or flt.show_deleted or quirk) and _in_window(calendar, resource, flt):
            yield _row(calendar, stored, resource, flt, cancelled=True)
        return
    if (incremental or _in_window(calendar, resource, flt)) and _wanted(resource, flt):
        yield _row(calendar, stored, resource, flt, cancelled=False)


def _series_rows(
    calendar: Calendar, stored: StoredEvent, flt: EventFilter, now: datetime, incremental: bool
) -> Iterator[Row]:
    master = stored.resource
    if not flt.single:
        if stored.gone:
            if incremental or flt.show_deleted:
                yield _row(calendar, stored, master, flt, cancelled=True)
            return
        instances = calendar.instances(master, now)
        overlaps = incremental or any(_in_window(calendar, i, flt) for i in instances)
        if overlaps and _wanted(master, flt):
            yield _row(calendar, stored, master, flt, cancelled=False)
        return
    if stored.gone and not (incremental or flt.show_deleted):
        return
    for instance in calendar.instances(master, now):
        override = calendar.events.get(instance["id"])
        if override is not None and override is not stored:
            continue  # an exception: it is listed on its own
        if not incremental and not _in_window(calendar, instance, flt):
            continue
        if stored.gone:
            yield _row(calendar, stored, instance, flt, cancelled=True)
        elif _wanted(instance, flt):
            yield _row(calendar, stored, instance, flt, cancelled=False)


def _in_window(calendar: Calendar, resource: dict[str, Any], flt: EventFilter) -> bool:
    if flt.time_min is None and flt.time_max is None:
        return True
    start, end = calendar.bounds(resource)
    if flt.time_min is not None and not end > flt.time_min:
        return False
    return flt.time_max is None or start < flt.time_max


def _wanted(resource: dict[str, Any], flt: EventFilter) -> bool:
    if flt.ical_uid is not None and resource.get("iCalUID") != flt.ical_uid:
        return False
    if flt.event_types is not None and resource.get("eventType") not in flt.event_types:
        return False
    props = resource.get("extendedProperties", {})
    for scope, wanted in (("private", flt.private), ("shared", flt.shared)):
        have = props.get(scope, {})
        if any(have.get(k) != v for k, v in wanted):
            return False
    if flt.q:
        haystack = " ".join(
            [str(resource.get(k, "")) for k in ("summary", "description", "location")]
            + [
                f"{p.get('email', '')} {p.get('displayName', '')}"
                for p in [*resource.get("attendees", []), resource.get("organizer", {})]
            ]
        ).lower()
        return all(word in haystack for word in flt.q.lower().split())
    return True


def _row(
    calendar: Calendar,
    stored: StoredEvent,
    resource: dict[str, Any],
    flt: EventFilter,
    *,
    cancelled: bool,
) -> Row:
    start = calendar.when(resource["start"])
    if cancelled:
        item: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": resource["etag"],
            "id": resource["id"],
            "status": "cancelled",
        }
        if "recurringEventId" in resource:
            item["recurringEventId"] = resource["recurringEventId"]
            item["originalStartTime"] = resource["originalStartTime"]
    else:
        item = copy.deepcopy(resource)
        attendees = item.get("attendees", [])
        if flt.max_attendees is not None and len(attendees) > flt.max_attendees:
            item["attendees"] = [a for a in attendees if a.get("self")]
            item["attendeesOmitted"] = True
    return Row(item, start, stored.updated, (stored.order, start.timestamp()))
