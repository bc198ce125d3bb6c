"""iCalendar in and out: bytes become `CalendarEvent`s, and `CalendarEvent`s become bytes.

Design notes:

- Pure: data in, data out, no file I/O, and no clock unless the caller gives a `Budget`.
  `parse_calendar` never raises for bad input. A calendar that cannot be read at all gives one
  `Skipped` for the source; a component that cannot be read gives a `Skipped` for itself, and
  the others still come through: when icalendar refuses the whole text (a VTIMEZONE with
  `TZOFFSETTO:+2500` does that), each component is parsed on its own and only the bad ones go;
  a VEVENT whose VTIMEZONE went, or cannot be built, is skipped rather than read in a wrong zone.
- Bounded work (issue 10): a hostile invitation must not stall a sync. A VTIMEZONE rule must
  repeat yearly or monthly and have a bounded number of transitions; a series must start within
  `SANE_YEARS`, repeat at most hourly, cost at most `MAX_EXPANSION_STEPS` steps of dateutil's
  iteration from its DTSTART to the end of the window (dateutil always starts at DTSTART), and
  have at most `MAX_OCCURRENCES` (plus two per day) occurrences in the window. What fails these is skipped with the
  reason. A caller's `Budget` also times each series: one that takes longer is skipped with a
  digest of its content, which the source keeps in its state so that later syncs skip it unread.
  Text searched with regular expressions is bounded (`TEXT_LIMIT`) and the patterns have no
  nested quantifiers; HTML becomes text in one linear pass.
- Reading goes in four steps.
  1. Bytes to text. Lines are unfolded on bytes (RFC 5545 §3.1: CRLF, bare LF or CR, then one
     space or TAB), so that a UTF-8 sequence split by a fold joins again; then each logical line
     is decoded as UTF-8, or as Windows-1252 when it is not UTF-8 (latin-1 exports from
     Thunderbird). A few repairs happen on the logical lines: text outside every component
     (before the first BEGIN, after the last END) goes; white space inside RRULE goes (Exchange
     CDO writes "BYDAY=MO, TU"); empty EXDATE/RDATE lines go; components left open by a
     truncated file get their END lines. A repair never makes icalendar refuse what it reads
     without it (issue 11): components are counted as icalendar counts them, where any END line
     closes the open one, so a mistyped `END:VCALENDARD` or `END:VTOOD` loses nothing.
  2. icalendar parses the text in its tolerant mode, which keeps broken properties as `vBroken`
     and lists them in `component.errors`. A VEVENT with a broken date, duration or rule is
     skipped with that error as the reason; RDATE and EXDATE values that are times of no day
     are dropped, and the VEVENT read without them.
  3. Every date-time gets its zone from our own resolver, per calendar: an IANA name, else a
     Windows name through icalendar's own table, else the calendar's VTIMEZONE, else the floating
     zone. We do not keep icalendar's choice because icalendar caches custom VTIMEZONEs in one
     process-wide table keyed by TZID, first definition wins: two calendars that both define
     Outlook's "Customized Time Zone" would share one; and it prefers a calendar's 1601-based
     VTIMEZONE over the IANA zone that a Windows name stands for.
  4. recurring_ical_events expands each series (the VEVENTs that share a UID) on its own, so one
     broken series cannot hide the rest. It keeps an override with STATUS:CANCELLED as an
     occurrence with that status, which is what we want: a cancelled interview is news.
- The *floating zone* is the calendar's X-WR-TIMEZONE when that names a known zone, else
  `default_tz`. Floating times, all-day dates and TZIDs nobody can resolve use it. All-day events
  start and end at 00:00 of that zone. But a floating time in a VEVENT whose start or end has a
  zone takes that zone (a floating start and a Europe/Berlin end are both Berlin times, as khal
  and icalendar read them), and such an event is not floating.
- `id` is stable across reschedules: the UID for a single event; for an occurrence of a series,
  `UID/RECURRENCE-ID`, where RECURRENCE-ID is the occurrence's original time (RFC 5545
  §3.8.4.4), so that a moved occurrence keeps its id. It is written in UTC
  (`20260309T090000Z`) when the series has a zone; for a series of floating times or dates it is
  the wall time or the date as the calendar says it (`20260309T100000`, `20260309`), because
  their instant depends on the floating zone, that is on the account's time zone: a zone change
  must not turn an occurrence into a new interview (issue 10). Such an occurrence keeps its
  former UTC id in `aliases`, so that drafts recorded under it still match. A VEVENT without UID
  gets a UID that is a hash of summary, DTSTART and source.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import logging
import math
import re
import time as clocks
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from icalendar.prop import vDDDLists, vDDDTypes
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from mailagent.core.models import (
    SNIPPET_LIMIT,
    Attendee,
    CalendarEvent,
    EventStatus,
    Person,
    ResponseStatus,
)
from providers.base import Skipped, Window

__all__ = ["VIDEO_DOMAINS", "Budget", "events_to_ics", "parse_calendar"]

log = logging.getLogger(__name__)

VIDEO_DOMAINS: tuple[str, ...] = (
    "zoom.us",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "webex.com",
    "whereby.com",
    "meet.jit.si",
    "chime.aws",
    "bluejeans.com",
    "gotomeeting.com",
)
"""Hosts whose links in a description or location count as conference URLs (the host itself or
any subdomain, e.g. `us02web.zoom.us`, `acme.webex.com`)."""

_ONE_DAY = timedelta(days=1)
_QUERY_MARGIN = timedelta(days=2)
"""The expansion span is widened by this much and the results filtered exactly afterwards:
floating and all-day values are compared in their own zone, up to 14 hours away from UTC."""

SANE_YEARS = range(1600, 2201)
"""Years a series may start in. 1601 is Outlook's usual VTIMEZONE start and 1604 Apple's year
for a birthday without one; a series from year 1 is an attack or an accident."""
MAX_EXPANSION_STEPS = 100_000
"""Candidate times dateutil may walk through for one series, from DTSTART to the window's end
(about 0.5 s). A daily series since 1900 is 46,000; a minutely one for a week already 10,000."""
MAX_OCCURRENCES = 1_000
"""Occurrences of one series inside the window, plus two per day of the window (a 90-day
window allows 1,180: twice-daily standups pass, an hourly series does not)."""
MAX_ZONE_TRANSITIONS = 50_000
"""Transitions one VTIMEZONE rule may have up to the year 2200 (a yearly rule from year 1 has
2,200); dateutil walks them from DTSTART for every lookup."""
_ZONE_RULE_FREQUENCIES = frozenset({"YEARLY", "MONTHLY"})
_TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})
_PERIOD_DAYS = {"HOURLY": 1 / 24, "DAILY": 1, "WEEKLY": 7, "MONTHLY": 28, "YEARLY": 365}
_DAY_EXPANDING_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
MAX_ATTENDEES = 500
"""ATTENDEE lines read per component; the rest are dropped before parsing. An invitation to more
people is a webinar or an attack (10,000 attendees cost seconds to parse and megabytes to store);
the planner drafts for at most 12 of them anyway."""
TEXT_LIMIT = 64 * 1024
"""Characters of a DESCRIPTION, X-ALT-DESC, LOCATION or URL that are read: enough for any real
invitation, bounded for the regular expressions and the HTML pass."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A time budget per series, given by a source (the shell: it owns the clock)."""

    seconds: float = 1.0
    known_slow: frozenset[str] = frozenset()
    """Digests of series that went over budget on an earlier read (`Skipped.digest`)."""
    clock: Callable[[], float] = clocks.monotonic


