"""Scenarios: a mailbox's life written once, played against any provider.

A scenario file (YAML) names the user, the people, calendar events (with the moment each appears
and later changes such as a reschedule or a cancellation), messages (each delivered at its date),
and steps: the moments at which a sync runs, what the user does to drafts before it (send, edit,
delete), and what the sync is expected to draft. A `ScenarioMailbox` turns that into a real
mailbox for one provider; `play` drives it. This module is shell, not core: it writes files.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mailagent.core.durations import parse_duration
from mailagent.core.models import (
    Attendee,
    CalendarEvent,
    EventStatus,
    Folder,
    Message,
    Person,
    ResponseStatus,
)
from mailagent.errors import ConfigError
from providers.ical import events_to_ics
from providers.mime import parse_message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserSpec(_Strict):
    name: str
    address: str
    timezone: str = "UTC"


class PersonSpec(_Strict):
    name: str = ""
    address: str


class AttendeeSpec(_Strict):
    who: str
    response: str = "accepted"
    resource: bool = False
    optional: bool = False


class EventChange(_Strict):
    at: datetime
    start: datetime | None = None
    end: datetime | None = None
    status: Literal["confirmed", "tentative", "cancelled"] | None = None
    user_response: str | None = None
    title: str | None = None


class EventSpec(_Strict):
    id: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    organizer: str | None = None
    attendees: tuple[str | AttendeeSpec, ...] = ()
    user_response: str = "accepted"
    status: Literal["confirmed", "tentative", "cancelled"] = "confirmed"
    description: str = ""
    location: str = ""
    conference: str | None = None
    appears: datetime | None = None
    changes: tuple[EventChange, ...] = ()
    in_calendar: bool = True
    """False: the event is in no calendar, only in the invitations mailed for it (messages with
    `invitation: {event: <this id>}`)."""


class InvitationSpec(_Strict):
    """A calendar part of a message: the event as it is at the message's date (its changes up to
    then, SEQUENCE their count), as an iTIP REQUEST or CANCEL."""

    event: str
    method: Literal["request", "cancel"] = "request"
    attached: bool = False
    """An `invite.ics` attachment instead of an inline `text/calendar` alternative."""
    as_of: datetime | None = None
    """The event as it was at this moment instead (a forward of an earlier invitation)."""


class MessageSpec(_Strict):
    id: str
    folder: Literal["inbox", "sent"]
    sender: str = Field(alias="from")
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    date: datetime
    subject: str
    body: str = ""
    reply_to: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    raw: str | None = None
    """A whole RFC 5322 message instead of the fields above (for malformed-input scenarios)."""
    invitation: InvitationSpec | None = None


class ExpectedDraft(_Strict):
    kind: Literal["thank_you", "follow_up", "rejection_reply"]
    to: str
    step: int | None = None
    subject_contains: str | None = None
    subject_lacks: tuple[str, ...] = ()
    in_reply_to: str | None = None
    body_contains: tuple[str, ...] = ()
    body_lacks: tuple[str, ...] = ()
    """Words the draft must not hold: a wrong company, a title taken for the role..."""


class DraftAction(_Strict):
    kind: Literal["thank_you", "follow_up", "rejection_reply"]
    to: str | None = None
    step: int | None = None
    text: str = "P.S. One more thing I wanted to add."


class UserActions(_Strict):
    send: tuple[DraftAction, ...] = ()
    edit: tuple[DraftAction, ...] = ()
    delete: tuple[DraftAction, ...] = ()


class StepSpec(_Strict):
    at: datetime
    user: UserActions = UserActions()
    expect: tuple[ExpectedDraft, ...] | None = None
    """None: not checked; an empty list: this sync must draft nothing."""
    note: str = ""


class ClockSpec(_Strict):
    start: datetime
    end: datetime
    every: str = "12h"


class ScenarioSpec(_Strict):
    name: str
    description: str = ""
    user: UserSpec
    policy: str = "standard"
    people: dict[str, PersonSpec] = Field(default_factory=dict)
    events: tuple[EventSpec, ...] = ()
    messages: tuple[MessageSpec, ...] = ()
    steps: tuple[StepSpec, ...] = ()
    clock: ClockSpec | None = None
    """Extra syncs at a regular pace between explicit steps (the demo uses it)."""
    expect_total: int | None = None
    """How many drafts the whole scenario makes, so that no unexpected sync drafts unnoticed."""


@dataclass(frozen=True)
class Scenario:
    spec: ScenarioSpec
    path: Path

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.spec.user.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def person(self, ref: str) -> Person:
        if ref == "user":
            return Person(self.spec.user.name, self.spec.user.address)
        if ref in self.spec.people:
            spec = self.spec.people[ref]
            return Person(spec.name, spec.address.lower())
        if "@" in ref:
            return Person("", ref.lower())
        raise ConfigError(f"{self.path}: unknown person {ref!r}", advice="add it under `people:`")

    def message_id(self, ref: str) -> str:
        digest = hashlib.sha256(f"{self.spec.name}/{ref}".encode()).hexdigest()[:16]
        return f"<{ref}.{digest}@scenario.invalid>"

    def sync_times(self) -> list[datetime]:
        times = {self.local(s.at) for s in self.spec.steps}
        clock = self.spec.clock
        if clock is not None:
            every = parse_duration(clock.every)
            step = timedelta(
                minutes=every.amount
                * {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "business_days": 1440}[
                    every.unit
                ]
            )
            moment = self.local(clock.start)
            while moment <= self.local(clock.end):
                times.add(moment)
                moment += step
        return sorted(times)

    def step_at(self, moment: datetime) -> StepSpec | None:
        return next((s for s in self.spec.steps if self.local(s.at) == moment), None)

    def events_at(self, moment: datetime) -> list[CalendarEvent]:
        """The calendar as of `moment` (events only mailed as invitations are not in it)."""
        return [
            self._event_at(spec, moment)
            for spec in self.spec.events
            if spec.in_calendar
            and self.local(spec.appears or spec.start - timedelta(days=7)) <= moment
        ]

    def _event_at(self, spec: EventSpec, moment: datetime) -> CalendarEvent:
        start, end, status, response, title = (
            self.local(spec.start),
            self.local(spec.end),
            spec.status,
            spec.user_response,
            spec.title,
        )
        sequence = 0
        for change in spec.changes:
            if self.local(change.at) <= moment:
                sequence += 1
                start = self.local(change.start) if change.start else start
                end = self.local(change.end) if change.end else end
                status = change.status or status
                response = change.user_response or response
                title = change.title or title
        return self._event(spec, start, end, status, response, title, sequence)

    def _event(
        self,
        spec: EventSpec,
        start: datetime,
        end: datetime,
        status: str,
        response: str,
        title: str,
        sequence: int,
    ) -> CalendarEvent:
        organizer = self.person(spec.organizer) if spec.organizer else None
        attendees = [
            Attendee(
                self.spec.user.name,
                self.spec.user.address,
                organizer=spec.organizer == "user",
                response=ResponseStatus(response),
            )
        ]
        for item in spec.attendees:
            a = item if isinstance(item, AttendeeSpec) else AttendeeSpec(who=item)
            person = self.person(a.who)
            attendees.append(
                Attendee(
                    person.name,
                    person.address,
                    organizer=organizer is not None and person == organizer,
                    response=ResponseStatus(a.response),
                    resource=a.resource,
                    optional=a.optional,
                )
            )
        return CalendarEvent(
            id=f"{spec.id}@scenario",
            uid=f"{spec.id}@scenario",
            title=title,
            start=start,
            end=end,
            all_day=spec.all_day,
            status=EventStatus(status),
            organizer=organizer,
            attendees=tuple(attendees),
            description=spec.description,
            location=spec.location,
            conference_urls=(spec.conference,) if spec.conference else (),
            sequence=sequence,
        )

    def render_message(self, spec: MessageSpec) -> bytes:
        if spec.raw is not None:
            return spec.raw.encode("utf-8")
        message = EmailMessage(policy=SMTP)
        sender = self.person(spec.sender)
        message["From"] = _address(sender)
        message["To"] = ", ".join(_address(self.person(r)) for r in spec.to)
        if spec.cc:
            message["Cc"] = ", ".join(_address(self.person(r)) for r in spec.cc)
        message["Subject"] = spec.subject
        message["Date"] = email.utils.format_datetime(self.local(spec.date))
        message["Message-ID"] = self.message_id(spec.id)
        if spec.reply_to:
            parent = self.message_id(spec.reply_to)
            message["In-Reply-To"] = parent
            message["References"] = " ".join([*self._references(spec.reply_to), parent])
        for name, value in spec.headers.items():
            message[name] = value
        message.set_content(spec.body or "\n")
        if spec.invitation is not None:
            self._add_invitation(message, spec.invitation, self.local(spec.date))
        return bytes(message)

    def _add_invitation(
        self, message: EmailMessage, invitation: InvitationSpec, moment: datetime
    ) -> None:
        event_spec = next((e for e in self.spec.events if e.id == invitation.event), None)
        if event_spec is None:
            raise ConfigError(f"{self.path}: invitation of unknown event {invitation.event!r}")
        event = self._event_at(event_spec, self.local(invitation.as_of or moment))
        user = self.spec.user.address.lower()
        attendees = tuple(  # an invitation asks the user; the answer is the calendar's
            replace(a, response=ResponseStatus.NEEDS_ACTION) if a.address == user else a
            for a in event.attendees
        )
        event = replace(event, attendees=attendees)
        if invitation.method == "cancel":
            event = replace(event, status=EventStatus.CANCELLED)
        method = invitation.method.upper()
        ics = events_to_ics([event], method=method)
        if invitation.attached:
            message.add_attachment(
                ics, maintype="application", subtype="ics", filename="invite.ics"
            )
        else:
            message.add_alternative(ics.decode(), subtype="calendar", params={"method": method})

    def _references(self, ref: str) -> list[str]:
        parent = next((m for m in self.spec.messages if m.id == ref), None)
        if parent is None or parent.reply_to is None:
            return []
        return [*self._references(parent.reply_to), self.message_id(parent.reply_to)]


def _address(person: Person) -> str:
    local, _, domain = person.address.partition("@")
    return str(Address(display_name=person.name, username=local, domain=domain))


def load_scenario(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Scenario(ScenarioSpec.model_validate(raw), path)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the scenario: {(exc.strerror or str(exc)).lower()}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read the scenario: it is not UTF-8 text") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from exc


class ScenarioMailbox(Protocol):
    """A provider's mailbox, driven by a scenario (one implementation per provider)."""

    def materialize(self, scenario: Scenario, moment: datetime) -> None:
        """Deliver every message dated up to `moment`; publish the calendar as of `moment`."""
        ...

    def send_draft(self, key: str, moment: datetime) -> None: ...

    def edit_draft(self, key: str, text: str) -> None: ...

    def delete_draft(self, key: str) -> None: ...

    def drafts(self) -> list[Message]:
        """The messages in the Drafts folder now."""
        ...


