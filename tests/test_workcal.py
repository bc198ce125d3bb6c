"""Business days, working hours and duration arithmetic, as a user's deadlines experience them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailagent.core.durations import Duration, parse_duration
from mailagent.core.workcal import WorkCalendar

NEW_YORK = ZoneInfo("America/New_York")
US = WorkCalendar(NEW_YORK, holidays_country="US")
WEEKENDS_ONLY = WorkCalendar(NEW_YORK)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# -- business days ------------------------------------------------------------------------------


def test_us_thanksgiving_is_not_a_business_day() -> None:
    assert not US.is_business_day(date(2026, 11, 26))
    assert US.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert WEEKENDS_ONLY.is_business_day(date(2026, 11, 26))


def test_observed_holiday_counts_as_a_day_off() -> None:
    # 2026-07-04 is a Saturday; the office closes on Friday 3 July.
    assert not US.is_business_day(date(2026, 7, 3))


def test_weekends_are_not_business_days() -> None:
    assert not WEEKENDS_ONLY.is_business_day(date(2026, 11, 28))  # Saturday
    assert not WEEKENDS_ONLY.is_business_day(date(2026, 11, 29))  # Sunday
    assert WEEKENDS_ONLY.is_business_day(date(2026, 11, 30))


def test_subdivision_holidays_apply() -> None:
    # Cesar Chavez Day is a California state holiday, not a federal one.
    california = WorkCalendar(ZoneInfo("America/Los_Angeles"), holidays_country="US",
                              holidays_subdivision="CA")  # fmt: skip
    assert not california.is_business_day(date(2026, 3, 31))
    assert US.is_business_day(date(2026, 3, 31))


def test_custom_working_week() -> None:
    sun_to_thu = WorkCalendar(ZoneInfo("Asia/Jerusalem"), working_days=frozenset({6, 0, 1, 2, 3}))
    assert sun_to_thu.is_business_day(date(2026, 11, 29))  # Sunday
    assert not sun_to_thu.is_business_day(date(2026, 11, 27))  # Friday


def test_add_business_days_skips_weekend_and_holiday_and_keeps_time() -> None:
    # Wednesday before Thanksgiving, 15:30: Thursday is a holiday, then Friday, then Monday.
    start = ny(2026, 11, 25, 15, 30)
    assert US.add_business_days(start, 1) == ny(2026, 11, 27, 15, 30)
    assert US.add_business_days(start, 2) == ny(2026, 11, 30, 15, 30)
    assert US.add_business_days(start, 0) == start


def test_add_business_days_from_a_weekend_counts_from_the_next_business_day() -> None:
    saturday = ny(2026, 11, 28, 10, 0)
    assert WEEKENDS_ONLY.add_business_days(saturday, 1) == ny(2026, 11, 30, 10, 0)


def test_add_business_days_rejects_negative_and_naive() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        US.add_business_days(ny(2026, 1, 5, 9), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        US.add_business_days(datetime(2026, 1, 5, 9), 1)


# -- working hours ------------------------------------------------------------------------------


def test_working_time_window_is_half_open() -> None:
    assert US.is_working_time(ny(2026, 11, 30, 9, 0))
    assert US.is_working_time(ny(2026, 11, 30, 17, 59))
    assert not US.is_working_time(ny(2026, 11, 30, 18, 0))
    assert not US.is_working_time(ny(2026, 11, 30, 8, 59))
    assert not US.is_working_time(ny(2026, 11, 26, 12, 0))  # Thanksgiving


def test_working_time_is_judged_in_the_calendars_zone() -> None:
    # 14:00 UTC is 09:00 in New York in winter.
    assert US.is_working_time(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    assert not US.is_working_time(datetime(2026, 12, 1, 13, 59, tzinfo=UTC))


def test_next_working_moment() -> None:
    assert US.next_working_moment(ny(2026, 11, 30, 10, 0)) == ny(2026, 11, 30, 10, 0)
    assert US.next_working_moment(ny(2026, 11, 30, 7, 0)) == ny(2026, 11, 30, 9, 0)
    # Wednesday evening before Thanksgiving -> Friday morning.
    result = US.next_working_moment(ny(2026, 11, 25, 19, 0))
    assert result == ny(2026, 11, 27, 9, 0)
    assert result.tzinfo == NEW_YORK


def test_last_working_moment_pulls_a_deadline_back_to_the_close() -> None:
    # Due Saturday 10:00 -> the close on Friday.
    assert US.last_working_moment_at_or_before(
        ny(2026, 11, 28, 10, 0), not_before=ny(2026, 11, 27, 10, 0)
    ) == ny(2026, 11, 27, 18, 0)
    # Due at 08:00 -> the previous day's close.
    assert US.last_working_moment_at_or_before(
        ny(2026, 12, 2, 8, 0), not_before=ny(2026, 12, 1, 8, 0)
    ) == ny(2026, 12, 1, 18, 0)


def test_last_working_moment_keeps_a_deadline_inside_hours() -> None:
    due = ny(2026, 12, 1, 11, 0)
    assert US.last_working_moment_at_or_before(due, not_before=ny(2026, 11, 30, 11, 0)) == due


def test_last_working_moment_never_goes_before_not_before() -> None:
    # Drafted Friday 19:00, due Saturday 19:00: the close on Friday (18:00) is before the draft,
    # so the deadline stays as it is.
    due = ny(2026, 11, 28, 19, 0)
    assert US.last_working_moment_at_or_before(due, not_before=ny(2026, 11, 27, 19, 0)) == due


def test_calendar_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="start before"):
        WorkCalendar(NEW_YORK, start=time(18), end=time(9))
    with pytest.raises(ValueError, match="at least one working day"):
        WorkCalendar(NEW_YORK, working_days=frozenset())
    with pytest.raises(ValueError, match="does not know"):
        WorkCalendar(NEW_YORK, holidays_country="XX")
    with pytest.raises(ValueError, match="no subdivision"):
        WorkCalendar(NEW_YORK, holidays_country="US", holidays_subdivision="ZZ")


# -- durations on the calendar ------------------------------------------------------------------


def test_seven_days_across_dst_keeps_the_local_time() -> None:
    result = parse_duration("7d").add_to(ny(2026, 10, 30, 10, 0), US)
    assert result == ny(2026, 11, 6, 10, 0)
    assert (result.hour, result.minute) == (10, 0)
    elapsed = result.astimezone(UTC) - ny(2026, 10, 30, 10, 0).astimezone(UTC)
    assert elapsed == timedelta(days=7, hours=1)  # the autumn hour is part of the week


def test_hours_are_elapsed_time_across_dst() -> None:
    # The night of 31 Oct to 1 Nov 2026 has 25 hours in New York.
    assert parse_duration("24h").add_to(ny(2026, 10, 31, 12, 0), US) == ny(2026, 11, 1, 11, 0)


def test_day_arithmetic_uses_the_users_zone_and_returns_the_moments_zone() -> None:
    moment = ny(2026, 10, 30, 10, 0).astimezone(UTC)
    result = Duration(1, "weeks").add_to(moment, US)
    assert result.tzinfo is UTC
    assert result == ny(2026, 11, 6, 10, 0)


def test_business_days_duration_uses_the_calendar() -> None:
    result = parse_duration("1 business day").add_to(ny(2026, 11, 25, 15, 30), US)
    assert result == ny(2026, 11, 27, 15, 30)


def test_day_arithmetic_into_a_skipped_hour_moves_forwards() -> None:
    # 2026-03-08 02:30 does not exist in New York; one day after 02:30 the day before.
    result = parse_duration("1d").add_to(ny(2026, 3, 7, 2, 30), US)
    assert result == ny(2026, 3, 8, 3, 30)
    assert result.utcoffset() == timedelta(hours=-4)


# -- properties ---------------------------------------------------------------------------------

ZONES = st.sampled_from(
    [
        ZoneInfo("America/New_York"),
        ZoneInfo("Europe/London"),
        ZoneInfo("Asia/Kolkata"),
        ZoneInfo("Australia/Lord_Howe"),  # a 30-minute DST shift
        ZoneInfo("Pacific/Auckland"),
    ]
)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.times(min_value=time(0, 0), max_value=time(22, 0)))
    end = draw(st.times(min_value=time(start.hour + 1), max_value=time(23, 59)))
    country = draw(st.sampled_from([None, "US", "GB", "DE"]))
    return WorkCalendar(draw(ZONES), days, start.replace(microsecond=0), end, country)


moments = st.datetimes(
    min_value=datetime(2015, 1, 1),  # hypothesis wants naive bounds
    max_value=datetime(2035, 12, 31),
    timezones=ZONES,
)


@settings(max_examples=200, deadline=None)
@given(calendars(), moments, st.integers(1, 40))
def test_add_business_days_lands_on_a_business_day(
    cal: WorkCalendar, moment: datetime, n: int
) -> None:
    result = cal.add_business_days(moment, n)
    assert cal.is_business_day(result.astimezone(cal.tz).date())
    assert result > moment


@settings(max_examples=100, deadline=None)
@given(calendars(), moments)
def test_add_business_days_is_strictly_increasing(cal: WorkCalendar, moment: datetime) -> None:
    results = [cal.add_business_days(moment, n) for n in range(12)]
    assert all(a < b for a, b in pairwise(results))


@settings(max_examples=300, deadline=None)
@given(calendars(), moments)
def test_next_working_moment_is_working_time_and_not_earlier(
    cal: WorkCalendar, moment: datetime
) -> None:
    result = cal.next_working_moment(moment)
    assert cal.is_working_time(result)
    assert result >= moment
    if result > moment:  # nothing in between was working time
        assert not cal.is_working_time(moment)


# 02:00 on 4 Oct 2020 does not exist in Lord Howe (clocks go from 02:00 to 02:30): a moment in
# a DST gap of its own zone compares unequal to every other zone's datetime (PEP 495).
@example(
    WorkCalendar(NEW_YORK, frozenset(range(6)), time(0, 0), time(12, 0)),
    datetime(2020, 10, 4, 2, 0, tzinfo=ZoneInfo("Australia/Lord_Howe")),
    timedelta(0),
)
@example(
    WorkCalendar(NEW_YORK, frozenset({0}), time(0, 0), time(1, 0)),
    datetime(2020, 10, 4, 2, 0, tzinfo=ZoneInfo("Australia/Lord_Howe")),
    timedelta(0),
)
@settings(max_examples=300, deadline=None)
@given(calendars(), moments, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_last_working_moment_stays_within_bounds(
    cal: WorkCalendar, moment: datetime, back: timedelta
) -> None:
    not_before = moment - back
    result = cal.last_working_moment_at_or_before(moment, not_before=not_before)
    assert not_before <= result <= moment
    if result != moment:
        # It is the close of a window, and no working time lies between it and the deadline.
        assert cal.is_working_time(result - timedelta(microseconds=1))
        assert cal.next_working_moment(result) > moment


@settings(max_examples=100, deadline=None)
@given(moments, st.integers(0, 400), st.sampled_from(["minutes", "hours", "days", "weeks"]))
def test_durations_never_go_backwards(moment: datetime, amount: int, unit: str) -> None:
    duration = Duration(amount, unit)  # type: ignore[arg-type]
    assert duration.add_to(moment, US) >= moment
