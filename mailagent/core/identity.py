"""The name the drafts are signed with, when the config does not give one.

Design notes:
- Pure: plain values in (the user's addresses, calendar events, messages, what an earlier sync
  learned), a `SignedAs` out; no I/O, no clock.
- Where a name comes from, in order: the config's `user_name`; the user's CN in calendar entries
  (the ATTENDEE or ORGANIZER line of one of their own addresses); the display name of their
  From in Sent. A name an earlier sync learned (kept in the store) stands in for evidence that
  has since left the window: it comes right after fresh evidence of the same source, so that a
  later sync signs the same way, and a fresher, better source still wins.
- Robust to what calendars and mail clients put there: values that are addresses (quoted or
  not), fragments of one ("jordan.lee"), "me" or "You", role accounts ("Careers Team") and
  things that are not a person's name are ignored; "Lee, Jordan" reads as "Jordan Lee". Among
  the rest, a name of two words or more beats a single word; then the most common wins, ties
  broken by a fixed order, so the answer never depends on the order of the input.
- Never an address: the result contains no "@". With no name anywhere the drafts are signed
  without one (the sign-off line stands alone), and `explain` says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mailagent.core.models import CalendarEvent, Folder, Message


class NameSource(StrEnum):
    CONFIG = "config"
    CALENDAR = "calendar"
    SENT = "sent"
    NONE = "none"


SOURCE_WORDS = {
    NameSource.CONFIG: "from the config",
    NameSource.CALENDAR: "from your calendar entries",
    NameSource.SENT: "from your sent mail",
}


@dataclass(frozen=True, slots=True)
class SignedAs:
    """The name the drafts are signed with ("" for none) and where it came from."""

    name: str
    source: NameSource

    def describe(self) -> str:
        """What follows "drafts signed": "as Jordan Lee (from your calendar entries)", or
        "without a name (...)" and what to do about it."""
        if not self.name:
            return (
                "without a name (none in the config, your calendar entries or your sent "
                "mail): they end with the sign-off alone; set user_name in the config to add one"
            )
        return f"as {self.name} ({SOURCE_WORDS[self.source]})"

    def to_json(self) -> dict[str, str]:
        """{"name": "Jordan Lee", "source": "calendar"}; source "none" with an empty name."""
        return {"name": self.name, "source": self.source.value}


UNSIGNED = SignedAs("", NameSource.NONE)

NAME_LIMIT = 64
WORD_LIMIT = 5

NOT_NAMES = frozenset(
    {"me", "you", "myself", "moi", "ich", "yo", "eu", "ik", "self", "unknown", "none", "null"}
)
"""What some clients write for the user themselves instead of a name (several languages)."""

ROLE_WORDS = frozenset(
    {
        "admin", "administrator", "billing", "calendar", "careers", "contact", "daemon",
        "department", "do-not-reply", "donotreply", "team", "help", "helpdesk", "hello",
        "hiring", "hr", "info", "inbox", "jobs", "mailbox", "mailer", "no-reply", "noreply",
        "notification", "notifications", "office", "organizer", "owner", "postmaster",
        "recruiting", "recruitment", "reply", "sales", "support", "talent", "user",
    }
)  # fmt: skip
"""Words that make a display name a role account or a tool, not a person."""

SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "cpa"})

_NAME_CHARS = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'’-])*$")
"""Letters, with spaces, dots, apostrophes and hyphens inside: no digits or symbols."""
_REMARK = re.compile(r"\s*\([^()]*\)$")
_DOTTED = re.compile(r"^[^\s.]+(?:\.[^\s.]+)+$")
"""One token with dots inside ("jordan.lee"): the local part of an address, not a name."""


def clean_name(value: str, addresses: Iterable[str] = ()) -> str:
    """`value` as a name to sign with, or "" when it is not a person's name (see the notes)."""
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    text = text.strip("\"'“”‘’ ").strip()
    text = _REMARK.sub("", text).strip("\"'“”‘’ ")  # "Jordan Lee (Proton)"
    if not text or "@" in text or len(text) > NAME_LIMIT:
        return ""
    head, comma, tail = text.partition(",")
    if comma:
        tail_words = [w.strip(".").casefold() for w in tail.split()]
        if not tail_words or not head.strip() or "," in tail:
            return ""
        if all(w in SUFFIXES for w in tail_words):
            text = head.strip()  # "Jordan Lee, PhD": the name without the letters
        else:
            text = f"{tail.strip()} {head.strip()}"  # "Lee, Jordan"
    words = text.split()
    text = " ".join(words)
    if not words or len(words) > WORD_LIMIT or not _NAME_CHARS.match(text):
        return ""
    if all(len(w.strip(".'’-")) < 2 for w in words):
        return ""  # initials alone ("J.") are no name to sign with
    folded = [w.casefold().strip(".") for w in words]
    if text.casefold() in NOT_NAMES or any(w in ROLE_WORDS for w in folded):
        return ""
    if len(words) == 1 and _DOTTED.match(text):
        return ""
    fragments = set()
    for address in addresses:
        local, _, domain = address.casefold().rpartition("@")
        fragments.update({local, domain, domain.partition(".")[0]})
    if text.casefold() in fragments or "".join(folded) in fragments:
        return ""
    return text


