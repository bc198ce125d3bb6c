"""What an invitation says about each interviewer: title, topic, time slot, side (issue 12, 3).

Design note. A thank-you note is personal when it is about that interviewer's part of the
interview, so for each interviewer this reads, from the description, in this order:

1. the schedule: a line that starts with a time and names them
   ("11:00 Ana Costa - Engineering Manager: team and roadmap",
   "1:00 PM - 1:45 PM  Gilfoyle Bertram (Infrastructure Lead)",
   "13:00-13:45 Josh Reeves (Engineering Manager): team and collaboration"): the time is
   their slot; after the name, a part in parentheses or one with a job word is their title,
   the other part their topic ("9:00 Howie Liu - Product vision");
2. other mentions of their full name: "Kim Tran, Principal Engineer", "Nan Yu (Head of
   Product)", "our COO, Martin Gray", "Molly Tendis, our CMO", a sign-off whose next line is a
   job title ("Nadia Flores" then "HR Manager") or "Ben Carter | Technical Recruiter | X";
   "Hiring Manager: Todd McKinnon" says which side they are on;
3. their display name in the invitation: "Kim Tran (Recruiter)".

A first name alone ("Interviewers: Priya, Marco") says who interviews, not what about. The
side (`InterviewerKind`) comes from the title ("Technical Recruiter", "Engineering Manager",
"Staff Engineer"), else from a technical topic ("system design"), else, for the one
interviewer of a one-to-one, from the interview's title ("Recruiter Screen", "Hiring Manager
Interview", "Technical Interview"). Nothing is guessed beyond that: an interviewer nothing is
said about gets no facts, and the note to them is the general one.

Pure: plain values in, plain values out. Every regex here reads untrusted text and is listed in
tests/test_regex_budget.py; the patterns built from a guest's name are escaped and bounded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailagent.core.facts import ROLE_WORDS, URLISH, logistics_only, name_forms
from mailagent.core.models import InterviewerFacts, InterviewerKind, Person

__all__ = ["interviewer_facts", "kind_for"]

FROM_SCHEDULE = "the invitation's schedule"
FROM_DESCRIPTION = "the invitation"
FROM_NAME = "the attendee's name"
FROM_TITLE = "the interview's title"

SLOT = re.compile(
    r"^[ \t]*(?P<slot>\d{1,2}(?:[:.h]\d{2})?(?:[ \t]*[ap]\.?m\.?)?)(?![\w:.])"
    r"(?:[ \t]*[-–—][ \t]*\d{1,2}(?:[:.h]\d{2})?(?:[ \t]*[ap]\.?m\.?)?(?![\w:.]))?",
    re.IGNORECASE,
)
"""The time a schedule line starts with ("11:00", "1:00 PM - 1:45 PM", "13:00-13:45")."""

TITLE_WORDS = re.compile(
    r"\b(?:founder|co-?founder|partner|president|owner|principal|c[a-z]o|hr|evp|svp|senior|"
    r"junior|staff)\b",
    re.IGNORECASE,
)
"""Job words `facts.ROLE_WORDS` does not know ("Co-founder", "CMO", "Talent Partner")."""

RECRUITER_TITLE = re.compile(
    r"\b(?:recruit\w*|talent|sourcer|hr|human resources|people (?:partner|ops|operations|team)|"
    r"head of people|(?:recruiting |hiring |interview )?coordinator|"
    # German, French, Spanish, Portuguese, Dutch
    r"rh|rrhh|recursos humanos|ressources humaines|recrut\w*|reclut\w*|charg[ée]e? de recrutement|"
    r"personalreferent(?:in)?|personalabteilung|personalerin|personaler|werving\w*|"
    r"talentmanager)\b|personalreferent|recruiterin",
    re.IGNORECASE,
)
INDIVIDUAL_MANAGER = re.compile(
    r"\b(?:product|project|program|account|marketing|customer success|community|success|"
    r"content|social media|office) manager\b",
    re.IGNORECASE,
)
"""Managers of a thing, not of people: "Product Manager" is a peer, not the hiring manager."""
LEADER_TITLE = re.compile(
    r"\b(?:hiring manager|manager|director|head|vp|vice president|chief|founder|co-?founder|"
    r"c[a-z]o|president|owner|lead|team lead|"
    # German, French, Spanish, Portuguese, Dutch
    r"gesch[äa]ftsf[üu]hrer(?:in)?|f[üu]hrungskraft|directeur|directrice|responsable|drh|"
    r"chef(?:fe)? d['’ ]\w+|jef[ea]|director(?:a)?|gerente|diretor(?:a)?|gestor(?:a)?|"
    r"teamleider|leidinggevende|hoofd|afdelingshoofd)\b|leiter(?:in)?\b",
    re.IGNORECASE,
)
ENGINEER_TITLE = re.compile(
    r"\b(?:engineer|engineering|developer|architect|scientist|sre|devops|programmer|"
    r"technical|technologist|"
    # German, French, Spanish, Portuguese, Dutch
    r"d[ée]veloppeu(?:r|se)|ing[ée]nieur(?:e)?|desarrollador(?:a)?|ingenier[oa]|"
    r"desenvolvedor(?:a)?|engenheir[oa]|programador(?:a)?|ontwikkelaar|architekt(?:in)?|"
    r"architecte|arquitect[oa]|arquitet[oa])\b|entwickler(?:in)?\b|ingenieur(?:in)?\b",
    re.IGNORECASE,
)
TECHNICAL_TOPIC = re.compile(
    r"\b(?:coding|system(?:s)? design|technical|architecture|algorithms?|data structures|"
    r"debugging|pair programming|whiteboard|take-?home|live coding|"
    # German, French, Spanish, Portuguese, Dutch
    r"live-coding|architektur|technisch(?:e|es)?|technique|t[ée]cnic[oa]|programmation|"
    r"programaci[óo]n|programa[çc][ãa]o|codeer\w*)\b",
    re.IGNORECASE,
)
ROUND_KINDS: tuple[tuple[InterviewerKind, re.Pattern[str]], ...] = (
    (
        InterviewerKind.RECRUITER,
        re.compile(
            r"\b(?:recruiter|recruiting|talent acquisition|hr)[ -](?:screen(?:ing)?|call|chat|"
            r"interview|conversation)\b",
            re.IGNORECASE,
        ),
    ),
    (
        InterviewerKind.RECRUITER,
        re.compile(
            r"\b(?:interview|entretien|entrevista|gespr[äa]ch|gesprek|conversa|bate-papo|charla|"
            r"llamada|appel|telefoninterview|call|chat)\b[^\n]{0,20}?\b(?:rh|rrhh|hr|"
            r"recursos humanos|ressources humaines|recrutador(?:a)?|recruteu(?:r|se)|"
            r"reclutador(?:a)?|personalabteilung|recruiter)\b",
            re.IGNORECASE,
        ),
    ),
    (
        InterviewerKind.HIRING_MANAGER,
        re.compile(
            r"\b(?:hiring manager|hm)\b|\b(?:entretien|entrevista|gespr[äa]ch|gesprek|conversa)\b"
            r"[^\n]{0,20}?\b(?:manager|gerente|gestor(?:a)?|f[üu]hrungskraft|teamleiter(?:in)?|"
            r"leidinggevende|responsable)\b",
            re.IGNORECASE,
        ),
    ),
    (
        InterviewerKind.ENGINEER,
        re.compile(
            r"\b(?:technical|tech screen|coding|system(?:s)? design|pair programming|"
            r"fachgespr[äa]ch|technisches (?:interview|gespr[äa]ch)|entretien technique|"
            r"entrevista t[ée]cnica|technisch (?:interview|gesprek)|teste t[ée]cnico|"
            r"prueba t[ée]cnica|test technique)\b",
            re.IGNORECASE,
        ),
    ),
)
"""The interview's title says whose side its one interviewer is on ("Recruiter Screen")."""