class _TooCostly(Exception):
    """A series that went over a bound while it was being expanded."""


_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_CRITICAL_PROPERTIES = frozenset({*_DATE_PROPERTIES, "DURATION", "RRULE", "EXRULE"})
"""Properties without which the occurrences of a VEVENT are unknown: broken means skipped."""

_STATUS = {
    "CANCELLED": EventStatus.CANCELLED,
    "CANCELED": EventStatus.CANCELLED,
    "TENTATIVE": EventStatus.TENTATIVE,
}
_PARTSTAT = {
    "NEEDS-ACTION": ResponseStatus.NEEDS_ACTION,
    "ACCEPTED": ResponseStatus.ACCEPTED,
    "DECLINED": ResponseStatus.DECLINED,
    "TENTATIVE": ResponseStatus.TENTATIVE,
    "DELEGATED": ResponseStatus.DELEGATED,
}
_RESOURCE_CUTYPES = frozenset({"RESOURCE", "ROOM"})
_OPTIONAL_ROLES = frozenset({"OPT-PARTICIPANT", "NON-PARTICIPANT"})

_MEETING_URL_PROPERTIES = (
    "X-GOOGLE-CONFERENCE",
    "X-MICROSOFT-SKYPETEAMSMEETINGURL",
    "X-MICROSOFT-ONLINEMEETINGCONFLINK",
)
"""Vendor properties that hold a meeting link, read in this order after RFC 7986 CONFERENCE;
only http(s) values count (ONLINEMEETINGCONFLINK is often a `conf:sip:` address)."""

_LINK_SOURCES = ("URL", "DESCRIPTION", "X-ALT-DESC", "LOCATION")
"""Properties searched for links to a video service (VIDEO_DOMAINS), in this order. URL is
here, not above, because it is usually the event's web page (Podio, Meetup, a holiday list)."""

_FOLD = re.compile(rb"\n+[ \t]")
"""A line break, and any blank lines after it, before a space or TAB: icalendar unfolds so
(Mozilla wrote "UID\n\n :956630271"), and so must we, or its repairs would lose the value."""
_RULE_LINE = re.compile(r"(?i)^(RRULE|EXRULE)([;:])(.*)$")
_EMPTY_DATE_LIST = re.compile(r"(?i)^(EXDATE|RDATE)(;[^:]*)?:\s*$")
_MARKER = re.compile(r"(?i)^(BEGIN|END)[;:]")
"""A line that opens or closes a component for icalendar: its name is BEGIN or END, whatever
the value (icalendar's parser closes the open component at any END line)."""
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\/]+\.[^@\s<>()\[\],;:\"\\/.]+")
_URI_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:\S", re.IGNORECASE)
_HTTP_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_URL_TRAILER = ".,;:!?)]}'\""
_HTML_TAG = re.compile(
    r"<(?:html|body|p|br|div|span|a|b|i|u|em|strong|font|ul|ol|li|table|tr|td|blockquote)"
    r"(?=[\s/>])",
    re.IGNORECASE,
)
"""Does a text look like HTML: a known tag name and what may follow it. Not `<p[^>]*>`, which
scans to the end of the text from every `<p ` when there is no `>` (quadratic)."""
_TAG = re.compile(r"<(?:!|(/?)([a-zA-Z][a-zA-Z0-9]*))[^<>]*>?")
"""One tag, or a declaration; unclosed, it ends at the next `<` (so each character is seen
once). A `<` before anything else is text, as in `a < b`."""
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


# -- reading -------------------------------------------------------------------------------------


def parse_calendar(
    data: bytes,
    *,
    window: Window,
    default_tz: ZoneInfo,
    source: str = "",
    budget: Budget | None = None,
) -> tuple[list[CalendarEvent], list[Skipped]]:
    """The events of `data` that overlap `window`, series expanded; and what was skipped.

    Never raises for bad input: an unreadable calendar gives `([], [Skipped(source, reason)])`.
    """
    try:
        calendars, skipped, broken_zones = _read_components(data, source)
    except Exception as exc:  # any failure here means "not a calendar", whatever its type
        log.debug("%s: not iCalendar data", source, exc_info=True)
        return [], [Skipped(source, f"not iCalendar data: {_short(exc)}")]
    if not calendars:
        return [], [*skipped, Skipped(source, "no VCALENDAR or VEVENT found")]
    events: list[CalendarEvent] = []
    for calendar in calendars:
        try:
            found, lost = _read_calendar(
                calendar,
                window=window,
                default_tz=default_tz,
                source=source,
                budget=budget,
                broken_zones=broken_zones,
            )
        except Exception as exc:  # a defect in one calendar must not lose the others
            log.debug("%s: calendar could not be read", source, exc_info=True)
            skipped.append(Skipped(source, f"calendar could not be read: {_short(exc)}"))
        else:
            events.extend(found)
            skipped.extend(lost)
    return latest_by_id(events), skipped