@dataclass
class MaildirMailbox:
    """Scenario mailbox for the local provider: Maildir folders and a calendar.ics."""

    root: Path
    delivered: set[str] = field(default_factory=set)

    @property
    def maildir(self) -> Path:
        return self.root / "Mail"

    @property
    def calendar(self) -> Path:
        return self.root / "calendar.ics"

    def materialize(self, scenario: Scenario, moment: datetime) -> None:
        for folder in ("INBOX", "Sent", "Drafts"):
            for sub in ("cur", "new", "tmp"):
                (self.maildir / folder / sub).mkdir(parents=True, exist_ok=True)
        for spec in scenario.spec.messages:
            if spec.id in self.delivered or scenario.local(spec.date) > moment:
                continue
            folder = "INBOX" if spec.folder == "inbox" else "Sent"
            stamp = int(scenario.local(spec.date).timestamp())
            name = f"{stamp}.S{hashlib.sha256(spec.id.encode()).hexdigest()[:12]}.scenario"
            target = (
                self.maildir
                / folder
                / ("new" if folder == "INBOX" else "cur")
                / (name if folder == "INBOX" else name + ":2,S")
            )
            _atomic_write(target, scenario.render_message(spec))
            self.delivered.add(spec.id)
        ics = events_to_ics(scenario.events_at(moment))
        if not self.calendar.exists() or self.calendar.read_bytes() != ics:
            _atomic_write(self.calendar, ics)

    def _draft_path(self, key: str) -> Path:
        for sub in ("cur", "new"):
            for path in (self.maildir / "Drafts" / sub).iterdir():
                data = path.read_bytes()
                if key in path.name or f"<mailagent.{key}.".encode() in data:
                    return path
        raise LookupError(f"no draft with key {key}")

    def send_draft(self, key: str, moment: datetime) -> None:
        """What a mail client does on send: the message, re-dated, moves from Drafts to Sent."""
        path = self._draft_path(key)
        data = path.read_bytes()
        head, sep, body = data.partition(b"\r\n\r\n")
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"date:")]
        lines.append(b"Date: " + email.utils.format_datetime(moment).encode())
        stamp = int(moment.timestamp())
        target = self.maildir / "Sent" / "cur" / f"{stamp}.Ssent{key[:12]}.client:2,S"
        _atomic_write(target, b"\r\n".join(lines) + sep + body)
        path.unlink()

    def edit_draft(self, key: str, text: str) -> None:
        path = self._draft_path(key)
        data = path.read_bytes()
        path.write_bytes(data.rstrip(b"\r\n") + b"\r\n\r\n" + text.encode() + b"\r\n")

    def delete_draft(self, key: str) -> None:
        self._draft_path(key).unlink()

    def drafts(self) -> list[Message]:
        found = []
        for sub in ("cur", "new"):
            for path in sorted((self.maildir / "Drafts" / sub).iterdir()):
                found.append(parse_message(path.read_bytes(), folder=Folder.DRAFTS, id=path.name))
        return found


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class DraftMade:
    """One draft a sync reported, as the scenario player sees it."""

    key: str
    kind: str
    step: int
    to: str
    subject: str