SIDE_LABELS: tuple[tuple[InterviewerKind, re.Pattern[str]], ...] = (
    (
        InterviewerKind.HIRING_MANAGER,
        re.compile(
            r"(?i)^[ \t]*(?:hiring manager|manager|f[üu]hrungskraft|fachbereich|gerente|"
            r"gestor(?:a)?|leidinggevende)[ \t]*[:\-–]"
        ),
    ),
    (
        InterviewerKind.RECRUITER,
        re.compile(
            r"(?i)^[ \t]*(?:your )?(?:recruiter(?:in)?|recruteu(?:r|se)|charg[ée]e? de recrutement|"
            r"reclutador(?:a)?|recrutador(?:a)?|personalreferent(?:in)?|rh|rrhh|hr)[ \t]*[:\-–]"
        ),
    ),
)
"""A line that labels the people it names: "Hiring Manager: Todd McKinnon"."""

PARENTHESISED = re.compile(r"^[ \t]*\((?P<inner>[^()\n]{1,80})\)")
LEAD_SEPARATOR = re.compile(r"^[ \t]*(?:[-–—|:,][ \t]*)+")
PART_SEPARATOR = re.compile(r"(?<![ \t])[ \t]+[-–—|][ \t]+|:[ \t]*|(?<![ \t])[ \t]*\|[ \t]*")
"""`(?<![ \t])`: a run of spaces starts a separator only at its first space (linear time)."""
LIST_END = re.compile(r"[;.,|\n]|(?<![ \t])[ \t]+(?:and|for|will|who|is)[ \t]")
"""Where a title written after a name ends: "..., Design Manager; Sara Lind, ..."."""
OUR = re.compile(r"(?i)^(?:our|the|my|a|an|your)[ \t]+")
TITLE_BEFORE = re.compile(
    r"(?i)\b(?:our|the|my)[ \t]+(?P<title>[\w&'.-]+(?:[ \t]+[\w&'.-]+){0,4}),?[ \t]+$"
)
"""A title just before a name: "joined by our COO, Martin Gray"."""
TRAILING = " \t.,;:'\"-–—"
NAME_PAREN = re.compile(r"\((?P<inner>[^()]{2,60})\)[ \t]*$")
NAME_PARTS = re.compile(r"(?<![ \t])[ \t]+[-–—|][ \t]+|(?<![ \t])[ \t]*\|[ \t]*")
"""A title in a display name: "Kim Tran (Recruiter)", "Kim Tran - Recruiter"."""


