"""Times as Graph writes and reads them: `iso_seconds` for message dates
("2017-07-22T01:53:56Z"), `iso_ticks` for event stamps (seven fractional digits, as .NET
writes them), dateTimeTimeZone values ({"dateTime": "2016-12-09T20:30:00.0000000",
"timeZone": "UTC"}) in the zone a `Prefer: outlook.timezone` header names (IANA or Windows
names; https://learn.microsoft.com/graph/api/resources/datetimetimezone), and lenient parsing
of the ISO 8601 values clients send."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOWS_ZONES: dict[str, str] = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Israel Standard Time": "Asia/Jerusalem",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
}
"""The common Windows time-zone names Outlook accepts, mapped as CLDR's windowsZones.xml maps
them (territory 001)."""


def resolve_zone(name: str) -> ZoneInfo | None:
    """The zone a Windows or IANA name means; None when neither knows it."""
    key = WINDOWS_ZONES.get(name.strip(), name.strip())
    if not key:
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def iso_seconds(moment: datetime) -> str:
    """Message dates: UTC, whole seconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ticks(moment: datetime) -> str:
    """Event stamps: UTC with seven fractional digits (100 ns ticks) and Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def zero_time() -> str:
    """The time of a response that was never given (strftime writes year 1 unpadded)."""
    return "0001-01-01T00:00:00Z"


def local_ticks(moment: datetime) -> str:
    """ "2016-12-09T20:30:00.0000000": a wall-clock time with no offset."""
    return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def date_time_zone(
    moment: datetime, zone_name: str, zone: ZoneInfo, *, all_day: bool
) -> dict[str, str]:
    """A dateTimeTimeZone in `zone`. All-day events are floating: midnight of their date, named
    in the requested zone without conversion, as Outlook shows them."""
    if all_day:
        midnight = datetime.combine(moment.astimezone(UTC).date(), datetime.min.time())
        return {"dateTime": local_ticks(midnight), "timeZone": zone_name}
    return {"dateTime": local_ticks(moment.astimezone(zone)), "timeZone": zone_name}


def _parse(text: str) -> datetime:
    """An ISO 8601 date-time, naive when it has no offset; raises ValueError."""
    value = text.strip().strip("'")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        value = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    return datetime.fromisoformat(value)


def parse_iso(text: str) -> datetime:
    """An ISO 8601 date-time as clients send it ("Z" or an offset; up to seven fractional
    digits); no offset means UTC. Raises ValueError."""
    moment = _parse(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_date_time_zone(value: object) -> datetime:
    """An aware datetime from a dateTimeTimeZone; raises ValueError when it is not one."""
    if not isinstance(value, dict):
        raise ValueError("not a dateTimeTimeZone")
    stamp, name = value.get("dateTime"), value.get("timeZone", "UTC")
    if not isinstance(stamp, str) or not isinstance(name, str):
        raise ValueError("not a dateTimeTimeZone")
    zone = resolve_zone(name or "UTC")
    if zone is None:
        raise ValueError(f"unknown time zone {name!r}")
    moment = _parse(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
