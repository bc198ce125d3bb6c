"""Hostile and unlucky calendars (issue 10, points 4, 5, 6, 8 and 9).

- Identities: an occurrence of a series keeps its id, and so its interview and draft keys, when
  the account's time zone changes; ids made by earlier versions still match their drafts.
- One bad item never removes the others: a VTIMEZONE that cannot be, or a calendar file that
  reads as empty for a moment, keeps the due thank-you.
- Bounded work: each hostile calendar under `fixtures/hostile/` is read within 2 s and 200 MB,
  and what it could not read is skipped with a reason.

The end-to-end tests sync a Maildir with a calendar file through `sync_account`, the library
API a host application (and the CLI) uses.
"""

from __future__ import annotations

import os
import shutil
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailagent.core.compose import TemplateComposer
from mailagent.core.detect import UserIdentity
from mailagent.core.policy import load_policy
from mailagent.runner import Account, SyncResult, sync_account
from mailagent.store import Store
from providers.base import Window
from providers.ical import parse_calendar
from providers.ics_source import IcsFileSource
from providers.maildir import MaildirProvider

REPO = Path(__file__).resolve().parents[1]
HOSTILE = REPO / "fixtures" / "hostile"

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
USER = UserIdentity("me@example.org", "Alex Doe")

# A weekly interview series with floating times (no TZID, no Z): the wall time is all it says.
# One occurrence, 9 March 2026 10:00-11:00, is the interview whose thank-you is due.
FLOATING_SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//hostile//EN
BEGIN:VEVENT
UID:panel-series@acme.example
DTSTAMP:20260301T000000Z
DTSTART:20260302T100000
DTEND:20260302T110000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Interview with Acme: panel
ORGANIZER;CN=Rita Recruiter:mailto:rita@acme.example
ATTENDEE;CN=Rita Recruiter;PARTSTAT=ACCEPTED:mailto:rita@acme.example
ATTENDEE;CN=Ian Interviewer;PARTSTAT=ACCEPTED:mailto:ian@acme.example
ATTENDEE;CN=Alex Doe;PARTSTAT=ACCEPTED:mailto:me@example.org
DESCRIPTION:Video interview. https://zoom.us/j/123
END:VEVENT
END:VCALENDAR
"""

# A single interview on 9 March 2026 at 14:00 Berlin, and its thank-you due after 15:30.
SINGLE_INTERVIEW = """BEGIN:VEVENT
UID:onsite@acme.example
DTSTAMP:20260301T000000Z
DTSTART;TZID=Europe/Berlin:20260309T140000
DTEND;TZID=Europe/Berlin:20260309T150000
SUMMARY:Interview with Acme
ORGANIZER;CN=Rita Recruiter:mailto:rita@acme.example
ATTENDEE;CN=Rita Recruiter;PARTSTAT=ACCEPTED:mailto:rita@acme.example
ATTENDEE;CN=Alex Doe;PARTSTAT=ACCEPTED:mailto:me@example.org
DESCRIPTION:Video interview. https://zoom.us/j/456
END:VEVENT
"""


def calendar(*vevents: str, extra: str = "") -> str:
    body = "".join(vevents) + extra
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//hostile//EN\n{body}END:VCALENDAR\n"


# -- a Maildir account synced in-process -----------------------------------------------------------


@dataclass
class Mailbox:
    root: Path
    calendar: Path
    store: Store

    def sync(self, now: datetime, zone: ZoneInfo = BERLIN) -> SyncResult:
        provider = MaildirProvider(
            root=self.root / "Mail",
            calendar=self.calendar,
            address=USER.address,
            timezone=zone,
            user_name=USER.name,
            clock=lambda: now,
        )
        account = Account("me", provider, USER, load_policy("standard"), zone.key)
        result = sync_account(self.store, account, TemplateComposer(), now)
        assert result.ok, (result.error, result.advice)
        return result

    def drafts(self) -> list[str]:
        """The recipients of the drafts in the Drafts folder."""
        found = []
        for path in sorted((self.root / "Mail" / "Drafts" / "cur").iterdir()):
            for line in path.read_bytes().split(b"\r\n"):
                if line.lower().startswith(b"to: "):
                    found.append(line.split(b"<")[-1].rstrip(b">").decode())
        return sorted(found)


def make_mailbox(root: Path, calendar_text: str) -> Mailbox:
    for folder in ("INBOX", "Sent", "Drafts"):
        for sub in ("cur", "new", "tmp"):
            (root / "Mail" / folder / sub).mkdir(parents=True, exist_ok=True)
    path = root / "calendar.ics"
    path.write_text(calendar_text)
    return Mailbox(root, path, Store(root / "state.db"))


def rewrite(path: Path, text: str) -> None:
    """What a sync tool does: a new file with a new modification time."""
    path.write_text(text)
    stamp = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    box = make_mailbox(tmp_path, FLOATING_SERIES)
    yield box
    box.store.close()


# -- 4. stable identities ---------------------------------------------------------------------------


WINDOW = Window(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


def test_occurrence_ids_of_a_floating_series_do_not_depend_on_the_zone() -> None:
    data = FLOATING_SERIES.encode()
    in_berlin, _ = parse_calendar(data, window=WINDOW, default_tz=BERLIN)
    in_new_york, _ = parse_calendar(data, window=WINDOW, default_tz=NEW_YORK)

    assert len(in_berlin) == 3
    assert [e.id for e in in_berlin] == [e.id for e in in_new_york]
    assert in_berlin[1].id == "panel-series@acme.example/20260309T100000"
    assert in_berlin[1].start == datetime(2026, 3, 9, 10, tzinfo=BERLIN)
    assert in_new_york[1].start == datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)


def test_occurrence_ids_of_an_all_day_series_do_not_depend_on_the_zone() -> None:
    data = calendar(
        "BEGIN:VEVENT\nUID:days@x\nDTSTART;VALUE=DATE:20260302\nRRULE:FREQ=DAILY;COUNT=2\n"
        "SUMMARY:Offsite\nEND:VEVENT\n"
    ).encode()
    in_berlin, _ = parse_calendar(data, window=WINDOW, default_tz=BERLIN)
    in_new_york, _ = parse_calendar(data, window=WINDOW, default_tz=NEW_YORK)

    assert [e.id for e in in_berlin] == ["days@x/20260302", "days@x/20260303"]
    assert [e.id for e in in_new_york] == [e.id for e in in_berlin]


def test_zoned_occurrence_ids_stay_in_utc() -> None:
    """Ids of occurrences with a real zone are unchanged (UTC instants), so no alias is needed."""
    data = calendar(
        "BEGIN:VEVENT\nUID:z@x\nDTSTART;TZID=Europe/Berlin:20260302T100000\n"
        "RRULE:FREQ=DAILY;COUNT=1\nSUMMARY:Sync\nEND:VEVENT\n"
    ).encode()
    (event,), _ = parse_calendar(data, window=WINDOW, default_tz=NEW_YORK)
    assert event.id == "z@x/20260302T090000Z"
    assert event.aliases == ()


def test_a_zone_change_re_reads_an_unchanged_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.ics"
    path.write_text(FLOATING_SERIES)
    first = IcsFileSource(path, BERLIN).read(None, WINDOW)
    again = IcsFileSource(path, BERLIN).read(first.state, WINDOW)
    moved = IcsFileSource(path, NEW_YORK).read(first.state, WINDOW)

    assert again.replace is False
    assert again.events == ()
    assert moved.replace is True
    assert moved.events[1].start == datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)


def test_a_zone_change_and_a_rewritten_calendar_give_no_second_thank_you(mailbox: Mailbox) -> None:
    first = mailbox.sync(datetime(2026, 3, 9, 12, tzinfo=UTC), BERLIN)
    assert sorted(d.to for d in first.drafted) == ["ian@acme.example", "rita@acme.example"]

    rewrite(mailbox.calendar, FLOATING_SERIES.replace("\n", "\r\n"))
    second = mailbox.sync(datetime(2026, 3, 9, 17, tzinfo=UTC), NEW_YORK)
    third = mailbox.sync(datetime(2026, 3, 10, 17, tzinfo=UTC), NEW_YORK)

    assert second.drafted == []
    assert third.drafted == []
    assert mailbox.drafts() == ["ian@acme.example", "rita@acme.example"]


def test_drafts_recorded_under_the_earlier_id_scheme_still_match(tmp_path: Path) -> None:
    """`fixtures/hostile/legacy-floating` is a Maildir, calendar and state.db made by mailagent
    before occurrence ids stopped depending on the zone (commit d3897d9): a sync at 12:00 UTC
    drafted the two thank-yous of the floating series' second occurrence, under ids that held
    the occurrence's time in UTC. The upgraded code must see that those drafts exist."""
    root = tmp_path / "legacy"
    shutil.copytree(HOSTILE / "legacy-floating", root)
    (root / "state.sqlite3").rename(root / "state.db")  # *.db is git-ignored
    box = Mailbox(root, root / "calendar.ics", Store(root / "state.db"))
    try:
        later = box.sync(datetime(2026, 3, 9, 14, tzinfo=UTC), BERLIN)
        assert later.drafted == []
        assert box.drafts() == ["ian@acme.example", "rita@acme.example"]
    finally:
        box.store.close()


