"""What `mailagent explain` finds and says.

A person types what they know of a meeting: a word or two of its title, the company, or the
start of an id that `status` printed (an interview id, an event id or a calendar UID), in any
case. A repeating meeting is one series (its UID) shown once, with its occurrences, rather
than once per occurrence. `--rejected` lists the events detection set aside, with why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailagent import serialize
from mailagent.core.identity import SignedAs
from mailagent.core.language import LANGUAGE_NAMES
from mailagent.core.models import Detection, Interview, InterviewerFacts, InterviewerKind, Person
from mailagent.core.planner import Schedule
from mailagent.report import Page
from mailagent.store import Decision, StoredDraft
from mailagent.textlines import WIDTH

_WORD = re.compile(r"\w+")

OCCURRENCES_SHOWN = 12
"""Occurrences of a series listed one per line; the rest are counted."""


@dataclass(frozen=True)
class Series:
    """The occurrences of one calendar entry (one UID), oldest first; one for a single event."""

    account: str
    detections: tuple[Detection, ...]

    @property
    def first(self) -> Detection:
        return self.detections[0]

    @property
    def interview_ids(self) -> list[str]:
        return [d.interview.id for d in self.detections if d.interview is not None]


def series(account: str, detections: Sequence[Detection]) -> list[Series]:
    """`detections` grouped by calendar UID, in the order of each series' first occurrence."""
    groups: dict[str, list[Detection]] = {}
    for detection in sorted(detections, key=lambda d: (d.event.start, d.event.id)):
        groups.setdefault(detection.event.uid or detection.event.id, []).append(detection)
    return [Series(account, tuple(group)) for group in groups.values()]


def matches(detection: Detection, query: str) -> bool:
    """Whether `query` names this event, ignoring case: the start of its interview id, event
    id or UID; the interview's company; or words that all appear in its title."""
    wanted = " ".join(query.split()).casefold()
    if not wanted:
        return False
    interview = detection.interview
    ids = [detection.event.id, detection.event.uid, interview.id if interview else ""]
    if any(i.casefold().startswith(wanted) for i in ids if i):
        return True
    if interview is not None and interview.company.casefold() == wanted:
        return True
    words = _WORD.findall(wanted)
    title = set(_WORD.findall(detection.event.title.casefold()))
    return bool(words) and all(w in title for w in words)


# -- one series, explained -----------------------------------------------------------------------


@dataclass(frozen=True)
class Explained:
    """A series and what the agent did for the interviews in it."""

    series: Series
    drafts: Sequence[StoredDraft]
    schedules: Sequence[Schedule]
    decisions: Sequence[Decision]
    signed: SignedAs | None = None
    """The name the account's drafts are signed with, and where it came from."""
    language: str = "auto"
    """The policy's `language`: "auto", or the one every draft is written in."""


def to_json(item: Explained) -> dict[str, Any]:
    """The first occurrence as `detection` (the shape `explain --json` always had), and every
    occurrence under `occurrences`."""
    found = item.series
    return dict(
        serialize.to_plain(
            {
                "account": found.account,
                "detection": found.first,
                "drafts": list(item.drafts),
                "scheduled": list(item.schedules),
                "decisions": list(item.decisions),
            }
        ),
        occurrences=[_occurrence(d) for d in found.detections],
        signed_as=item.signed.to_json() if item.signed else None,
    )


def _occurrence(detection: Detection) -> dict[str, Any]:
    return {
        "event_id": detection.event.id,
        "start": detection.event.start.isoformat(),
        "end": detection.event.end.isoformat(),
        "interview": detection.interview.id if detection.interview else None,
        "verdict": detection.verdict,
    }