def _choose(names: Iterable[str]) -> str:
    """The best of `names` (already clean): two words or more over one, then the most common
    (ignoring case), then the most common spelling; ties broken by a fixed order."""
    spellings: Counter[str] = Counter(names)
    if not spellings:
        return ""
    groups: Counter[str] = Counter()
    for spelling, count in spellings.items():
        groups[spelling.casefold()] += count
    best = min(groups, key=lambda g: (len(g.split()) < 2, -groups[g], g))
    return min(
        (s for s in spellings if s.casefold() == best),
        key=lambda s: (-spellings[s], s.islower() or s.isupper(), s),
    )


def calendar_names(events: Iterable[CalendarEvent], addresses: frozenset[str]) -> list[str]:
    """The user's names in calendar entries: one per entry (a series counts once)."""
    found: dict[str, set[str]] = {}
    for event in events:
        people = [(a.name, a.address) for a in event.attendees]
        if event.organizer is not None:
            people.append((event.organizer.name, event.organizer.address))
        for name, address in people:
            if address.lower() in addresses:
                clean = clean_name(name, addresses)
                if clean:
                    found.setdefault(event.uid or event.id, set()).add(clean)
    return [name for names in found.values() for name in names]


def sent_names(messages: Iterable[Message], addresses: frozenset[str]) -> list[str]:
    """The display names of the user's From in Sent, one per message."""
    names = []
    for message in messages:
        if message.folder is Folder.SENT and message.sender.address.lower() in addresses:
            clean = clean_name(message.sender.name, addresses)
            if clean:
                names.append(clean)
    return names


def signed_as(
    configured: str,
    addresses: Iterable[str],
    events: Iterable[CalendarEvent] = (),
    messages: Iterable[Message] = (),
    remembered: SignedAs | None = None,
) -> SignedAs:
    """The name to sign the user's drafts with, and where it came from (see the notes)."""
    own = frozenset(a.lower() for a in addresses)
    name = " ".join(configured.split())
    if name and "@" not in name:  # as the user wrote it (the config refuses an address)
        return SignedAs(name, NameSource.CONFIG)
    kept = remembered if remembered is not None and "@" not in remembered.name else None
    evidence = {
        NameSource.CALENDAR: calendar_names(events, own),
        NameSource.SENT: sent_names(messages, own),
    }
    for source, found in evidence.items():  # in order of preference
        name = _choose(found)
        if name:
            return SignedAs(name, source)
        if kept is not None and kept.source is source and kept.name:
            return kept
    return UNSIGNED


def as_kept(configured: str, remembered: SignedAs | None) -> SignedAs:
    """What the drafts are signed with as the state knows it (for `explain` and `status`):
    the config's name, else the one the last sync learned, else none."""
    return signed_as(configured, (), remembered=remembered)
