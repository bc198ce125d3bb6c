"""Every labelled case of fixtures/interviews/ through detection, one test per case (issue 12).

The corpus holds interview invitations as ATS tools, calendars and people write them, and
look-alikes that are not interviews; `benchmarks/interview_corpus.py` loads it and says how an
e-mail case becomes the event its invitation carries. `benchmarks/quality.py` reports the same
cases as rates.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.interview_corpus import Case, evaluate, facts_misses, load_corpus
from mailagent.core.compose import build_context
from mailagent.core.detect import detect_event
from mailagent.core.models import DraftKind, DraftRequest

CASES = load_corpus()
INTERVIEWS = [c for c in CASES if c.expect.interview]
WITH_FACTS = [c for c in INTERVIEWS if c.expect.facts_labelled]
MEETING_TOOLS = re.compile(r"\b(zoom|teams|meet|webex|hangouts?|skype|calendly)\b", re.I)


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 150
    assert sum(not c.expect.interview for c in CASES) >= 40
    assert {c.kind for c in CASES} == {"calendar", "email"}
    assert len({c.file for c in CASES}) >= 8


@pytest.mark.parametrize("language", ["de", "fr", "es", "pt", "nl"])
def test_the_corpus_covers_each_language(language: str) -> None:
    """Interviews in the language, look-alikes written in it, e-mails and English titles above
    a description in the language (issue 12, point 4)."""
    cases = [c for c in CASES if c.language == language]

    assert len(cases) >= 10
    assert sum(not c.expect.interview for c in cases) >= 3
    assert any(c.kind == "email" for c in cases)
    assert any(c.event.title.startswith("Interview") and c.expect.interview for c in cases)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case: Case) -> None:
    outcome = evaluate(case)

    assert outcome.misses() == []


@pytest.mark.parametrize("case", WITH_FACTS, ids=[c.id for c in WITH_FACTS])
def test_corpus_interviewer_facts(case: Case) -> None:
    """Each interviewer's title, topic and slot as the invitation gives them (issue 12, 3)."""
    assert facts_misses(case) == []


def test_the_corpus_labels_facts_of_panels_and_of_each_side() -> None:
    labelled = [f for c in WITH_FACTS for f in c.expect.facts.values()]
    assert len(WITH_FACTS) >= 30
    assert sum(1 for c in WITH_FACTS if len(c.expect.facts) >= 3) >= 2
    assert {f.get("kind") for f in labelled} >= {"recruiter", "hiring_manager", "engineer"}
    assert sum(1 for f in labelled if "topic" in f) >= 8
    assert sum(1 for f in labelled if "time" in f) >= 10


@pytest.mark.parametrize("case", INTERVIEWS, ids=[c.id for c in INTERVIEWS])
def test_thank_you_reads_well_without_guessed_words(case: Case) -> None:
    """Whatever was found, the draft names no user, URL or meeting tool as company or role."""
    interview = detect_event(case.event, case.user).interview
    assert interview is not None
    to = interview.interviewers[0] if interview.interviewers else case.user.primary
    request = DraftRequest(
        "k", DraftKind.THANK_YOU, 1, interview, to, case.user.primary, "Europe/London"
    )
    context = build_context(request)

    for value in (context["company"], context["role"]):
        assert case.user.name.lower() not in value.lower()
        assert "http" not in value
        assert "@" not in value
        assert not MEETING_TOOLS.search(value)
    assert "  " not in context["role_phrase"]