def render(item: Explained, zone: ZoneInfo, width: int = WIDTH) -> list[str]:
    page = Page(zone, width, [])
    say = page.say
    found = item.series
    first = found.first
    event = first.event
    if len(found.detections) == 1:
        say(f"{event.title} ({_span(page, event.start, event.end)})")
    else:
        say(f"{event.title}: {len(found.detections)} occurrences of a repeating meeting")
        _occurrences(page, found, first.verdict)
    say(f"verdict: {first.verdict}")
    say("signals:")
    for signal in first.signals:
        say(str(signal), 2)
    interview = next((d.interview for d in found.detections if d.interview), None)
    if interview is not None:
        domains = ", ".join(interview.company_domains) or "no domain"
        say(f"company: {interview.company or '?'} ({domains}); role: {interview.role or '?'}")
        people = ", ".join(f"{p.name} <{p.address}>" for p in interview.interviewers)
        say(f"interviewers: {people or 'none'}")
        say(_language_line(interview, item.language))
        for person in interview.interviewers:
            say(interviewer_line(person, interview.facts_for(person.address)), 2)
        if item.signed is not None:
            say(f"drafts signed {item.signed.describe()}")
    for d in item.drafts:
        step = f" {d.step}" if d.step else ""
        say(f"draft {d.kind.value}{step} to {d.recipient}: {d.status}; {d.reason}")
    for s in item.schedules:
        step = f" {s.step}" if s.step else ""
        say(
            f"scheduled {s.kind.value}{step} to {s.recipient} for "
            f"{page.when(s.draft_at)}: {s.reason}"
        )
    for decision in item.decisions:
        say(f"decision ({page.when(decision.at)}): {decision.text}")
    return page.lines


KIND_NOTES = {
    InterviewerKind.RECRUITER: "a recruiter's note",
    InterviewerKind.HIRING_MANAGER: "a hiring manager's note",
    InterviewerKind.ENGINEER: "an engineer's note",
}


def interviewer_line(person: Person, facts: InterviewerFacts) -> str:
    """What the thank-you to `person` is based on: "Ana Costa: Engineering Manager, team and
    roadmap, at 11:00 (from the invitation's schedule); a hiring manager's note"."""
    who = person.name or person.address
    said = [facts.title, facts.topic, f"at {facts.slot}" if facts.slot else ""]
    known = ", ".join(s for s in said if s)
    if facts.source:
        known = f"{known} (from {facts.source})" if known else f"from {facts.source}"
    note = KIND_NOTES.get(facts.kind, "")
    if not known and not note:
        return f"{who}: nothing said about them; the general note"
    return f"{who}: " + "; ".join(s for s in (known, note) if s)


def _language_line(interview: Interview, forced: str = "auto") -> str:
    """ "written in German: the title says "Vorstellungsgespräch"", or the English default;
    when the policy forces a language, that, and what the invitation reads as."""
    name = LANGUAGE_NAMES.get(interview.language, interview.language)
    if forced not in {"auto", interview.language}:
        forced_name = LANGUAGE_NAMES.get(forced, forced)
        read = f"{name}: {interview.language_reason}" if interview.language_reason else name
        return f"written in {forced_name}: the policy says language: {forced} (the invitation reads as {read})"
    if not interview.language_reason:
        return f"written in {name} (nothing says another language)"
    return f"written in {name}: {interview.language_reason}"


def _span(page: Page, start: datetime, end: datetime) -> str:
    return f"{page.when(start)} - {end.astimezone(page.zone):%H:%M}"


def _occurrences(page: Page, found: Series, verdict: str, indent: int = 2) -> None:
    """One line per occurrence (its own verdict when it differs from the first's)."""
    for detection in found.detections[:OCCURRENCES_SHOWN]:
        line = _span(page, detection.event.start, detection.event.end)
        if detection.verdict != verdict:
            line += f": {detection.verdict}"
        page.say(line, indent)
    rest = len(found.detections) - OCCURRENCES_SHOWN
    if rest > 0:
        page.say(f"... and {rest} more", indent)


# -- what detection set aside --------------------------------------------------------------------


def rejected(found: Sequence[Series]) -> list[Series]:
    """The series none of whose occurrences is an interview."""
    return [s for s in found if not s.interview_ids]


def rejected_json(item: Series) -> dict[str, Any]:
    first = item.first
    return {
        "account": item.account,
        "uid": first.event.uid,
        "title": first.event.title,
        "verdict": first.verdict,
        "score": first.score,
        "signals": serialize.to_plain(first.signals),
        "occurrences": [_occurrence(d) for d in item.detections],
    }


def render_rejected(items: Sequence[Series], zone: ZoneInfo, width: int = WIDTH) -> list[str]:
    page = Page(zone, width, [])
    for number, item in enumerate(items):
        if number:
            page.lines.append("")
        first = item.first
        page.say(first.event.title or "(untitled)")
        page.say(first.verdict, 2)
        ident = first.event.uid or first.event.id
        if len(item.detections) == 1:
            page.say(f"{_span(page, first.event.start, first.event.end)} ({ident})", 2)
        else:
            page.say(f"{len(item.detections)} occurrences ({ident}):", 2)
            _occurrences(page, item, first.verdict, indent=4)
    return page.lines
