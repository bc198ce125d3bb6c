"""Frozen domain values shared by the pure core and the providers.

Glossary (used the same way in code, docs and messages):

- *event*: one occurrence of a calendar entry (a recurring series is expanded into events).
- *interview*: an event that detection decided is a job interview of the user's.
- *interviewer*: a human on the company side of an interview; each gets their own thank-you.
- *observation*: what a provider read from the mailbox (events, messages, draft states).
- *draft*: a message the agent wrote into the user's Drafts folder; it never sends.
- *follow-up*: a draft that replies in the thread of the user's last message after silence.
- *cursor*: an opaque provider string that says where the next incremental read starts.

All datetimes are timezone-aware. Addresses are lower-cased at construction by the parsers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

SNIPPET_LIMIT = 4000
"""Characters of message text kept: enough for a recruiter's reply, bounded for memory."""


class ResponseStatus(StrEnum):
    NEEDS_ACTION = "needs-action"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    DELEGATED = "delegated"
    UNKNOWN = "unknown"


class EventStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class Folder(StrEnum):
    INBOX = "inbox"
    SENT = "sent"
    DRAFTS = "drafts"


class DraftKind(StrEnum):
    THANK_YOU = "thank_you"
    FOLLOW_UP = "follow_up"
    REJECTION_REPLY = "rejection_reply"


class DraftStatus(StrEnum):
    """What a provider saw of a draft the agent made, on a later read."""

    PRESENT = "present"
    EDITED = "edited"
    SENT = "sent"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def first_name(self) -> str:
        parts = self.name.replace(",", " ").split()
        if "," in self.name and len(parts) > 1:
            return parts[1]
        return parts[0] if parts else ""


@dataclass(frozen=True, slots=True)
class Attendee:
    name: str
    address: str
    organizer: bool = False
    response: ResponseStatus = ResponseStatus.UNKNOWN
    resource: bool = False
    optional: bool = False

    @property
    def person(self) -> Person:
        return Person(self.name, self.address)


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence. `id` is stable across reschedules: series UID plus recurrence id."""

    id: str
    uid: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    status: EventStatus = EventStatus.CONFIRMED
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    description: str = ""
    location: str = ""
    conference_urls: tuple[str, ...] = ()
    recurring: bool = False
    recurrence_id: datetime | None = None
    sequence: int = 0
    aliases: tuple[str, ...] = ()
    """Ids this occurrence had under earlier versions of mailagent, so that what was recorded
    under them (drafts) still matches."""


@dataclass(frozen=True, slots=True)
class Message:
    """Header metadata and a bounded text snippet of one mail message."""

    id: str
    folder: Folder
    message_id: str
    subject: str
    sender: Person
    date: datetime
    to: tuple[Person, ...] = ()
    cc: tuple[Person, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    thread_id: str = ""
    snippet: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The few headers classification needs (auto-submitted, content-type...), names lower-cased."""
    invitations: tuple[CalendarEvent, ...] = ()
    """The events of the message's calendar parts (`text/calendar`, `.ics` attachments) whose
    METHOD is REQUEST, CANCEL, PUBLISH or absent: an invitation that came by mail, which
    `mailagent.core.invitations` merges with the calendar by UID (a CANCEL is a cancelled event)."""
    invitation_problems: tuple[str, ...] = ()
    """Why a calendar part could not be read, one line each, for the sync's log."""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def recipients(self) -> tuple[Person, ...]:
        return self.to + self.cc

    @property
    def agent_key(self) -> str:
        """The idempotency key of a draft the agent made (empty for other mail): from the
        Message-ID derived from the key, or from the header that older drafts carry."""
        return self.header(AGENT_KEY_HEADER) or key_from_message_id(self.message_id)


AGENT_KEY_HEADER = "x-mailagent-key"
"""Header that tagged the agent's drafts until the key moved into the Message-ID (a header a
mail client may send along); still read, so that older drafts are recognised. Providers whose
API keeps the key elsewhere (Graph's extended property) put it here on the `Message`."""

_AGENT_MESSAGE_ID = re.compile(
    r"<mailagent\.([A-Za-z0-9_-]{1,64})\.([0-9a-f]{16})@[^<>@\s]{1,255}>"
)


def key_from_message_id(message_id: str) -> str:
    """The key in a Message-ID the agent derived from it, "<mailagent.KEY.NONCE@host>" where
    NONCE is the start of sha256(KEY); empty for any other Message-ID (one that only looks
    like it, or a random nonce, is not the agent's)."""
    match = _AGENT_MESSAGE_ID.fullmatch(message_id.strip())
    if match is None:
        return ""
    key, nonce = match.groups()
    return key if hashlib.sha256(key.encode()).hexdigest()[:16] == nonce else ""


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence for or against an event being the user's interview."""

    name: str
    detail: str
    weight: int

    def __str__(self) -> str:
        sign = "+" if self.weight >= 0 else ""
        return f"{self.name} ({sign}{self.weight}): {self.detail}"


