"""The seeded script of one chaos run: a job search over simulated weeks, the moments it is
synced at, what the user does, and the hostile items and faults a faulty run adds.

Everything here is a function of the seed (and, for faults, of the provider): the same seed
gives the same script, so a violation is reproduced by its seed alone. The script is written
in the neutral scenario format (`mailagent.scenario.ScenarioSpec`), so every provider's
scenario mailbox materializes it as it does the fixtures. See `chaos.py` for the oracle.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailagent.scenario import (
    EventChange,
    EventSpec,
    MessageSpec,
    PersonSpec,
    Scenario,
    ScenarioSpec,
    UserSpec,
)

__all__ = [
    "HOSTILE_COUNT",
    "ZONES",
    "AccountChange",
    "Hostile",
    "Reaction",
    "Script",
    "make_script",
    "rng_for",
]

ZONES = ("America/New_York", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "UTC")
POLICIES = ("relaxed", "business-days")
BASE = datetime(2026, 3, 2, 8, 0)
"""A Monday; each run starts up to six days later, in the user's first zone."""
DAYS = 16
"""Simulated days per run: inside the standard policy's 30-day lookback, so a sync that lost
its state still reads everything the run made."""

_COMPANIES = (
    ("Acme", "acme.com"),
    ("Globex", "globex.com"),
    ("Initech", "initech.com"),
    ("Umbrella", "umbrella.com"),
    ("Hooli", "hooli.xyz"),
    ("Nimbus", "nimbus.io"),
    ("Orbit", "orbit.dev"),
    ("Zenith", "zenith.ai"),
    ("Quanta", "quanta.co"),
    ("Vandelay", "vandelay.com"),
)
_FIRST = ("Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jia", "Kai", "Lea")
_LAST = ("Souza", "Miller", "Okafor", "Patel", "Novak", "Ito", "Berg", "Costa", "Haddad", "Lund")
_ROLES = ("Backend Engineer", "Data Scientist", "Product Designer", "Site Reliability Engineer")
_TITLES = (
    "Interview - {company} ({role})",
    "Phone screen - {company}",
    "{company} onsite: {role} (panel)",
    "Technical interview with {company}",
    "Hiring manager interview ({company})",
)

HOSTILE_COUNT = 40
"""Interviewers on the hostile panel; a correct sync drafts to at most `PANEL_CAP` of them."""
PANEL_CAP = 12


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by `parts` (a string digest, so it does not depend on hash seeds)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (test data)


@dataclass(frozen=True, slots=True)
class Reaction:
    """What the user does to a draft `hours` after it appears: leave, send, edit, delete, or
    edit (then send `hours` later again)."""

    action: str
    hours: int


@dataclass(frozen=True, slots=True)
class AccountChange:
    at: datetime
    timezone: str | None = None
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class Hostile:
    """A hostile item of the faulty run. `addresses` may get at most `cap` drafts (a panel
    capped as point 6 of issue 10 asks); `ics` is raw iCalendar for file calendars."""

    kind: str
    at: datetime
    addresses: frozenset[str] = frozenset()
    cap: int = 0
    ics: bytes = b""


@dataclass(frozen=True)
class Script:
    seed: int
    scenario: Scenario
    """The clean world."""
    moments: tuple[datetime, ...]
    changes: tuple[AccountChange, ...]
    first_zone: str
    interviewers: dict[str, int]
    """Recipient -> how many interviews with them the script holds: the most thank-yous they
    may get."""
    hostile: tuple[Hostile, ...] = ()
    hostile_scenario: Scenario | None = None
    """The world of the faulty run: the clean one plus the hostile events and messages."""
    reactions: dict[str, Reaction] = field(default_factory=dict)

    def reaction(self, key: str) -> Reaction:
        """The user's reaction to the draft `key`: a function of the seed and the key, so
        the clean and the faulty run react alike to the same draft."""
        if key not in self.reactions:
            rng = rng_for(self.seed, "reaction", key)
            action = rng.choices(
                ("leave", "send", "edit", "delete", "edit-send"), weights=(3, 4, 2, 1, 1)
            )[0]
            self.reactions[key] = Reaction(action, rng.randint(1, 30))
        return self.reactions[key]

    def timezone_at(self, moment: datetime) -> str:
        zone = self.first_zone
        for change in self.changes:
            if change.at <= moment and change.timezone:
                zone = change.timezone
        return zone

    def policy_at(self, moment: datetime) -> str:
        policy = "standard"
        for change in self.changes:
            if change.at <= moment and change.policy:
                policy = change.policy
        return policy


