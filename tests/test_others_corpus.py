"""Calendars and mail written for other projects' tests (issue 11, point 9).

Four test corpora that their authors made to break parsers:

- the .ics files inside the installed `icalendar` and `recurring_ical_events` packages (their
  own test calendars), found through each package's `__file__`;
- khal's `tests/ics` and SpamScope/mail-parser's `tests/mails`, copied to
  `../shared/corpus/others/` (SOURCES.md there says where from);
- CPython's `test/test_email/data/msg_*.txt`, from the interpreter's `test` package. A Python
  built without its test package fails this test loudly instead of passing on nothing.

Every file is read without a crash and within `PER_FILE_SECONDS`. We lose no event that
icalendar reads: each series (UID) of VEVENTs that icalendar finds in the unrepaired file comes
out as at least one event, except for the documented exclusions below, each of which is checked
against the libraries themselves. No subject comes out with U+FFFD where the email package
decodes it without. And a whole sync over all of them ends without a crash.
"""

from __future__ import annotations

import email
import email.policy
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from icalendar.prop import vDDDTypes

from mailagent.core.models import Folder
from mailagent.errors import ParseError
from providers.base import Window
from providers.ical import parse_calendar
from providers.mime import parse_message
from providers.testservers.chaos import Overtime, watchdog

from .conftest import CORPUS
from .test_crash_and_corpus import corpus_account, sync_without_a_crash

PER_FILE_SECONDS = 5.0
"""A file that takes longer is a hang (the slowest takes about 0.3 s on the CI machine)."""
ZONE = ZoneInfo("America/New_York")
ARRIVAL = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
"""The Maildir provider's fallback date (a file's modification time) for mail without Date."""
OTHERS = CORPUS / "others"

CRITICAL = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "EXRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
)
"""Exclusion 1: a VEVENT one of whose time properties icalendar itself cannot read (it keeps it
as `vBroken` and lists it in `errors`), or that has no DTSTART, has no known time: icalendar
does not read it as an event. We skip it with the reason (providers/ical.py, step 2)."""
# Exclusion 2: a series whose rule recurring_ical_events cannot expand from icalendar's own
# reading (RFC 7529 RSCALE, a misspelt UNTIL): we skip it with the reason "cannot expand".
# Exclusion 3: a series with no occurrence in the window, as recurring_ical_events expands it
# from icalendar's own reading (every occurrence excluded, UNTIL before DTSTART).


def package_calendars(module: object) -> list[Path]:
    root = Path(str(getattr(module, "__file__", ""))).parent
    return sorted(root.rglob("*.ics"))


def cpython_email_data() -> Path:
    try:
        import test.test_email  # only this test needs CPython's test package
    except ImportError as exc:
        pytest.fail(
            "CPython's test package (test.test_email) is not installed with this Python: the "
            f"email corpus of issue 11 cannot be read ({exc}). Install the interpreter with its "
            "test suite (pyenv builds have it; Debian: the libpython3.x-testsuite package).",
            pytrace=False,
        )
    data = Path(str(test.test_email.__file__)).parent / "data"
    messages = sorted(data.glob("msg_*.txt"))
    if not messages:
        pytest.fail(f"CPython's email test data is missing: no msg_*.txt in {data}", pytrace=False)
    return data


CALENDAR_CORPORA = {
    "icalendar": lambda: package_calendars(icalendar),
    "recurring_ical_events": lambda: package_calendars(recurring_ical_events),
    "khal": lambda: sorted((OTHERS / "khal-ics").glob("*.ics")),
}
MAIL_CORPORA = {
    "cpython": lambda: sorted(cpython_email_data().glob("msg_*.txt")),
    "mail-parser": lambda: sorted(p for p in (OTHERS / "mail-parser-eml").iterdir() if p.is_file()),
}
LEAST_FILES = {"icalendar": 150, "recurring_ical_events": 80, "khal": 50, "cpython": 40}
LEAST_FILES["mail-parser"] = 20
"""How many files each corpus has at least: a corpus that went missing fails, not passes."""


# -- calendars ------------------------------------------------------------------------------------


@dataclass
class Expected:
    """The series of a file as icalendar and recurring_ical_events read it, unrepaired."""

    window: Window
    present: set[str] = field(default_factory=set)
    """UIDs with at least one occurrence in the window: we must give each."""
    unexpandable: set[str] = field(default_factory=set)
    """UIDs recurring_ical_events cannot expand (exclusion 2): we must skip each, with a reason."""
    without_uid: int = 0
    """Series without a UID that have an occurrence (we name them by a hash)."""


def _uid(vevent: icalendar.Component) -> str:
    uid = vevent.get("UID")
    if isinstance(uid, list):
        uid = uid[0] if uid else None
    return "" if uid is None else str(uid).strip()


def _readable(vevent: icalendar.Component) -> bool:
    start = vevent.get("DTSTART")
    if not isinstance(start, vDDDTypes) or not isinstance(start.dt, date):
        return False
    return not any(name in CRITICAL for name, _ in vevent.errors)


def _instant(value: date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=ZONE)
    return datetime.combine(value, time(), tzinfo=ZONE)


def _window(starts: list[datetime]) -> Window:
    """From two days before the first DTSTART to 400 days after the last (so a series whose
    first occurrence is excluded still shows its next ones)."""
    try:
        return Window(min(starts) - timedelta(days=2), max(starts) + timedelta(days=400))
    except (ValueError, OverflowError):  # a DTSTART near year 1 or 9999
        return Window(datetime(1990, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC))