class InterviewerKind(StrEnum):
    """Which side of the hiring process an interviewer speaks for, as far as the invitation
    says; the thank-you note to them is worded for it."""

    RECRUITER = "recruiter"
    """A recruiter, talent partner, HR or a recruiting coordinator: the process and its steps."""
    HIRING_MANAGER = "hiring_manager"
    """The hiring manager or another leader of the team (manager, director, head, founder)."""
    ENGINEER = "engineer"
    """An engineer or other technical peer: the technical discussion, the problem worked on."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class InterviewerFacts:
    """What the invitation says about one interviewer (issue 12, point 3). Every field may be
    empty: nothing here is guessed, and a note says only what is known."""

    address: str
    title: str = ""
    """Their job title as written ("Engineering Manager"), never the candidate's role."""
    topic: str = ""
    """What their part of the interview covered, as written ("team and roadmap")."""
    slot: str = ""
    """Their time in the invitation's schedule, as written ("11:00", "1:45 PM")."""
    kind: InterviewerKind = InterviewerKind.UNKNOWN
    source: str = ""
    """Where the facts were read: "the invitation's schedule", "the attendee's name"..."""

    @property
    def known(self) -> bool:
        return bool(
            self.title or self.topic or self.slot or self.kind is not InterviewerKind.UNKNOWN
        )


class InterviewStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Interview:
    id: str
    event_id: str
    title: str
    start: datetime
    end: datetime
    company: str
    company_domains: tuple[str, ...]
    role: str
    interviewers: tuple[Person, ...]
    status: InterviewStatus = InterviewStatus.SCHEDULED
    round_label: str = ""
    signals: tuple[Signal, ...] = ()
    aliases: tuple[str, ...] = ()
    """Ids this interview had under earlier versions (see `CalendarEvent.aliases`): drafts
    recorded under them count as this interview's."""
    interviewer_facts: tuple[InterviewerFacts, ...] = ()
    """What the invitation says about each interviewer, for those it says anything about.
    Interviews stored before this field existed load with none."""

    def facts_for(self, address: str) -> InterviewerFacts:
        """The facts known about the interviewer at `address` (empty ones when none)."""
        wanted = address.lower()
        for facts in self.interviewer_facts:
            if facts.address.lower() == wanted:
                return facts
        return InterviewerFacts(wanted)

    language: str = "en"
    """The language the invitation is written in (`mailagent.core.language`): drafts use it."""
    language_reason: str = ""
    """Why (`'the title says "Vorstellungsgespräch"'`); empty for the English default."""


@dataclass(frozen=True, slots=True)
class Detection:
    """The explained verdict on one calendar event."""

    event: CalendarEvent
    interview: Interview | None
    score: int
    signals: tuple[Signal, ...]
    verdict: str
    """One sentence: why this is, or is not, an interview the agent acts on."""


@dataclass(frozen=True, slots=True)
class DraftObservation:
    """A provider's report on one of the agent's drafts.

    Providers report PRESENT, SENT or DELETED; the runner turns PRESENT into EDITED when
    `body_digest` differs from the digest of what the agent wrote (see `body_digest`).
    """

    key: str
    provider_id: str
    status: DraftStatus
    body_digest: str = ""
    discarded: bool = False
    """The provider found only an unfinished copy (a reply draft whose text was never set),
    removed it, and reports that the draft was never written: the runner plans it again."""


def body_digest(text: str) -> str:
    """A digest of a draft body that ignores line endings and trailing white space,
    so that a client re-encoding the same text does not count as an edit."""

    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    normal = "\n".join(lines).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class DraftContent:
    """What a composer produced; providers render it as an RFC 5322 message."""

    subject: str
    body: str
    to: tuple[Person, ...]
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    thread_id: str = ""
    reply_to_id: str = ""
    """The provider id of the message a reply answers (Graph's createReply needs it)."""
    sender: Person | None = None
    """Who the draft is from: the user with the name it is signed with (the config's, or the
    one learned from the mailbox). Providers take the display name from it and keep their own
    address; None (or no name) leaves the provider's own."""


@dataclass(frozen=True, slots=True)
class DraftRequest:
    """Everything a composer needs to write one draft; the planner makes these."""

    key: str
    kind: DraftKind
    step: int
    interview: Interview
    to: Person
    user: Person
    timezone: str
    reply_to: Message | None = None
    """The message the draft answers (follow-ups, rejection replies); None for a thank-you."""

    @property
    def interviewer_facts(self) -> InterviewerFacts:
        """What the invitation says about the recipient (title, topic, slot, kind)."""
        return self.interview.facts_for(self.to.address)

    language: str = "en"
    """The language to write in: the interview's, or the one the policy forces."""