def latest_by_id(events: Iterable[CalendarEvent]) -> list[CalendarEvent]:
    """One event per id (the highest SEQUENCE wins), sorted by start: several files, resources
    or feed entries of one calendar may hold the same event."""
    latest: dict[str, CalendarEvent] = {}
    for event in events:
        kept = latest.get(event.id)
        if kept is None or event.sequence > kept.sequence:
            latest[event.id] = event
    return sorted(latest.values(), key=lambda event: (event.start, event.id))


def damage(data: bytes) -> str:
    """Why `data` looks like a calendar caught in the middle of a rewrite ("" if it does not):
    a sync tool that rewrites a file in place leaves it empty or cut short for a moment."""
    if not data.strip():
        return "is empty"
    if b"BEGIN:VCALENDAR" in data[:4096].upper() and _left_open(data):
        return "is cut short (a component it opens is never closed)"
    return ""


_MARKER_LINE = re.compile(rb"(?im)^(BEGIN|END)[;:]")


def _left_open(data: bytes) -> bool:
    """Whether a component of `data` is never closed, counted as icalendar counts (any END
    line closes the open component): a file whose last line is `END:VCALENDARD`, or text after
    its END:VCALENDAR, is whole."""
    depth = 0
    for marker in _MARKER_LINE.finditer(data.replace(b"\r", b"\n")):
        depth = depth + 1 if marker[1].upper() == b"BEGIN" else max(0, depth - 1)
    return depth > 0


def _read_components(
    data: bytes, source: str
) -> tuple[list[icalendar.Component], list[Skipped], dict[str, str]]:
    """The VCALENDARs of `data`; the components that could not be parsed; and the TZIDs of the
    VTIMEZONEs among them, with the reason."""
    text = _to_text(data)
    if not text:
        return [], [], {}
    try:
        components = _from_ical(text)
    except Exception as exc:
        if not text.upper().startswith("BEGIN:VCALENDAR"):
            raise
        log.debug("%s: calendar refused whole, parsing its components one by one", source)
        text, skipped, broken_zones = _salvage(text, source, exc)
        components = _from_ical(text)
    else:
        skipped, broken_zones = [], {}
    return _calendars(components), skipped, broken_zones


def _from_ical(text: str) -> list[icalendar.Component]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        components = icalendar.Calendar.from_ical(text, multiple=True)
    for warning in caught:
        log.debug("icalendar: %s", warning.message)
    return list(components)


def _salvage(text: str, source: str, error: Exception) -> tuple[str, list[Skipped], dict[str, str]]:
    """`text` without the components icalendar refuses, each parsed on its own."""
    header: list[str] = []
    blocks: list[list[str]] = []
    depth = 0
    for line in text.split("\r\n"):
        marker = _MARKER.match(line)
        if marker and marker[1].upper() == "BEGIN":
            depth += 1
            if depth == 2:
                blocks.append([])
        if depth >= 2:
            blocks[-1].append(line)
        elif depth == 1 and not marker:
            header.append(line)
        if marker and marker[1].upper() == "END":
            depth = max(0, depth - 1)
    kept: list[str] = []
    skipped: list[Skipped] = []
    broken_zones: dict[str, str] = {}
    for block in blocks:
        try:
            _from_ical(_join(["BEGIN:VCALENDAR", *header, *block, "END:VCALENDAR"]))
        except Exception as exc:  # this component is what icalendar refused
            name, label = _label(block)
            reason = f"unreadable {name}: {_short(exc)}"
            skipped.append(Skipped(f"{source}#{label}", reason))
            if name == "VTIMEZONE":
                broken_zones[_clean_tzid(label)] = reason
            continue
        kept.extend(block)
    if not skipped:  # the calendar as a whole is what icalendar refused
        raise error
    return _join(["BEGIN:VCALENDAR", *header, *kept, "END:VCALENDAR"]), skipped, broken_zones


def _join(lines: Iterable[str]) -> str:
    return "".join(f"{line}\r\n" for line in lines)


def _label(block: list[str]) -> tuple[str, str]:
    """A component's name, and its UID or TZID (else its name) to name it in a `Skipped`."""
    name = block[0].partition(":")[2].strip().upper()
    wanted = "TZID" if name == "VTIMEZONE" else "UID"
    for line in block[1:]:
        key, _, value = line.partition(":")
        if key.split(";", 1)[0].strip().upper() == wanted and value.strip():
            return name, value.strip()
    return name, name


def _calendars(components: list[icalendar.Component]) -> list[icalendar.Component]:
    """The VCALENDARs, and one more for the VEVENTs and VTIMEZONEs outside any: a bare VEVENT,
    as some clients export one event, or one inside a component of another name (icalendar's
    issue_178_custom_component_contains_other.ics)."""
    calendars: list[icalendar.Component] = [c for c in components if c.name == "VCALENDAR"]
    loose: list[icalendar.Component] = []
    pending = [c for c in reversed(components) if c.name != "VCALENDAR"]
    while pending:  # not into VEVENTs (their own walk finds what they hold), nor recursively
        component = pending.pop()
        if component.name in ("VEVENT", "VTIMEZONE"):
            loose.append(component)
        elif component.name != "VCALENDAR":
            pending.extend(reversed(component.subcomponents))
    if loose:
        wrapper = icalendar.Calendar()
        for component in loose:
            wrapper.add_component(component)
        calendars.append(wrapper)
    return calendars