# -- 5. one bad item never removes the others ---------------------------------------------------------

BEFORE_END = datetime(2026, 3, 9, 12, tzinfo=UTC)  # the onsite interview is 13:00-14:00 UTC
DUE = datetime(2026, 3, 9, 15, tzinfo=UTC)


def test_an_impossible_vtimezone_skips_only_its_own_invitation() -> None:
    data = (HOSTILE / "vtimezone-offset-2500.ics").read_bytes()
    events, skipped = parse_calendar(data, window=WINDOW, default_tz=BERLIN, source="cal.ics")

    assert [e.id for e in events] == ["onsite@acme.example"]
    assert {s.item for s in skipped} == {
        "cal.ics#Mars Standard Time",
        "cal.ics#impossible@hostile.example",
    }
    assert all("+2500" in s.reason for s in skipped)


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: text[: len(text) // 2], id="cut-short"),
        pytest.param(lambda text: "\x00\x01garbage", id="unreadable"),
        pytest.param(lambda text: calendar(), id="no-events"),
    ],
)
def test_a_calendar_caught_mid_rewrite_keeps_the_due_thank_you(
    tmp_path: Path, damaged: Callable[[str], str]
) -> None:
    """The stored events are kept, and the due thank-you waits for a good read (the stored
    events may hide a cancellation): it is drafted at the next sync, never cancelled."""
    text = calendar(SINGLE_INTERVIEW)
    box = make_mailbox(tmp_path, text)
    try:
        assert box.sync(BEFORE_END).drafted == []
        rewrite(box.calendar, damaged(text))
        during = box.sync(DUE)
        assert during.drafted == []
        assert any("rewrite in progress" in s.reason for s in during.skipped)
        assert any(n.topic.startswith("held:") for n in during.notes)
        assert box.store.events("me") != []
        rewrite(box.calendar, text)
        after = box.sync(DUE + timedelta(hours=1))
        assert [d.to for d in after.drafted] == ["rita@acme.example"]
        assert box.drafts() == ["rita@acme.example"]
    finally:
        box.store.close()


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param("END:VCALENDARD\n", id="mistyped-end"),  # icalendar's own test data
        pytest.param("END:VCALENDAR\nX-COMMENT:cached\n", id="text-after-the-end"),  # Podio's
    ],
)
def test_a_whole_calendar_with_an_odd_ending_is_not_taken_for_a_rewrite(
    tmp_path: Path, ending: str
) -> None:
    """A file is cut short when a component it opens is never closed, counted as icalendar
    counts (any END line closes one), not when its last line is something else."""
    box = make_mailbox(tmp_path, calendar(SINGLE_INTERVIEW))
    try:
        box.sync(BEFORE_END)
        rewrite(box.calendar, calendar(SINGLE_INTERVIEW).replace("END:VCALENDAR\n", ending))
        during = box.sync(DUE)
        assert [d.to for d in during.drafted] == ["rita@acme.example"]
        assert not any("rewrite in progress" in s.reason for s in during.skipped)
    finally:
        box.store.close()


