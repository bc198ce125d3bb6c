"""Stated decision time frames and out-of-office return dates, resolved against the sent time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailagent.core.timeframe import TimeFrame, find_return_date, find_time_frame

NEW_YORK = ZoneInfo("America/New_York")
SENT = datetime(2026, 11, 18, 10, 0, tzinfo=NEW_YORK)
"""A Wednesday morning."""


def end_of(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("We will make a decision by Friday.", end_of(2026, 11, 20)),
        ("Please reply by end of day Friday.", end_of(2026, 11, 20)),
        ("We hope to decide by the end of the week.", end_of(2026, 11, 20)),
        ("You'll hear from us early next week.", end_of(2026, 11, 25)),
        ("We'll be in touch next week.", end_of(2026, 11, 27)),
        ("We expect to decide sometime next week", end_of(2026, 11, 27)),
        ("by the end of next week", end_of(2026, 11, 27)),
        ("by Friday next week", end_of(2026, 11, 27)),
        ("by next Friday", end_of(2026, 11, 27)),
        ("within two business days", end_of(2026, 11, 20)),
        ("within 5 working days", end_of(2026, 11, 25)),
        ("within a week", end_of(2026, 11, 25)),
        ("within 2 weeks", end_of(2026, 12, 2)),
        ("within three days", end_of(2026, 11, 21)),
        ("in the next few days", end_of(2026, 11, 21)),
        ("in the next couple of days", end_of(2026, 11, 20)),
        ("within the next day or two", end_of(2026, 11, 20)),
        ("in a week or two", end_of(2026, 12, 2)),
        ("in 2-3 business days", end_of(2026, 11, 23)),
        ("in the coming weeks", end_of(2026, 12, 9)),
        ("by Dec 3rd", end_of(2026, 12, 3)),
        ("by December 3", end_of(2026, 12, 3)),
        ("by 3 December", end_of(2026, 12, 3)),
        ("by the 3rd of December", end_of(2026, 12, 3)),
        ("by 12/3", end_of(2026, 12, 3)),
        ("by 12/03/2026", end_of(2026, 12, 3)),
        ("by 2026-12-03", end_of(2026, 12, 3)),
        ("by Thursday, December 3rd", end_of(2026, 12, 3)),
        ("by the 3rd", end_of(2026, 12, 3)),
        ("by the end of the month", end_of(2026, 11, 30)),
        ("by the end of next month", end_of(2026, 12, 31)),
        ("in two weeks' time", end_of(2026, 12, 2)),
        ("over the next two weeks", end_of(2026, 12, 2)),
        ("We'll let you know on Monday", end_of(2026, 11, 23)),
        ("you should hear back from us by Tuesday", end_of(2026, 11, 24)),
        ("I'll get back to you this week", end_of(2026, 11, 20)),
        ("by tomorrow", end_of(2026, 11, 19)),
        ("by EOD", end_of(2026, 11, 18)),
        # German, French, Spanish, Portuguese, Dutch (issue 12, point 4)
        ("innerhalb von zwei Wochen", end_of(2026, 12, 2)),
        ("innerhalb der nächsten 5 Werktage", end_of(2026, 11, 25)),
        ("in den kommenden Tagen", end_of(2026, 11, 21)),
        ("bis spätestens Freitag", end_of(2026, 11, 20)),
        ("bis zum 3. Dezember", end_of(2026, 12, 3)),
        ("d'ici deux semaines", end_of(2026, 12, 2)),
        ("sous 48 heures", datetime(2026, 11, 20, 10, 0, tzinfo=NEW_YORK)),
        ("avant le 3 décembre", end_of(2026, 12, 3)),
        ("en las próximas dos semanas", end_of(2026, 12, 2)),
        ("antes del 3 de diciembre", end_of(2026, 12, 3)),
        ("nas próximas duas semanas", end_of(2026, 12, 2)),
        ("até sexta-feira", end_of(2026, 11, 20)),
        ("binnen twee weken", end_of(2026, 12, 2)),
        ("binnen 3 werkdagen", end_of(2026, 11, 23)),
        ("uiterlijk 3 december", end_of(2026, 12, 3)),
    ],
)
def test_phrases_resolve_to_the_end_of_the_stated_day(text: str, until: datetime) -> None:
    frame = find_time_frame(text, SENT)
    assert frame is not None
    assert frame.until == until
    assert frame.until.tzinfo is NEW_YORK
    assert frame.phrase.lower() in " ".join(text.lower().split())


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("by 5pm Friday", datetime(2026, 11, 20, 17, 0, tzinfo=NEW_YORK)),
        ("by Friday at 5 p.m. ET", datetime(2026, 11, 20, 17, 0, tzinfo=NEW_YORK)),
        ("by 10:30 on Monday", datetime(2026, 11, 23, 10, 30, tzinfo=NEW_YORK)),
        ("by tomorrow at noon", datetime(2026, 11, 19, 12, 0, tzinfo=NEW_YORK)),
        ("by 5pm today", datetime(2026, 11, 18, 17, 0, tzinfo=NEW_YORK)),
        ("within 48 hours", SENT + timedelta(hours=48)),
    ],
)
def test_a_stated_time_replaces_the_end_of_the_day(text: str, until: datetime) -> None:
    frame = find_time_frame(text, SENT)
    assert frame is not None
    assert frame.until == until


def test_the_phrase_is_the_matched_text() -> None:
    frame = find_time_frame("Thanks!\nWe will let you know\nby Friday, December 4. Best", SENT)
    assert frame == TimeFrame(end_of(2026, 12, 4), "let you know by Friday, December 4")


def test_the_first_phrase_in_the_text_wins() -> None:
    frame = find_time_frame("We decide by Friday; offers go out next month.", SENT)
    assert frame is not None
    assert frame.until == end_of(2026, 11, 20)


@pytest.mark.parametrize(
    ("sent", "text", "until"),
    [
        # Said on a Friday, a bare "Friday" is the next one; "this Friday" is today.
        (datetime(2026, 11, 20, 9, 0, tzinfo=NEW_YORK), "by Friday", end_of(2026, 11, 27)),
        (datetime(2026, 11, 20, 9, 0, tzinfo=NEW_YORK), "by this Friday", end_of(2026, 11, 20)),
        # "The end of the week" said on a Friday is today; on a Saturday, the coming Friday.
        (datetime(2026, 11, 20, 9, 0, tzinfo=NEW_YORK), "end of the week", end_of(2026, 11, 20)),
        (datetime(2026, 11, 21, 9, 0, tzinfo=NEW_YORK), "end of the week", end_of(2026, 11, 27)),
        # "Next Friday" said on a Monday is the Friday of the next calendar week.
        (datetime(2026, 11, 16, 9, 0, tzinfo=NEW_YORK), "by next Friday", end_of(2026, 11, 27)),
        # Business days skip the weekend.
        (
            datetime(2026, 11, 20, 9, 0, tzinfo=NEW_YORK),
            "within 2 business days",
            end_of(2026, 11, 24),
        ),
        # A date without a year that has passed this year is next year's.
        (datetime(2026, 12, 20, 9, 0, tzinfo=NEW_YORK), "by January 5", end_of(2027, 1, 5)),
        (datetime(2026, 12, 20, 9, 0, tzinfo=NEW_YORK), "by 1/5", end_of(2027, 1, 5)),
        # Today's date still counts, until the end of today.
        (datetime(2026, 12, 3, 9, 0, tzinfo=NEW_YORK), "by December 3", end_of(2026, 12, 3)),
        # End of the month clamps to the month's length.
        (datetime(2027, 2, 3, 9, 0, tzinfo=NEW_YORK), "end of the month", end_of(2027, 2, 28)),
    ],
)
def test_conventions_for_ambiguous_days(sent: datetime, text: str, until: datetime) -> None:
    frame = find_time_frame(text, sent)
    assert frame is not None
    assert frame.until == until


def test_hours_are_elapsed_time_across_a_dst_change() -> None:
    sent = datetime(2026, 10, 31, 10, 0, tzinfo=NEW_YORK)  # clocks go back on 1 November
    frame = find_time_frame("You will hear from us within 48 hours.", sent)
    assert frame is not None
    assert frame.until.astimezone(UTC) - sent.astimezone(UTC) == timedelta(hours=48)
    assert frame.until.hour == 9


def test_the_result_is_in_the_senders_own_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    sent = datetime(2026, 11, 18, 23, 30, tzinfo=tokyo)
    frame = find_time_frame("by Friday", sent)
    assert frame is not None
    assert frame.until == datetime(2026, 11, 20, 23, 59, 59, tzinfo=tokyo)
    fixed = timezone(timedelta(hours=2))
    frame = find_time_frame("within a week", datetime(2026, 11, 18, 8, 0, tzinfo=fixed))
    assert frame is not None
    assert frame.until == datetime(2026, 11, 25, 23, 59, 59, tzinfo=fixed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Thanks for coming in today, it was great to meet you.",
        "Please let us know your decision by [Insert Date].",
        "by December 3, 2025",  # an explicit year already past
        "by 9am today",  # already past when written at 10am
        "by February 30",
        "by 13/45",
        "Have a great weekend, and enjoy next weekend too.",
        "The process takes over two weeks.",
        "I have 10 years of experience.",
    ],
)
def test_no_time_frame(text: str) -> None:
    assert find_time_frame(text, SENT) is None


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("I am out of the office and will be back on Monday.", (2026, 11, 23)),
        ("I'm away, returning on December 3.", (2026, 12, 3)),
        ("I am out of the office until 12/03 with limited access to email.", (2026, 12, 3)),
        ("I'm on vacation until Monday, December 7th.", (2026, 12, 7)),
        ("I will be back in the office on 3 Dec.", (2026, 12, 3)),
        ("Returning 12/03.", (2026, 12, 3)),
        ("Out until Friday, back on Monday 30 November.", (2026, 11, 30)),
        ("I'm out through Friday.", (2026, 11, 23)),  # the next working day after Friday
        ("I'm travelling and will return tomorrow.", (2026, 11, 19)),
        ("Je suis absente, de retour le lundi 7 décembre.", (2026, 12, 7)),
        ("Ab dem 3. Dezember bin ich wieder im Büro.", (2026, 12, 3)),
        ("Estoy fuera de la oficina hasta el 3 de diciembre.", (2026, 12, 3)),
        ("Estou de férias até 3 de dezembro.", (2026, 12, 3)),
        ("Ik ben afwezig tot en met vrijdag 27 november.", (2026, 11, 30)),
        ("Ik ben er weer op maandag 30 november.", (2026, 11, 30)),
        ("Estaré de vuelta el lunes 30 de noviembre.", (2026, 11, 30)),
        ("Estarei de volta no dia 30 de novembro.", (2026, 11, 30)),
    ],
)
def test_return_dates(text: str, back: tuple[int, int, int]) -> None:
    assert find_return_date(text, SENT) == datetime(*back, 9, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I am out of the office with limited access to email.",
        "I'll get back to you as soon as I can.",
    ],
)
def test_no_return_date(text: str) -> None:
    assert find_return_date(text, SENT) is None


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "by Friday",
    "by this Friday",
    "by next Monday",
    "by end of day",
    "by 5pm",
    "by 9am today",
    "by tomorrow at noon",
    "within 48 hours",
    "within 2 business days",
    "within a day or two",
    "in the next few days",
    "early next week",
    "next week",
    "end of the month",
    "next month",
    "by Dec 31",
    "by Feb 29",
    "by 12/3",
    "by 2/30/2026",
    "by 2026-12-03",
    "by the 31st",
    "back on Monday",
    "out until 12/03",
    "through Sunday",
    "returning January 1",
    "within 999 weeks",
    "in 0 days",
]

sent_times = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 12, 31),
    timezones=st.one_of(
        st.timezones(),
        st.builds(
            timezone,
            st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
        ),
    ),
)
texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8))).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(text=texts, sent=sent_times)
def test_a_time_frame_never_ends_before_the_message_was_sent(text: str, sent: datetime) -> None:
    frame = find_time_frame(text, sent)
    if frame is not None:
        assert frame.until >= sent
        assert frame.until.astimezone(UTC) >= sent.astimezone(UTC)
        assert frame.until.tzinfo is sent.tzinfo
        assert frame.phrase


@settings(max_examples=200, deadline=None)
@given(text=texts, sent=sent_times)
def test_reading_is_deterministic(text: str, sent: datetime) -> None:
    assert find_time_frame(text, sent) == find_time_frame(text, sent)
    assert find_return_date(text, sent) == find_return_date(text, sent)


@settings(max_examples=200, deadline=None)
@given(text=texts, sent=st.datetimes(timezones=st.timezones()))
def test_any_text_at_any_time_never_raises(text: str, sent: datetime) -> None:
    find_time_frame(text, sent)
    back = find_return_date(text, sent)
    if back is not None:
        assert back.tzinfo is sent.tzinfo
        assert (back.hour, back.minute) == (9, 0)