def _to_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = data.decode("utf-16").encode("utf-8")
    unfolded = _FOLD.sub(b"", data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    lines = _repair([_decode_line(line) for line in unfolded.split(b"\n")])
    return "".join(f"{line}\r\n" for line in lines)


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return line.decode("latin-1")


def _repair(lines: list[str]) -> list[str]:
    """The logical lines with the repairs of the design notes.

    Components are counted as icalendar counts them: any END line closes the open component,
    whatever name it gives (`END:VTOOD`, `END:VCALENDARD`), so that the END lines added for a
    truncated file never outnumber what icalendar itself would close, which would make it
    refuse a file it reads. Lines outside every component (before the first BEGIN, between
    calendars, after the end) go: icalendar refuses them."""
    repaired: list[str] = []
    open_components: list[str] = []
    attendees = 0
    for line in lines:
        marker = _MARKER.match(line)
        begins = marker is not None and marker[1].upper() == "BEGIN"
        if not open_components and not begins:
            continue
        if _EMPTY_DATE_LIST.match(line):
            continue
        if line[:8].upper() == "ATTENDEE" and line[8:9] in (":", ";"):
            attendees += 1
            if attendees > MAX_ATTENDEES:
                continue
        rule = _RULE_LINE.match(line)
        if rule:
            line = rule[1] + rule[2] + re.sub(r"\s+", "", rule[3]).rstrip(";")  # noqa: PLW2901
        if begins:
            open_components.append(line.partition(":")[2].strip().upper())
            attendees = 0
        elif marker is not None:
            open_components.pop()
        repaired.append(line)
    repaired.extend(f"END:{name}" for name in reversed(open_components))
    return repaired


def _read_calendar(
    calendar: icalendar.Component,
    *,
    window: Window,
    default_tz: ZoneInfo,
    source: str,
    budget: Budget | None,
    broken_zones: dict[str, str],
) -> tuple[list[CalendarEvent], list[Skipped]]:
    events: list[CalendarEvent] = []
    skipped: list[Skipped] = []
    zones = _Zones(calendar, default_tz, broken_zones)
    cancelled = str(calendar.get("METHOD", "")).strip().upper() == "CANCEL"
    series: dict[str, list[icalendar.Component]] = {}
    floating: dict[str, bool] = {}
    for index, vevent in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _uid(vevent, source)
        problem = _problem(vevent, window) or _zone_problem(vevent, zones)
        if problem:
            item = f"{source}#{_text(vevent.get('UID')) or f'vevent-{index}'}"
            skipped.append(Skipped(item, problem))
            continue
        vevent["UID"] = icalendar.vText(uid)  # also groups UID-less duplicates into one series
        if uid not in floating or "RECURRENCE-ID" not in vevent:  # the master decides
            floating[uid] = _floating(vevent, zones)
        if "SEQUENCE" in vevent and not isinstance(vevent["SEQUENCE"], int):
            del vevent["SEQUENCE"]  # recurring_ical_events compares it; unreadable means 0
        _drop_timeless_dates(vevent)
        _localize(vevent, zones)
        series.setdefault(uid, []).append(vevent)
    for uid, components in series.items():
        item = f"{source}#{uid}"
        digest = _digest(components) if budget is not None and budget.known_slow else ""
        if budget is not None and digest in budget.known_slow:
            reason = "not read: it went over its time budget on an earlier sync, unchanged since"
            skipped.append(Skipped(item, reason, digest))
            continue
        check = _deadline(budget)
        try:
            found = list(
                _expand(
                    uid,
                    components,
                    window,
                    zones,
                    cancelled=cancelled,
                    floating=floating[uid],
                    check=check,
                )
            )
            check()
        except _TooCostly as exc:
            log.debug("%s: series skipped: %s", item, exc)
            over_budget = "budget" in str(exc)
            skipped.append(Skipped(item, str(exc), (digest or _digest(components)) * over_budget))
            continue
        except Exception as exc:  # recurring_ical_events raises several types for bad series
            log.debug("%s#%s: series could not be expanded", source, uid, exc_info=True)
            skipped.append(Skipped(item, f"cannot expand: {_short(exc)}"))
        else:
            events.extend(found)
    return events, skipped


def _digest(components: list[icalendar.Component]) -> str:
    """What a series is, for remembering it (computed only when a budget needs it)."""
    hasher = hashlib.sha256()
    for component in components:
        hasher.update(component.to_ical())
    return hasher.hexdigest()[:32]


def _deadline(budget: Budget | None) -> Callable[[], None]:
    """A check that raises `_TooCostly` once the series' time budget is spent."""
    if budget is None:
        return lambda: None
    clock, seconds = budget.clock, budget.seconds
    started = clock()

    def check() -> None:
        spent = clock() - started
        if spent > seconds:
            raise _TooCostly(
                f"took over {seconds:g} s to read (its time budget): skipped, and not read "
                "again while it is unchanged"
            )

    return check


def _uid(vevent: icalendar.Component, source: str) -> str:
    uid = _text(vevent.get("UID"))
    if uid:
        return uid
    start = _first(vevent.get("DTSTART"))
    start_text = ""
    if isinstance(start, vDDDTypes):
        start_text = f"{start.params.get('TZID', '')}:{start.to_ical().decode()}"
    material = "\x1f".join((_text(vevent.get("SUMMARY")), start_text, source))
    return "nouid-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


def _floating(vevent: icalendar.Component, zones: _Zones) -> bool:
    """True when the VEVENT's times name no zone we can resolve: a date, or floating date-times
    (or unknown TZIDs) at both its start and its end. Its times are then wall times wherever
    the reader is."""
    prop = _first(vevent.get("DTSTART"))
    if not isinstance(prop, vDDDTypes):
        return False
    if not isinstance(prop.dt, datetime):
        return True
    return _own_zone(vevent, zones) is None


def _own_zone(vevent: icalendar.Component, zones: _Zones) -> tzinfo | None:
    """The zone the VEVENT's DTSTART, else its DTEND, names (a resolvable TZID, or UTC), or None.

    A floating time beside a zoned one is read in that zone, as khal and icalendar do (khal's
    event_dt_mixed_awareness.ics: 12:00 floating to 16:00 Europe/Berlin is four hours in
    Berlin, not 12:00 in the account's zone)."""
    for name in ("DTSTART", "DTEND"):
        prop = _first(vevent.get(name))
        if not isinstance(prop, vDDDTypes) or not isinstance(prop.dt, datetime):
            continue
        tzid = prop.params.get("TZID")
        zone = zones.resolve(str(tzid)) if tzid else prop.dt.tzinfo
        if zone is not None:
            return zone
    return None


def _problem(vevent: icalendar.Component, window: Window) -> str | None:
    """Why this VEVENT cannot be read, or None."""
    errors: list[tuple[str | None, str]] = list(vevent.errors)
    start = vevent.get("DTSTART")
    if start is None:
        lost_lines = [message for name, message in errors if name is None]
        detail = f" ({_short(lost_lines[0])})" if lost_lines else ""
        return f"no DTSTART{detail}"
    if isinstance(start, list):
        return "more than one DTSTART"
    for name, message in errors:
        if name in _CRITICAL_PROPERTIES:
            return f"unreadable {name}: {_short(message)}"
    if not isinstance(start, vDDDTypes) or not isinstance(start.dt, date):
        return "DTSTART is not a date or date-time"
    return _rule_problem(vevent, start.dt, window)


def _rule_problem(vevent: icalendar.Component, start: date, window: Window) -> str | None:
    """A recurrence rule whose expansion would never end (INTERVAL=0 makes dateutil loop
    forever; a CalDAV server stores such an event without complaint) or would cost too much."""
    for name in ("RRULE", "EXRULE"):
        for rule in _all(vevent.get(name)):
            for value in _parts(rule, "INTERVAL"):
                try:
                    positive = int(value) >= 1
                except (TypeError, ValueError):
                    positive = False
                if not positive:
                    return f"unreadable {name}: INTERVAL must be a positive number, not {value!r}"
            freq = str(next(iter(_parts(rule, "FREQ")), "")).upper()
            if freq in _TOO_FREQUENT:
                return (
                    f"{name} FREQ={freq}: a series that repeats more often than hourly is not read"
                )
            if start.year not in SANE_YEARS:
                return (
                    f"a series that starts in the year {start.year} is not read "
                    f"(only {SANE_YEARS.start}-{SANE_YEARS.stop - 1})"
                )
            steps = _expansion_steps(rule, freq, start, window)
            if steps > MAX_EXPANSION_STEPS:
                return (
                    f"{name} FREQ={freq} from {start:%Y-%m-%d} would take about {steps:,} steps "
                    f"to expand up to the sync window (at most {MAX_EXPANSION_STEPS:,})"
                )
    return None


def _parts(rule: Any, name: str) -> list[Any]:
    """The values of one part of a recurrence rule (icalendar's vRecur maps names to lists)."""
    values = rule.get(name, []) if hasattr(rule, "get") else []
    return list(values) if isinstance(values, list | tuple) else [values]


def _expansion_steps(rule: Any, freq: str, start: date, window: Window) -> int:
    """About how many candidate times dateutil walks from DTSTART to the window's end (or the
    rule's UNTIL): periods, times every candidate day when BY-rules pick days inside a period,
    times the BYHOUR/BYMINUTE/BYSECOND combinations of each day (or hour)."""
    end = window.end.date()
    for until in _parts(rule, "UNTIL"):
        if isinstance(until, date):
            end = min(end, until.date() if isinstance(until, datetime) else until)
    first = start.date() if isinstance(start, datetime) else start
    days = max(0, (end - first).days) + 1
    interval = max(1, _int(next(iter(_parts(rule, "INTERVAL")), 1)))
    period = _PERIOD_DAYS.get(freq, 1)
    if period >= 7 and any(_parts(rule, part) for part in _DAY_EXPANDING_PARTS):
        steps = float(days)  # every day of a period is a candidate
    else:
        steps = days / (period * interval)
    times = ("BYMINUTE", "BYSECOND") if freq == "HOURLY" else ("BYHOUR", "BYMINUTE", "BYSECOND")
    for part in times:
        steps *= max(1, len(_parts(rule, part)))
    return math.ceil(steps)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _zone_problem(vevent: icalendar.Component, zones: _Zones) -> str | None:
    """A VEVENT whose TZID names a VTIMEZONE that was refused or cannot be built: read in
    another zone it could be hours off, so it is skipped."""
    for name in _DATE_PROPERTIES:
        for prop in _all(vevent.get(name)):
            tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
            if tzid and zones.resolve(str(tzid)) is None:
                reason = zones.unusable.get(_clean_tzid(str(tzid)))
                if reason:
                    return f"its time zone {_clean_tzid(str(tzid))!r} is unusable: {reason}"
    return None


def _zone_rule_problem(component: icalendar.Component) -> str | None:
    """Why a VTIMEZONE's rules would cost too much to follow (dateutil walks every rule from its
    DTSTART on each lookup), or None."""
    for part in component.subcomponents:
        start = _moment(part, "DTSTART")
        for rule in _all(part.get("RRULE")):
            freq = str(next(iter(_parts(rule, "FREQ")), "")).upper()
            if freq not in _ZONE_RULE_FREQUENCIES:
                return f"a {part.name} rule with FREQ={freq or '?'} (time zone rules repeat yearly)"
            first = start.year if start is not None else 1
            last = SANE_YEARS.stop
            for until in _parts(rule, "UNTIL"):
                if isinstance(until, date):
                    last = min(last, until.year)
            transitions = max(1, last - first) * (12 if freq == "MONTHLY" else 1)
            for name in ("BYMONTH", *_DAY_EXPANDING_PARTS, "BYHOUR", "BYMINUTE", "BYSECOND"):
                transitions *= max(1, len(_parts(rule, name)))
            if transitions > MAX_ZONE_TRANSITIONS:
                return f"a {part.name} rule with about {transitions:,} transitions"
    return None


class _Zones:
    """Resolves TZIDs for one calendar (see the design notes for the order)."""

    def __init__(
        self,
        calendar: icalendar.Component,
        default_tz: ZoneInfo,
        broken: dict[str, str] | None = None,
    ) -> None:
        self._broken = dict(broken or {})
        self.unusable: dict[str, str] = {}
        """TZID -> why its VTIMEZONE cannot be used (filled as TZIDs are resolved)."""
        self._vtimezones: dict[str, icalendar.Component] = {}
        for component in calendar.walk("VTIMEZONE"):
            tzid = _clean_tzid(_text(component.get("TZID")))
            if tzid:
                self._vtimezones.setdefault(tzid, component)
        self._resolved: dict[str, tzinfo | None] = {}
        declared = _text(calendar.get("X-WR-TIMEZONE"))
        self.floating: tzinfo = (self.resolve(declared) if declared else None) or default_tz

    def resolve(self, tzid: str) -> tzinfo | None:
        key = _clean_tzid(tzid)
        if key not in self._resolved:
            self._resolved[key] = named_zone(key) or self._vtimezone(key)
            if self._resolved[key] is None:
                log.debug("unknown TZID %r: using the floating zone", key)
        return self._resolved[key]

    def _vtimezone(self, key: str) -> tzinfo | None:
        if key in self._broken:
            self.unusable[key] = self._broken[key]
            return None
        component = self._vtimezones.get(key)
        if not isinstance(component, icalendar.Timezone):
            return None
        problem = _zone_rule_problem(component)
        if problem:
            self.unusable[key] = problem
            return None
        try:
            # lookup_tzid=False: build from this definition, not from icalendar's global cache.
            zone: tzinfo = component.to_tz(lookup_tzid=False)
        except Exception as exc:  # a VTIMEZONE icalendar cannot turn into a zone
            log.debug("VTIMEZONE %r is unusable", key, exc_info=True)
            self.unusable[key] = f"cannot be built: {_short(exc)}"
            return None
        return zone


def _clean_tzid(tzid: str) -> str:
    return tzid.strip().strip('"').strip()


def named_zone(key: str) -> ZoneInfo | None:
    candidates = [key.strip("/")]
    if key in WINDOWS_TO_OLSON:
        candidates.append(WINDOWS_TO_OLSON[key])
    if key.startswith("/"):  # RFC 5545 §3.2.19 globally unique id, e.g. /mozilla.org/…/Europe/Rome
        parts = key.strip("/").split("/")
        candidates.extend("/".join(parts[i:]) for i in range(1, len(parts)))
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


def _localize(vevent: icalendar.Component, zones: _Zones) -> None:
    """Give every date-time of the VEVENT its zone (dates stay dates). A floating one takes the
    zone of the VEVENT's start or end when that has one (`_own_zone`), else the floating zone."""
    floating = _own_zone(vevent, zones) or zones.floating
    for name in _DATE_PROPERTIES:
        for prop in _all(vevent.get(name)):
            tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
            zone = (zones.resolve(str(tzid)) or floating) if tzid else None
            items = prop.dts if isinstance(prop, vDDDLists) else [prop]
            for item in items:
                if isinstance(item, vDDDTypes):
                    item.dt = _zoned(item.dt, zone, floating)


def _drop_timeless_dates(vevent: icalendar.Component) -> None:
    """Drop RDATE and EXDATE values that are times of no day (`VALUE=TIME`, in icalendar's
    multiple_timezones.ics): RFC 5545 §3.8.5 allows dates, date-times and periods only, and
    recurring_ical_events cannot compare a time with a date-time. A property left empty goes."""
    for name in ("RDATE", "EXDATE"):
        props = _all(vevent.get(name))
        kept = []
        for prop in props:
            if isinstance(prop, vDDDLists):
                prop.dts = [item for item in prop.dts if not isinstance(item.dt, time)]
                if not prop.dts:
                    continue
            kept.append(prop)
        if len(kept) < len(props):
            log.debug("%s: dropped %s values that name no day", _text(vevent.get("UID")), name)
            del vevent[name]
            if kept:
                vevent[name] = kept if len(kept) > 1 else kept[0]


def _zoned(value: Any, zone: tzinfo | None, floating: tzinfo) -> Any:
    if isinstance(value, tuple):  # an RDATE period: (start, end or duration)
        return tuple(_zoned(part, zone, floating) for part in value)
    if not isinstance(value, datetime):
        return value
    if zone is not None:
        return value.replace(tzinfo=zone)
    return value if value.tzinfo is not None else value.replace(tzinfo=floating)


def _expand(
    uid: str,
    components: list[icalendar.Component],
    window: Window,
    zones: _Zones,
    *,
    cancelled: bool,
    floating: bool,
    check: Callable[[], None],
) -> Iterator[CalendarEvent]:
    recurring = any(
        name in component
        for component in components
        for name in ("RRULE", "RDATE", "RECURRENCE-ID")
    )
    shifts = _this_and_future_shifts(components)
    single = icalendar.Calendar()
    for component in components:
        single.add_component(component)
    query = recurring_ical_events.CalendarQuery(single)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        occurrences = list(_occurrences(query, window, check))
    for warning in caught:
        log.debug("recurring_ical_events: %s", warning.message)
    for occurrence in occurrences:
        event = _event(
            occurrence,
            uid,
            zones,
            recurring=recurring,
            cancelled=cancelled,
            shifts=shifts,
            floating=floating,
        )
        if _overlaps(event, window):
            yield event


def _occurrences(
    query: recurring_ical_events.CalendarQuery, window: Window, check: Callable[[], None]
) -> Iterator[icalendar.Component]:
    """`query.between` for the window, one occurrence at a time, so that the count and the time
    budget are checked as it goes (`between` itself builds the whole list first)."""
    start, stop = window.start - _QUERY_MARGIN, window.end + _QUERY_MARGIN
    cap = MAX_OCCURRENCES + 2 * (stop - start).days
    count = 0
    for series in query.series:
        for occurrence in series.between(start, stop):
            count += 1
            if count > cap:
                raise _TooCostly(
                    f"more than {cap:,} occurrences in the sync window: not a meeting series"
                )
            check()
            yield occurrence.as_component(query.keep_recurrence_attributes)


def _this_and_future_shifts(components: list[icalendar.Component]) -> dict[date, timedelta]:
    """RECURRENCE-ID -> how far a RANGE=THISANDFUTURE override moves the later occurrences.

    recurring_ical_events copies the override's RECURRENCE-ID onto every occurrence it moves; the
    original time of such an occurrence is its new start minus this shift."""
    shifts: dict[date, timedelta] = {}
    for component in components:
        rid = _moment(component, "RECURRENCE-ID")
        start = _moment(component, "DTSTART")
        if rid is None or start is None or not _this_and_future(component):
            continue
        try:
            shifts[rid] = start - rid
        except TypeError:  # a date and a date-time: no shift we can apply
            continue
    return shifts


def _this_and_future(component: icalendar.Component) -> bool:
    rid = _first(component.get("RECURRENCE-ID"))
    return str(getattr(rid, "params", {}).get("RANGE", "")).upper() == "THISANDFUTURE"


def _moment(component: icalendar.Component, name: str) -> date | None:
    """The date or date-time value of a DTSTART-like property (a datetime is a date, too)."""
    prop = _first(component.get(name))
    if isinstance(prop, vDDDTypes) and isinstance(prop.dt, date):
        return prop.dt
    return None


def _event(
    component: icalendar.Component,
    uid: str,
    zones: _Zones,
    *,
    recurring: bool,
    cancelled: bool,
    shifts: dict[date, timedelta],
    floating: bool,
) -> CalendarEvent:
    raw_start = _moment(component, "DTSTART")
    if raw_start is None:  # _problem() let only readable DTSTARTs through
        raise ValueError("occurrence without DTSTART")
    raw_end = _moment(component, "DTEND") or raw_start
    all_day = not isinstance(raw_start, datetime)
    start = _aware(raw_start, zones.floating)
    end = _aware(raw_end, zones.floating)
    if end < start:
        start, end = end, start
    if all_day and end <= start:
        end = start + _ONE_DAY
    recurrence_id: datetime | None = None
    original = _moment(component, "RECURRENCE-ID") if recurring else None
    if original is not None:
        if _this_and_future(component) and original in shifts:
            original = raw_start - shifts[original]
        recurrence_id = _aware(original, zones.floating)
    event_id = uid
    aliases: tuple[str, ...] = ()
    if original is not None and recurrence_id is not None:
        event_id, aliases = _occurrence_id(uid, original, recurrence_id, zones, floating=floating)
    organizer = _person(_first(component.get("ORGANIZER")))
    return CalendarEvent(
        id=event_id,
        uid=uid,
        title=_text(component.get("SUMMARY")),
        start=start,
        end=end,
        all_day=all_day,
        status=EventStatus.CANCELLED if cancelled else _status(component),
        organizer=organizer,
        attendees=_attendees(component, organizer),
        description=_description(component)[:SNIPPET_LIMIT],
        location=_text(component.get("LOCATION")),
        conference_urls=_conference_urls(component),
        recurring=recurring,
        recurrence_id=recurrence_id,
        sequence=_sequence(component),
        aliases=aliases,
    )


def _occurrence_id(
    uid: str, original: date, recurrence_id: datetime, zones: _Zones, *, floating: bool
) -> tuple[str, tuple[str, ...]]:
    """The id of an occurrence, and the ids it had before (see the design notes)."""
    in_utc = f"{uid}/{recurrence_id.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    if not floating:
        return in_utc, ()
    if isinstance(original, datetime):
        wall = f"{uid}/{recurrence_id.astimezone(zones.floating):%Y%m%dT%H%M%S}"
    else:
        wall = f"{uid}/{original:%Y%m%d}"
    return wall, (in_utc,)


def _aware(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time(), tzinfo=zone)


def _overlaps(event: CalendarEvent, window: Window) -> bool:
    if event.start == event.end:  # an instant belongs to [start, end) like a point on a line
        return window.start <= event.start < window.end
    return event.start < window.end and event.end > window.start


def _status(component: icalendar.Component) -> EventStatus:
    return _STATUS.get(_text(component.get("STATUS")).upper(), EventStatus.CONFIRMED)


def _sequence(component: icalendar.Component) -> int:
    try:
        return int(str(_first(component.get("SEQUENCE", 0))).strip())
    except ValueError:
        return 0


# -- people --------------------------------------------------------------------------------------


def _person(prop: Any) -> Person | None:
    if prop is None:
        return None
    address = _address(prop)
    if not address:
        return None
    return Person(_name(prop), address)


def _attendees(component: icalendar.Component, organizer: Person | None) -> tuple[Attendee, ...]:
    attendees: list[Attendee] = []
    for prop in _all(component.get("ATTENDEE")):
        address = _address(prop)
        if not address:
            continue
        params = getattr(prop, "params", {})
        attendees.append(
            Attendee(
                name=_name(prop),
                address=address,
                organizer=organizer is not None and address == organizer.address,
                response=_PARTSTAT.get(_param(params, "PARTSTAT"), ResponseStatus.UNKNOWN),
                resource=_param(params, "CUTYPE") in _RESOURCE_CUTYPES,
                optional=_param(params, "ROLE") in _OPTIONAL_ROLES,
            )
        )
    return tuple(attendees)


def _address(prop: Any) -> str:
    """The e-mail address of an ORGANIZER or ATTENDEE, lower-cased, or "".

    RFC 7986 §6.2's EMAIL parameter comes first: iCloud puts an opaque routing address
    (`2_HEZ…@imip.me.com`) in the value and the person's address only there. Then the value after
    its last "mailto:", which also finds the address in values that swallowed their parameters
    (Confluence writes `ATTENDEE:X-KEY=…;CN=…:mailto:a@b`)."""
    params = getattr(prop, "params", {})
    candidates = [_param(params, "EMAIL", upper=False)]
    value = str(prop).strip()
    cut = value.lower().rfind("mailto:")
    candidates.append(unquote(value[cut + len("mailto:") :]) if cut >= 0 else value)
    for candidate in candidates:
        address = candidate.strip().strip("<>").strip()
        if _EMAIL.fullmatch(address):
            return address.lower()
    return ""


def _name(prop: Any) -> str:
    name = " ".join(_param(getattr(prop, "params", {}), "CN", upper=False).split())
    if _EMAIL.fullmatch(name.removeprefix("mailto:").removeprefix("MAILTO:")):
        return ""
    return name


def _param(params: Any, name: str, *, upper: bool = True) -> str:
    value = params.get(name, "")
    if isinstance(value, list):  # a parameter given twice, or a list parameter
        value = value[0] if value else ""
    text = str(value).strip()
    return text.upper() if upper else text


# -- text and links ------------------------------------------------------------------------------


def _description(component: icalendar.Component) -> str:
    plain = _text(component.get("DESCRIPTION"))[:TEXT_LIMIT]
    if plain:
        return _html_to_text(plain) if _HTML_TAG.search(plain) else plain
    alternative = _text(component.get("X-ALT-DESC"))[:TEXT_LIMIT]
    return _html_to_text(alternative) if alternative else ""


def _conference_urls(component: icalendar.Component) -> tuple[str, ...]:
    urls: list[str] = []
    for prop in _all(component.get("CONFERENCE")):
        uri = str(prop).strip()
        if _URI_SCHEME.match(uri):
            urls.append(uri)
    for name in _MEETING_URL_PROPERTIES:
        for prop in _all(component.get(name)):
            uri = str(prop).strip()
            if uri.lower().startswith(("http://", "https://")):
                urls.append(uri)
    for name in _LINK_SOURCES:
        for prop in _all(component.get(name)):
            urls.extend(video_links(str(prop)[:TEXT_LIMIT]))
    return tuple(dict.fromkeys(urls))


def video_links(text: str) -> Iterator[str]:
    is_html = bool(_HTML_TAG.search(text))
    for match in _HTTP_URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILER)
        if is_html:
            url = html.unescape(url)
        if _is_video_host(url):
            yield url