def test_late_in_its_window_a_thank_you_is_drafted_from_the_stored_events(tmp_path: Path) -> None:
    """Past half its window a held thank-you would risk coming too late: it is drafted."""
    text = calendar(SINGLE_INTERVIEW)
    box = make_mailbox(tmp_path, text)
    try:
        box.sync(BEFORE_END)
        rewrite(box.calendar, "")
        late = box.sync(DUE + timedelta(hours=14))
        assert [d.to for d in late.drafted] == ["rita@acme.example"]
        assert any("rewrite in progress" in s.reason for s in late.skipped)
    finally:
        box.store.close()


def test_a_calendar_that_stays_empty_is_believed(tmp_path: Path) -> None:
    box = make_mailbox(tmp_path, calendar(SINGLE_INTERVIEW))
    try:
        box.sync(datetime(2026, 3, 8, 12, tzinfo=UTC))
        rewrite(box.calendar, calendar())
        box.sync(datetime(2026, 3, 8, 13, tzinfo=UTC))
        assert box.store.events("me") != []  # once: a rewrite in progress
        box.sync(datetime(2026, 3, 8, 14, tzinfo=UTC))
        assert box.store.events("me") == []  # twice the same: the user emptied it
    finally:
        box.store.close()


def test_a_new_impossible_invitation_keeps_the_due_thank_you(tmp_path: Path) -> None:
    box = make_mailbox(tmp_path, calendar(SINGLE_INTERVIEW))
    try:
        box.sync(BEFORE_END)
        rewrite(box.calendar, (HOSTILE / "vtimezone-offset-2500.ics").read_text())
        during = box.sync(DUE)
        assert [d.to for d in during.drafted] == ["rita@acme.example"]
        assert any("+2500" in s.reason for s in during.skipped)
    finally:
        box.store.close()


