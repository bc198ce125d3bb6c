"""Where a provider's calendar comes from, when the mailbox itself has none (IMAP).

A `CalendarSource` answers one question: which events of the window are new or changed since the
state it returned last time, and which disappeared. Three implementations exist: `CalDavSource`
(a CalDAV collection, read incrementally with RFC 6578 sync-collection or the CTag), `IcsFileSource`
(an .ics file or a vdir folder) and `IcsUrlSource` (a published feed, read with conditional GET).

Design notes:

- `state` is the source's own JSON-serialisable bookkeeping (sync token, ETags, file stamps); the
  provider stores it inside its cursor and passes it back unchanged. `None` means a first read.
  A state the source does not recognise (another URL, an older layout) also means a full read.
- Recurring series are expanded inside the window, so the same calendar data gives other events
  when the window moves: every source re-reads in full when the window's first day changes.
- `replace=True` says that `events` are all events of the window: the caller drops what it had.
  Otherwise `events` are upserted by id and `removed_ids` dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mailagent.core.models import CalendarEvent
from providers.base import Skipped, Window

__all__ = ["CalendarRead", "CalendarSource", "window_day"]


@dataclass(frozen=True, slots=True)
class CalendarRead:
    """What one `CalendarSource.read` found."""

    events: Sequence[CalendarEvent]
    """Events (occurrences) inside the window that are new or changed."""
    replace: bool
    """True: `events` are the whole window (replace all stored events)."""
    removed_ids: Sequence[str] = ()
    """Ids of `CalendarEvent`s that disappeared (only meaningful when `replace` is False)."""
    state: dict[str, Any] = field(default_factory=dict)
    """JSON-serialisable; passed back to the next `read`."""
    skipped: Sequence[Skipped] = ()
    requests: int = 0
    """HTTP requests (or files read) this read made."""


@runtime_checkable
class CalendarSource(Protocol):
    def read(self, state: Mapping[str, Any] | None, window: Window) -> CalendarRead:
        """The changes since `state` (None: a first, full read) for events inside `window`."""
        ...

    def close(self) -> None:
        """Release connections. The source may not be used afterwards."""
        ...


def window_day(window: Window) -> str:
    """The day the window starts: when it changes, series must be expanded again."""
    return window.start.date().isoformat()