def _is_video_host(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:  # e.g. an unbalanced "[" where an IPv6 literal would go
        return False
    return any(host == domain or host.endswith(f".{domain}") for domain in VIDEO_DOMAINS)


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "blockquote", "ul", "ol", "table", "h1", "h2", "h3", "h4"}
)
_HIDDEN_TAGS = frozenset({"head", "script", "style", "title"})


def _html_to_text(markup: str) -> str:
    """The text of an HTML description, in one linear pass over at most `TEXT_LIMIT`
    characters: block tags become line breaks, head, script, style and title go, entities are
    decoded. (html.parser is quadratic on `<a <a <a …`: issue 10.)"""
    markup = _COMMENT.sub("", markup[:TEXT_LIMIT])
    parts: list[str] = []
    hidden = 0
    position = 0
    for tag in _TAG.finditer(markup):
        if not hidden:
            parts.append(markup[position : tag.start()])
        position = tag.end()
        name = (tag[2] or "").lower()
        if name in _HIDDEN_TAGS and not tag[0].endswith("/>"):
            hidden = max(0, hidden - 1) if tag[1] else hidden + 1
        elif name in _BLOCK_TAGS and not hidden:
            parts.append("\n")
    if not hidden:
        parts.append(markup[position:])
    text = html.unescape("".join(parts))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _text(value: Any) -> str:
    """A TEXT property's value, unescaped and stripped; the first one if it is repeated."""
    first = _first(value)
    return "" if first is None else str(first).strip()


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _all(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _short(error: object, limit: int = 160) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- writing -------------------------------------------------------------------------------------


def events_to_ics(
    events: Sequence[CalendarEvent],
    *,
    prodid: str = "-//mailagent//fixtures//EN",
    method: str = "",
) -> bytes:
    """A VCALENDAR with one VEVENT per event, with the VTIMEZONEs its TZIDs need; with a
    `method` (REQUEST, CANCEL: RFC 5546 §1.4), what an emailed invitation carries.

    Output is deterministic: DTSTAMP, which RFC 5545 requires, is the event's start in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", prodid)
    calendar.add("VERSION", "2.0")
    if method:
        calendar.add("METHOD", method)
    for event in events:
        calendar.add_component(_vevent(event))
    if events:
        first = min(event.start for event in events).date() - timedelta(days=366)
        last = max(event.end for event in events).date() + timedelta(days=366)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            calendar.add_missing_timezones(first_date=first, last_date=last)
    ical: bytes = calendar.to_ical()
    return ical


def _vevent(event: CalendarEvent) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", event.start.astimezone(UTC))
    if event.all_day:
        vevent.add("DTSTART", event.start.date())
        vevent.add("DTEND", max(event.end.date(), event.start.date() + _ONE_DAY))
    else:
        vevent.add("DTSTART", _writable(event.start))
        vevent.add("DTEND", _writable(event.end))
    if event.recurrence_id is not None:
        vevent.add("RECURRENCE-ID", _writable_recurrence_id(event.recurrence_id, event.all_day))
    _add_text(vevent, "SUMMARY", event.title)
    _add_text(vevent, "DESCRIPTION", event.description)
    _add_text(vevent, "LOCATION", event.location)
    vevent.add("STATUS", event.status.value.upper())
    vevent.add("SEQUENCE", event.sequence)
    if event.organizer is not None:
        vevent.add("ORGANIZER", _cal_address(event.organizer.address, event.organizer.name, {}))
    for attendee in event.attendees:
        params = {"ROLE": "OPT-PARTICIPANT" if attendee.optional else "REQ-PARTICIPANT"}
        if attendee.response is not ResponseStatus.UNKNOWN:
            params["PARTSTAT"] = attendee.response.value.upper()
        if attendee.resource:
            params["CUTYPE"] = "RESOURCE"
        vevent.add("ATTENDEE", _cal_address(attendee.address, attendee.name, params))
    for url in event.conference_urls:
        vevent.add("CONFERENCE", url, parameters={"VALUE": "URI"})
    web = next((u for u in event.conference_urls if u.startswith(("https://", "http://"))), None)
    if web is not None:  # for clients that do not know RFC 7986 CONFERENCE
        vevent.add("URL", web)
    return vevent


def _writable(moment: datetime) -> datetime:
    """Keep an IANA zone (written as TZID); anything else is written in UTC.

    So is a wall time that a DST change repeats or skips: a TZID form cannot say which of the
    two instants it means (RFC 5545 §3.3.5 picks the first), UTC can."""
    zone = moment.tzinfo
    ambiguous = moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()
    if isinstance(zone, ZoneInfo) and zone.key and not ambiguous:
        return moment
    return moment.astimezone(UTC)


def _writable_recurrence_id(rid: datetime, all_day: bool) -> date | datetime:
    """An all-day occurrence's RECURRENCE-ID is a DATE, as its DTSTART (RFC 5545 §3.8.4.4)."""
    if all_day and rid.time() == time():
        return rid.date()
    return _writable(rid)


def _add_text(vevent: icalendar.Component, name: str, text: str) -> None:
    if text:
        vevent.add(name, _Text(text.replace("\r\n", "\n").replace("\r", "\n")))


class _Text(icalendar.vText):
    """A TEXT value escaped as RFC 5545 section 3.3.11 says. icalendar's own escaping first
    turns a literal backslash and "N" into a line break (found by hypothesis: a location of
    "\\N" came back empty)."""

    def to_ical(self) -> bytes:
        text = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        return text.replace("\n", "\\n").encode("utf-8")


class _Parameters(icalendar.Parameters):
    """Also quote a CN that holds a backslash: icalendar's reader takes an unquoted backslash
    before the colon that ends the parameters for an escape, and the name would not come back.
    Inside quotes it still reads a backslash before , ; or \\ as an escape, so `_cal_address`
    doubles every backslash."""

    # RUF012: icalendar declares this without ClassVar; mypy rejects a ClassVar override.
    quote_also = {**icalendar.Parameters.quote_also, "CN": " '\\"}  # noqa: RUF012


def _cal_address(address: str, name: str, params: dict[str, str]) -> icalendar.vCalAddress:
    value = icalendar.vCalAddress(f"mailto:{address}")
    value.params = _Parameters()
    if name:
        value.params["CN"] = name.replace("\\", "\\\\")
    for key, param in params.items():
        value.params[key] = param
    return value