@dataclass
class PlayLog:
    made: list[tuple[datetime, DraftMade]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    syncs: int = 0


SyncFn = Callable[[datetime], Sequence[DraftMade]]


def play(
    scenario: Scenario,
    mailbox: ScenarioMailbox,
    sync: SyncFn,
    on_sync: Callable[[datetime, Sequence[DraftMade]], None] | None = None,
) -> PlayLog:
    """Run every sync of the scenario in order, applying user actions and checking expectations."""
    log = PlayLog()
    for moment in scenario.sync_times():
        step = scenario.step_at(moment)
        mailbox.materialize(scenario, moment)
        if step is not None:
            for action_kind, actions in (
                ("send", step.user.send),
                ("edit", step.user.edit),
                ("delete", step.user.delete),
            ):
                for action in actions:
                    key = _find_made(scenario, log, action)
                    if key is None:
                        log.failures.append(f"{moment}: no draft to {action_kind}: {action}")
                    elif action_kind == "send":
                        mailbox.send_draft(key, moment)
                    elif action_kind == "edit":
                        mailbox.edit_draft(key, action.text)
                    else:
                        mailbox.delete_draft(key)
            mailbox.materialize(scenario, moment)
        made = list(sync(moment))
        log.syncs += 1
        log.made.extend((moment, m) for m in made)
        if on_sync is not None:
            on_sync(moment, made)
        if step is not None and step.expect is not None:
            log.failures.extend(_check(scenario, moment, step.expect, made, mailbox))
    if scenario.spec.expect_total is not None and len(log.made) != scenario.spec.expect_total:
        log.failures.append(
            f"expected {scenario.spec.expect_total} drafts in all, made {len(log.made)}: "
            + _brief([m for _, m in log.made])
        )
    keys = [m.key for _, m in log.made]
    if len(keys) != len(set(keys)):
        log.failures.append("a draft key was drafted twice")
    return log


def _find_made(scenario: Scenario, log: PlayLog, action: DraftAction) -> str | None:
    to = scenario.person(action.to).address if action.to else None
    for _, made in reversed(log.made):
        if (
            made.kind == action.kind
            and (to is None or made.to == to)
            and (action.step is None or made.step == action.step)
        ):
            return made.key
    return None


def _check(
    scenario: Scenario,
    moment: datetime,
    expected: Sequence[ExpectedDraft],
    made: Sequence[DraftMade],
    mailbox: ScenarioMailbox,
) -> list[str]:
    failures: list[str] = []
    remaining = list(made)
    drafts = {m.agent_key: m for m in mailbox.drafts()}
    for want in expected:
        to = scenario.person(want.to).address
        match = next(
            (
                m
                for m in remaining
                if m.kind == want.kind and m.to == to and (want.step is None or m.step == want.step)
            ),
            None,
        )
        if match is None:
            failures.append(f"{moment}: expected a {want.kind} draft to {to}; made {_brief(made)}")
            continue
        remaining.remove(match)
        message = drafts.get(match.key)
        if message is None:
            failures.append(f"{moment}: the {want.kind} draft to {to} is not in the Drafts folder")
            continue
        if [p.address for p in message.to] != [to]:
            failures.append(
                f"{moment}: draft recipients {[p.address for p in message.to]} != [{to}]"
            )
        if want.subject_contains and want.subject_contains not in message.subject:
            failures.append(
                f"{moment}: subject {message.subject!r} lacks {want.subject_contains!r}"
            )
        if want.in_reply_to and message.in_reply_to != scenario.message_id(want.in_reply_to):
            failures.append(
                f"{moment}: In-Reply-To {message.in_reply_to!r} is not {want.in_reply_to}"
            )
        if want.in_reply_to and scenario.message_id(want.in_reply_to) not in message.references:
            failures.append(f"{moment}: References lack {want.in_reply_to}")
        for text in want.body_contains:
            if text not in message.snippet:
                failures.append(f"{moment}: draft body lacks {text!r}")
        for text in want.subject_lacks:
            if text in message.subject:
                failures.append(f"{moment}: subject {message.subject!r} holds {text!r}")
        for text in want.body_lacks:
            if text in message.snippet:
                failures.append(f"{moment}: draft body holds {text!r}")
    if remaining:
        failures.append(f"{moment}: unexpected drafts {_brief(remaining)}")
    return failures


def _brief(made: Sequence[DraftMade]) -> str:
    return ", ".join(f"{m.kind}#{m.step}->{m.to}" for m in made) or "none"