def _is_title(text: str) -> bool:
    """A job title: starts with a capital ("about the Developer Advocate role" is a phrase)
    and has a job word."""
    return text[:1].isupper() and (
        ROLE_WORDS.search(text) is not None or TITLE_WORDS.search(text) is not None
    )


def _usable(text: str) -> str:
    """`text` as a title or topic, or "" when it is too long, a URL or a sentence."""
    text = " ".join(text.split()).strip(TRAILING)
    if not text or len(text) > 60 or len(text.split()) > 7 or URLISH.search(text):
        return ""
    return text


def kind_for(title: str, topic: str = "") -> InterviewerKind:
    """The side a job title (else a technical topic) puts an interviewer on."""
    if title:
        if RECRUITER_TITLE.search(title):
            return InterviewerKind.RECRUITER
        if LEADER_TITLE.search(title) and not INDIVIDUAL_MANAGER.search(title):
            return InterviewerKind.HIRING_MANAGER
        if ENGINEER_TITLE.search(title):
            return InterviewerKind.ENGINEER
    if topic and TECHNICAL_TOPIC.search(topic):
        return InterviewerKind.ENGINEER
    return InterviewerKind.UNKNOWN


def _name_at(line: str, person: Person) -> re.Match[str] | None:
    """The first mention of `person`'s full name in `line` (not a first name alone)."""
    for form in name_forms(person):
        if len(form.split()) < 2:
            continue
        found = re.search(rf"(?<!\w){re.escape(form)}(?!\w)", line, re.IGNORECASE)
        if found:
            return found
    return None


