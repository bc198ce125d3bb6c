"""Turn a `DraftRequest` into the text of a draft: subject, body, recipients and threading.

Design notes
------------
- Pure: no clock reads, no network, no mailbox. The interview start is formatted in
  ``request.timezone``; everything else comes from the request.
- Templates are Jinja2, rendered in a `jinja2.sandbox.SandboxedEnvironment` with
  `StrictUndefined` (a typo in a user template is an error, not a silent blank).
- The shipped templates (``mailagent/templates/*.txt.j2``) are **plain text**: ``*.txt.j2`` files
  are rendered with autoescaping off. Files named ``*.html.j2`` are rendered with autoescaping on
  (``select_autoescape``), and the ``|e`` filter HTML-escapes a value explicitly in any template.
  `TemplateComposer.compose` uses ``<kind>.txt.j2`` for English and ``<language>/<kind>.txt.j2``
  for the other languages (``de/thank_you.txt.j2``); `TemplateComposer.render` renders any name.
- A user template folder overrides the shipped templates file by file: the folder is searched
  first, then the package. A missing user file falls back to the shipped one; a user file with a
  syntax error raises `ConfigError` naming the file and line.

Untrusted input
---------------
Interview titles, roles, companies, names and subjects come from calendars and mail written by
strangers. Every such value is passed to templates as *data* (never rendered as a template) after
`clean_text`: control characters are removed, and line breaks, tabs and other white space collapse
to one space, so a value cannot start a new paragraph or a header line. Subjects are one line,
without control characters, at most `SUBJECT_LIMIT` characters.

Template context
----------------
Every template is rendered with these variables (all strings unless said otherwise):

``first_name``
    the name to greet the recipient by: the first name, skipping honorifics ("Dr. Priya Raman"
    gives "Priya"; "Dr. Raman" gives "Dr. Raman"); empty when the name is unknown.
``interviewer``
    the recipient: ``interviewer.name``, ``interviewer.address``, ``interviewer.first_name``,
    and what the invitation says about them (`mailagent.core.interviewer_facts`), each empty when
    unknown: ``interviewer.title`` ("Engineering Manager"), ``interviewer.topic`` (their part
    of the interview, lower-cased but for acronyms, and as written in German: "team and
    roadmap", "Team und Roadmap"), ``interviewer.slot`` (their time in the
    schedule, as written: "11:00") and ``interviewer.kind`` ("recruiter", "hiring_manager",
    "engineer" or "unknown").
``topic_is_activity`` (bool)
    the topic names a kind of session ("coding", "technical deep dive", "wrap-up") rather
    than a subject ("team and roadmap"), so it reads as "our coding session".
``panel`` (bool)
    the interview has more than one interviewer.
    ``interviewer.full_name`` ("Anna Schmidt", also for "Schmidt, Anna"; German greets by it).
``role``, ``company``
    the job title and the company; either may be empty.
``role_phrase``
    "the Senior Data Engineer role at Acme", "the Senior Data Engineer role", "the role at Acme"
    or "the role", whichever the known values allow; in the draft's language
    (`mailagent.core.locales`: "die Position als ... bei Acme", "le poste de ... chez Acme"...).
``interview_date``
    the interview's day in the user's time zone and the draft's language, e.g. "Tuesday,
    November 17", "Dienstag, 17. November", "mardi 17 novembre".
``language``
    the draft's language code (en, de, fr, es, pt, nl): the interview's, or the policy's.
``interview_title``, ``round_label``
    the calendar title of the interview and its round ("Onsite", "Phone screen"...), maybe empty.
``user_name``, ``user_first_name``
    the user's name and first name: the config's ``user_name``, else the name learned from
    the mailbox (`mailagent.core.identity`); empty when no name is known, never an address, so a
    template's sign-off line ("Best regards,") then stands alone.
``step`` (int)
    1 for the first follow-up, 2 for the second...; 1 for other kinds.
``kind``
    "thank_you", "follow_up" or "rejection_reply".
``reply_subject``
    for replies, the answered message's subject with one "Re: "; a fresh subject when there is
    no message to answer; empty for a thank-you.
``default_subject``
    the subject used when the template does not set one.

A template sets the subject with a first line ``Subject: ...`` followed by a blank line;
`compose` splits that line off. Without it the subject is ``default_subject``.

Spots to fill
-------------
A template marks text the user must write (or delete) before sending as a *placeholder*: square
brackets around words that start with a capital letter, on one line, e.g.
``[Mention something specific from your conversation...]`` or ``[Optional: ...]``.
`placeholders` finds them; the planner notes, and `status` shows, a draft the user sent with one
still in it (quoted lines, starting with ``>``, are not the user's text and are not read).
"""

