"""Scenarios on the Graph emulator: `GraphScenarioMailbox`, `event_resource` and a bulk filler.

`GraphScenarioMailbox` implements `mailagent.scenario.ScenarioMailbox`: mail arrives in the
Inbox or Sent Items when its date has passed, the calendar shows what the scenario says it
shows at that moment (as Outlook event resources, seen by the user as an attendee or the
organizer), and the user sends, edits and deletes the agent's drafts as in Outlook. A draft is
the agent's when one of its single-value extended properties holds the agent's key."""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from mailagent.core.models import (
    SNIPPET_LIMIT,
    Attendee,
    CalendarEvent,
    EventStatus,
    Folder,
    Message,
    Person,
    ResponseStatus,
)
from mailagent.scenario import MessageSpec, Scenario
from providers.emulators.google_scenario import _SENDERS, _SUBJECTS, _WORDS
from providers.emulators.graph import GraphEmulator
from providers.emulators.graph_mime import as_type
from providers.emulators.graph_store import event_id_for
from providers.emulators.graph_time import iso_seconds, local_ticks, parse_iso, zero_time
from providers.emulators.scenario_mailbox import EmulatorScenarioMailbox

__all__ = ["GraphScenarioMailbox", "event_resource", "fill_mailbox", "ical_uid"]

_RESPONSES = {
    ResponseStatus.NEEDS_ACTION: "notResponded",
    ResponseStatus.ACCEPTED: "accepted",
    ResponseStatus.DECLINED: "declined",
    ResponseStatus.TENTATIVE: "tentativelyAccepted",
    ResponseStatus.DELEGATED: "none",
    ResponseStatus.UNKNOWN: "none",
}
_SHOW_AS = {"declined": "free", "tentativelyAccepted": "tentative", "notResponded": "tentative"}
_MSG_ID = re.compile(r"<[^<>\s]+>")
_GOID_CLASS = "040000008200E00074C5B7101A82E008"


def ical_uid(uid: str) -> str:
    """Exchange's iCalUId for an invitation whose iCalendar UID is `uid`: a Global Object ID
    that wraps the foreign UID ("vCal-Uid", MS-OXOCAL 2.2.1.27)."""
    data = b"vCal-Uid" + b"\x01\x00\x00\x00" + uid.encode() + b"\x00"
    head = _GOID_CLASS + "00000000" + "00" * 8 + "00" * 8
    return (head + len(data).to_bytes(4, "little").hex() + data.hex()).upper()


def _time(moment: datetime, all_day: bool) -> dict[str, str]:
    if all_day:
        midnight = datetime.combine(moment.date(), datetime.min.time())
        return {"dateTime": local_ticks(midnight), "timeZone": "UTC"}
    return {"dateTime": local_ticks(moment.astimezone(ZoneInfo("UTC"))), "timeZone": "UTC"}