def expected_series(data: bytes) -> Expected | None:
    """What icalendar reads from `data` as it is, or None when it refuses the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:  # icalendar refuses it: nothing of it we must match
        return None
    series: dict[str, list[icalendar.Component]] = {}
    for calendar in calendars:
        for vevent in calendar.walk("VEVENT"):
            if _readable(vevent):
                key = _uid(vevent) or f"\x00{vevent.get('SUMMARY')}\x00{vevent['DTSTART'].dt}"
                series.setdefault(key, []).append(vevent)
    starts = [_instant(v["DTSTART"].dt) for group in series.values() for v in group]
    expected = Expected(_window(starts) if starts else Window(ARRIVAL, ARRIVAL))
    for key, components in series.items():
        single = icalendar.Calendar()
        for component in components:
            single.add_component(component)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = recurring_ical_events.of(single).between(
                    expected.window.start, expected.window.end
                )
        except Exception:  # exclusion 2
            expected.unexpandable.add(key)
            continue
        if not found:  # exclusion 3
            continue
        if key.startswith("\x00"):
            expected.without_uid += 1
        else:
            expected.present.add(key)
    return expected


@dataclass
class Lost:
    file: str
    what: str


def check_calendar(path: Path) -> list[Lost]:
    """What reading `path` lost or got wrong (nothing, if all is well)."""
    data = path.read_bytes()
    expected = expected_series(data)
    window = expected.window if expected else Window(ARRIVAL - timedelta(days=3650), ARRIVAL)
    try:
        with watchdog(PER_FILE_SECONDS):
            events, skipped = parse_calendar(data, window=window, default_tz=ZONE, source=path.name)
    except Overtime:
        return [Lost(path.name, f"took over {PER_FILE_SECONDS} s")]
    problems = [Lost(path.name, f"skipped without a reason: {s}") for s in skipped if not s.reason]
    for event in events:
        if event.start.utcoffset() is None or not event.start <= event.end:
            problems.append(Lost(path.name, f"impossible times: {event}"))
    if expected is None:
        return problems
    uids = {event.uid for event in events}
    named = {s.item.removeprefix(f"{path.name}#"): s.reason for s in skipped}
    for uid in sorted(expected.present - uids):
        problems.append(Lost(path.name, f"event {uid!r} lost ({named.get(uid, 'no reason')})"))
    for uid in sorted(expected.unexpandable - uids):
        if uid.startswith("\x00") or "cannot expand" in named.get(uid, ""):
            continue
        problems.append(Lost(path.name, f"unexpandable {uid!r} not skipped with its reason"))
    without_uid = len({uid for uid in uids if uid.startswith("nouid-")})
    if without_uid < expected.without_uid:
        problems.append(Lost(path.name, f"{expected.without_uid - without_uid} UID-less lost"))
    return problems


@pytest.mark.parametrize("corpus", sorted(CALENDAR_CORPORA))
def test_no_calendar_crashes_hangs_or_loses_an_event_icalendar_reads(corpus: str) -> None:
    paths = CALENDAR_CORPORA[corpus]()
    assert len(paths) >= LEAST_FILES[corpus], f"the {corpus} calendars are missing"

    problems = [problem for path in paths for problem in check_calendar(path)]

    assert problems == []


# -- mail -----------------------------------------------------------------------------------------

READ_FAILURES = {"no sender", "empty message"}
"""Why a message may be skipped (with the Maildir provider's fallback date, "no date" cannot
happen); "unreadable message (...)" is a parser bug."""


def _stdlib_text(message: email.message.Message, name: str) -> str | None:
    try:
        value = message[name]
    except Exception:  # the email package cannot read that header either
        return None
    return None if value is None else str(value)


def check_message(path: Path) -> list[str]:
    data = path.read_bytes()
    reference = email.message_from_bytes(data, policy=email.policy.default)
    try:
        with watchdog(PER_FILE_SECONDS):
            message = parse_message(data, folder=Folder.INBOX, id="x", fallback_date=ARRIVAL)
    except Overtime:
        return [f"{path.name}: took over {PER_FILE_SECONDS} s"]
    except ParseError as exc:
        reason = str(exc)
        senders = [_stdlib_text(reference, n) or "" for n in ("from", "sender", "return-path")]
        if reason == "no sender" and any("@" in sender for sender in senders):
            return [f"{path.name}: no sender, where the email package finds {senders}"]
        return [] if reason in READ_FAILURES else [f"{path.name}: {reason}"]
    subject = _stdlib_text(reference, "subject") or ""
    if message.subject.count("\ufffd") > subject.count("\ufffd"):
        return [f"{path.name}: subject {message.subject!r}, the email package: {subject!r}"]
    return []


@pytest.mark.parametrize("corpus", sorted(MAIL_CORPORA))
def test_no_message_crashes_hangs_or_garbles_a_subject_the_email_package_decodes(
    corpus: str,
) -> None:
    paths = MAIL_CORPORA[corpus]()
    assert len(paths) >= LEAST_FILES[corpus], f"the {corpus} messages are missing"

    problems = [problem for path in paths for problem in check_message(path)]

    assert problems == []


# -- the whole sync -------------------------------------------------------------------------------


def test_the_other_corpora_go_through_a_sync(tmp_path: Path) -> None:
    messages = [
        (f"{corpus}-{path.name}", path.read_bytes())
        for corpus, listing in sorted(MAIL_CORPORA.items())
        for path in listing()
    ]
    calendars = [
        (f"{corpus}-{index}-{path.name}", path.read_bytes())
        for corpus, listing in sorted(CALENDAR_CORPORA.items())
        for index, path in enumerate(listing())
    ]

    # 400 days, not 10 years: with their open-ended daily series that is three times faster.
    sync_without_a_crash(corpus_account(tmp_path, messages, calendars, lookback="400d"))
