"""Every regex that reads untrusted text runs in linear time (issue 10, point 8).

A pattern with nested or overlapping quantifiers backtracks on the right input: a 40 KB event
title cost a role pattern of detect.py 23 s on every sync. This module imports every such regex of
mailagent/ and providers/ BY NAME (a new one must be added here) and times each one on
20,000-character adversarial strings: long words, repeated separators, runs of spaces and
newlines, and the pattern's own words and punctuation repeated. Each run of `finditer` over one
string must stay under `BUDGET` seconds.

Calendar regexes of providers/ical.py are added through the hook `ICAL_REGEXES` below.
"""

from __future__ import annotations

import re
import signal
import string
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from mailagent import explanation
from mailagent.core import (
    compose,
    detect,
    facts,
    interviewer_facts,
    language,
    mailsignals,
    timeframe,
)
from providers import imap, mime

BUDGET = 0.2
"""Seconds for one `finditer` over one 20,000-character string."""
SIZE = 20_000

Pattern = re.Pattern[str] | re.Pattern[bytes]

DETECT: dict[str, Pattern] = {
    "detect.NON_HUMAN_LOCAL_PARTS": detect.NON_HUMAN_LOCAL_PARTS,
    "detect.ROOM_NAME": detect.ROOM_NAME,
    "detect.DESCRIPTION_INTERVIEW": detect.DESCRIPTION_INTERVIEW,
    "detect.INTERVIEWER_SIDE": detect.INTERVIEWER_SIDE,
    "detect.ROUND_PATTERNS": detect.ROUND_PATTERNS,
    "detect.THREAD_WORDS": detect.THREAD_WORDS,
    "detect.TOKEN": detect.TOKEN,
    **{f"detect.TITLE_RULES[{name}]": p for name, p, _, _ in detect.TITLE_RULES},
    **{f"detect.FINGERPRINTS[{name}]": p for name, p in detect.FINGERPRINTS},
    **{f"detect.LOOKALIKES[{name}]": p for name, p in detect.LOOKALIKES},
    **{f"detect.TITLE_LOOKALIKES[{name}]": p for name, p in detect.TITLE_LOOKALIKES},
    **{f"detect.BOOKING_TOOLS[{name}]": p for name, p in detect.BOOKING_TOOLS},
    "detect.DESCRIPTION_NAMES_INTERVIEW": detect.DESCRIPTION_NAMES_INTERVIEW,
    "detect.CALL_IN_TITLE": detect.CALL_IN_TITLE,
    "detect.WEAK_INTERVIEWER_SIDE": detect.WEAK_INTERVIEWER_SIDE,
    "detect.TO_THE_CANDIDATE": detect.TO_THE_CANDIDATE,
}

FACTS: dict[str, Pattern] = (
    {f"facts.{name}": value for name, value in vars(facts).items() if isinstance(value, re.Pattern)}
    | {f"facts.ROLE_PHRASES[{i}]": p for i, p in enumerate(facts.ROLE_PHRASES)}
    | {f"facts.ROLE_LINE_PHRASES[{i}]": p for i, p in enumerate(facts.ROLE_LINE_PHRASES)}
    | {f"facts.COMPANY_PHRASES[{i}]": p for i, p in enumerate(facts.COMPANY_PHRASES)}
)

INTERVIEWER_FACTS: dict[str, Pattern] = (
    {
        f"interviewer_facts.{name}": value
        for name, value in vars(interviewer_facts).items()
        if isinstance(value, re.Pattern)
    }
    | {f"interviewer_facts.ROUND_KINDS[{kind}]": p for kind, p in interviewer_facts.ROUND_KINDS}
    | {f"interviewer_facts.SIDE_LABELS[{kind}]": p for kind, p in interviewer_facts.SIDE_LABELS}
)

