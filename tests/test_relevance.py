"""What the server searches for: bounded whatever the calendar holds (issue 10, point 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailagent.core.detect import UserIdentity
from mailagent.core.models import CalendarEvent
from mailagent.core.relevance import SEARCH_WORD_LIMIT, SEARCH_WORDS_PER_EVENT, MailInterest
from providers.gmail import search_queries

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USER = UserIdentity("alex.kim@example.org", "Alex Kim")


def event(title: str, url: str = "https://zoom.us/j/123") -> CalendarEvent:
    return CalendarEvent(
        id="e1",
        uid="e1",
        title=title,
        start=NOW,
        end=NOW + timedelta(hours=1),
        conference_urls=(url,),
    )


def test_a_title_without_attendees_gives_its_words_and_link() -> None:
    interest = MailInterest.from_events([event("Interview: Backend Engineer at Acme")], USER)
    assert {"backend", "engineer", "acme"} <= interest.subject_tokens
    assert interest.links == {"https://zoom.us/j/123"}


def test_a_40_kb_title_does_not_reach_the_server_searches() -> None:
    title = "Zephyr Acme " + "A" * 40_000 + " " + " ".join(f"word{n}" for n in range(500))
    interest = MailInterest.from_events([event(title, "https://x.example/" + "b" * 5000)], USER)
    assert {"zephyr", "acme", "word0"} <= interest.subject_tokens
    assert all(len(word) <= SEARCH_WORD_LIMIT for word in interest.subject_tokens)
    assert len(interest.subject_tokens) <= SEARCH_WORDS_PER_EVENT
    assert interest.links == frozenset()
    queries = search_queries(interest, NOW)
    assert max(len(q) for q in queries) < 1000


def test_a_cursor_written_before_the_bound_loses_its_giant_word() -> None:
    stored = {"subject_tokens": ["zephyr", "a" * 40_000], "addresses": ["rita@acme.example"]}
    interest = MailInterest.from_json(stored)
    assert interest.subject_tokens == {"zephyr"}
    assert interest.addresses == {"rita@acme.example"}


def test_a_first_read_also_searches_for_invitations_whoever_sent_them() -> None:
    (query,) = search_queries(MailInterest(), NOW, invitations=True)
    assert "filename:ics" in query
    assert 'subject:"Invitation:"' in query
    assert 'subject:"Canceled event"' in query
    assert search_queries(MailInterest(), NOW) == []
