"""Durations as policies write them: ``30m``, ``24h``, ``7d``, ``2w``, ``5 business days``.

Design notes:

- A `Duration` keeps its unit. "7d" and "168h" are different rules: days keep the local time
  of day across a DST change, hours are elapsed time; business days depend on a calendar.
  So there is no total order on durations, only `nominal()` for sanity checks.
- Arithmetic lives in `Duration.add_to`, which takes the `WorkCalendar` explicitly. Day-based
  units (days, weeks, business days) count in the calendar's zone, which is the user's zone;
  the result is returned in the zone of the moment passed in.
- Pure: no clock reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from mailagent.core.workcal import WorkCalendar

Unit = Literal["minutes", "hours", "days", "weeks", "business_days"]
UNITS: tuple[Unit, ...] = get_args(Unit)

ACCEPTED_FORMS = "30m, 24h, 7d, 2w, 5 business days"
"""Shown in every error about a duration, so the fix is in the message."""

_MAX_NOMINAL = timedelta(days=3660)
"""Ten years: longer is surely a typo, and keeps datetime arithmetic far from overflow."""

_MAX_AMOUNT = 10**7
"""Ten years in minutes is 5,259,600: any amount over this is longer than `_MAX_NOMINAL`."""

_MAX_DIGITS = 12
"""Longer numbers are not read as ints at all (Python refuses over 4,300 digits anyway)."""

_UNIT_WORDS: dict[str, Unit] = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "bd": "business_days",
    "business day": "business_days",
    "business days": "business_days",
}

_PATTERN = re.compile(r"^\s*(?P<amount>\d+)\s*(?P<unit>[a-z]+(?:[\s_-]+[a-z]+)?)\s*$")

_SHORT: dict[Unit, str] = {"minutes": "m", "hours": "h", "days": "d", "weeks": "w"}


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown duration unit {self.unit!r}; use one of {', '.join(UNITS)}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"duration amount must be an int, not {type(self.amount).__name__}")
        if self.amount < 0:
            raise ValueError(f"a duration cannot be negative ({self.amount})")
        # A huge amount would overflow timedelta (OverflowError, not a ValueError) before
        # it could be compared: the amount is bounded first, the exact length second.
        if self.amount > _MAX_AMOUNT or self.nominal() > _MAX_NOMINAL:
            raise ValueError(f"{self} is longer than ten years; use forms like {ACCEPTED_FORMS}")

    def __str__(self) -> str:
        if self.unit == "business_days":
            return f"{self.amount} business day{'' if self.amount == 1 else 's'}"
        return f"{self.amount}{_SHORT[self.unit]}"

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def nominal(self) -> timedelta:
        """The length as a timedelta, counting a business day as one calendar day.

        Exact for minutes and hours; days and weeks may be an hour off across a DST change;
        for business days it is the lower bound (weekends and holidays only lengthen them).
        """
        if self.unit == "business_days":
            return timedelta(days=self.amount)
        return timedelta(**{self.unit: self.amount})

    def add_to(self, moment: datetime, calendar: WorkCalendar) -> datetime:
        """`moment` plus this duration, in `moment`'s zone.

        - minutes, hours: elapsed time (``24h`` across a DST change is 24 real hours);
        - days, weeks: calendar arithmetic in the calendar's zone, keeping the local time of day
          (``7d`` from Friday 10:00 is next Friday 10:00, even across a DST change);
        - business days: `WorkCalendar.add_business_days`, also keeping the local time of day.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"moment must be timezone-aware, got naive {moment.isoformat()}")
        zone = moment.tzinfo
        if self.unit in ("minutes", "hours"):
            return (moment.astimezone(UTC) + self.nominal()).astimezone(zone)
        if self.unit == "business_days":
            return calendar.add_business_days(moment, self.amount).astimezone(zone)
        local = moment.astimezone(calendar.tz)
        wall = local + self.nominal()  # aware + timedelta is wall-clock arithmetic in Python
        # A wall time that does not exist (skipped by a DST jump) resolves forwards.
        return wall.astimezone(UTC).astimezone(zone)


def parse_duration(text: str) -> Duration:
    """Parse the policy duration grammar: a whole number and a unit, case and spaces free.

    Units: m/min/minutes, h/hr/hours, d/day/days, w/wk/weeks, bd/business day(s).
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration; use forms like {ACCEPTED_FORMS}")
    match = _PATTERN.match(text.lower())
    unit: Unit | None = None
    if match:
        word = re.sub(r"[\s_-]+", " ", match["unit"])
        unit = _UNIT_WORDS.get(word)
    if match is None or unit is None:
        raise ValueError(f'"{text}" is not a duration; use forms like {ACCEPTED_FORMS}')
    digits = match["amount"].lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        raise ValueError(
            f'"{text[:40]}..." is longer than ten years; use forms like {ACCEPTED_FORMS}'
        )
    return Duration(int(digits), unit)
