"""Load the labelled interview corpus (`fixtures/interviews/*.yaml`) into domain values.

Each YAML file holds cases of one source kind (Greenhouse, Lever, Calendly, hand-typed
entries, look-alikes...). A case is a calendar entry (`kind: calendar`, the default) or an
invitation e-mail (`kind: email`), with the labels a person would give it:

```yaml
user: Jordan Lee <jordan.lee@proton.example>   # default for the file; a case may override
language: en                                   # default for the file; a case may override:
                                               # the language detection must find (en, de,
                                               # fr, es, pt, nl), drafts are written in it
cases:
  - id: lever-kim-tran                          # unique across the corpus: the test id
    source: issue-12                            # a key of fixtures/interviews/SOURCES.md
    title: Umbrella - Technical Interview
    description: "Booked via Lever. Interviewers: Kim Tran, Principal Engineer."
    organizer: Sam Reyes <sam.reyes@umbrella.com>
    attendees:                                  # "Name <address>", or a mapping with `who`
      - Kim Tran <kim.tran@umbrella.com>
      - {who: Room 4B <room-4b@resource.calendar.google.com>, resource: true}
    expect:
      interview: true
      company: Umbrella
      role: null                                # null: no role should be named
      interviewers: [kim.tran@umbrella.com]
      facts:                                    # optional, per interviewer, for the notes
        kim.tran@umbrella.com: {title: Principal Engineer}
```

`facts` (when a case has it, even `{}`) lists every interviewer the invitation says something
about, with all of it: `title`, `topic` and `time` (the slot as the schedule writes it) are
compared exactly, an absent one must be empty; `kind` (recruiter, hiring_manager, engineer,
unknown) is compared only where it is labelled. Cases without `facts` are not checked for them.

An e-mail case has `subject`, `from`, `to`, `cc` and `body` instead. Nothing in mailagent reads
interview facts from mail yet (issue 12 point 5), so an e-mail is turned into the calendar
event its invitation would carry: the subject as the title, the body as the description, the
sender as organizer and the recipients as attendees.

This module is test and benchmark support: mailagent itself never reads the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from mailagent.core.detect import UserIdentity, detect_event
from mailagent.core.models import Attendee, CalendarEvent, EventStatus, Person, ResponseStatus

CORPUS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "interviews"
START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
_PERSON = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<address>[^<>\s]+)>\s*$")


class CorpusError(ValueError):
    """A corpus file that does not follow the format above."""


@dataclass(frozen=True, slots=True)
class Expected:
    interview: bool
    company: str = ""
    role: str = ""
    interviewers: tuple[str, ...] = ()
    facts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    facts_labelled: bool = False
    """The case labels interviewer facts (`facts:` present, maybe empty)."""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    file: str
    source: str
    kind: str
    language: str
    user: UserIdentity
    event: CalendarEvent
    expect: Expected


def parse_person(value: object) -> Person:
    """ "Name <address>", "<address>" or a bare address."""
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"a person must be 'Name <address>', not {value!r}")
    match = _PERSON.match(value)
    if match:
        return Person(match["name"].strip('"'), match["address"])
    return Person("", value.strip())


def _attendee(value: object, organizer: Person | None) -> Attendee:
    spec: Mapping[str, Any] = value if isinstance(value, Mapping) else {"who": value}
    person = parse_person(spec.get("who"))
    return Attendee(
        name=person.name,
        address=person.address,
        organizer=organizer is not None and organizer.address == person.address,
        response=ResponseStatus(spec.get("response", "unknown")),
        resource=bool(spec.get("resource", False)),
        optional=bool(spec.get("optional", False)),
    )


def _user(value: object) -> UserIdentity:
    if isinstance(value, Mapping):
        person = parse_person(value.get("who"))
        aliases = frozenset(str(a).lower() for a in value.get("aliases", ()))
        return UserIdentity(person.address, person.name, aliases)
    person = parse_person(value)
    return UserIdentity(person.address, person.name)


def _event(case_id: str, raw: Mapping[str, Any], user: UserIdentity) -> CalendarEvent:
    kind = raw.get("kind", "calendar")
    if kind == "email":
        organizer: Person | None = parse_person(raw["from"])
        title = str(raw.get("subject", ""))
        description = str(raw.get("body", ""))
        people = [organizer, *(parse_person(p) for p in (*raw.get("to", ()), *raw.get("cc", ())))]
        attendees = tuple(
            Attendee(p.name, p.address, organizer=p is organizer) for p in people if p is not None
        )
    else:
        organizer = parse_person(raw["organizer"]) if raw.get("organizer") else None
        title = str(raw.get("title", ""))
        description = str(raw.get("description", ""))
        attendees = tuple(_attendee(a, organizer) for a in raw.get("attendees", ()))
        if attendees and not any(user.is_user(a.address) for a in attendees):
            # Calendars list the user among the guests of an invitation they received.
            attendees = (*attendees, Attendee(user.name, user.address))
    minutes = int(raw.get("minutes", 45))
    return CalendarEvent(
        id=f"corpus-{case_id}",
        uid=f"{case_id}@corpus",
        title=title,
        start=START,
        end=START + timedelta(minutes=minutes),
        all_day=bool(raw.get("all_day", False)),
        status=EventStatus(raw.get("status", "confirmed")),
        organizer=organizer,
        attendees=attendees,
        description=description,
        location=str(raw.get("location", "")),
        conference_urls=tuple(str(u) for u in raw.get("urls", ())),
        recurring=bool(raw.get("recurring", False)),
    )


def _expected(raw: object, case_id: str) -> Expected:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("interview"), bool):
        raise CorpusError(f"{case_id}: `expect` needs `interview: true|false`")
    if not raw["interview"]:
        return Expected(interview=False)
    return Expected(
        interview=True,
        company=str(raw.get("company") or ""),
        role=str(raw.get("role") or ""),
        interviewers=tuple(str(a).lower() for a in raw.get("interviewers", ())),
        facts={str(k).lower(): dict(v) for k, v in (raw.get("facts") or {}).items()},
        facts_labelled="facts" in raw,
    )


def load_file(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or not isinstance(data.get("cases"), list):
        raise CorpusError(f"{path.name}: expected a mapping with a `cases` list")
    cases: list[Case] = []
    for raw in data["cases"]:
        case_id = str(raw.get("id", ""))
        if not case_id:
            raise CorpusError(f"{path.name}: a case has no id")
        try:
            user = _user(raw.get("user", data.get("user")))
            cases.append(
                Case(
                    id=case_id,
                    file=path.name,
                    source=str(raw.get("source", data.get("source", ""))),
                    kind=str(raw.get("kind", "calendar")),
                    language=str(raw.get("language", data.get("language", "en"))),
                    user=user,
                    event=_event(case_id, raw, user),
                    expect=_expected(raw.get("expect"), case_id),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorpusError(f"{path.name}: case {case_id}: {exc}") from exc
    return cases


def load_corpus(directory: Path = CORPUS_DIR) -> list[Case]:
    """Every case of every `*.yaml` file in `directory`, in file then case order."""
    cases = [case for path in sorted(directory.glob("*.yaml")) for case in load_file(path)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise CorpusError(f"case id {case.id} is used twice")
        seen.add(case.id)
    return cases


@dataclass(frozen=True, slots=True)
class Outcome:
    """What detection made of one case, next to its labels."""

    case: Case
    detected: bool
    company: str
    role: str
    interviewers: tuple[str, ...]
    verdict: str
    language: str = "en"

    @property
    def detection_ok(self) -> bool:
        return self.detected == self.case.expect.interview

    @property
    def company_ok(self) -> bool:
        return self.company == self.case.expect.company

    @property
    def role_ok(self) -> bool:
        return self.role == self.case.expect.role

    @property
    def interviewers_ok(self) -> bool:
        return sorted(self.interviewers) == sorted(self.case.expect.interviewers)

    @property
    def language_ok(self) -> bool:
        return self.language == self.case.language

    @property
    def passed(self) -> bool:
        if not self.case.expect.interview or not self.detected:
            return self.detection_ok
        return self.company_ok and self.role_ok and self.interviewers_ok and self.language_ok

    def misses(self) -> list[str]:
        """One line per label that came out wrong ("company: 'Acmecorp', want 'Acme'")."""
        expect = self.case.expect
        if not self.detection_ok:
            want = "an interview" if expect.interview else "not an interview"
            return [f"detection: {self.verdict}; want {want}"]
        if not expect.interview:
            return []
        out = []
        if not self.company_ok:
            out.append(f"company: {self.company!r}, want {expect.company!r}")
        if not self.role_ok:
            out.append(f"role: {self.role!r}, want {expect.role!r}")
        if not self.interviewers_ok:
            out.append(
                f"interviewers: {', '.join(self.interviewers) or '-'}; "
                f"want {', '.join(expect.interviewers) or '-'}"
            )
        if not self.language_ok:
            out.append(f"language: {self.language!r}, want {self.case.language!r}")
        return out


FACT_FIELDS = (("title", "title"), ("topic", "topic"), ("time", "slot"))
"""Label key and `InterviewerFacts` field of the facts compared exactly."""


def facts_misses(case: Case) -> list[str]:
    """One line per interviewer fact that came out other than labelled (see the module note);
    none when the case labels no facts."""
    if not case.expect.facts_labelled:
        return []
    interview = detect_event(case.event, case.user).interview
    if interview is None:
        return ["facts: not detected as an interview"]
    found = {f.address.lower(): f for f in interview.interviewer_facts}
    out = []
    for address in sorted(set(found) | set(case.expect.facts)):
        want = case.expect.facts.get(address, {})
        got = found.get(address)
        for key, name in FACT_FIELDS:
            value = getattr(got, name) if got else ""
            if value != str(want.get(key, "")):
                out.append(f"{address} {key}: {value!r}, want {want.get(key, '')!r}")
        if "kind" in want:
            kind = got.kind.value if got else "unknown"
            if kind != want["kind"]:
                out.append(f"{address} kind: {kind!r}, want {want['kind']!r}")
    return out


def evaluate(case: Case) -> Outcome:
    """Run `detect_event` on the case the way the runner does (no mail around it)."""
    detection = detect_event(case.event, case.user)
    interview = detection.interview
    if interview is None:
        return Outcome(case, False, "", "", (), detection.verdict)
    return Outcome(
        case,
        True,
        interview.company,
        interview.role,
        tuple(p.address.lower() for p in interview.interviewers),
        detection.verdict,
        interview.language,
    )
