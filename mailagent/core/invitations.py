"""Invitations that came by mail, merged with the calendar: one event per UID and occurrence.

Many people never accept an invitation into a synced calendar (IMAP without CalDAV, an invite
from another domain); the interview is then only in their Inbox, as a `text/calendar` part or an
`.ics` attachment, which the providers read into `Message.invitations`. This pure function puts
them beside the calendar's events before detection, so that every provider sees the same events.

Rules (RFC 5546 §2.1.5: a higher SEQUENCE is a newer version of the event):

- Only Inbox mail counts: an invitation is news when it is received, not when the user sent it.
- Events are matched by (UID, RECURRENCE-ID), not by id: Google and Graph give their events ids
  of their own, and an occurrence of a series is one event.
- Among the mail versions of an event, the highest SEQUENCE wins; on an equal SEQUENCE a CANCEL
  wins over a REQUEST (organizers do not always raise SEQUENCE to cancel), then the later message,
  then the higher message id, so that the result never depends on the order of the messages. A
  forward of an earlier invitation is a lower or equal SEQUENCE and changes nothing.
- Against the calendar, a mail version wins only with a higher SEQUENCE, or with an equal one
  when it is a cancellation the calendar has not seen. On an equal SEQUENCE the calendar wins: it
  is what the user sees and may have edited, and it holds their own answer (PARTSTAT).
- A mail version of a whole series (no RECURRENCE-ID) whose occurrences the calendar lists
  one by one (Google and Graph expand series) is applied to each of them: a newer CANCEL
  cancels them all; it is never a separate event beside them.
- The merged event keeps the calendar's id (drafts recorded under it go on matching) and lists
  the mail id in `aliases` (drafts made while the invitation was only in mail match too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from mailagent.core.models import CalendarEvent, EventStatus, Folder, Message

__all__ = ["merge_invitations"]

_Key = tuple[str, datetime | None]


def _key(event: CalendarEvent) -> _Key:
    return (event.uid, event.recurrence_id)


def _rank(event: CalendarEvent) -> tuple[int, bool]:
    return (event.sequence, event.status is EventStatus.CANCELLED)


def _mail_versions(messages: Iterable[Message]) -> dict[_Key, CalendarEvent]:
    """The winning mail version of each event (see the module's rules)."""
    best: dict[_Key, tuple[tuple[int, bool, datetime, str], CalendarEvent]] = {}
    for message in messages:
        if message.folder is not Folder.INBOX:
            continue
        for event in message.invitations:
            rank = (*_rank(event), message.date, message.id)
            kept = best.get(_key(event))
            if kept is None or rank > kept[0]:
                best[_key(event)] = (rank, event)
    return {key: event for key, (_, event) in best.items()}


def _aliases(event: CalendarEvent, *others: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in (*event.aliases, *others) if a != event.id))


def _merged(event: CalendarEvent, invited: CalendarEvent | None) -> CalendarEvent:
    """The calendar's event, or the mail's version of it when that is newer."""
    if invited is None:
        return event
    if _rank(invited) > _rank(event):
        event = replace(invited, id=event.id, aliases=_aliases(invited, *event.aliases))
    return replace(event, aliases=_aliases(event, invited.id))


def merge_invitations(
    calendar: Iterable[CalendarEvent], messages: Iterable[Message]
) -> list[CalendarEvent]:
    """The calendar's events with the invitations of Inbox mail merged in by UID, sorted by
    start and id. Pure, and independent of the order of both inputs."""
    mail = _mail_versions(messages)
    events = list(calendar)
    merged: dict[str, CalendarEvent] = {}
    for event in events:
        merged[event.id] = _merged(event, mail.pop(_key(event), None))
    occurrences = {e.uid for e in events if e.recurrence_id is not None}
    for key in [k for k in mail if k[1] is None and k[0] in occurrences]:
        whole = mail.pop(key)  # the series itself; the calendar lists its occurrences
        for event_id, event in merged.items():
            if event.uid == whole.uid and event.recurrence_id is not None:
                merged[event_id] = _series_cancelled(event, whole)
    for event in mail.values():
        merged.setdefault(event.id, event)
    return sorted(merged.values(), key=lambda e: (e.start, e.id))


def _series_cancelled(occurrence: CalendarEvent, series: CalendarEvent) -> CalendarEvent:
    """An occurrence after the mail's version of its whole series (no RECURRENCE-ID): a newer
    CANCEL cancels it (RFC 5546 3.2.5); a REQUEST of the series changes no occurrence the
    calendar already shows."""
    aliases = _aliases(occurrence, series.id)
    if series.status is EventStatus.CANCELLED and _rank(series) > _rank(occurrence):
        return replace(
            occurrence, status=EventStatus.CANCELLED, sequence=series.sequence, aliases=aliases
        )
    return replace(occurrence, aliases=aliases)
