"""Times and recurrence of Calendar v3 event resources: `event_time` reads a `start` or `end`
value (an all-day date in the calendar's zone, a floating time in the event's own zone), and
`expand_series` turns the RRULE, EXRULE, RDATE and EXDATE lines of a series master into its
instance resources, up to two years past `now` (Google expands open-ended series lazily; a
bounded horizon stands in for that here)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rruleset, rrulestr  # type: ignore[import-untyped]

_INSTANCE_HORIZON = timedelta(days=730)
_MAX_INSTANCES = 1000


def zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def event_time(value: dict[str, Any], time_zone: str) -> datetime:
    """A `start` or `end` value as an aware datetime; `time_zone` is the calendar's."""
    if "date" in value:
        day = date.fromisoformat(value["date"])
        return datetime(day.year, day.month, day.day, tzinfo=zone(None, time_zone))
    moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(value.get("timeZone"), time_zone))
    return moment


def event_bounds(resource: dict[str, Any], time_zone: str) -> tuple[datetime, datetime]:
    return event_time(resource["start"], time_zone), event_time(resource["end"], time_zone)


def expand_series(master: dict[str, Any], now: datetime, time_zone: str) -> list[dict[str, Any]]:
    """The occurrences of a recurring event, up to two years past `now`."""
    lines = master.get("recurrence")
    if not lines:
        return []
    all_day = "date" in master["start"]
    start, end = event_bounds(master, time_zone)
    tz = zone(master["start"].get("timeZone"), time_zone)
    first = start.replace(tzinfo=None) if all_day else start.astimezone(tz)
    try:
        rules = _rule_set(lines, first, all_day, tz)
        horizon = (now + _INSTANCE_HORIZON).astimezone(tz)
        limit = horizon.replace(tzinfo=None) if all_day else horizon
        found: list[dict[str, Any]] = []
        for occurrence in rules:
            if occurrence > limit or len(found) >= _MAX_INSTANCES:
                break
            found.append(_instance(master, occurrence, end - start, all_day, tz))
    except (ValueError, TypeError, KeyError, ZoneInfoNotFoundError) as exc:
        raise ValueError(f"unreadable recurrence {lines!r}: {exc}") from exc
    return found


def _instance(
    master: dict[str, Any],
    occurrence: datetime,
    length: timedelta,
    all_day: bool,
    tz: ZoneInfo,
) -> dict[str, Any]:
    item = copy.deepcopy(master)
    item.pop("recurrence", None)
    item["recurringEventId"] = master["id"]
    if all_day:
        day = occurrence.date()
        item["id"] = f"{master['id']}_{day:%Y%m%d}"
        item["start"] = {"date": day.isoformat()}
        item["end"] = {"date": (day + timedelta(days=max(1, length.days))).isoformat()}
        item["originalStartTime"] = {"date": day.isoformat()}
        return item
    local = occurrence.astimezone(tz)
    item["id"] = f"{master['id']}_{local.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    name = master["start"].get("timeZone")
    item["start"] = _timed(local, name)
    item["end"] = _timed((local + length).astimezone(tz), master["end"].get("timeZone"))
    item["originalStartTime"] = _timed(local, name)
    return item


def _rule_set(lines: Sequence[str], first: datetime, all_day: bool, tz: ZoneInfo) -> Any:
    """An rruleset from Google `recurrence` lines. dateutil reads the RRULE/EXRULE values; the
    RDATE/EXDATE dates are read here, since dateutil's own parser rejects TZID on RDATE."""
    rules = rruleset()
    for line in lines:
        head, _, value = line.partition(":")
        name, *params = head.upper().split(";")
        if name in {"RRULE", "EXRULE"}:
            rule = rrulestr(value, dtstart=first)
            (rules.rrule if name == "RRULE" else rules.exrule)(rule)
        elif name in {"RDATE", "EXDATE"}:
            tzid = next(
                (p.partition("=")[2] for p in head.split(";") if p.upper().startswith("TZID=")),
                None,
            )
            if any(p.startswith("VALUE=PERIOD") for p in params):
                raise ValueError("RDATE periods are not supported")
            for item in value.split(","):
                moment = _ical_moment(item.strip(), tzid, all_day, tz)
                (rules.rdate if name == "RDATE" else rules.exdate)(moment)
        else:
            raise ValueError(f"unsupported recurrence line {line!r}")
    return rules


def _ical_moment(text: str, tzid: str | None, all_day: bool, tz: ZoneInfo) -> datetime:
    """An iCalendar DATE or DATE-TIME (RFC 5545 3.3.4/3.3.5) as the expansion compares it."""
    if len(text) == 8:
        day = datetime.strptime(text, "%Y%m%d")
        return day if all_day else day.replace(tzinfo=tz)
    moment = datetime.strptime(text.rstrip("Zz"), "%Y%m%dT%H%M%S")
    if text[-1:] in {"Z", "z"}:
        moment = moment.replace(tzinfo=UTC).astimezone(tz)
    else:
        moment = moment.replace(tzinfo=ZoneInfo(tzid) if tzid else tz)
    return moment.replace(tzinfo=None) if all_day else moment


def _timed(moment: datetime, name: str | None) -> dict[str, str]:
    value = {"dateTime": moment.isoformat()}
    if name:
        value["timeZone"] = name
    return value