MAILSIGNALS: dict[str, Pattern] = {
    f"mailsignals.{name}": getattr(mailsignals, name)
    for name in (
        "_ATTRIBUTION",
        "_ATTRIBUTION_SENDER",
        "_QUOTE_STARTS",
        "_QUOTED_LINE",
        "_LINE_BREAKS",
        "_KEEP_ON_FILE",
        "_SAD_CONTEXT",
        "_START_DATE",
        "_OFFER_WORD",
        "_NEXT_STEPS",
        "_SCHEDULING",
        "_HEDGE",
        "_REJECTION_HEDGE",
        "_NEXT_ROUND_HEDGE",
        "_AUTO_SUBJECT",
        "_BOUNCE_SUBJECT",
        "_BOUNCE_BODY",
        "_REPLY_PREFIX",
        "_DSN_REPORT_TYPE",
        "_CLAUSE_END",
        "_SPACE",
        "_NO_HEDGE",
        "_TRAILING_RULE",
    )
} | {
    f"mailsignals.{table}[{i}]": p
    for table in ("_REJECTION", "_OFFER", "_NEXT_ROUND", "_OUT_OF_OFFICE", "_ACKNOWLEDGEMENT")
    for i, p in enumerate(getattr(mailsignals, table))
}

TIMEFRAME: dict[str, Pattern] = {
    **{f"timeframe._FRAME_RULES[{i}]": r.pattern for i, r in enumerate(timeframe._FRAME_RULES)},
    **{
        f"timeframe._RETURN_TIERS[{i}][{j}]": r.pattern
        for i, tier in enumerate(timeframe._RETURN_TIERS)
        for j, r in enumerate(tier)
    },
    "timeframe._CLOCK": timeframe._CLOCK,
    "timeframe._SPACE": timeframe._SPACE,
}

COMPOSE: dict[str, Pattern] = {
    "compose._REPLY_PREFIX": compose._REPLY_PREFIX,
    "compose._SUBJECT_LINE": compose._SUBJECT_LINE,
    "compose._PLACEHOLDER": compose._PLACEHOLDER,
    "compose._ACTIVITY_TOPIC": compose._ACTIVITY_TOPIC,
    "explanation._WORD": explanation._WORD,
    "language.WORD": language.WORD,
}

PROVIDERS: dict[str, Pattern] = {
    f"mime.{name}": getattr(mime, name)
    for name in (
        "_CONTROL",
        "_MISDECODED",
        "_VEVENT",
        "_METHOD_LINE",
        "_SURROGATE",
        "_ENCODED_WORD",
        "_QP_ESCAPE",
        "_LINE_BREAK",
        "_COMMENT",
        "_NOT_IN_ADDRESS",
        "_MSG_ID_TOKEN",
        "_BARE_MSG_ID",
        "_SNIPPET_JUNK",
        "_BLANK_LINES",
        "_LEADING_BLANK",
        "_META_CHARSET",
        "_HTML_SPACE",
        "_HTML_TAG_NAME",
        "_HTML_TAG_REST",
        "_LEADING_BLANK_LINES",
        "_LONE_CR",
        "_BLANK_LINE",
        "_PART_START",
        "_HEADER_START",
        "_LOCAL_PART",
        "_DOMAIN",
        "_MSG_ID",
        "_KEY",
        "_ATOM_PHRASE",
        "_FIELD_NAME",
        "_HEADER_LINE_JUNK",
    )
} | {"imap._APPENDUID": imap._APPENDUID}

# --- hook for the calendar side --------------------------------------------------------------
# providers/ical.py's regexes (e.g. `_HTML_TAG`) are fixed by the calendar engineer; add them here
# by name once they are linear, e.g. {"ical._HTML_TAG": ical._HTML_TAG}.
ICAL_REGEXES: dict[str, Pattern] = {}
# ----------------------------------------------------------------------------------------------

ALL = (
    DETECT
    | FACTS
    | INTERVIEWER_FACTS
    | MAILSIGNALS
    | TIMEFRAME
    | COMPOSE
    | PROVIDERS
    | ICAL_REGEXES
)