def test_a_feed_that_answers_empty_keeps_its_events() -> None:
    import httpx

    from providers.ics_source import IcsUrlSource

    bodies = [calendar(SINGLE_INTERVIEW), "", calendar(SINGLE_INTERVIEW)]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=bodies.pop(0))

    source = IcsUrlSource(
        "https://cal.example/feed.ics",
        BERLIN,
        http=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    first = source.read(None, WINDOW)
    empty = source.read(first.state, WINDOW)
    again = source.read(empty.state, WINDOW)

    assert [e.id for e in first.events] == ["onsite@acme.example"]
    assert (empty.replace, empty.events) == (False, ())
    assert "rewrite in progress" in empty.skipped[0].reason
    assert (again.replace, again.events) == (False, ())  # the same as what is stored: no change


# -- 6. bounded work ------------------------------------------------------------------------------------


@contextmanager
def bounded(seconds: float = 2.0, megabytes: int = 200) -> Iterator[None]:
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        spent = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert spent < seconds, f"took {spent:.1f} s"
    assert peak < megabytes * 1024 * 1024, f"peaked at {peak / 2**20:.0f} MB"


def ten_thousand_attendees() -> bytes:
    people = "".join(
        f"ATTENDEE;CN=Person {n}:mailto:person{n}@acme.example\n" for n in range(10_000)
    )
    return calendar(SINGLE_INTERVIEW.replace("END:VEVENT", people + "END:VEVENT")).encode()


HOSTILE_CALENDARS = {
    "vtimezone-secondly-from-year-1.ics": "FREQ=SECONDLY",
    "rrule-secondly-forever.ics": "FREQ=SECONDLY",
    "year-1-by-rules.ics": "year 1",
    "minutely-team-sync.ics": "FREQ=MINUTELY",
    "vtimezone-offset-2500.ics": "+2500",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CALENDARS))
def test_each_hostile_calendar_is_read_in_bounded_time_and_memory(name: str) -> None:
    data = (HOSTILE / name).read_bytes()
    with bounded():
        _, skipped = parse_calendar(data, window=WINDOW, default_tz=BERLIN, source=name)
    assert skipped
    assert all(s.reason for s in skipped)
    assert any(HOSTILE_CALENDARS[name] in s.reason for s in skipped)


def test_ten_thousand_attendees_make_twelve_drafts_and_a_note(tmp_path: Path) -> None:
    box = make_mailbox(tmp_path, "")
    box.calendar.write_bytes(ten_thousand_attendees())
    try:
        with bounded(seconds=5):  # the whole sync, 12 drafts written and fsynced included
            result = box.sync(DUE)
        assert len(result.drafted) == 12
        assert any(n.topic == "too_many_interviewers" for n in result.notes)
        assert len(box.drafts()) == 12
    finally:
        box.store.close()