from __future__ import annotations

import html
import re
import traceback
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from mailagent.core.locales import LOCALES, locale_for
from mailagent.core.models import DraftContent, DraftKind, DraftRequest, Message, Person
from mailagent.errors import ConfigError

__all__ = [
    "SUBJECT_LIMIT",
    "Composer",
    "Rendered",
    "TemplateComposer",
    "build_context",
    "clean_text",
    "greeting_name",
    "placeholders",
    "reply_subject",
    "thread_references",
]

SUBJECT_LIMIT = 200
"""Characters in a subject. RFC 5322 section 2.1.1 asks for lines of at most 78 characters;
headers are folded by the provider, this only bounds what a stranger's subject can grow to."""

VALUE_LIMIT = 200
"""Characters kept of one untrusted value (a name, role, company or title)."""

REFERENCES_LIMIT = 20
"""Message-IDs kept in References: the newest ones, as RFC 5322 section 3.6.4 allows trimming."""

PACKAGE_TEMPLATES = Path(__file__).parent.parent / "templates"

_PLACEHOLDER = re.compile(r"\[[^\W\d_][^\[\]\n]{0,400}\]")
"""A spot to fill (see "Spots to fill"); bounded, so a "[" never costs more than 400 steps.
It starts with a letter of any alphabet; `placeholders` keeps those that start with a capital
("[Élément ...]", "[Ein Punkt ...]")."""


def placeholders(text: str) -> tuple[str, ...]:
    """The spots to fill still in `text`: bracketed text of at least two words starting with a
    capital letter, in any language ("[Mention ...]", "[Élément ...]"; not "[1]" nor
    "[URGENT]"), outside quoted lines."""
    own = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    return tuple(
        m.group(0)
        for m in _PLACEHOLDER.finditer(own)
        if m.group(0)[1].isupper() and " " in m.group(0).strip()
    )


# Unicode bidi embedding, override and isolate controls: they can make a name display as
# something else (CVE-2021-42574 "Trojan Source" is the same trick in code).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Reply prefixes that mail clients write in various languages ("Re:", "AW:", "SV:", "Réf. :",
# "回复" with a full-width colon, "Re[2]:"...). A subject starting with one is not prefixed again.
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|antwort|odp|ynt|ref|réf|rif|res|svar|vá|отв|回复|答复|回覆)"
    r"\.?\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)

