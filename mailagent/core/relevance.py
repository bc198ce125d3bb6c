"""Which mail can matter to a plan, known from the calendar before any mail is read.

A provider that can search on the server (Gmail `q`, IMAP SEARCH) asks only for this mail, so
that the cost of a sync follows the interviews and not the size of the mailbox; mail that
arrives later is held to the same test on its headers. What the planner reads is the user's
mail with an interview's people and company domains, and, for an interview without attendees,
the mail whose subject shares words with its title or that carries its meeting link
(`detect._thread_people`). That mail's senders then matter as well: `widened_by` adds them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from mailagent.core.detect import (
    PUBLIC_MAIL_DOMAINS,
    TOKEN,
    UserIdentity,
    is_human_address,
    is_scheduling_domain,
    significant_tokens,
)
from mailagent.core.models import CalendarEvent, Folder, Message

SEARCH_WORD_LIMIT = 40
"""Longest title word searched for: a longer one is no word a subject repeats, and its
characters would go into every later server search (a 40 KB title made each Gmail query
40 KB long)."""
SEARCH_WORDS_PER_EVENT = 12
"""Title words searched per event: a real title has a handful."""
SEARCH_LINK_LIMIT = 300
SEARCH_ADDRESS_LIMIT = 254
"""RFC 5321's longest address path."""

INVITATION_SUBJECTS = (
    "Invitation:",
    "Updated invitation",
    "Canceled event",
    "Cancelled event",
    "Canceled:",
    "Cancelled:",
)
"""How calendar services begin the subject of an emailed invitation, its update and its
cancellation (Google Calendar: "Invitation: …", "Updated invitation: …", "Canceled event: …";
Outlook and Exchange: "Canceled: …"; Apple: "Invitation: …"). An invitation may come from
someone no calendar event names yet, so such mail is wanted whoever sent it (issue 12)."""


def looks_like_invitation(message: Message) -> bool:
    """Whether a message may carry a calendar invitation, known from its headers alone (a
    provider asks for its text only then): an invitation's subject, a top-level
    `text/calendar` Content-Type, or invitations already read from it."""
    if message.invitations or "text/calendar" in message.header("content-type").lower():
        return True
    subject = " ".join(message.subject.split()).lower()
    for prefix in ("re:", "fw:", "fwd:"):
        subject = subject.removeprefix(prefix).lstrip()
    return subject.startswith(tuple(s.lower() for s in INVITATION_SUBJECTS))


def _title_words(title: str) -> set[str]:
    """The title's first significant words, in the order they come."""
    kept = significant_tokens(title)
    words = [w for w in TOKEN.findall(title.lower()) if w in kept and len(w) <= SEARCH_WORD_LIMIT]
    return set(list(dict.fromkeys(words))[:SEARCH_WORDS_PER_EVENT])


@dataclass(frozen=True, slots=True)
class MailInterest:
    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    """Company domains: mail from or to any address at one of these (or a subdomain) matters."""
    subject_tokens: frozenset[str] = frozenset()
    links: frozenset[str] = frozenset()

    @classmethod
    def from_events(cls, events: Iterable[CalendarEvent], user: UserIdentity) -> MailInterest:
        addresses: set[str] = set()
        domains: set[str] = set()
        tokens: set[str] = set()
        links: set[str] = set()
        for event in events:
            people = [a.address for a in event.attendees if not a.resource]
            if event.organizer is not None:
                people.append(event.organizer.address)
            others = [
                p.lower()
                for p in people
                if p
                and not user.is_user(p)
                and not is_scheduling_domain(p.rpartition("@")[2].lower())
            ]
            for address in others:
                if len(address) > SEARCH_ADDRESS_LIMIT:
                    continue
                addresses.add(address)
                domain = address.rpartition("@")[2]
                if domain not in PUBLIC_MAIL_DOMAINS and domain not in user.own_domains:
                    domains.add(domain)
            if not others:
                tokens |= _title_words(event.title)
                links |= {
                    u.split("?")[0]
                    for u in event.conference_urls
                    if u and len(u.split("?")[0]) <= SEARCH_LINK_LIMIT
                }
        return cls(frozenset(addresses), frozenset(domains), frozenset(tokens), frozenset(links))

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains or self.subject_tokens or self.links)

    def __or__(self, other: MailInterest) -> MailInterest:
        return MailInterest(
            self.addresses | other.addresses,
            self.domains | other.domains,
            self.subject_tokens | other.subject_tokens,
            self.links | other.links,
        )

    def __sub__(self, other: MailInterest) -> MailInterest:
        """What this interest asks for that `other` does not (a new event's people)."""
        return MailInterest(
            self.addresses - other.addresses,
            self.domains - other.domains,
            self.subject_tokens - other.subject_tokens,
            self.links - other.links,
        )

    def covers_address(self, address: str) -> bool:
        address = address.lower()
        if address in self.addresses:
            return True
        domain = address.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    def by_subject(self, message: Message) -> bool:
        if self.subject_tokens & significant_tokens(message.subject):
            return True
        text = f"{message.subject}\n{message.snippet}"
        return any(link in text for link in self.links)

    def matches(self, message: Message) -> bool:
        people = (message.sender, *message.recipients)
        return (
            any(self.covers_address(p.address) for p in people)
            or self.by_subject(message)
            or (message.folder is Folder.INBOX and looks_like_invitation(message))
        )

    def widened_by(self, messages: Iterable[Message], user: UserIdentity) -> MailInterest:
        """Adds the senders of mail that matched by subject or link: they may be the
        interviewers of an event without attendees, and their later mail matters too. So do
        the people of the invitations that came by mail, as those of calendar events do."""
        messages = list(messages)
        invited = MailInterest.from_events(
            (e for m in messages if m.folder is Folder.INBOX for e in m.invitations), user
        )
        found = {
            m.sender.address.lower()
            for m in messages
            if not user.is_user(m.sender.address)
            and is_human_address(m.sender.address)
            and not any(self.covers_address(p.address) for p in (m.sender, *m.recipients))
            and self.by_subject(m)
        }
        return self | invited | MailInterest(addresses=frozenset(found))

    def to_json(self) -> dict[str, list[str]]:
        return {
            "addresses": sorted(self.addresses),
            "domains": sorted(self.domains),
            "subject_tokens": sorted(self.subject_tokens),
            "links": sorted(self.links),
        }

    @classmethod
    def from_json(cls, data: object) -> MailInterest:
        if not isinstance(data, dict):
            return cls()
        limits = {
            "addresses": SEARCH_ADDRESS_LIMIT,
            "domains": SEARCH_ADDRESS_LIMIT,
            "subject_tokens": SEARCH_WORD_LIMIT,  # a cursor from before the bound
            "links": SEARCH_LINK_LIMIT,
        }
        return cls(
            *(
                frozenset(str(v) for v in data.get(name, ()) if len(str(v)) <= limit)
                for name, limit in limits.items()
            )
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)
