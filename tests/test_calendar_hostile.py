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

import shutil
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailagent.compose import TemplateComposer
from mailagent.detect import UserIdentity
from mailagent.policy import load_policy
from mailagent.runner import Account, SyncResult, sync_account
from mailagent.store import Store
from providers.base import Skipped, Window
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
    import os

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
