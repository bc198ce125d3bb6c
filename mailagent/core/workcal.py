"""Business days and working hours in the user's zone.

Design notes:

- A *working window* is the half-open interval [start, end) of local wall time on a business
  day. A deadline pulled back into working hours lands on the close of a window (e.g. 18:00),
  which is the last moment the window covers.
- All comparisons are between instants, so wall times that a DST change skips or repeats behave:
  a window bound that does not exist resolves forwards; a day whose window collapses to nothing
  (a bound inside the skipped hour) has no working time.
- Holidays come from the `holidays` package, built lazily once per (country, subdivision, year)
  because building a country's table is the slow part. Observed days (a Saturday holiday moved
  to Friday) count as holidays: the office is closed on them.
- Pure: no clock reads. Every datetime given must be aware; results are in the calendar's zone,
  except a deadline `last_working_moment_at_or_before` leaves as it is (returned as given).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Index = `date.weekday()`."""

MON_TO_FRI: frozenset[int] = frozenset(range(5))

_SEARCH_LIMIT = 3 * 366
"""Days to search for a business day before deciding the calendar has none (all holidays)."""

_ONE_DAY = timedelta(days=1)


@functools.lru_cache(maxsize=256)
def _holiday_table(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return dict(table.items())


def _aware(moment: datetime, what: str = "moment") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    working_days: frozenset[int] = MON_TO_FRI
    """Weekday numbers as `date.weekday()` gives them: Monday is 0."""
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays_country: str | None = None
    """ISO code the `holidays` package knows (US, GB, DE...); None means weekends only."""
    holidays_subdivision: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tz, ZoneInfo):
            raise TypeError(f"tz must be a zoneinfo.ZoneInfo, not {type(self.tz).__name__}")
        days = frozenset(self.working_days)
        if not days:
            raise ValueError("a work calendar needs at least one working day")
        if not days <= frozenset(range(7)):
            raise ValueError(f"working days must be 0 (Monday) to 6 (Sunday), got {sorted(days)}")
        object.__setattr__(self, "working_days", days)
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local wall times; give them without a zone")
        if not self.start < self.end:
            raise ValueError(
                f"working hours must start before they end, got {self.start:%H:%M}-{self.end:%H:%M}"
            )
        if self.holidays_subdivision is not None and self.holidays_country is None:
            raise ValueError("a holidays subdivision needs a holidays country")
        if self.holidays_country is not None:
            supported = holidays.list_supported_countries()
            if self.holidays_country not in supported:
                raise ValueError(f"the holidays package does not know {self.holidays_country!r}")
            subdivisions = supported[self.holidays_country]
            if self.holidays_subdivision is not None and self.holidays_subdivision not in (
                subdivisions
            ):
                raise ValueError(
                    f"{self.holidays_country} has no subdivision {self.holidays_subdivision!r}"
                )

    # -- days -------------------------------------------------------------------------------

    def holiday_name(self, d: date) -> str | None:
        """The holiday's name if `d` is one in the configured country, else None."""
        if self.holidays_country is None:
            return None
        return _holiday_table(self.holidays_country, self.holidays_subdivision, d.year).get(d)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() in self.working_days and self.holiday_name(d) is None

    def _business_days_after(self, d: date) -> Iterator[date]:
        """Business days strictly after `d`, ascending, without end."""
        gap = 0
        while True:
            d += _ONE_DAY
            if self.is_business_day(d):
                gap = 0
                yield d
            else:
                gap += 1
                if gap > _SEARCH_LIMIT:
                    raise ValueError(f"no business day within {_SEARCH_LIMIT} days after {d}")

    def add_business_days(self, moment: datetime, n: int) -> datetime:
        """The same local time of day, `n` business days after `moment`'s local date.

        Counting starts the day after: 1 business day from Friday 15:00 is Monday 15:00 (with
        Saturday and Sunday off), also from Saturday 15:00. `n` = 0 returns `moment`.
        """
        _aware(moment)
        if n < 0:
            raise ValueError(f"n must be 0 or more, got {n}")
        if n == 0:
            return moment
        local = moment.astimezone(self.tz)
        days = self._business_days_after(local.date())
        target = local.date()
        for _ in range(n):
            target = next(days)
        return self._at(target, local.time())

    # -- hours ------------------------------------------------------------------------------

    def _at(self, d: date, t: time) -> datetime:
        """Local wall time `t` on `d` as an instant; a skipped wall time resolves forwards."""
        wall = datetime.combine(d, t, tzinfo=self.tz)
        return wall.astimezone(UTC).astimezone(self.tz)

    def _window(self, d: date) -> tuple[datetime, datetime] | None:
        """The working window of `d` as instants, or None (not a business day, or a DST jump
        swallowed the window)."""
        if not self.is_business_day(d):
            return None
        opens, closes = self._at(d, self.start), self._at(d, self.end)
        return (opens, closes) if opens < closes else None

    def _local_date(self, moment: datetime) -> date:
        return _aware(moment).astimezone(self.tz).date()

    def is_working_time(self, moment: datetime) -> bool:
        window = self._window(self._local_date(moment))
        return window is not None and window[0] <= moment < window[1]

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` if it is working time, else the opening of the next working window."""
        d = self._local_date(moment)
        window = self._window(d)
        if window is not None:
            opens, closes = window
            if moment < opens:
                return opens
            if moment < closes:
                return moment.astimezone(self.tz)
        gap = 0
        while True:
            d += _ONE_DAY
            window = self._window(d)
            if window is not None:
                return window[0]
            gap += 1
            if gap > _SEARCH_LIMIT:
                raise ValueError(f"no working time within {_SEARCH_LIMIT} days after {moment}")

    def last_working_moment_at_or_before(self, moment: datetime, not_before: datetime) -> datetime:
        """Pull a deadline into working hours without making it later.

        `moment` if it is working time; else the close of the latest working window that ends
        at or before `moment`; but if that is earlier than `not_before` (or there is none in
        between), `moment` unchanged. The result is never later than `moment`.

        A deadline that stays is returned as given, not converted to the calendar's zone: a
        wall time inside a DST gap of its own zone (02:00 on a Lord Howe spring-forward night)
        compares unequal to the same instant in any other zone (PEP 495 interzone rule), so a
        converted copy would read as "moved" to every caller that asks `result != moment`.
        """
        _aware(not_before, "not_before")
        if self.is_working_time(moment):
            return moment
        first = self._local_date(not_before)
        d = self._local_date(moment)
        while d >= first:
            window = self._window(d)
            if window is not None and window[1] <= moment:
                closes = window[1]
                return closes if closes >= not_before else moment
            d -= _ONE_DAY
        return moment