def adversarial(pattern: Pattern) -> Iterator[str]:
    """Strings of `SIZE` characters built to make a backtracking matcher work hard."""
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode()
    words = sorted(set(re.findall(r"[A-Za-zÀ-ÿ]{2,}", source)))[:60] or ["ab"]
    punctuation = sorted({c for c in source if c in string.punctuation} | set(" \n\t:-@<>.,'\""))
    for ch in ("a", "A", "1", " ", "\n", "\t", "-", "_", "=", "<", "@", "?", ">", "\r", "é"):
        yield ch * SIZE
    for first in " \n\t-_a":  # one character then a run of another, ending where it fails
        for run in " \n\t-_a":
            yield ((first + run * 5) * SIZE)[: SIZE - 1] + "!"
    yield "Aa" * (SIZE // 2)
    yield "A" + "a" * SIZE
    yield ("Aa" * 50 + " ") * (SIZE // 101)
    yield "Abc " * (SIZE // 4)
    for sep in punctuation:
        yield (("a" + sep) * SIZE)[:SIZE]
        yield (("A" * 20 + sep) * SIZE)[:SIZE]
    joined = " ".join(words)
    yield ((joined + " ") * SIZE)[:SIZE]
    yield ((joined.title() + " ") * SIZE)[:SIZE]
    for word in words:
        for sep in (" ", "  ", "\n", ": ", " : ", "-", ", ", "."):
            yield ((word + sep) * SIZE)[:SIZE]
        yield ((word.title() + " ") * SIZE)[:SIZE]
        yield ((word + " " * 30) * SIZE)[:SIZE]
    for p in punctuation:
        for word in words[:10]:
            yield ((word + p) * SIZE)[:SIZE]


class Slow(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise Slow


MATCH_ONLY = {
    "mime._BARE_MSG_ID",
    "mime._HEADER_START",
    "mime._HTML_TAG_REST",
    "mime._LEADING_BLANK_LINES",
    "mime._LOCAL_PART",
    "mime._DOMAIN",
    "mime._MSG_ID",
    "mime._KEY",
    "mime._ATOM_PHRASE",
    "mime._FIELD_NAME",
    "facts.SIGNATURE",
    "facts.SCHEDULE_LINE",
    "facts.CITY_CODE",
    "facts.BRAND_DOMAIN",
    "facts.LIST_START",
    "facts.FIELD_LINE",
    "detect.WEAK_INTERVIEWER_SIDE",
    "facts.TOOL_NAMES",
    "interviewer_facts.SLOT",
    "interviewer_facts.PARENTHESISED",
    "interviewer_facts.LEAD_SEPARATOR",
    "interviewer_facts.OUR",
}
"""Patterns the code only anchors (`match`/`fullmatch` at one position, or a leading `^`):
timed that way, since a search from every position is not what they are asked to do."""


@pytest.mark.parametrize("name", sorted(ALL))
def test_regex_is_linear_on_adversarial_text(name: str) -> None:
    pattern = ALL[name]
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for text in adversarial(pattern):
            subject: str | bytes = (
                text if isinstance(pattern.pattern, str) else text.encode("utf-8", "replace")
            )
            started = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, 10 * BUDGET)  # stop a runaway early
            try:
                if name not in MATCH_ONLY:
                    for _ in pattern.finditer(subject):  # type: ignore[arg-type]
                        pass
                pattern.match(subject)  # type: ignore[arg-type]
                pattern.fullmatch(subject)  # type: ignore[arg-type]
            except Slow:
                pytest.fail(f"{name} ran over {10 * BUDGET} s on {text[:40]!r}...")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - started
            assert elapsed < BUDGET, f"{name} took {elapsed:.2f} s on {text[:40]!r}..."
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_every_regex_in_the_modules_is_listed() -> None:
    """A new module-level regex must be added to this module (ical's through the hook)."""
    listed = {id(p) for p in ALL.values()}
    missing = []
    modules = (
        detect,
        facts,
        interviewer_facts,
        language,
        mailsignals,
        timeframe,
        compose,
        explanation,
    )
    for module in (*modules, mime, imap):
        for attr, value in vars(module).items():
            if isinstance(value, re.Pattern) and id(value) not in listed:
                missing.append(f"{module.__name__}.{attr}")
    assert not missing, f"regexes not timed here: {missing}"
