"""Stated time frames ("we'll decide by Friday") and out-of-office return dates in mail text.

Design notes:

- Pure: text and the message's own `sent_at` in, aware datetimes out. No clock reads; every
  relative phrase ("next week", "within two business days") is resolved against `sent_at`, in
  `sent_at`'s own zone, so "Friday" means the sender's Friday.
- Rules are data. `_FRAME_RULES` and `_RETURN_TIERS` are tables of (regex, resolver). Every rule
  is tried; the match that starts first in the text wins, ties go to the longest match
  ("by Friday next week" beats "by Friday"). A match whose resolver gives up (31 February, a
  date already past) is skipped and the next one is tried.
- Results of `find_time_frame` are never before `sent_at`: "by 9am today" written at 10am is
  no longer a time frame. A day without a stated time ends at 23:59:59; "within 48 hours" is
  elapsed time (48 hours after `sent_at`, across any DST change). `find_return_date` gives
  09:00 on the day the sender is back.
- Conventions where English is ambiguous (tests pin each of them):
  - a bare weekday means the next such day after the sent day; said on that same weekday it
    means a week later ("by Friday" written on a Friday is the next Friday). "this Friday"
    written on a Friday is that day.
  - "next Friday" is the Friday of the next calendar week (weeks start on Monday). Waiting
    longer is the safe side for a job seeker: a follow-up that comes too early is worse.
  - "end of the week" is Friday of the current week (today on a Friday; on a weekend, the
    coming Friday); "early next week" is Wednesday of next week; "next week" and "end of next
    week" are Friday of next week.
  - numeric dates are US month/day ("12/3" is 3 December); a date without a year is the next
    such date on or after the sent day; an explicit year already past is not a time frame.
  - "in the next few days" is 3 calendar days, "a couple of days" 2, "in the coming weeks" 3
    weeks; ranges take their upper bound ("a week or two", "2-3 business days").
  - business days skip Saturday and Sunday only; holidays are the planner's business.
  - a time zone named next to a time ("5pm ET") is ignored: the sender's zone is used.
- German, French, Spanish, Portuguese and Dutch (issue 12, point 4): periods ("innerhalb von
  zwei Wochen", "d'ici deux semaines", "en las próximas dos semanas", "nas próximas duas
  semanas", "binnen twee weken", business days in each), deadlines before a weekday or a date
  ("bis Freitag", "avant le 3 décembre", "antes del viernes", "até sexta-feira", "uiterlijk
  vrijdag"), and out-of-office returns ("hasta el 3 de diciembre", "até 3 de dezembro", "tot en
  met vrijdag", "de vuelta el", "de volta no dia", "weer op"). "tot en met" counts the day, as
  "through" does. "3 de diciembre" is read like "3 December".
- Anything the rules do not cover gives None. Nothing here raises on any text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["TimeFrame", "find_return_date", "find_time_frame"]


@dataclass(frozen=True, slots=True)
class TimeFrame:
    until: datetime
    """Aware: end of the stated period, in the zone of the message's `sent_at`."""
    phrase: str
    """The matched text, white space collapsed."""


END_OF_DAY = time(23, 59, 59)
RETURN_TIME = time(9, 0)
"""An out-of-office sender is taken to be back at the start of a working day."""

_MAX_DAYS = 400
"""A stated period longer than about a year is not a decision time frame (and keeps date
arithmetic far from overflow)."""

# --- vocabulary -------------------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
    # French and German, for out-of-office replies ("de retour le lundi 7 décembre").
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonntag": 6,
    # Spanish, Portuguese and Dutch, for time frames and out-of-office replies.
    "lunes": 0,
    "martes": 1,
    "miércoles": 2,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sábado": 5,
    "sabado": 5,
    "domingo": 6,
    "segunda-feira": 0,
    "terça-feira": 1,
    "quarta-feira": 2,
    "quinta-feira": 3,
    "sexta-feira": 4,
    "segunda": 0,
    "terça": 1,
    "quarta": 2,
    "quinta": 3,
    "sexta": 4,
    "maandag": 0,
    "dinsdag": 1,
    "woensdag": 2,
    "donderdag": 3,
    "vrijdag": 4,
    "zaterdag": 5,
    "zondag": 6,
}