def test_ten_thousand_attendees_are_read_in_bounded_time_and_memory() -> None:
    with bounded():
        (event,), _ = parse_calendar(ten_thousand_attendees(), window=WINDOW, default_tz=BERLIN)
    assert len(event.attendees) == 500  # providers.ical.MAX_ATTENDEES


def test_a_long_hourly_series_is_skipped_with_its_count() -> None:
    data = calendar(
        "BEGIN:VEVENT\nUID:hourly@x\nDTSTART:20260201T000000Z\nDTEND:20260201T001000Z\n"
        "RRULE:FREQ=HOURLY\nSUMMARY:Ping\nEND:VEVENT\n"
    ).encode()
    with bounded():
        events, (skip,) = parse_calendar(data, window=WINDOW, default_tz=BERLIN)
    assert events == []
    assert "occurrences in the sync window" in skip.reason


# -- 8/9. regular expressions, and a time budget that is remembered -----------------------------------


ADVERSARIAL_TEXT = [
    "<a " * 7_000,
    "<p" + " x" * 10_000,
    "<" * 20_000,
    "<!--" * 5_000,
    "<script>" * 2_500,
    "http://" * 3_000,
    "<a href='" + "x" * 20_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL_TEXT, ids=lambda t: repr(t[:8]))
def test_descriptions_are_read_in_linear_time(text: str) -> None:
    from providers.ical import _HTML_TAG, _html_to_text, video_links

    with bounded(seconds=0.5):
        _HTML_TAG.search(text)
        _html_to_text(text)
        list(video_links(text))
    data = calendar(
        "BEGIN:VEVENT\nUID:long@x\nDTSTART:20260302T100000Z\nSUMMARY:Interview\n"
        f"DESCRIPTION:{text}\nLOCATION:{text}\nEND:VEVENT\n"
    ).encode()
    with bounded(seconds=1.0):
        (event,), _ = parse_calendar(data, window=WINDOW, default_tz=BERLIN)
    assert event.id == "long@x"


def test_html_to_text_keeps_what_html_parser_kept() -> None:
    from providers.ical import _html_to_text

    markup = (
        "<html><head><title>t</title><style>p{}</style></head><body><p>Hello <b>Ana</b>,"
        "</p><!-- hidden --><p>see you&nbsp;soon &amp; a < b</p><br/>bye</body></html>"
    )
    assert _html_to_text(markup) == "Hello Ana,\n\nsee you soon & a < b\n\nbye"


class SlowClock:
    """A clock that makes every series take 5 s."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 5.0
        return self.now


def test_a_series_over_its_budget_is_skipped_remembered_and_not_read_again(
    tmp_path: Path,
) -> None:
    from providers.ical import Budget

    data = FLOATING_SERIES.encode()
    _, (skip,) = parse_calendar(
        data, window=WINDOW, default_tz=BERLIN, budget=Budget(1.0, clock=SlowClock())
    )
    assert "time budget" in skip.reason
    assert skip.digest

    remembered = Budget(1.0, frozenset({skip.digest}), clock=lambda: pytest.fail("read again"))
    events, (again,) = parse_calendar(data, window=WINDOW, default_tz=BERLIN, budget=remembered)
    assert events == []
    assert again.digest == skip.digest
    assert "not read" in again.reason


def test_a_source_keeps_the_digests_of_slow_series_and_its_cursor_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from providers import ics_source

    path = tmp_path / "calendar.ics"
    path.write_text(calendar(SINGLE_INTERVIEW) + FLOATING_SERIES)
    monkeypatch.setattr(ics_source, "SERIES_BUDGET", -1.0)  # every series is over budget
    first = IcsFileSource(path, BERLIN).read(None, WINDOW)
    assert len(first.state["slow"]) == 2
    assert first.replace is True

    monkeypatch.setattr(ics_source, "SERIES_BUDGET", 1.0)
    rewrite(path, path.read_text())
    second = IcsFileSource(path, BERLIN).read(first.state, WINDOW)
    assert second.state["stamps"] != first.state["stamps"]  # the cursor moved on
    assert second.state["slow"] == first.state["slow"]
    assert all("not read" in s.reason for s in second.skipped)
