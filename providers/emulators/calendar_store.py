"""The Calendar emulator's event store in memory, with no I/O and no locking (`GoogleEmulator`
holds one lock around every call into it): events put and deleted by id, a changed or deleted
instance of a series kept as an entry of its own (an instance that a series change removed as a
tombstone, so that singleEvents syncs report it), and one change sequence. A sync token names a
sequence number and a generation; `expire_tokens` moves to a new generation, which makes every
earlier token invalid."""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from providers.emulators.calendar_recurrence import event_bounds, event_time, expand_series

_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}(_\d{8}(T\d{6}Z)?)?")
"""Google's id alphabet (events.insert `id`), optionally with an instance suffix."""


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and Z, as Google writes `updated` and `created`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass(slots=True)
class StoredEvent:
    resource: dict[str, Any]
    seq: int
    order: int
    updated: datetime
    deleted: bool = False
    tombstone: bool = False
    """A vanished instance of a changed series, kept only so singleEvents syncs report it."""

    @property
    def gone(self) -> bool:
        return self.deleted or self.tombstone or self.resource.get("status") == "cancelled"


@dataclass
class Calendar:
    owner: str
    time_zone: str = "UTC"
    events: dict[str, StoredEvent] = field(default_factory=dict)
    seq: int = 0
    generation: int = 1
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    _order: int = 0

    # -- changes --

    def put(self, resource: dict[str, Any], now: datetime) -> dict[str, Any]:
        event_id = str(resource.get("id", ""))
        if not _EVENT_ID.fullmatch(event_id):
            raise ValueError(f"event id {event_id!r} is not 5-1024 characters of a-v and 0-9")
        if "start" not in resource or "end" not in resource:
            raise ValueError("an event needs start and end")
        previous = self.events.get(event_id)
        body = copy.deepcopy(resource)
        body["kind"] = "calendar#event"
        body["created"] = (
            previous.resource.get("created", rfc3339(now)) if previous else rfc3339(now)
        )
        body["updated"] = rfc3339(now)
        eid = base64.urlsafe_b64encode(f"{event_id} {self.owner}".encode()).decode().rstrip("=")
        body["htmlLink"] = f"https://www.google.com/calendar/event?eid={eid}"
        body.setdefault("iCalUID", f"{event_id.partition('_')[0]}@google.com")
        body.setdefault("sequence", 0)
        body.setdefault("status", "confirmed")
        body.setdefault("eventType", "default")
        try:
            self.bounds(body)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"unreadable start/end in {event_id}: {exc}") from exc
        instances = self.instances(body, now)  # raises ValueError on a bad recurrence
        self.seq += 1
        body["etag"] = f'"{3_400_000_000_000_000 + self.seq * 1_000}"'
        for instance in instances:  # an instance that comes back is no longer a tombstone
            stale = self.events.get(instance["id"])
            if stale is not None and stale.tombstone:
                del self.events[instance["id"]]
        if previous is not None and "recurrence" in previous.resource and not previous.gone:
            self._bury_vanished(previous.resource, body, now)
        order = previous.order if previous else self._next_order()
        self.events[event_id] = StoredEvent(body, self.seq, order, now)
        return copy.deepcopy(body)

    def _next_order(self) -> int:
        self._order += 1
        return self._order

    def _bury_vanished(self, old: dict[str, Any], new: dict[str, Any], now: datetime) -> None:
        """Instances a series change removed are reported cancelled to singleEvents syncs."""
        kept = {i["id"] for i in self.instances(new, now)} if "recurrence" in new else set()
        for instance in self.instances(old, now):
            if instance["id"] in kept or instance["id"] in self.events:
                continue
            self.events[instance["id"]] = StoredEvent(
                instance, self.seq, self._next_order(), now, tombstone=True
            )

    def delete(self, event_id: str, now: datetime) -> None:
        stored = self.events.get(event_id)
        if stored is not None and not stored.deleted and not stored.tombstone:
            self.seq += 1
            stored.deleted = True
            stored.seq = self.seq
            stored.updated = now
            stored.resource["updated"] = rfc3339(now)
            return
        master_id, _, _ = event_id.rpartition("_")
        master = self.events.get(master_id)
        if master is not None and not master.gone and "recurrence" in master.resource:
            for instance in self.instances(master.resource, now):
                if instance["id"] == event_id:
                    instance["status"] = "cancelled"
                    instance["updated"] = rfc3339(now)
                    self.seq += 1
                    self.events[event_id] = StoredEvent(instance, self.seq, self._next_order(), now)
                    return
        raise KeyError(event_id)

    def live(self) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(e.resource)
            for e in sorted(self.events.values(), key=lambda e: e.order)
            if not e.deleted and not e.tombstone
        ]

    def expire_tokens(self) -> None:
        self.generation += 1

    # -- times and recurrence (in the calendar's zone) --

    def bounds(self, resource: dict[str, Any]) -> tuple[datetime, datetime]:
        return event_bounds(resource, self.time_zone)

    def when(self, value: dict[str, Any]) -> datetime:
        return event_time(value, self.time_zone)

    def instances(self, master: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        """The occurrences of a recurring event (see `calendar_recurrence.expand_series`)."""
        return expand_series(master, now, self.time_zone)