_MONTHS: dict[str, int] = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
    # French
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
    # German
    "januar": 1,
    "jänner": 1,
    "februar": 2,
    "märz": 3,
    "maerz": 3,
    "juni": 6,
    "juli": 7,
    "oktober": 10,
    "dezember": 12,
    # Spanish
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
    # Portuguese
    "janeiro": 1,
    "fevereiro": 2,
    "março": 3,
    "marco": 3,
    "maio": 5,
    "junho": 6,
    "julho": 7,
    "setembro": 9,
    "outubro": 10,
    "novembro": 11,
    "dezembro": 12,
    # Dutch
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "mei": 5,
    "augustus": 8,
}

_QUANTITIES: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "couple": 2,
    "a few": 3,
    "few": 3,
}


def _alternatives(words: Sequence[str]) -> str:
    """A regex alternation that tries longer words first ("sunday" before "sun")."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_DAY_ABBREVIATIONS = frozenset(
    {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
)
_MONTH_ABBREVIATIONS = frozenset(
    {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)
_ABBREVIATIONS = _DAY_ABBREVIATIONS | _MONTH_ABBREVIATIONS


def _names(words: Sequence[str]) -> str:
    """Full names, or abbreviations with an optional dot ("Dec. 3"); whole words only."""
    full = [word for word in words if word not in _ABBREVIATIONS]
    short = [word for word in words if word in _ABBREVIATIONS]
    return rf"(?:(?:{_alternatives(full)})(?!\w)|(?:{_alternatives(short)})(?!\w)\.?)"


_WD = _names(list(_WEEKDAYS))
_MON = _names(list(_MONTHS))
_QTY = rf"(?:\d{{1,3}}|(?:{_alternatives(list(_QUANTITIES))})(?!\w))"
_UNIT = (
    r"(?:hours?|hrs?|(?:business|working|work|calendar)[\s-]days?|days?|weeks?|wks?|months?)"
    r"(?!\w)"
)
_TIME = (
    r"(?:noon|midday|midnight"
    r"|\d{1,2}(?::[0-5]\d)?\s?(?:a\.?m\.?|p\.?m\.?)(?!\w)"
    r"|(?:[01]?\d|2[0-3]):[0-5]\d(?!\d))"
    r"(?:\s(?:[ecmp][sd]?t|gmt|utc|bst|cet|cest)(?!\w))?"
)
_EOD = (
    r"(?:the\s+)?(?:end\s+of\s+(?:the\s+)?(?:business\s+)?day|eod|cob|eob"
    r"|close\s+of\s+(?:business|play)|end\s+of\s+business)"
)

# Day references shared by time frames and return dates. Group names are unique per fragment.
_DATE_NAMED = (
    rf"(?:{_WD},?\s+)?(?:the\s+)?"
    rf"(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?(?P<m1>{_MON})"
    rf"|(?P<m2>{_MON})\s+(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?!\d))"
    rf"(?:,?\s+(?P<y>\d{{4}})(?!\d))?"
)
_DATE_NUMERIC = (
    rf"(?:{_WD},?\s+)?(?:(?P<nm>\d{{1,2}})/(?P<nd>\d{{1,2}})(?:/(?P<ny>\d{{4}}|\d{{2}}))?(?![\d/])"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?!\d))"
)
_DAY_OF_MONTH = rf"(?:{_WD},?\s+)?the\s+(?P<dom>\d{{1,2}})(?:st|nd|rd|th)(?!\w)"
_WEEKDAY_NAMED = (
    rf"(?:(?P<rel>this\s+coming|this|coming|next)\s+)?(?P<wd>{_WD})(?:,?\s+(?P<nw>next\s+week))?"
)

_SPACE = re.compile(r"\s+")
_CLOCK = re.compile(r"(\d{1,2})(?::(\d\d))?\s?([ap])?")

# --- small date helpers -----------------------------------------------------------------------


TEXT_LIMIT = 20_000
"""Characters of a message these rules read (a snippet holds 4,000): bounds their time."""


def _flatten(text: str) -> str:
    """One line, typographic quotes made plain, so phrases match across line wraps."""
    text = text[:TEXT_LIMIT].replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return _SPACE.sub(" ", text).strip()


def _at(day: date, at: time | None, sent_at: datetime) -> datetime:
    return datetime.combine(day, at or END_OF_DAY, tzinfo=sent_at.tzinfo)


def _quantity(text: str | None) -> int | None:
    if not text:
        return None
    word = " ".join(text.lower().split())
    if word.isdigit():
        return int(word)
    return _QUANTITIES.get(word)


def _parse_time(text: str | None) -> time | None:
    if not text:
        return None
    lowered = text.lower()
    if lowered.startswith(("noon", "midday")):
        return time(12, 0)
    if lowered.startswith("midnight"):
        return END_OF_DAY
    found = _CLOCK.match(lowered)
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if found.group(3):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found.group(3) == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _weekday_date(sent: date, weekday: int, rel: str = "", next_week: bool = False) -> date:
    rel = " ".join(rel.lower().split())
    if rel == "next" or next_week:
        return _next_monday(sent) + timedelta(days=weekday)
    ahead = (weekday - sent.weekday()) % 7
    if ahead == 0 and rel != "this":
        ahead = 7
    return sent + timedelta(days=ahead)


def _end_of_this_week(sent: date) -> date:
    return sent + timedelta(days=(4 - sent.weekday()) % 7)


def _last_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _end_of_next_month(day: date) -> date:
    first = _add_months(day.replace(day=1), 1)
    return _last_of_month(first.year, first.month)


def _add_business_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _next_business_day(day: date) -> date:
    return _add_business_days(day, 1)


def _month_day(sent: date, month: int, day: int, year: int | None) -> date | None:
    """The stated date; without a year, the next such date on or after `sent`."""
    if year is not None:
        if year < 100:
            year += 2000
        try:
            stated = date(year, month, day)
        except ValueError:
            return None
        return stated if stated >= sent else None
    for candidate_year in range(sent.year, sent.year + 5):  # 29 February can be four years out
        try:
            stated = date(candidate_year, month, day)
        except ValueError:
            continue
        if stated >= sent:
            return stated
    return None


def _day_of_month(sent: date, dom: int) -> date | None:
    year, month = sent.year, sent.month
    for _ in range(3):
        if dom <= calendar.monthrange(year, month)[1] and date(year, month, dom) >= sent:
            return date(year, month, dom)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _stated_date(found: re.Match[str], sent: date) -> date | None:
    """Resolve whichever of the shared day-reference fragments matched."""
    groups = found.groupdict()
    if groups.get("m1") or groups.get("m2"):
        month_word = (groups.get("m1") or groups.get("m2") or "").lower().rstrip(".")
        day_text = groups.get("d1") or groups.get("d2") or ""
        year_text = groups.get("y")
        return _month_day(
            sent, _MONTHS[month_word], int(day_text), int(year_text) if year_text else None
        )
    if groups.get("nm"):
        year_text = groups.get("ny")
        return _month_day(
            sent,
            int(groups["nm"]),
            int(groups["nd"]),
            int(year_text) if year_text else None,
        )
    if groups.get("iy"):
        return _month_day(sent, int(groups["im"]), int(groups["id"]), int(groups["iy"]))
    if groups.get("dom"):
        return _day_of_month(sent, int(groups["dom"]))
    if groups.get("wd"):
        weekday = _WEEKDAYS[groups["wd"].lower().rstrip(".")]
        return _weekday_date(sent, weekday, groups.get("rel") or "", bool(groups.get("nw")))
    return None


# --- time-frame rules -------------------------------------------------------------------------

Resolver = Callable[[re.Match[str], datetime], datetime | None]


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    resolve: Resolver


def _rule(pattern: str, resolve: Resolver) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE), resolve)


def _resolve_duration(found: re.Match[str], sent_at: datetime) -> datetime | None:
    """A period from the sent day: "within two business days", "over the next 2-3 weeks"."""
    prep = found.group("prep").lower()
    has_next = bool(found.group("next"))
    if prep in {"over", "during"} and not has_next:
        return None  # "over two weeks" is usually "more than two weeks"
    unit = found.group("unit").lower()
    count = _quantity(found.group("q3")) or _quantity(found.group("q2"))
    count = count or _quantity(found.group("q1"))
    if count is None:
        if not has_next:
            return None
        count = 3 if unit.endswith("s") else 1  # "in the coming days" / "in the next week"
    return _period_end(count, unit, sent_at)


def _period_end(count: int, unit: str, sent_at: datetime) -> datetime | None:
    """The end of `count` `unit`s (hours, business days, weeks, months, days) from `sent_at`."""
    sent = sent_at.date()
    if unit.startswith(("hour", "hr")):
        if count > _MAX_DAYS * 24:
            return None
        if sent_at.tzinfo is None:
            return sent_at + timedelta(hours=count)
        return (sent_at.astimezone(UTC) + timedelta(hours=count)).astimezone(sent_at.tzinfo)
    if unit.startswith(("business", "working", "work")):
        if count > _MAX_DAYS:
            return None
        return _at(_add_business_days(sent, count), None, sent_at)
    if unit.startswith(("week", "wk")):
        if count * 7 > _MAX_DAYS:
            return None
        return _at(sent + timedelta(weeks=count), None, sent_at)
    if unit.startswith("month"):
        if count > 12:
            return None
        return _at(_add_months(sent, count), None, sent_at)
    if count > _MAX_DAYS:
        return None
    return _at(sent + timedelta(days=count), None, sent_at)


def _fixed(day_of: Callable[[date], date]) -> Resolver:
    def resolve(found: re.Match[str], sent_at: datetime) -> datetime | None:
        del found
        return _at(day_of(sent_at.date()), None, sent_at)

    return resolve


def _resolve_deadline(found: re.Match[str], sent_at: datetime) -> datetime | None:
    """A deadline word or a promise ("by", "let you know on") followed by a day reference."""
    groups = found.groupdict()
    at = _parse_time(groups.get("tb")) or _parse_time(groups.get("ta"))
    sent = sent_at.date()
    relative = (groups.get("rd") or "").lower()
    if relative == "tomorrow":
        return _at(sent + timedelta(days=1), at, sent_at)
    if relative in {"today", "tonight"} or groups.get("eod"):
        return _at(sent, at, sent_at)
    if groups.get("tonly"):
        return _at(sent, _parse_time(groups["tonly"]), sent_at)
    day = _stated_date(found, sent)
    return None if day is None else _at(day, at, sent_at)


_DEADLINE = (
    r"(?:by|before|until|till|til|no\s+later\s+than|not\s+later\s+than|on\s+or\s+before"
    r"|latest\s+by|at\s+the\s+latest\s+by)"
)
_PROMISE = (
    r"(?:let\s+you\s+know|get\s+back\s+(?:to\s+you|in\s+touch)|be\s+in\s+touch|reach\s+out"
    r"(?:\s+to\s+you)?|follow\s+up(?:\s+with\s+you)?|update\s+you|circle\s+back|come\s+back\s+to"
    r"\s+you|contact\s+you|respond(?:\s+to\s+you)?|hear\s+(?:back\s+)?from\s+(?:us|me)"
    r"|(?:make|reach|have|expect)\s+(?:a|our|the|my)\s+(?:final\s+)?decision|decide)"
    r"(?:\s+(?:with|about|regarding)\s+(?:an?\s+|our\s+|the\s+|any\s+)?"
    r"(?:update|decision|answer|feedback|news|next\s+steps))?"
    r"(?:\s+(?:on|by|before|until|no\s+later\s+than))?"
)
_DAY_REFERENCE = (
    # Dates before the weekday: "Friday, December 4" is a date, not the coming Friday.
    rf"(?:(?:{_EOD}\s*,?\s*(?:on\s+)?)?(?:{_DATE_NAMED}|{_DATE_NUMERIC}|{_DAY_OF_MONTH}"
    rf"|{_WEEKDAY_NAMED}|(?P<rd>today|tonight|tomorrow))"
    rf"|(?P<eod>{_EOD})|(?P<tonly>{_TIME}))"
)
_DEADLINE_PATTERN = (
    rf"\b(?:{_DEADLINE}|{_PROMISE})\s++"  # possessive: a run of spaces is never given back
    rf"(?:(?P<tb>{_TIME})\s*,?\s*(?:on\s+)?)?"
    rf"{_DAY_REFERENCE}"
    rf"(?:\s*,?\s*(?:at\s+|by\s+|before\s+)?(?P<ta>{_TIME}))?"
)


_FOREIGN_QUANTITIES: dict[str, int] = {
    **dict.fromkeys(("ein", "eine", "einer", "einem", "einen", "un", "une", "uno", "una"), 1),
    **dict.fromkeys(("um", "uma", "een"), 1),
    **dict.fromkeys(("zwei", "deux", "dos", "dois", "duas", "twee"), 2),
    **dict.fromkeys(("drei", "trois", "tres", "três", "drie"), 3),
    **dict.fromkeys(("vier", "quatre", "cuatro", "quatro"), 4),
    **dict.fromkeys(("fünf", "cinq", "cinco", "vijf"), 5),
    **dict.fromkeys(("sechs", "six", "seis", "zes"), 6),
    **dict.fromkeys(("sieben", "sept", "siete", "sete", "zeven"), 7),
    **dict.fromkeys(("zehn", "dix", "diez", "dez", "tien"), 10),
    **dict.fromkeys(("vierzehn", "quatorze", "catorce", "catorze", "veertien"), 14),
    **dict.fromkeys(("quinze", "quince"), 15),
}
"""Numbers written out in German, French, Spanish, Portuguese and Dutch time frames."""

_FOREIGN_UNITS: dict[str, str] = {
    **dict.fromkeys(("wochen", "woche", "semaines", "semaine", "semanas", "semana"), "weeks"),
    **dict.fromkeys(("weken", "week"), "weeks"),
    **dict.fromkeys(("werktagen", "werktage", "arbeitstagen", "arbeitstage"), "business days"),
    **dict.fromkeys(
        ("jours ouvrés", "jours ouvrables", "días hábiles", "días laborables"), "business days"
    ),
    **dict.fromkeys(("dias úteis", "dias uteis", "werkdagen"), "business days"),
    **dict.fromkeys(
        ("tagen", "tage", "tag", "jours", "jour", "días", "día", "dias", "dia"), "days"
    ),
    **dict.fromkeys(("dagen", "dag"), "days"),
    **dict.fromkeys(("stunden", "heures", "horas", "uur"), "hours"),
    **dict.fromkeys(
        ("monaten", "monat", "mois", "meses", "mes", "mês", "maanden", "maand"), "months"
    ),
}
_FOREIGN_NEXT = (
    r"(?:innerhalb\s+der\s+nächsten|in\s+den\s+(?:nächsten|kommenden)|dans\s+les\s+prochains"
    r"|en\s+l[oa]s\s+próxim[oa]s|nas\s+próximas|nos\s+próximos|in\s+de\s+komende"
    r"|de\s+komende)"
)
_FOREIGN_WITHIN = (
    r"(?:innerhalb(?:\s+von)?|binnen|d'ici|dans\s+les|sous|en\s+un\s+plazo\s+(?:máximo\s+)?de"
    r"|dentro\s+de|no\s+prazo\s+(?:máximo\s+)?de|em\s+até|en|em|in)"
)


def _resolve_foreign_duration(found: re.Match[str], sent_at: datetime) -> datetime | None:
    """ "innerhalb von zwei Wochen", "d'ici deux semaines", "nas próximas duas semanas"..."""
    unit = _FOREIGN_UNITS.get(" ".join(found.group("funit").lower().split()))
    quantity = found.group("fq") or found.group("fq2")
    if unit is None:
        return None
    if quantity:
        count = int(quantity) if quantity.isdigit() else _FOREIGN_QUANTITIES.get(quantity.lower())
    else:
        count = 3 if found.group("funit").lower().endswith(("n", "s", "e")) else 1
    if count is None:
        return None
    return _period_end(count, unit, sent_at)


def _resolve_promise_this_week(found: re.Match[str], sent_at: datetime) -> datetime | None:
    del found
    return _at(_end_of_this_week(sent_at.date()), None, sent_at)


_FRAME_RULES: tuple[_Rule, ...] = (
    _rule(
        rf"\b(?P<prep>within|in|over|during)\s+(?:the\s+)?(?:(?P<next>next|coming|following)\s+)?"
        rf"(?:(?P<q1>{_QTY})(?:\s*(?:-|\u2013|\u2014|to|or)\s*(?P<q2>{_QTY}))?\s+)?"
        rf"(?P<unit>{_UNIT})(?:\s+or\s+(?P<q3>{_QTY})(?:\s+{_UNIT})?)?"
        r"(?:'s|s'|')?(?:\s+time)?",
        _resolve_duration,
    ),
    _rule(_DEADLINE_PATTERN, _resolve_deadline),
    _rule(
        rf"(?:\b{_FOREIGN_NEXT}\s++(?P<fq>\d{{1,3}}|{_alternatives(list(_FOREIGN_QUANTITIES))})?"
        rf"|\b{_FOREIGN_WITHIN}\s++(?P<fq2>\d{{1,3}}|"
        rf"{_alternatives(list(_FOREIGN_QUANTITIES))}))"
        rf"\s*(?P<funit>{_alternatives(list(_FOREIGN_UNITS))})(?!\w)",
        _resolve_foreign_duration,
    ),
    _rule(
        rf"\b(?:bis(?:\s+zum|\s+spätestens)?|spätestens(?:\s+am)?|d'ici(?:\s+à)?|avant|"
        rf"hasta|antes\s+del?|até|uiterlijk(?:\s+op)?|vóór|voor)\s++"
        rf"(?:(?:el|le|la|o|a|den|dem|op)\s+)?(?:{_DATE_NAMED}|{_WEEKDAY_NAMED})",
        _resolve_deadline,
    ),
    _rule(
        rf"\b{_PROMISE}\s+(?:later\s+)?this\s+week\b",
        _resolve_promise_this_week,
    ),
    _rule(
        r"\b(?:early|beginning\s+of|start\s+of|first\s+half\s+of|mid|middle\s+of"
        r"|the\s+middle\s+of)[\s-]+(?:the\s+)?next\s+week\b",
        _fixed(lambda sent: _next_monday(sent) + timedelta(days=2)),
    ),
    _rule(
        r"\b(?:(?:by\s+)?(?:the\s+)?end\s+of|late|later|some\s?time|the\s+latter\s+part\s+of)"
        r"\s+(?:the\s+)?next\s+week\b|\bnext\s+week\b",
        _fixed(lambda sent: _next_monday(sent) + timedelta(days=4)),
    ),
    _rule(
        r"\b(?:(?:by\s+|before\s+)?(?:the\s+)?end\s+of|later|late|some\s?time)\s+(?:the|this)"
        r"\s+week\b|\bwithin\s+the\s+week\b",
        _fixed(_end_of_this_week),
    ),
    _rule(
        r"\b(?:(?:by\s+|before\s+)?(?:the\s+)?end\s+of|later|late)\s+(?:the|this)\s+month\b"
        r"|\bwithin\s+the\s+month\b",
        _fixed(lambda sent: _last_of_month(sent.year, sent.month)),
    ),
    _rule(
        r"\b(?:early|beginning\s+of|start\s+of)\s+next\s+month\b",
        _fixed(lambda sent: _add_months(sent.replace(day=1), 1).replace(day=10)),
    ),
    _rule(
        r"\b(?:(?:by\s+|before\s+)?(?:the\s+)?end\s+of|late|later)\s+next\s+month\b"
        r"|\bnext\s+month\b",
        _fixed(_end_of_next_month),
    ),
    _rule(
        r"\b(?:by\s+|before\s+)?(?:the\s+)?end\s+of\s+(?:the|this)\s+year\b",
        _fixed(lambda sent: date(sent.year, 12, 31)),
    ),
)


# --- return-date rules ------------------------------------------------------------------------

_RETURN_DAY = (
    rf"(?:{_DATE_NAMED}|{_DATE_NUMERIC}|{_DAY_OF_MONTH}|{_WEEKDAY_NAMED}"
    r"|(?P<rd>tomorrow)|(?P<rnw>next\s+week))"
)


def _resolve_return(found: re.Match[str], sent_at: datetime) -> datetime | None:
    sent = sent_at.date()
    groups = found.groupdict()
    if groups.get("rd"):
        day: date | None = sent + timedelta(days=1)
    elif groups.get("rnw"):
        day = _next_monday(sent)
    else:
        day = _stated_date(found, sent)
    if day is None:
        return None
    if groups.get("incl"):
        day = _next_business_day(day)  # "out through Friday": back the next working day
    return _at(day, RETURN_TIME, sent_at)


_BACK = (
    r"(?:(?:be|i'm|i\s+am|will\s+be)\s+)?(?:back|return(?:ing|s)?)"
    r"(?:\s+(?:to|in|at)\s+(?:the\s+|my\s+)?(?:office|work|desk))?"
    r"(?:\s+(?:on|from|by|as\s+of|starting(?:\s+on)?))?"
    r"|(?:in|at)\s+(?:the\s+)?(?:office|work)\s+(?:again\s+)?(?:on|from|as\s+of|starting(?:\s+on)?)"
    r"|de\s+retour(?:\s+au\s+bureau)?(?:\s+(?:le|à\s+partir\s+du|dès\s+le))?"
    r"|zurück(?:\s+(?:am|ab(?:\s+dem)?))?"
    r"|wieder\s+(?:im\s+büro|erreichbar|da)(?:\s+(?:am|ab(?:\s+dem)?))?"
    r"|de\s+(?:vuelta|regreso)(?:\s+(?:el|a\s+partir\s+del))?|vuelvo(?:\s+el)?"
    r"|de\s+volta(?:\s+(?:em|no\s+dia|a\s+partir\s+de))?|volto(?:\s+(?:em|no\s+dia))?"
    r"|(?:weer\s+)?(?:terug|aanwezig|op\s+kantoor)\s+(?:op|vanaf)|weer\s+(?:op|vanaf)"
)
_UNTIL = (
    r"(?P<incl>through|thru|until\s+and\s+including|up\s+to\s+and\s+including"
    r"|bis\s+einschließlich|tot\s+en\s+met|t/m)"
    r"|until|till|til|jusqu'au|jusqu'à|bis(?:\s+zum)?|hasta(?:\s+el)?|até(?:\s+(?:o\s+)?dia)?"
    r"|tot"
)

_RETURN_TIERS: tuple[tuple[_Rule, ...], ...] = (
    # An explicit return beats an absence's end: "out until Friday, back on Monday" is Monday.
    (
        _rule(rf"\b(?:{_BACK})\s++{_RETURN_DAY}", _resolve_return),
        _rule(
            rf"\bab\s+(?:dem\s+)?{_DATE_NAMED}(?=[^.!?]{{0,40}}\bwieder\b)",
            _resolve_return,
        ),
    ),
    (_rule(rf"(?<!\w)(?:{_UNTIL})\s++{_RETURN_DAY}", _resolve_return),),
)


# --- matching ---------------------------------------------------------------------------------


def _candidates(text: str, rules: Sequence[_Rule]) -> Iterator[tuple[re.Match[str], _Rule]]:
    """All matches of all rules, first in the text first, longest first at the same place."""
    found = [(match, rule) for rule in rules for match in rule.pattern.finditer(text)]
    found.sort(key=lambda pair: (pair[0].start(), -(pair[0].end() - pair[0].start())))
    yield from found


def _resolve(rule: _Rule, found: re.Match[str], sent_at: datetime) -> datetime | None:
    try:
        return rule.resolve(found, sent_at)
    except (ValueError, OverflowError, KeyError):
        return None  # an impossible date, or arithmetic off the end of the calendar


def _not_before(moment: datetime, sent_at: datetime) -> bool:
    """True when `moment` is not earlier than `sent_at`, both as instants and on the clock."""
    try:
        if moment.replace(tzinfo=None) < sent_at.replace(tzinfo=None):
            return False
        if moment.tzinfo is not None and sent_at.tzinfo is not None:
            return moment.astimezone(UTC) >= sent_at.astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


def find_time_frame(text: str, sent_at: datetime) -> TimeFrame | None:
    """The first decision date or period the text states, resolved against `sent_at`."""
    flat = _flatten(text)
    for found, rule in _candidates(flat, _FRAME_RULES):
        until = _resolve(rule, found, sent_at)
        if until is not None and _not_before(until, sent_at):
            return TimeFrame(until=until, phrase=found.group(0).strip())
    return None


def find_return_date(text: str, sent_at: datetime) -> datetime | None:
    """09:00 on the day an out-of-office reply says its sender is back, in `sent_at`'s zone."""
    flat = _flatten(text)
    for tier in _RETURN_TIERS:
        for found, rule in _candidates(flat, tier):
            back = _resolve(rule, found, sent_at)
            if back is not None:
                return back
    return None