def make_script(
    seed: int, *, hostile_kinds: tuple[str, ...] = (), hostile_rate: float = 0.0
) -> Script:
    """The script of run `seed`. `hostile_kinds` are the hostile items the provider can carry;
    one of them is added to the faulty run's world with probability `hostile_rate`."""
    rng = rng_for(seed, "world")
    zone_name = rng.choice(ZONES)
    zone = ZoneInfo(zone_name)
    start = (BASE + timedelta(days=rng.randint(0, 6))).replace(tzinfo=zone)
    end = start + timedelta(days=DAYS)
    user = UserSpec(name="Alex Kim", address="alex.kim@example.org", timezone=zone_name)
    world = _World(people={}, events=[], messages=[], interviewers={}, moments=set())
    for index, (company, domain) in enumerate(rng.sample(_COMPANIES, rng.randint(2, 4))):
        _add_interview(rng, seed, world, index, company, domain, start, end)
    people, events, messages = world.people, world.events, world.messages
    interviewers, moments = world.interviewers, world.moments
    day = start
    while day < end:
        moments.add(day.replace(hour=rng.randint(7, 21), minute=rng.choice((5, 20, 45))))
        day += timedelta(days=rng.choice((1, 2, 2)))
    ordered = tuple(sorted(m for m in moments if start <= m <= end))
    account: list[AccountChange] = []
    if rng.random() < 0.4:
        account.append(
            AccountChange(
                at=rng.choice(ordered[2:]),
                timezone=rng.choice([z for z in ZONES if z != zone_name]),
            )
        )
    if rng.random() < 0.3:
        account.append(AccountChange(at=rng.choice(ordered[2:]), policy=rng.choice(POLICIES)))
    spec = ScenarioSpec(
        name="chaos",
        user=user,
        policy="standard",
        people=people,
        events=tuple(events),
        messages=tuple(messages),
    )
    scenario = Scenario(spec, Path(f"chaos-{seed}"))
    script = Script(
        seed=seed,
        scenario=scenario,
        moments=ordered,
        changes=tuple(sorted(account, key=lambda c: c.at)),
        first_zone=zone_name,
        interviewers=interviewers,
    )
    hostile_rng = rng_for(seed, "hostile")
    if hostile_kinds and hostile_rng.random() < hostile_rate:
        kind = hostile_rng.choice(hostile_kinds)
        at = hostile_rng.choice(ordered[1:-1])
        item, extra = _hostile(kind, at, start, hostile_rng)
        hostile_spec = spec.model_copy(
            update={
                "events": spec.events + extra.events,
                "messages": spec.messages + extra.messages,
                "people": {**spec.people, **extra.people},
            }
        )
        script = Script(
            seed=seed,
            scenario=scenario,
            moments=ordered,
            changes=script.changes,
            first_zone=zone_name,
            interviewers=interviewers,
            hostile=(item,),
            hostile_scenario=Scenario(hostile_spec, scenario.path),
        )
    return script


@dataclass
class _World:
    people: dict[str, PersonSpec]
    events: list[EventSpec]
    messages: list[MessageSpec]
    interviewers: dict[str, int]
    moments: set[datetime]


def _add_interview(
    rng: random.Random,
    seed: int,
    world: _World,
    index: int,
    company: str,
    domain: str,
    start: datetime,
    end: datetime,
) -> None:
    """One company's interview (maybe moved or cancelled), maybe thanked by hand, maybe
    answered by a reply or a rejection; and a sync soon after it ends."""
    people, events, messages = world.people, world.events, world.messages
    interviewers, moments = world.interviewers, world.moments
    role = rng.choice(_ROLES)
    panel = []
    for _ in range(rng.randint(1, 3)):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        ref = f"{first.lower()}.{last.lower()}.{index}"
        if ref in people:
            continue
        people[ref] = PersonSpec(name=f"{first} {last}", address=f"{ref}@{domain}")
        panel.append(ref)
    day = start.replace(hour=rng.randint(9, 16), minute=rng.choice((0, 30)))
    begin = day + timedelta(days=rng.randint(1, 9))
    finish = begin + timedelta(minutes=rng.choice((30, 45, 60, 90)))
    changes: list[EventChange] = []
    fate = rng.random()
    if fate < 0.3:
        shift = timedelta(days=rng.randint(1, 3))
        changes.append(
            EventChange(at=begin - timedelta(hours=20), start=begin + shift, end=finish + shift)
        )
        begin, finish = begin + shift, finish + shift
    cancelled = 0.3 <= fate < 0.38
    if cancelled:
        changes.append(EventChange(at=begin - timedelta(hours=10), status="cancelled"))
    events.append(
        EventSpec(
            id=f"{domain.split('.', maxsplit=1)[0]}-{index}",
            title=rng.choice(_TITLES).format(company=company, role=role),
            start=begin,
            end=finish,
            organizer=panel[0],
            attendees=tuple(panel),
            description=f"Scheduled via Greenhouse.\nRole: {role}",
            conference=f"https://zoom.us/j/55500{seed % 1000:03d}{index}",
            appears=start - timedelta(days=1),
            changes=tuple(changes),
        )
    )
    if not cancelled:
        for ref in panel:
            address = people[ref].address
            interviewers[address] = interviewers.get(address, 0) + 1
    moments.add(finish + timedelta(minutes=rng.randint(35, 120)))
    if not cancelled and rng.random() < 0.15:  # thanked by hand
        messages.append(
            MessageSpec.model_validate(
                {
                    "id": f"hand-{index}",
                    "folder": "sent",
                    "from": "user",
                    "to": [panel[0]],
                    "date": finish + timedelta(minutes=20),
                    "subject": f"Thank you, {people[panel[0]].name.split()[0]}",
                    "body": "Thank you for your time today.",
                }
            )
        )
    answer = rng.random()
    when = finish + timedelta(days=rng.randint(2, 6), hours=rng.randint(0, 6))
    if not cancelled and when < end and answer < 0.5:
        rejection = answer < 0.25
        messages.append(
            MessageSpec.model_validate(
                {
                    "id": f"answer-{index}",
                    "folder": "inbox",
                    "from": panel[0],
                    "to": ["user"],
                    "date": when,
                    "subject": f"Your application at {company}"
                    if rejection
                    else f"Re: {role} at {company}",
                    "body": (
                        "Hi Alex, thank you for your time. Unfortunately, we have decided "
                        "to move forward with other candidates."
                        if rejection
                        else "Hi Alex, thanks for your note! We will get back to you "
                        "within two weeks."
                    ),
                }
            )
        )


