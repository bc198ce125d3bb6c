"""Scenarios on the Google emulator: `GoogleScenarioMailbox` and a bulk filler for big mailboxes.

`GoogleScenarioMailbox` implements `mailagent.scenario.ScenarioMailbox`: mail arrives in Gmail
when its date has passed, the calendar shows what a scenario says it shows at that moment (as
Calendar v3 Event resources), and the user sends, edits and deletes drafts as in the Gmail UI.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from mailagent.core.models import (
    Attendee,
    CalendarEvent,
    Folder,
    Message,
    ResponseStatus,
    key_from_message_id,
)
from mailagent.scenario import MessageSpec, Scenario
from providers.emulators.gmail_mime import Facts, raw_headers
from providers.emulators.google import GoogleEmulator
from providers.emulators.scenario_mailbox import EmulatorScenarioMailbox
from providers.mime import parse_message

__all__ = ["GoogleScenarioMailbox", "event_id_for", "event_resource", "fill_mailbox"]

_RESPONSES = {
    ResponseStatus.NEEDS_ACTION: "needsAction",
    ResponseStatus.ACCEPTED: "accepted",
    ResponseStatus.DECLINED: "declined",
    ResponseStatus.TENTATIVE: "tentative",
    ResponseStatus.DELEGATED: "needsAction",
    ResponseStatus.UNKNOWN: "needsAction",
}
_SET_BY_STORE = ("kind", "etag", "created", "updated", "htmlLink")
"""Fields `put_event` fills in; the rest is compared to decide whether an event changed."""


def event_id_for(uid: str) -> str:
    """A Calendar event id for an iCalendar UID: base32hex (a-v, 0-9) of its SHA-1, which is
    within the alphabet Google allows for ids (events.insert `id` in the discovery document)."""
    digest = hashlib.sha1(uid.encode(), usedforsecurity=False).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


def _when(moment: datetime, all_day: bool) -> dict[str, str]:
    if all_day:
        return {"date": moment.date().isoformat()}
    zone = moment.tzinfo
    name = zone.key if isinstance(zone, ZoneInfo) else "UTC"
    return {"dateTime": moment.isoformat(), "timeZone": name}


def _attendee(attendee: Attendee, user: str) -> dict[str, Any]:
    found: dict[str, Any] = {"email": attendee.address}
    if attendee.name:
        found["displayName"] = attendee.name
    if attendee.organizer:
        found["organizer"] = True
    if attendee.address == user:
        found["self"] = True
    if attendee.resource:
        found["resource"] = True
    if attendee.optional:
        found["optional"] = True
    found["responseStatus"] = _RESPONSES[attendee.response]
    return found


def _conference(urls: tuple[str, ...]) -> dict[str, Any]:
    url = urls[0]
    host = urlsplit(url).netloc.lower()
    meet = host == "meet.google.com"
    solution = (
        {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"}
        if meet
        else {"key": {"type": "addOn"}, "name": host}
    )
    return {
        "entryPoints": [
            {"entryPointType": "video", "uri": u, "label": u.split("://", 1)[-1]} for u in urls
        ],
        "conferenceSolution": solution,
        "conferenceId": urlsplit(url).path.strip("/").rsplit("/", 1)[-1] or host,
    }


def event_resource(event: CalendarEvent, user: str) -> dict[str, Any]:
    """A Calendar v3 Event resource for one scenario event, as Google would show it to `user`."""
    end = event.end
    if event.all_day and end.date() <= event.start.date():
        end = event.start + timedelta(days=1)
    organizer = event.organizer
    resource: dict[str, Any] = {
        "id": event_id_for(event.uid),
        "iCalUID": event.uid,
        "status": event.status.value,
        "summary": event.title,
        "start": _when(event.start, event.all_day),
        "end": _when(end, event.all_day),
        "sequence": event.sequence,
        "eventType": "default",
        "reminders": {"useDefault": True},
    }
    if event.description:
        resource["description"] = event.description
    if event.location:
        resource["location"] = event.location
    who: dict[str, Any] = {"email": organizer.address if organizer else user}
    if organizer and organizer.name:
        who["displayName"] = organizer.name
    if who["email"] == user:
        who["self"] = True
    resource["organizer"] = who
    resource["creator"] = dict(who)
    if event.attendees:
        resource["attendees"] = [_attendee(a, user) for a in event.attendees]
    if event.conference_urls:
        resource["conferenceData"] = _conference(event.conference_urls)
        meet = [u for u in event.conference_urls if urlsplit(u).netloc.lower() == "meet.google.com"]
        if meet:
            resource["hangoutLink"] = meet[0]
    return resource


@dataclass
class GoogleScenarioMailbox(EmulatorScenarioMailbox[GoogleEmulator]):
    """Scenario mailbox for the Gmail provider, on a `GoogleEmulator`."""

    def _deliver(self, scenario: Scenario, spec: MessageSpec) -> None:
        labels = ["INBOX", "UNREAD"] if spec.folder == "inbox" else ["SENT"]
        self.emulator.add_message(
            scenario.render_message(spec), labels, internal_date=scenario.local(spec.date)
        )

    def _event_resource(self, event: CalendarEvent, user: str) -> dict[str, Any]:
        return event_resource(event, user)

    def _differs(self, held: dict[str, Any], wanted: dict[str, Any]) -> bool:
        return {k: v for k, v in held.items() if k not in _SET_BY_STORE} != wanted

    def _draft_id(self, key: str) -> str:
        for draft_id, raw in self.emulator.drafts():
            for name, value in raw_headers(raw):
                if name.lower() == "x-mailagent-key" and value.strip() == key:
                    return draft_id
                if name.lower() == "message-id" and key_from_message_id(value) == key:
                    return draft_id
        raise LookupError(f"no draft with key {key}")

    def drafts(self) -> list[Message]:
        now = self.emulator.now
        return [
            parse_message(raw, folder=Folder.DRAFTS, id=draft_id, fallback_date=now)
            for draft_id, raw in self.emulator.drafts()
        ]


# --- filler --------------------------------------------------------------------------------------

_SENDERS = (
    ("The Morning Brief", "newsletter@morningbrief.news"),
    ("Tech Weekly", "digest@techweekly.io"),
    ("GitHub", "notifications@github.com"),
    ("Jira", "jira@tracker.atlassian.net"),
    ("Slack", "feedback@slack.com"),
    ("Bank of Nowhere", "alerts@bankofnowhere.com"),
    ("City Library", "no-reply@citylibrary.org"),
    ("Parcel Tracking", "updates@parcel-tracking.net"),
    ("Chris Park", "chris.park@friendsmail.net"),
    ("Robin Diaz", "robin.diaz@studio-diaz.design"),
)
_SUBJECTS = (
    "Weekly digest",
    "Your order has shipped",
    "New comment on pull request",
    "Sprint planning notes",
    "Statement available",
    "Lunch on Friday?",
    "Book reservation ready for pickup",
    "Build failed on main",
    "Photos from the weekend",
    "Quarterly report draft",
)
_WORDS = (
    *("update", "report", "team", "weekend", "project", "coffee", "schedule", "notes"),
    *("budget", "photos", "review", "release", "garden", "recipe", "invoice", "travel"),
    *("music", "ticket", "offer", "library"),
)


def fill_mailbox(emulator: GoogleEmulator, count: int, *, seed: int = 0, user_address: str) -> None:
    """Add `count` unrelated messages (newsletters, notifications, friends; about 2/3 in INBOX,
    1/3 SENT) at random times over the 90 days before `emulator.now`. The raw bytes come from a
    template and the searchable facts are handed over directly, so 200,000 take seconds."""
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    user = user_address.lower()
    colleagues = [
        (name, f"{name.split()[0].lower()}@{user.partition('@')[2]}")
        for name in (
            "Kim Lee",
            "Ari Cohen",
            "Noor Haddad",
            "Tess Moreau",
        )
    ]
    span = 90 * 24 * 3600
    end = emulator.now
    with emulator.lock:
        for index in range(count):
            sent = rng.random() < 1 / 3
            if sent:
                (to_name, to_addr), (from_name, from_addr) = rng.choice(colleagues), ("", user)
                labels = ["SENT"]
            else:
                (from_name, from_addr), (to_name, to_addr) = rng.choice(_SENDERS), ("", user)
                labels = ["INBOX", "UNREAD"] if rng.random() < 0.3 else ["INBOX"]
            when = end - timedelta(seconds=rng.randrange(span))
            subject = f"{rng.choice(_SUBJECTS)} #{index}"
            body = " ".join(rng.choices(_WORDS, k=12))
            message_id = f"filler.{seed}.{index}@{from_addr.partition('@')[2]}"
            sender = f"{from_name} <{from_addr}>" if from_name else from_addr
            recipient = f"{to_name} <{to_addr}>" if to_name else to_addr
            raw = (
                f"From: {sender}\r\nTo: {recipient}\r\nSubject: {subject}\r\n"
                f"Date: {format_datetime(when)}\r\nMessage-ID: <{message_id}>\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            ).encode()
            facts = Facts(
                subject=subject,
                parties={"from": ((from_addr, from_name),), "to": ((to_addr, to_name),)},
                text=f"{body} {sender} {recipient}",
                message_id=message_id.lower(),
                date=when,
            )
            emulator.mailbox.add(
                raw, labels, int(when.timestamp() * 1000), facts=facts, auto_thread=False
            )