_HONORIFICS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "professor", "sir", "dame", "herr", "frau"}
)
_SUFFIXES = frozenset(
    {"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "cpa", "esq", "pe", "rn", "dds", "msc"}
)

_SUBJECT_LINE = re.compile(r"\ASubject:[ \t]*(?P<subject>[^\n]*)\n(?:[ \t]*\n)?", re.IGNORECASE)


class Composer(Protocol):
    """Writes the text of one draft. Pure: the same request gives the same draft."""

    def compose(self, request: DraftRequest) -> DraftContent: ...


def clean_text(value: str, limit: int = VALUE_LIMIT) -> str:
    """One line of printable text from an untrusted value.

    Line breaks, tabs and other white space (including U+2028/U+2029 and the separators
    `str.splitlines` honours) become one space; other control, surrogate and bidi-control
    characters are removed. The result is stripped and at most `limit` characters long.
    """
    out: list[str] = []
    for char in value:
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            out.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or char in _BIDI_CONTROLS:
            continue
        else:
            out.append(char)
    text = " ".join("".join(out).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _is_honorific(token: str) -> bool:
    return token.rstrip(".").lower() in _HONORIFICS


def _is_suffix(token: str) -> bool:
    return token.replace(".", "").lower() in _SUFFIXES


def _is_initial(token: str) -> bool:
    return len(token.rstrip(".")) <= 1


def greeting_name(person: Person) -> str:
    """The name to greet `person` by, or "" when there is none worth using.

    `Person.first_name` is naive; this skips honorifics ("Dr. Priya Raman" gives "Priya"),
    reads "Raman, Priya" and "Priya Raman, PhD", and keeps the honorific when only a surname
    follows it ("Dr. Raman"): greeting a surname alone would read as rude. A name that is an
    address, or whose first name is an initial, is used whole or not at all.
    """
    name = clean_text(person.name).strip("\"'")
    if not name or "@" in name:
        return ""
    head, comma, tail = name.partition(",")
    tail_tokens = tail.split()
    if comma and tail_tokens and not all(_is_suffix(t) for t in tail_tokens):
        tokens = tail_tokens  # "Raman, Priya" or "Raman, Dr. Priya"
        surname = head.split()
    else:
        tokens = head.split()
        surname = []
    tokens = [t for t in tokens if not _is_suffix(t)] or tokens
    honorifics = [t for t in tokens if _is_honorific(t)]
    given = [t for t in tokens if not _is_honorific(t)]
    if not given:
        return ""
    if honorifics and len(given) == 1 and not surname:
        return f"{honorifics[0]} {given[0]}"  # "Dr. Raman"
    if _is_initial(given[0]):
        return " ".join(given + surname)  # "P. Raman": no first name to use
    return given[0]


def reply_subject(subject: str) -> str:
    """The subject of a reply: one line, with a single reply prefix, at most SUBJECT_LIMIT long.

    "Interview" gives "Re: Interview"; "RE: Interview", "AW: Interview", "Sv: ..." and other
    clients' prefixes are kept as they are.
    """
    text = clean_text(subject, limit=SUBJECT_LIMIT)
    if _REPLY_PREFIX.match(text):
        return text
    return clean_text(f"Re: {text}", limit=SUBJECT_LIMIT)


def _clean_message_id(value: str) -> str:
    # A msg-id (RFC 5322 section 3.6.4) never contains white space or controls; removing them
    # keeps a stranger's header value from breaking the draft's header block.
    return "".join(c for c in value if not c.isspace() and unicodedata.category(c)[0] != "C")


def thread_references(message: Message) -> tuple[str, ...]:
    """The References of a reply to `message`: its References then its Message-ID, without
    duplicates (first occurrence kept), the newest `REFERENCES_LIMIT` only."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in (*message.references, message.message_id):
        ref = _clean_message_id(raw)
        if ref and ref not in seen:
            seen.add(ref)
            out.append(ref)
    return tuple(out[-REFERENCES_LIMIT:])


def _format_day(start: datetime, timezone: str, language: str = "en") -> str:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {timezone!r}",
            advice="Set `timezone` to an IANA name such as Europe/Berlin or America/New_York.",
        ) from exc
    return locale_for(language).day(start.astimezone(zone).date())


def _role_phrase(role: str, company: str, language: str = "en") -> str:
    return locale_for(language).role_phrase(role, company)


def _thank_you_subject(role: str, company: str, language: str = "en") -> str:
    # Not "today's conversation": the user may review and send the draft the next day.
    return locale_for(language).thank_you(role, company)


def _full_name(person: Person) -> str:
    """The whole name, "First Last" (German greets by it: "Guten Tag Anna Schmidt")."""
    name = clean_text(person.name).strip("\"'")
    if not name or "@" in name:
        return ""
    last, comma, first = name.partition(",")
    if comma and first.strip() and not all(_is_suffix(t) for t in first.split()):
        return f"{first.strip()} {last.strip()}"
    return name


def _user_name(user: Person) -> str:
    """The name to sign with; "" when there is none (never the address: a sign-off that
    stands alone reads better than "jordan.lee@proton.example")."""
    name = clean_text(user.name)
    return "" if "@" in name else name


_ACTIVITY_TOPIC = re.compile(
    r"(?:\b(?:dive|wrap-?up|review|exercise|session|interview|screen|chat|intro|walkthrough|"
    r"presentation|challenge|assessment|pairing)|^(?:technical|coding|live coding|behaviou?ral|"
    r"cultur(?:e|al)|values|culture fit|pair programming|whiteboard|onsite|debrief))$",
    re.IGNORECASE,
)
"""A topic that names a kind of session; bounded words and anchors, linear time."""


def _fact_text(value: str) -> str:
    """A title or topic from the invitation as one clean line without brackets (a stranger's
    "]" must not end a marked spot early, nor a "[" open one)."""
    return clean_text(value.translate({ord("["): " ", ord("]"): " "}), limit=80)


def _topic_text(topic: str, language: str) -> str:
    """ "Technical Deep Dive" as "technical deep dive", keeping acronyms ("API design").
    German keeps the topic as written: its nouns are capitalised ("Team und Roadmap")."""
    if language == "de":
        return _fact_text(topic)
    words = _fact_text(topic).split()
    return " ".join(w if (len(w) > 1 and w.isupper()) else w.lower() for w in words)


def build_context(request: DraftRequest) -> dict[str, Any]:
    """The template context for `request` (see the module docstring); every string is clean."""
    interview = request.interview
    role = clean_text(interview.role)
    company = clean_text(interview.company)
    first_name = greeting_name(request.to)
    language = request.language if request.language in LOCALES else "en"
    if request.kind is DraftKind.THANK_YOU:
        threaded = ""
        default_subject = _thank_you_subject(role, company, language)
    elif request.reply_to is not None:
        threaded = reply_subject(request.reply_to.subject)
        default_subject = threaded
    else:
        fresh = locale_for(language).follow_up(role)
        threaded = clean_text(fresh, limit=SUBJECT_LIMIT)
        default_subject = threaded
    user_name = _user_name(request.user)
    facts = request.interviewer_facts
    topic = _topic_text(facts.topic, language)
    return {
        "first_name": first_name,
        "interviewer": {
            "name": clean_text(request.to.name),
            "address": clean_text(request.to.address),
            "first_name": first_name,
            "title": _fact_text(facts.title),
            "topic": topic,
            "slot": _fact_text(facts.slot),
            "kind": str(facts.kind),
            "full_name": _full_name(request.to),
        },
        "topic_is_activity": bool(topic) and _ACTIVITY_TOPIC.search(topic) is not None,
        "panel": len(interview.interviewers) > 1,
        "role": role,
        "company": company,
        "role_phrase": _role_phrase(role, company, language),
        "interview_date": _format_day(interview.start, request.timezone, language),
        "interview_title": clean_text(interview.title),
        "round_label": clean_text(interview.round_label),
        "user_name": user_name,
        "user_first_name": greeting_name(request.user) or user_name,
        "step": max(request.step, 1),
        "kind": str(request.kind),
        "reply_subject": threaded,
        "default_subject": clean_text(default_subject, limit=SUBJECT_LIMIT),
        "language": language,
    }


def _tidy_body(text: str) -> str:
    """Normalise line endings, trailing blanks and runs of empty lines a template left behind."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return body + "\n"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered template: the subject it set ("" when none) and the body."""

    subject: str
    body: str


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    """The template line a runtime error happened on, from Jinja's rewritten traceback."""
    if filename is None:
        return None
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def template_name(kind: DraftKind, language: str) -> str:
    """ "thank_you.txt.j2" for English, "de/thank_you.txt.j2" for German..."""
    name = f"{kind}.txt.j2"
    return name if language == "en" else f"{language}/{name}"


class TemplateComposer:
    """A `Composer` that renders Jinja templates: the user's folder first, then the shipped ones."""

    def __init__(self, template_dir: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if template_dir is not None:
            if not template_dir.is_dir():
                raise ConfigError(
                    f"template folder {template_dir} does not exist",
                    advice="Create it, or remove `template_dir` to use the shipped templates.",
                )
            loaders.append(jinja2.FileSystemLoader(template_dir))
        loaders.append(jinja2.FileSystemLoader(PACKAGE_TEMPLATES))
        self.template_dir = template_dir
        self._env = SandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html.j2", "htm.j2", "xml.j2", "html", "htm", "xml"),
                disabled_extensions=("txt.j2", "txt"),
                default_for_string=False,
                default=False,
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def compose(self, request: DraftRequest) -> DraftContent:
        context = build_context(request)
        rendered = self._render(template_name(request.kind, context["language"]), context)
        subject = rendered.subject or context["default_subject"]
        reply_to = request.reply_to
        sender = Person(context["user_name"], request.user.address)
        if request.kind is DraftKind.THANK_YOU or reply_to is None:
            return DraftContent(
                subject=subject, body=rendered.body, to=(request.to,), sender=sender
            )
        return DraftContent(
            subject=subject,
            body=rendered.body,
            to=(request.to,),
            sender=sender,
            in_reply_to=_clean_message_id(reply_to.message_id),
            references=thread_references(reply_to),
            thread_id=reply_to.thread_id,
            reply_to_id=reply_to.id,
        )

    def render(self, name: str, request: DraftRequest) -> Rendered:
        """Render template `name` (e.g. a user's "thank_you.html.j2") for `request`.

        Raises `ConfigError` naming the file (and line, when known) for a missing template, a
        syntax error, an undefined variable or an operation the sandbox forbids.
        """
        return self._render(name, build_context(request))

    def _render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        template = self._load(name)
        try:
            text = template.render(context)
        except jinja2.TemplateError as exc:
            where = template.filename or name
            line = _template_line(exc, template.filename)
            at = f", line {line}" if line is not None else ""
            raise ConfigError(
                f"template {where}{at}: {exc}",
                advice="Fix the template; the variables it may use are listed in "
                "`mailagent.core.compose`'s documentation.",
            ) from exc
        autoescape = self._env.autoescape
        escaped = autoescape(name) if callable(autoescape) else bool(autoescape)
        return self._split_subject(text, autoescaped=escaped)

    def _load(self, name: str) -> jinja2.Template:
        try:
            return self._env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or exc.name or name
            raise ConfigError(
                f"template {where}, line {exc.lineno}: {exc.message}",
                advice="Fix the Jinja syntax, or delete the file to use the shipped template.",
            ) from exc
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(
                f"no template named {name!r}",
                advice="Check the template folder; shipped names are "
                "thank_you.txt.j2, follow_up.txt.j2 and rejection_reply.txt.j2.",
            ) from exc

    def _split_subject(self, text: str, *, autoescaped: bool) -> Rendered:
        text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\n")
        match = _SUBJECT_LINE.match(text)
        if match is None:
            return Rendered(subject="", body=_tidy_body(text))
        subject = match["subject"]
        if autoescaped:
            subject = html.unescape(subject)  # a header is plain text, never HTML
        return Rendered(
            subject=clean_text(subject, limit=SUBJECT_LIMIT),
            body=_tidy_body(text[match.end() :]),
        )
