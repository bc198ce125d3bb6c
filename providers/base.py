"""The provider interface: read changes since a cursor, create a draft, look drafts up.

A provider knows nothing about interviews or policies. It turns a mailbox into observations
(events, messages, draft states) and writes the drafts it is asked to write. Capabilities are
class attributes so that the runner can adapt without asking the provider questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from mailagent.core.models import CalendarEvent, DraftContent, DraftObservation, Message
from mailagent.errors import MailAgentError, ProviderError


@dataclass(frozen=True, slots=True)
class Skipped:
    """An item that could not be read, with the reason that goes to the log."""

    item: str
    reason: str
    digest: str = ""
    """For an item skipped because reading it cost too much: a digest of its content, which the
    source remembers so that later syncs skip it unread while it is unchanged."""
    stale: bool = False
    """The calendar could not be read as it is now (caught mid-rewrite): the stored events are
    kept but may be out of date, so drafts that rest on them wait for a good read."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since `cursor`. `cursor` of the result is where the next read starts.

    `events_replace` is true when the provider re-read the whole calendar window (first sync, a
    changed calendar file, an expired sync token): then `events` replace the stored events
    instead of adding to them. Messages only ever add; `removed_message_ids` drops some.
    """

    cursor: str
    events: Sequence[CalendarEvent] = ()
    events_replace: bool = False
    removed_event_ids: Sequence[str] = ()
    messages: Sequence[Message] = ()
    removed_message_ids: Sequence[str] = ()
    skipped: Sequence[Skipped] = field(default_factory=tuple)
    requests: int = 0
    """Provider-specific cost of this read (files read, HTTP requests, IMAP commands)."""


class NotWritten(ProviderError):
    """`create_draft` failed in a way that proves no draft was written: the request never left,
    the server refused it, or a lookup by key right after the failure found nothing (and an
    unfinished copy, if any, was removed). The runner forgets the intent and plans the draft
    again. Any other exception from `create_draft` is an unknown outcome: the intent stays
    until a later sync has looked the draft up by its key. `error` is the failure itself."""

    def __init__(self, error: MailAgentError) -> None:
        super().__init__(str(error), advice=error.advice)
        self.error = error


@dataclass(frozen=True, slots=True)
class KnownDraft:
    """A draft the agent made (or was making when it stopped), as its state store knows it.

    `provider_id` is empty when a sync stopped between asking the provider for the draft and
    recording the answer: the provider must then look the draft up by its key."""

    key: str
    provider_id: str
    recipient: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """The time span a provider reads: calendar events and messages dated inside it."""

    start: datetime
    end: datetime


@runtime_checkable
class Provider(Protocol):
    name: ClassVar[str]

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        """Calendar, Sent and Inbox changes since `cursor` (None: a first, full read)."""
        ...

    def create_draft(self, content: DraftContent, key: str) -> str:
        """Write a draft tagged with `key`; return its provider id. Never sends. Raises
        ValueError for content that cannot be a draft and `NotWritten` when it is sure that
        nothing was written; anything else means the draft may exist (see `NotWritten`)."""
        ...

    def find_drafts(self, drafts: Sequence[KnownDraft]) -> Sequence[DraftObservation]:
        """What became of these drafts. Called after `read_changes` in the same sync, so a
        provider may answer from what that read saw; a draft it reports nothing about is
        taken as unchanged. A draft whose `provider_id` is empty is looked up by its key in
        Drafts and in Sent (a write whose answer was lost, a rebuilt state, a draft another
        machine made): reporting nothing means none is there."""
        ...