def _after_name(rest: str, *, schedule: bool) -> tuple[str, str]:
    """(title, topic) from what follows a name: "(Engineering Manager): team and collaboration",
    " - Staff Engineer: system design", ", Principal Engineer." or " - Product vision"."""
    paren = PARENTHESISED.match(rest)
    if paren:
        title = _usable(paren["inner"])
        tail = LEAD_SEPARATOR.sub("", rest[paren.end() :])
        return title, (_usable(tail.split("\n", 1)[0]) if schedule else "")
    rest = LEAD_SEPARATOR.sub("", OUR.sub("", rest.lstrip(" \t,")))
    if schedule:
        parts = PART_SEPARATOR.split(rest.split("\n", 1)[0], maxsplit=1)
        head = _usable(parts[0])
        tail = _usable(parts[1]) if len(parts) > 1 else ""
        if head and tail:
            return (head, tail) if _is_title(head) else ("", _usable(f"{parts[0]}: {parts[1]}"))
        return (head, "") if _is_title(head) else ("", head)
    cut = LIST_END.search(rest)
    head = OUR.sub("", rest[: cut.start()] if cut else rest)
    head = _usable(head)
    return (head if _is_title(head) else ""), ""


def _from_schedule(description: str, person: Person) -> InterviewerFacts | None:
    for line in description.splitlines():
        slot = SLOT.match(line)
        if slot is None or logistics_only(line):
            continue
        found = _name_at(line, person)
        if found is None:
            continue
        title, topic = _after_name(line[found.end() :], schedule=True)
        return InterviewerFacts(
            person.address,
            title=title,
            topic=topic,
            slot=" ".join(slot["slot"].split()),
            source=FROM_SCHEDULE,
        )
    return None


def _from_mentions(description: str, person: Person) -> InterviewerFacts | None:
    lines = description.splitlines()
    for number, line in enumerate(lines):
        found = _name_at(line, person)
        if found is None:
            continue
        kind = next((k for k, label in SIDE_LABELS if label.search(line)), InterviewerKind.UNKNOWN)
        title, _ = _after_name(line[found.end() :], schedule=False)
        if not title:
            before = TITLE_BEFORE.search(line[max(0, found.start() - 60) : found.start()])
            if before and _is_title(before["title"]):
                title = _usable(before["title"])
        alone = not line[: found.start()].strip(TRAILING) and not line[found.end() :].strip(
            TRAILING
        )
        if not title and alone:
            following = next((x for x in lines[number + 1 :] if x.strip()), "")
            signed = _usable(following.split(",")[0]) if ":" not in following else ""
            title = signed if _is_title(signed) and len(signed.split()) <= 5 else ""
        if title or kind is not InterviewerKind.UNKNOWN:
            return InterviewerFacts(person.address, title=title, kind=kind, source=FROM_DESCRIPTION)
    return None


def _from_display_name(person: Person) -> InterviewerFacts | None:
    name = person.name
    paren = NAME_PAREN.search(name)
    if paren:
        title = _usable(paren["inner"])
    else:
        parts = NAME_PARTS.split(name, maxsplit=1)
        title = _usable(parts[1]) if len(parts) > 1 else ""
    if title and _is_title(title):
        return InterviewerFacts(person.address, title=title, source=FROM_NAME)
    return None


def _one(person: Person, description: str) -> InterviewerFacts | None:
    return (
        _from_schedule(description, person)
        or _from_mentions(description, person)
        or _from_display_name(person)
    )


def interviewer_facts(
    interviewers: Sequence[Person], description: str, title: str = ""
) -> tuple[InterviewerFacts, ...]:
    """The facts the invitation gives about each of `interviewers` (see the module note), for
    those it says anything about, in their order."""
    out: list[InterviewerFacts] = []
    for person in interviewers:
        facts = _one(person, description)
        kind = facts.kind if facts else InterviewerKind.UNKNOWN
        if facts and kind is InterviewerKind.UNKNOWN:
            kind = kind_for(facts.title, facts.topic)
        source = facts.source if facts else ""
        if kind is InterviewerKind.UNKNOWN and len(interviewers) == 1:
            kind = next(
                (k for k, pattern in ROUND_KINDS if pattern.search(title)), InterviewerKind.UNKNOWN
            )
            if kind is not InterviewerKind.UNKNOWN and not source:
                source = FROM_TITLE
        if facts is None and kind is InterviewerKind.UNKNOWN:
            continue
        base = facts or InterviewerFacts(person.address)
        out.append(
            InterviewerFacts(
                person.address.lower(), base.title, base.topic, base.slot, kind, source
            )
        )
    return tuple(out)