def _address(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def _attendee(attendee: Attendee, response: str, answered: str) -> dict[str, Any]:
    kind = "resource" if attendee.resource else "optional" if attendee.optional else "required"
    return {
        "type": kind,
        "status": {"response": response, "time": answered},
        **_address(attendee.name, attendee.address),
    }


def event_resource(event: CalendarEvent, user: str) -> dict[str, Any]:
    """An Outlook event resource for one scenario event, as `user` sees it (times in UTC)."""
    user = user.lower()
    organizer = event.organizer
    is_organizer = organizer is None or organizer.address.lower() == user
    me = next((a for a in event.attendees if a.address.lower() == user), None)
    response = (
        "organizer" if is_organizer else _RESPONSES[me.response if me else ResponseStatus.UNKNOWN]
    )
    answered = (
        iso_seconds(event.start - timedelta(days=1))
        if response not in {"none", "notResponded", "organizer"}
        else zero_time()
    )
    cancelled = event.status is EventStatus.CANCELLED
    urls = event.conference_urls
    teams = [u for u in urls if urlsplit(u).netloc.lower().endswith("teams.microsoft.com")]
    others = [u for u in urls if u not in teams]
    text = [html.escape(line) for line in event.description.splitlines()]
    text += [f'Join: <a href="{html.escape(u)}">{html.escape(u)}</a>' for u in others]
    if teams:
        text += [
            "Microsoft Teams meeting",
            f'<a href="{html.escape(teams[0])}">Join the meeting now</a>',
        ]
    place = event.location or (others[0] if others else "")
    location: dict[str, Any] = {
        "displayName": place,
        "locationType": "default",
        "uniqueIdType": "unknown" if not place else "private",
        "address": {},
        "coordinates": {},
    }
    if place:
        location["uniqueId"] = place
    end = event.end
    if event.all_day and end.date() <= event.start.date():
        end = event.start + timedelta(days=1)
    zone = event.start.tzinfo
    zone_name = zone.key if isinstance(zone, ZoneInfo) else "UTC"
    who = organizer or Person("", user)
    if organizer is None and me is not None:
        who = Person(me.name, me.address)
    show_as = "free" if cancelled else _SHOW_AS.get(response, "busy")
    if event.status is EventStatus.TENTATIVE and show_as == "busy":
        show_as = "tentative"
    return {
        "id": event_id_for(user, event.uid),
        "iCalUId": ical_uid(event.uid),
        "subject": ("Canceled: " if cancelled and not is_organizer else "") + event.title,
        "body": {
            "contentType": "html",
            "content": "<html>\r\n<body>\r\n"
            + "<br>\r\n".join(f"<div>{line}</div>" for line in text)
            + "\r\n</body>\r\n</html>\r\n",
        },
        "start": _time(event.start, event.all_day),
        "end": _time(end, event.all_day),
        "originalStartTimeZone": zone_name,
        "originalEndTimeZone": zone_name,
        "isAllDay": event.all_day,
        "isCancelled": cancelled,
        "isOrganizer": is_organizer,
        "type": "singleInstance",
        "showAs": show_as,
        "sensitivity": "normal",
        "organizer": _address(who.name, who.address),
        "attendees": [
            _attendee(
                a,
                response
                if a.address.lower() == user
                else "organizer"
                if a.organizer and a.response is ResponseStatus.ACCEPTED
                else _RESPONSES[a.response],
                answered if a.address.lower() == user else zero_time(),
            )
            for a in event.attendees
        ],
        "responseStatus": {"response": response, "time": answered},
        "isOnlineMeeting": bool(teams),
        "onlineMeetingProvider": "teamsForBusiness" if teams else "unknown",
        "onlineMeeting": {"joinUrl": teams[0]} if teams else None,
        "location": location,
        "locations": [location] if place else [],
    }


@dataclass
class GraphScenarioMailbox(EmulatorScenarioMailbox[GraphEmulator]):
    """Scenario mailbox for the Outlook (Graph) provider, on a `GraphEmulator`."""

    def _deliver(self, scenario: Scenario, spec: MessageSpec) -> None:
        folder = "inbox" if spec.folder == "inbox" else "sentitems"
        raw = scenario.render_message(spec)
        self.emulator.add_message(raw, folder, received=scenario.local(spec.date))

    def _event_resource(self, event: CalendarEvent, user: str) -> dict[str, Any]:
        return event_resource(event, user)

    def _differs(self, held: dict[str, Any], wanted: dict[str, Any]) -> bool:
        return {k: held.get(k) for k in wanted} != wanted

    def _draft_id(self, key: str) -> str:
        for draft in self.emulator.drafts():
            for prop in draft.get("singleValueExtendedProperties", []):
                if prop["value"] == key:
                    return str(draft["id"])
        raise LookupError(f"no draft with key {key}")

    def drafts(self) -> list[Message]:
        user = Person(self.emulator.user_name, self.emulator.user_address.lower())
        return [_draft_message(draft, user) for draft in self.emulator.drafts()]


def _people(recipients: list[dict[str, Any]]) -> tuple[Person, ...]:
    found = []
    for item in recipients:
        address = item["emailAddress"]
        name = address.get("name", "")
        found.append(Person("" if name == address["address"] else name, address["address"].lower()))
    return tuple(found)


def _draft_message(draft: dict[str, Any], user: Person) -> Message:
    props = draft.get("singleValueExtendedProperties", [])
    headers = {h["name"].lower(): h["value"] for h in draft.get("internetMessageHeaders", [])}
    in_reply_to = _MSG_ID.findall(headers.get("in-reply-to", ""))
    body = draft["body"]
    _, text = as_type(body["contentType"], body["content"], "text")
    return Message(
        id=draft["id"],
        folder=Folder.DRAFTS,
        message_id=draft["internetMessageId"],
        subject=draft["subject"],
        sender=user,
        date=parse_iso(draft["lastModifiedDateTime"]),
        to=_people(draft["toRecipients"]),
        cc=_people(draft["ccRecipients"]),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=tuple(_MSG_ID.findall(headers.get("references", ""))),
        thread_id=draft["conversationId"],
        snippet=text[:SNIPPET_LIMIT],
        headers={"x-mailagent-key": props[0]["value"]} if props else {},
    )


# --- filler --------------------------------------------------------------------------------------


def fill_mailbox(emulator: GraphEmulator, count: int, *, seed: int = 0, user_address: str) -> None:
    """Add `count` unrelated messages (newsletters, notifications, friends; about 2/3 in the
    Inbox, 1/3 in Sent Items) at random times over the 90 days before `emulator.now`. Messages
    are stored directly, without raw parsing, so 200,000 take seconds."""
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    user = user_address.lower()
    domain = user.partition("@")[2]
    colleagues = [
        (name, f"{name.split()[0].lower()}@{domain}")
        for name in ("Kim Lee", "Ari Cohen", "Noor Haddad", "Tess Moreau")
    ]
    span = 90 * 24 * 3600
    end = emulator.now
    with emulator.lock:
        box = emulator.mailbox
        for index in range(count):
            sent = rng.random() < 1 / 3
            if sent:
                sender, recipient, folder = (
                    (emulator.user_name, user),
                    rng.choice(colleagues),
                    "sentitems",
                )
            else:
                sender, recipient, folder = rng.choice(_SENDERS), ("", user), "inbox"
            when = end - timedelta(seconds=rng.randrange(span))
            message = box.new_draft(when, folder)
            message.subject = f"{rng.choice(_SUBJECTS)} #{index}"
            message.body = " ".join(rng.choices(_WORDS, k=12))
            message.sender = sender
            message.to = [recipient]
            message.is_draft = False
            message.is_read = sent or rng.random() >= 0.3
            message.internet_message_id = f"<filler.{seed}.{index}@{sender[1].partition('@')[2]}>"
            box.insert(message)