@dataclass(frozen=True)
class _Extra:
    events: tuple[EventSpec, ...] = ()
    messages: tuple[MessageSpec, ...] = ()
    people: dict[str, PersonSpec] = field(default_factory=dict)


HOSTILE_KINDS_ALL = ("panel", "long-title", "html-bomb", "encoded-subject")
"""Hostile items every provider carries (as events and mail); file calendars add
`HOSTILE_KINDS_ICS`."""
HOSTILE_KINDS_ICS = ("bad-vtimezone", "minutely")

LONG_TITLE = 40_000
"""Characters of the title that makes `detect.ROLE_PATTERNS[2]` backtrack (issue 10, point 8:
23 s at 40 KB)."""
HTML_BOMB = 60_000
"""Bytes of `<a <a <a ...` (issue 10, point 7: quadratic in html.parser)."""
ENCODED_SUBJECT = 24_000
"""Bytes of encoded words in one Subject (issue 10, point 7; memory grows fast with it)."""


def _hostile(
    kind: str, at: datetime, start: datetime, rng: random.Random
) -> tuple[Hostile, _Extra]:
    begin = at + timedelta(hours=rng.randint(2, 30))
    finish = begin + timedelta(hours=1)
    if kind == "panel":
        people = {
            f"h{i}": PersonSpec(name=f"Panel Member {i}", address=f"member{i}@hostile.example")
            for i in range(HOSTILE_COUNT)
        }
        event = EventSpec(
            id="hostile-panel",
            title="Interview - Hostile Corp (Backend Engineer)",
            start=begin,
            end=finish,
            organizer="h0",
            attendees=tuple(people),
            conference="https://zoom.us/j/999000111",
            appears=at,
        )
        return Hostile(kind, at, frozenset(p.address for p in people.values()), PANEL_CAP), _Extra(
            events=(event,), people=people
        )
    if kind == "long-title":
        event = EventSpec(
            id="hostile-title",
            title="Interview " + "A" * LONG_TITLE,
            start=begin,
            end=finish,
            appears=at,
        )
        return Hostile(kind, at), _Extra(events=(event,))
    if kind in ("html-bomb", "encoded-subject"):
        date = at - timedelta(minutes=5)
        stamp = date.strftime("%a, %d %b %Y %H:%M:%S %z")
        if kind == "html-bomb":
            head = "Subject: Newsletter\r\nContent-Type: text/html; charset=utf-8\r\n"
            body = "<a " * (HTML_BOMB // 3)
        else:
            words = " ".join(["=?utf-8?q?a?="] * (ENCODED_SUBJECT // 15))
            head = f"Subject: {words}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            body = "hello"
        raw = (
            f"From: Mallory <mallory@hostile.example>\r\nTo: alex.kim@example.org\r\n"
            f"Date: {stamp}\r\nMessage-ID: <{kind}.chaos@hostile.example>\r\n{head}\r\n{body}\r\n"
        )
        message = MessageSpec.model_validate(
            {
                "id": f"hostile-{kind}",
                "folder": "inbox",
                "from": "mallory@hostile.example",
                "to": ["user"],
                "date": date,
                "subject": "x",
                "raw": raw,
            }
        )
        return Hostile(kind, at), _Extra(messages=(message,))
    day = begin.astimezone(ZoneInfo("UTC")).strftime("%Y%m%d")
    if kind == "bad-vtimezone":
        ics = (
            "BEGIN:VTIMEZONE\r\nTZID:Chaos/Bogus\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+2500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
            "BEGIN:VEVENT\r\nUID:hostile-tz@chaos\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART;TZID=Chaos/Bogus:{day}T100000\r\nDTEND;TZID=Chaos/Bogus:{day}T110000\r\n"
            "SUMMARY:Coffee chat\r\nEND:VEVENT\r\n"
        )
    else:  # minutely: a team sync every minute, without end (issue 10, point 6)
        ics = (
            "BEGIN:VEVENT\r\nUID:hostile-minutely@chaos\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:{day}T090000Z\r\nDTEND:{day}T090100Z\r\nRRULE:FREQ=MINUTELY\r\n"
            "SUMMARY:Team sync\r\nEND:VEVENT\r\n"
        )
    return Hostile(kind, at, ics=ics.encode()), _Extra()
