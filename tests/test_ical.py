"""iCalendar in and out, checked against real-world files from the shared corpus.

The corpus (`<repo>/../shared/corpus/ics`) holds calendars written by Exchange, Outlook, Google,
iCloud, Thunderbird, khal and others, each with a quirk named in its file name (SOURCES.md there
says where each comes from). Small synthetic calendars cover what the corpus does not.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailagent.core.models import (
    SNIPPET_LIMIT,
    Attendee,
    CalendarEvent,
    EventStatus,
    Person,
    ResponseStatus,
)
from providers.base import Skipped, Window
from providers.ical import events_to_ics, parse_calendar

REPO = Path(__file__).resolve().parents[1]


def corpus_dir(kind: str) -> Path:
    """`<repo>/../shared/corpus/<kind>`: the shared corpus sits beside the repository."""
    return REPO.parent / "shared" / "corpus" / kind


ICS = corpus_dir("ics")
ICS_FILES = sorted(ICS.glob("*.ics"))
SMALL_ICS_FILES = [path for path in ICS_FILES if path.stat().st_size < 8000]

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WIDE = Window(datetime(1990, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC))

NO_DTSTART = {
    "ical--broken_ical.ics",  # "DTSTART;;VALUE=..." cannot be split into name and parameters
    "ical--rfc6868_caret-encoded-param-values.ics",
    "ical--rfc7986_conference-property_video-links.ics",
}
"""Corpus files whose only VEVENT has no readable DTSTART: skipped, with a reason."""

NO_EVENTS = {"ical--utf8-bom_minimal.ics"}
"""An empty VCALENDAR: nothing to return and nothing wrong."""


def parse(
    data: bytes, *, window: Window = WIDE, tz: ZoneInfo = BERLIN, source: str = "test.ics"
) -> tuple[list[CalendarEvent], list[Skipped]]:
    return parse_calendar(data, window=window, default_tz=tz, source=source)


def corpus_events(
    name: str, *, tz: ZoneInfo = BERLIN, window: Window = WIDE
) -> list[CalendarEvent]:
    events, skipped = parse((ICS / name).read_bytes(), window=window, tz=tz, source=name)
    assert skipped == []
    return events


def only(events: list[CalendarEvent]) -> CalendarEvent:
    assert len(events) == 1, events
    return events[0]


def ics(*lines: str, eol: str = "\r\n") -> bytes:
    return "".join(f"{line}{eol}" for line in lines).encode("utf-8")


def vcalendar(*body: str, header: tuple[str, ...] = ()) -> tuple[str, ...]:
    return ("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *header, *body, "END:VCALENDAR")


def vevent(
    *props: str,
    uid: str = "u1@example.com",
    start: str = "DTSTART:20240102T100000Z",
    end: str = "DTEND:20240102T110000Z",
) -> tuple[str, ...]:
    head = (f"UID:{uid}",) if uid else ()
    return ("BEGIN:VEVENT", *head, start, *((end,) if end else ()), *props, "END:VEVENT")


def tzname(moment: datetime) -> str:
    return str(getattr(moment.tzinfo, "key", moment.tzinfo))


# -- the whole corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ICS_FILES, ids=lambda path: path.name)
def test_every_corpus_file_parses(path: Path) -> None:
    events, skipped = parse(path.read_bytes(), source=path.name)

    for event in events:
        assert event.start.utcoffset() is not None
        assert event.end.utcoffset() is not None
        assert event.start <= event.end
        assert event.start < WIDE.end
        assert event.end >= WIDE.start
        assert event.id
        assert event.uid
        assert event.recurrence_id is None or event.recurrence_id.utcoffset() is not None
        assert event.recurring == (event.recurrence_id is not None)
        assert len(event.description) <= SNIPPET_LIMIT
        people = [a.person for a in event.attendees] + [event.organizer] * bool(event.organizer)
        assert all(p is not None and p.address == p.address.lower() for p in people)
    assert len({event.id for event in events}) == len(events)
    for item in skipped:
        assert item.item.startswith(path.name)
        assert item.reason

    if path.name in NO_DTSTART:
        assert events == []
        assert len(skipped) == 1
        assert "DTSTART" in skipped[0].reason
    elif path.name in NO_EVENTS:
        assert (events, skipped) == ([], [])
    else:
        assert events
        assert skipped == []


def test_the_corpus_is_there() -> None:
    # Guard: an empty parametrization above would silently test nothing.
    assert len(ICS_FILES) >= 40


# -- time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "zone", "wall"),
    [
        (
            "ical--exchange2010_windows-tz-eastern-standard-time.ics",
            "America/New_York",
            datetime(2024, 10, 28, 17, 0),
        ),
        (
            "ical--exchange2010_request_pacific-standard-time.ics",
            "America/Los_Angeles",
            datetime(2017, 2, 24, 12, 0),
        ),
        (
            "nylas--exchange2010_request_romance-standard-time_fr.ics",
            "Europe/Paris",
            datetime(2015, 2, 20, 9, 30),
        ),
        (
            "cc--DERIVED_outlook365_invite_fle-standard-time_lf-only.ics",
            "Europe/Kiev",
            datetime(2021, 11, 27, 9, 0),
        ),
    ],
)
def test_windows_zone_names_become_iana_zones(name: str, zone: str, wall: datetime) -> None:
    event = only(corpus_events(name))

    assert tzname(event.start) == zone
    assert event.start == wall.replace(tzinfo=ZoneInfo(zone))


def test_eastern_standard_time_has_new_york_daylight_offset() -> None:
    event = only(corpus_events("ical--exchange2010_windows-tz-eastern-standard-time.ics"))

    assert event.start.utcoffset() == timedelta(hours=-4)  # 28 October: still EDT
    assert event.start == datetime(2024, 10, 28, 21, 0, tzinfo=UTC)


def test_windows_zone_without_vtimezone_is_resolved() -> None:
    data = ics(
        *vcalendar(
            *vevent(
                start="DTSTART;TZID=W. Europe Standard Time:20240115T090000",
                end="DTEND;TZID=GMT Standard Time:20240115T100000",
            )
        )
    )

    event = only(parse(data, tz=NEW_YORK)[0])

    assert tzname(event.start) == "Europe/Berlin"
    assert event.end == datetime(2024, 1, 15, 10, tzinfo=ZoneInfo("Europe/London"))
    assert event.end - event.start == timedelta(hours=2)


def test_moved_all_day_occurrence_with_gmt_standard_time_recurrence_id() -> None:
    events = corpus_events("rie--exchange2010_gmt-standard-time_allday-recurring_recurrence-id.ics")

    moved = only([e for e in events if e.start.date() == date(2020, 4, 17)])

    assert moved.title == "Refuse black bin"
    assert moved.all_day
    assert moved.recurrence_id == datetime(2020, 4, 16, tzinfo=ZoneInfo("Europe/London"))
    assert tzname(moved.recurrence_id) == "Europe/London"


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("ical--bad-tzid.ics", timedelta(hours=11)),  # TZID:UTC+11, defined in the file
        ("ical--non-ascii-tzid_brazil.ics", timedelta(hours=-3)),  # "(UTC-03:00) Brasília"
    ],
)
def test_custom_vtimezone_definitions_are_honoured(name: str, offset: timedelta) -> None:
    event = only(corpus_events(name))

    assert event.start.utcoffset() == offset


def test_a_custom_tzid_means_what_each_calendar_defines() -> None:
    # Outlook names every zone it cannot map "Customized Time Zone"; icalendar caches custom
    # definitions process-wide by TZID. Each calendar must still get its own.
    def calendar(offset: str) -> bytes:
        return ics(
            *vcalendar(
                "BEGIN:VTIMEZONE",
                "TZID:Customized Time Zone",
                "BEGIN:STANDARD",
                "DTSTART:16010101T000000",
                f"TZOFFSETFROM:{offset}",
                f"TZOFFSETTO:{offset}",
                "END:STANDARD",
                "END:VTIMEZONE",
                *vevent(
                    start="DTSTART;TZID=Customized Time Zone:20240301T120000",
                    end="DTEND;TZID=Customized Time Zone:20240301T130000",
                ),
            )
        )

    east = only(parse(calendar("+0500"))[0])
    west = only(parse(calendar("-0700"))[0])

    assert east.start.utcoffset() == timedelta(hours=5)
    assert west.start.utcoffset() == timedelta(hours=-7)


def test_unknown_tzid_falls_back_to_default_zone() -> None:
    data = ics(
        *vcalendar(
            *vevent(
                "SUMMARY:On Mars",
                start="DTSTART;TZID=Mars/Olympus_Mons:20240301T120000",
                end="DTEND;TZID=Mars/Olympus_Mons:20240301T123000",
            )
        )
    )

    events, skipped = parse(data, tz=NEW_YORK)

    assert skipped == []
    assert only(events).start == datetime(2024, 3, 1, 12, 0, tzinfo=NEW_YORK)
    assert only(events).end == datetime(2024, 3, 1, 12, 30, tzinfo=NEW_YORK)


def test_floating_times_use_default_zone() -> None:
    events = corpus_events("cc--thunderbird_latin1-encoded-summary.ics", tz=NEW_YORK)

    assert [e.start for e in events] == [
        datetime(2019, 1, 1, hour, tzinfo=NEW_YORK) for hour in (15, 16, 17, 18)
    ]


def test_floating_times_use_the_calendars_x_wr_timezone() -> None:
    data = ics(
        *vcalendar(
            *vevent(start="DTSTART:20240301T090000", end="DTEND:20240301T100000"),
            header=("X-WR-TIMEZONE:Asia/Tokyo",),
        )
    )

    event = only(parse(data, tz=NEW_YORK)[0])

    assert event.start == datetime(2024, 3, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo"))


# khal's tests/ics/event_dt_mixed_awareness.ics: one event floating at its start and zoned at its
# end, one the other way round (the Z after a TZID is khal's, and means the TZID's wall time).
MIXED_AWARENESS = (
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:ownCloud Calendar 0.7.3",
    "BEGIN:VEVENT",
    "SUMMARY:Termin:Junghackertag",
    "UID:http://wiki.hamburg.ccc.de/Termin:Junghackertag",
    "DTSTART:20150530T120000",
    "DTEND;TZID=Europe/Berlin:20150530T160000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "SUMMARY:An event with mixed tz-aware/tz-naive dates",
    "UID:S9HZETRQne",
    "DTSTART;TZID=Europe/Berlin:20150602T120000Z",
    "DTEND:20150602T160000",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_a_floating_start_or_end_takes_the_zone_of_the_other() -> None:
    """As khal and icalendar read it: a floating time beside a zoned one is in that zone, not in
    the account's (which made a 12:00-16:00 Berlin event 16:00-18:00, or ten hours long)."""
    events, skipped = parse(ics(*MIXED_AWARENESS), tz=NEW_YORK)

    assert skipped == []
    assert [(e.start, e.end) for e in events] == [
        (datetime(2015, 5, 30, 12, tzinfo=BERLIN), datetime(2015, 5, 30, 16, tzinfo=BERLIN)),
        (datetime(2015, 6, 2, 12, tzinfo=BERLIN), datetime(2015, 6, 2, 16, tzinfo=BERLIN)),
    ]


def test_a_series_with_a_floating_start_and_a_utc_end_repeats_in_utc() -> None:
    data = ics(
        *vcalendar(
            *vevent(
                "RRULE:FREQ=WEEKLY;COUNT=2",
                start="DTSTART:20240301T090000",
                end="DTEND:20240301T100000Z",
            )
        )
    )

    events, skipped = parse(data, tz=NEW_YORK)

    assert skipped == []
    assert [(e.start, e.end) for e in events] == [
        (datetime(2024, 3, day, 9, tzinfo=UTC), datetime(2024, 3, day, 10, tzinfo=UTC))
        for day in (1, 8)
    ]
    assert events[0].id == "u1@example.com/20240301T090000Z"  # a zoned series' id


def test_utc_times_keep_their_instant() -> None:
    event = only(corpus_events("nylas--google_request_attendees_rsvp.ics"))

    assert event.start == datetime(2015, 3, 19, 23, 30, tzinfo=UTC)
    assert event.end == datetime(2015, 3, 20, 0, 30, tzinfo=UTC)


# -- all-day events and durations ----------------------------------------------------------------


def test_all_day_event_spans_midnight_to_midnight_in_default_zone() -> None:
    event = only(corpus_events("ical--blackberry_request_allday_attendees-cn-quoted.ics"))

    assert event.all_day
    assert event.start == datetime(2012, 8, 14, tzinfo=BERLIN)
    assert event.end == datetime(2012, 8, 15, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("DTSTART:20240102T100000Z", "DURATION:PT45M", timedelta(minutes=45)),
        ("DTSTART:20240102T100000Z", "", timedelta(0)),
        ("DTSTART;VALUE=DATE:20240102", "", timedelta(days=1)),
        ("DTSTART;VALUE=DATE:20240102", "DURATION:P2D", timedelta(days=2)),
        ("DTSTART;VALUE=DATE:20240102", "DTEND;VALUE=DATE:20240105", timedelta(days=3)),
    ],
)
def test_event_end_without_dtend(start: str, end: str, expected: timedelta) -> None:
    data = ics(*vcalendar(*vevent(start=start, end=end)))

    event = only(parse(data)[0])

    assert event.end - event.start == expected
    assert event.all_day == ("VALUE=DATE" in start)


# -- recurrence ----------------------------------------------------------------------------------


def test_cancelled_occurrence_of_a_series_is_kept_as_cancelled() -> None:
    events = corpus_events("rie--thunderbird_recurring_one-instance-status-cancelled.ics")

    assert [(e.start.day, e.status) for e in events] == [
        (28, EventStatus.CONFIRMED),
        (29, EventStatus.CANCELLED),
        (30, EventStatus.CONFIRMED),
    ]
    cancelled = events[1]
    assert cancelled.recurring
    assert cancelled.id == "b65c2b5b-b785-4edc-9560-e0379036d1f2/20200129T210000Z"
    assert cancelled.recurrence_id == datetime(2020, 1, 29, 22, tzinfo=BERLIN)


def test_moved_occurrence_keeps_the_id_of_its_original_time() -> None:
    events = corpus_events("rie--google_recurrence-id_moved-timed-and-allday.ics")
    timed = [e for e in events if e.title == "Datetime"]
    sydney = ZoneInfo("Australia/Sydney")

    moved = only([e for e in timed if e.start.day == 14])

    assert moved.start == datetime(2023, 8, 14, 14, tzinfo=sydney)
    assert moved.recurrence_id == datetime(2023, 8, 15, 14, tzinfo=sydney)
    assert moved.id == "7v3ju5ft4je5iq18nfdk2s3spk@google.com/20230815T040000Z"
    assert [e.start.day for e in timed] == [8, 14, 22]  # the 15th moved to the 14th


def test_moved_all_day_occurrence_keeps_the_id_of_its_original_day() -> None:
    events = corpus_events("rie--google_recurrence-id_moved-timed-and-allday.ics")
    all_day = [e for e in events if e.title == "All Day"]

    assert [e.start.day for e in all_day] == [10, 16, 24]  # the 17th moved to the 16th
    moved = all_day[1]
    assert moved.recurrence_id is not None
    assert moved.recurrence_id.date() == date(2023, 8, 17)
    # A date, not an instant: the id must not depend on the zone all-day dates are read in.
    assert moved.id.endswith("/20230817")
    assert moved.aliases == (f"{moved.uid}/{moved.recurrence_id.astimezone(UTC):%Y%m%dT%H%M%SZ}",)


def test_rescheduling_an_occurrence_does_not_change_its_id() -> None:
    series = vevent("SUMMARY:Weekly sync", "RRULE:FREQ=WEEKLY;COUNT=3", uid="series@example.com")
    before = parse(ics(*vcalendar(*series)))[0]
    moved = vevent(
        "SUMMARY:Weekly sync (moved)",
        "RECURRENCE-ID:20240109T100000Z",
        uid="series@example.com",
        start="DTSTART:20240110T150000Z",
        end="DTEND:20240110T160000Z",
    )
    after = parse(ics(*vcalendar(*series, *moved)))[0]

    assert [e.id for e in before] == [e.id for e in after]
    assert after[1].start == datetime(2024, 1, 10, 15, tzinfo=UTC)
    assert after[1].title == "Weekly sync (moved)"
    assert before[1].id == "series@example.com/20240109T100000Z"


def test_an_rdate_of_times_without_dates_is_dropped_and_the_event_kept() -> None:
    """icalendar's multiple_timezones.ics: RDATE;VALUE=TIME is no RFC 5545 value type (RDATE
    takes dates, date-times or periods); it named no day, so the event keeps its DTSTART."""
    data = ics(
        *vcalendar(
            *vevent(
                "RDATE;VALUE=TIME;TZID=America/New_York:083000",
                start="DTSTART;TZID=America/New_York:20210302T000000",
                end="",
            )
        )
    )

    events, skipped = parse(data)

    assert skipped == []
    assert [e.start for e in events] == [datetime(2021, 3, 2, tzinfo=NEW_YORK)]


def test_exdates_on_separate_lines_remove_occurrences() -> None:
    events = corpus_events("ical--recurring_multiple-exdate-lines.ics")
    excluded = {date(2012, 5, 29), date(2012, 4, 3), date(2012, 4, 10), date(2012, 5, 1)}

    assert len(events) == 10
    assert excluded.isdisjoint(e.start.date() for e in events)
    assert all(e.start.weekday() == 1 for e in events)  # Tuesdays


def test_rrule_with_spaces_in_byday_is_repaired() -> None:
    events = corpus_events("ical--exchange-cdo_request_quoted-gmt-tzid_byday-spaces.ics")

    assert len(events) == 14  # weekdays from 3 to 22 July 2015
    assert all(e.start.weekday() < 5 for e in events)
    assert events[0].start == datetime(2015, 7, 3, 8, tzinfo=UTC)
    assert all(e.recurring and e.id.startswith(events[0].uid + "/") for e in events)


def test_empty_exdate_value_does_not_lose_the_series() -> None:
    events = corpus_events("ical--google_allday_exdate-empty-value.ics")

    # Two UID-less copies of one daily series (3..23 March 2008 except the 11th): one series.
    assert len(events) == 20
    assert date(2008, 3, 11) not in {e.start.date() for e in events}


def test_all_day_weekly_series_is_expanded() -> None:
    events = corpus_events("nylas--google_request_allday-weekly-recurring.ics")

    assert len(events) == 22
    assert all(e.all_day and e.recurring for e in events)
    assert {e.start.weekday() for e in events} == {2, 5, 6}


def test_series_is_expanded_only_inside_the_window() -> None:
    november = Window(datetime(2016, 11, 1, tzinfo=UTC), datetime(2016, 12, 1, tzinfo=UTC))

    events = corpus_events(
        "ical--google_weekly-byday_location-escaped-newlines.ics", window=november
    )

    assert len(events) == 22  # weekdays of November 2016
    assert all(november.start <= e.start < november.end for e in events)


def test_this_and_future_override_keeps_its_original_time() -> None:
    event = only(corpus_events("ical--khal_recurrence-id_rdate-period_attendee.ics"))

    assert event.recurring
    assert event.recurrence_id == datetime(2018, 3, 27, 13, tzinfo=UTC)
    assert event.start == datetime(2018, 3, 27, 8, tzinfo=ZoneInfo("America/Chicago"))


# -- window --------------------------------------------------------------------------------------


def test_events_outside_the_window_are_dropped_and_overlapping_ones_kept() -> None:
    data = ics(
        *vcalendar(
            *vevent(uid="before", start="DTSTART:20240101T080000Z", end="DTEND:20240101T090000Z"),
            *vevent(uid="overlap", start="DTSTART:20240101T093000Z", end="DTEND:20240101T103000Z"),
            *vevent(uid="inside", start="DTSTART:20240101T120000Z", end="DTEND:20240101T130000Z"),
            *vevent(uid="after", start="DTSTART:20240101T180000Z", end="DTEND:20240101T190000Z"),
        )
    )
    window = Window(datetime(2024, 1, 1, 10, tzinfo=UTC), datetime(2024, 1, 1, 18, tzinfo=UTC))

    events, _ = parse(data, window=window)

    assert [e.id for e in events] == ["overlap", "inside"]


# -- status --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "nylas--google_method-cancel_status-cancelled.ics",
        "nylas--icloud_method-cancel_historic-vtimezone.ics",  # METHOD:CANCEL, no STATUS
    ],
)
def test_method_cancel_marks_events_cancelled(name: str) -> None:
    assert only(corpus_events(name)).status is EventStatus.CANCELLED


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("STATUS:TENTATIVE", EventStatus.TENTATIVE),
        ("STATUS:CANCELLED", EventStatus.CANCELLED),
        ("STATUS:Confirmed", EventStatus.CONFIRMED),
        ("X-NO-STATUS:1", EventStatus.CONFIRMED),
    ],
)
def test_status(status: str, expected: EventStatus) -> None:
    assert only(parse(ics(*vcalendar(*vevent(status))))[0]).status is expected


def test_method_reply_is_parsed_like_any_other() -> None:
    event = only(corpus_events("nylas--google_method-reply_tentative.ics"))

    assert event.status is EventStatus.CONFIRMED
    assert event.attendees == (
        Attendee("Inbox Apptest", "test1@example.com", response=ResponseStatus.TENTATIVE),
    )


# -- people --------------------------------------------------------------------------------------


def test_icloud_organizer_address_comes_from_the_email_parameter() -> None:
    event = only(corpus_events("nylas--icloud_request_allday_empty-mailto.ics"))

    assert event.organizer == Person("Ben Bitdiddle", "benbitdiddle@icloud.com")
    assert event.attendees == (
        Attendee("", "karim@nilas.com", response=ResponseStatus.NEEDS_ACTION),
        Attendee(
            "Ben Bitdiddle",
            "benbitdiddle@icloud.com",
            organizer=True,
            response=ResponseStatus.ACCEPTED,
        ),
    )


def test_resource_attendees_are_marked() -> None:
    event = only(corpus_events("rie--outlook_attendees-cn-partstat-role_sent-by_resource.ics"))

    resources = [a for a in event.attendees if a.resource]
    assert len(event.attendees) == 6
    assert len(resources) == 2
    assert all(a.optional and a.response is ResponseStatus.ACCEPTED for a in resources)


def test_cn_that_is_an_email_address_gives_no_name() -> None:
    event = only(corpus_events("nylas--exchange2010_request_attendees_cn-is-email.ics"))

    assert [(a.name, a.address) for a in event.attendees] == [
        ("Karim Hamidou", "karim@example.com"),
        ("", "test1@example.com"),
    ]


def test_uppercase_mailto_and_quoted_cn() -> None:
    event = only(corpus_events("ical--blackberry_request_allday_attendees-cn-quoted.ics"))

    assert event.organizer == Person("", "rembrand@daxlab.com")
    assert [(a.name, a.address, a.organizer) for a in event.attendees] == [
        ("RembrandXS", "rembrand@xs4all.nl", False),
        ("RembrandDX", "rembrand@daxlab.com", True),  # the organizer, listed as attendee
        ("RembrandSB", "rembspam@xs4all.nl", False),
    ]


def test_organizer_not_listed_as_attendee_is_not_added() -> None:
    event = only(corpus_events("nylas--exchange2010_request_romance-standard-time_fr.ics"))

    assert event.organizer == Person("Inbox Apptest2", "inbox.apptest2@inboxapp.onmicrosoft.com")
    assert [a.address for a in event.attendees] == ["karim@nilas.com"]


def test_participation_status_roles_and_missing_partstat() -> None:
    event = corpus_events("nylas--google_request_allday-weekly-recurring.ics")[0]
    confluence = only(corpus_events("rie--confluence_publish_attendee_tzurl.ics"))

    assert [a.response for a in event.attendees] == [
        ResponseStatus.NEEDS_ACTION,
        ResponseStatus.ACCEPTED,
        ResponseStatus.DECLINED,
        ResponseStatus.TENTATIVE,
    ]
    # Confluence writes its parameters into the value; the address is still found.
    assert confluence.attendees == (Attendee("", "dlatham@apple.com"),)


def test_rfc6868_caret_escapes_in_cn_are_decoded() -> None:
    data = (ICS / "ical--rfc6868_caret-encoded-param-values.ics").read_bytes()
    data = data.replace(b"BEGIN:VEVENT\n", b"BEGIN:VEVENT\nUID:babe\nDTSTART:20240102T100000Z\n")

    event = only(parse(data)[0])

    assert event.attendees == (Attendee('George Herman "Babe" Ruth', "babe@example.com"),)


def test_non_ascii_organizer_name_and_folded_cn() -> None:
    umlauts = only(corpus_events("ical--event_umlauts-in-organizer-cn.ics"))
    folded = only(corpus_events("cc--DERIVED_outlook365_invite_fle-standard-time_lf-only.ics"))

    assert umlauts.organizer == Person("acme, ädmin", "adm-acme@mydomain.de")
    assert umlauts.location == "im büro"
    assert folded.attendees[0].name == "Homer"  # "CN=Hom" LF " er"


def test_attendees_without_a_usable_address_are_skipped() -> None:
    data = ics(
        *vcalendar(
            *vevent(
                "ORGANIZER;CN=Nobody:urn:uuid:0f0e",
                "ATTENDEE;CN=Empty:mailto:",
                "ATTENDEE;CN=Bad:mailto:not-an-address",
                "ATTENDEE;CN=Good:MAILTO:Good.Person@Example.COM",
            )
        )
    )

    event = only(parse(data)[0])

    assert event.organizer is None
    assert event.attendees == (Attendee("Good", "good.person@example.com"),)


# -- text ----------------------------------------------------------------------------------------


def test_latin1_summary_is_decoded() -> None:
    titles = [e.title for e in corpus_events("cc--thunderbird_latin1-encoded-summary.ics")]

    assert "Event Två" in titles  # byte 0xE5 in ISO-8859-1


def test_first_summary_wins_when_repeated() -> None:
    event = only(corpus_events("nylas--google_request_duplicate-summary.ics"))

    assert event.title == "The Strokes"


def test_escaped_text_is_unescaped() -> None:
    event = corpus_events("ical--google_weekly-byday_location-escaped-newlines.ics")[0]
    icloud = only(corpus_events("nylas--icloud_request_allday_empty-mailto.ics"))

    assert event.location == "Roadstar 16\n12764 Happyville\nDenmark"
    assert icloud.location == "1, Infinite Loop"


def test_html_description_becomes_text() -> None:
    event = corpus_events("rie--google_zoom-link-html-description_crlf.ics")[0]

    assert event.description == (
        "https://videoconf-colibri.zoom.us/j/93800310242?pwd=K3FBUVJUV2hrTm1OR2RWb0ZabTJkZz09"
    )


def test_x_alt_desc_is_used_when_description_is_missing_and_text_is_truncated() -> None:
    long_html = "<p>" + "word " * 2000 + "</p>"
    data = ics(
        *vcalendar(
            *vevent(
                "X-ALT-DESC;FMTTYPE=text/html:<html><head><title>t</title></head>"
                "<body><p>Hello <b>Ana</b>,</p><p>see you&nbsp;soon</p></body></html>",
                uid="short",
            ),
            *vevent(f"X-ALT-DESC;FMTTYPE=text/html:{long_html}", uid="long"),
        )
    )

    events, _ = parse(data)

    assert events[1].description == "Hello Ana,\n\nsee you soon"
    assert len(events[0].description) == SNIPPET_LIMIT
    assert events[0].description.startswith("word word")


def test_sequence_is_read() -> None:
    assert (
        only(corpus_events("nylas--exchange2010_request_romance-standard-time_fr.ics")).sequence
        == 4
    )
    assert only(parse(ics(*vcalendar(*vevent("SEQUENCE:x"))))[0]).sequence == 0


# -- conference links ----------------------------------------------------------------------------


def test_teams_meeting_url_comes_first() -> None:
    event = only(corpus_events("cc--DERIVED_teams-meeting_x-microsoft-skypeteamsmeetingurl.ics"))

    assert event.conference_urls[0] == (
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MGU5NmI2ZGYtOWZmOC00Y2ZmLWJlOTItNj"
        "UxNjA5YjUyYTYy%40thread.v2/0?context=%7b%22Tid%22%3a%222fd0c1c5-18e1-40c4-9f0d-a0363ca80a"
        "3c%22%2c%22Oid%22%3a%2214464d09-ceb8-458c-a61c-717f1e5c66c5%22%7d"
    )
    assert all(url.startswith("https://teams.microsoft.com/") for url in event.conference_urls)
    assert len(set(event.conference_urls)) == len(event.conference_urls)


def test_zoom_link_inside_html_description() -> None:
    event = corpus_events("rie--google_zoom-link-html-description_crlf.ics")[0]

    assert event.conference_urls == (
        "https://videoconf-colibri.zoom.us/j/93800310242?pwd=K3FBUVJUV2hrTm1OR2RWb0ZabTJkZz09",
    )


def test_rfc7986_conference_properties_in_order() -> None:
    data = (ICS / "ical--rfc7986_conference-property_video-links.ics").read_bytes()
    data = data.replace(b"BEGIN:VEVENT\n", b"BEGIN:VEVENT\nUID:conf\nDTSTART:20240102T100000Z\n")

    event = only(parse(data)[0])

    assert event.conference_urls == (
        "tel:+1-412-555-0123,,,654321",
        "tel:+1-412-555-0123,,,555123",
        "tel:+1-888-555-0456,,,555123",
        "xmpp:chat-123@conference.example.com",
        "https://chat.example.com/audio?id=123456",
    )


def test_vendor_properties_and_video_links_in_text() -> None:
    data = ics(
        *vcalendar(
            *vevent(
                "X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij",
                "X-MICROSOFT-ONLINEMEETINGCONFLINK:conf:sip:someone@example.com",
                "URL:https://example.com/our-event-page",
                "DESCRIPTION:Join https://meet.google.com/abc-defg-hij or dial in. "
                "Agenda: https://docs.example.com/a. Backup: https://acme.webex.com/meet/x.",
                "LOCATION:https://us02web.zoom.us/j/123?pwd=abc",
            )
        )
    )

    event = only(parse(data)[0])

    assert event.conference_urls == (
        "https://meet.google.com/abc-defg-hij",
        "https://acme.webex.com/meet/x",
        "https://us02web.zoom.us/j/123?pwd=abc",
    )


def test_url_property_counts_only_when_it_is_a_video_link() -> None:
    podio = only(corpus_events("ical--podio_request_tab-folding_altrep-html_trailing-garbage.ics"))
    zoom = only(parse(ics(*vcalendar(*vevent("URL:https://zoom.us/j/987"))))[0])

    assert podio.conference_urls == ()
    assert zoom.conference_urls == ("https://zoom.us/j/987",)


# -- ids -----------------------------------------------------------------------------------------


def test_events_without_uid_get_deterministic_ids_that_depend_on_source() -> None:
    data = ics(*vcalendar(*vevent("SUMMARY:Chat", uid="")))

    first = only(parse(data, source="a.ics")[0])
    again = only(parse(data, source="a.ics")[0])
    elsewhere = only(parse(data, source="b.ics")[0])

    assert first.id == again.id == first.uid
    assert first.id != elsewhere.id


# -- bad input -----------------------------------------------------------------------------------

GOOD_EVENT = (
    "BEGIN:VEVENT",
    "UID:good@example.com",
    "SUMMARY:Interview with Ana Lima",
    "DTSTART;TZID=Europe/Berlin:20240105T140000",
    "DTEND;TZID=Europe/Berlin:20240105T150000",
    "ATTENDEE;CN=Ana Lima;PARTSTAT=ACCEPTED:mailto:ana@example.com",
    "END:VEVENT",
)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ics(*vcalendar(*GOOD_EVENT)), id="crlf"),
        pytest.param(ics(*vcalendar(*GOOD_EVENT), eol="\n"), id="lf-only"),
        pytest.param(b"\xef\xbb\xbf" + ics(*vcalendar(*GOOD_EVENT)), id="utf8-bom"),
        pytest.param(
            ics(*vcalendar(*GOOD_EVENT)).replace(b"Ana Lima;", b"Ana \r\n\tLima;"), id="tab-fold"
        ),
        pytest.param(
            ics(*vcalendar(*GOOD_EVENT)) + b"X-COMMENT:cached\r\n<html>\x00\xff",
            id="trailing-garbage",
        ),
        pytest.param(
            b"Content-Type: text/calendar\r\n\r\n" + ics(*vcalendar(*GOOD_EVENT)),
            id="leading-garbage",
        ),
        pytest.param(ics(*vcalendar(*GOOD_EVENT))[: -len(b"END:VCALENDAR\r\n")], id="truncated"),
        pytest.param(ics(*GOOD_EVENT), id="bare-vevent"),
        pytest.param(ics(*vcalendar(*GOOD_EVENT)).replace(b"\r\n", b"\r"), id="cr-only"),
        # icalendar's multiple_calendar_components.ics (Mozilla): "UID\n\n :956630271".
        pytest.param(
            ics(*vcalendar(*GOOD_EVENT)).replace(b"\r\nSUMMARY:", b"\r\nSUMMARY\r\n\r\n :"),
            id="fold-after-blank-lines",
        ),
        # icalendar's issue_178_custom_component_contains_other.ics
        pytest.param(ics("BEGIN:X-WRAPPER", *GOOD_EVENT, "END:X-WRAPPER"), id="in-x-component"),
    ],
)
def test_awkward_but_readable_input(data: bytes) -> None:
    events, skipped = parse(data)

    assert skipped == []
    event = only(events)
    assert event.title == "Interview with Ana Lima"
    assert event.start == datetime(2024, 1, 5, 14, tzinfo=BERLIN)
    assert event.attendees == (
        Attendee("Ana Lima", "ana@example.com", response=ResponseStatus.ACCEPTED),
    )


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"\x00\xff\xfe\x00garbage", b"BEGIN:VCALENDAR\r\nnot a content line\r\n"],
)
def test_unreadable_calendar_gives_one_skipped_for_the_source(data: bytes) -> None:
    events, skipped = parse(data, source="feed.ics")

    assert events == []
    assert len(skipped) == 1
    assert skipped[0].item == "feed.ics"
    assert skipped[0].reason


def test_a_broken_event_is_skipped_and_the_others_come_through() -> None:
    data = ics(
        *vcalendar(
            *vevent(uid="bad-start", start="DTSTART:2024-01-02 10:00"),
            *vevent("RRULE:FREQ=SOMETIMES", uid="bad-rule"),
            *GOOD_EVENT,
        )
    )

    events, skipped = parse(data, source="cal.ics")

    assert [e.uid for e in events] == ["good@example.com"]
    assert sorted(s.item for s in skipped) == ["cal.ics#bad-rule", "cal.ics#bad-start"]
    reasons = {s.item: s.reason for s in skipped}
    assert "DTSTART" in reasons["cal.ics#bad-start"]
    assert "RRULE" in reasons["cal.ics#bad-rule"]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    events, skipped = parse(data)

    assert isinstance(events, list)
    assert all(isinstance(s, Skipped) for s in skipped)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(SMALL_ICS_FILES),
    cut=st.floats(min_value=0, max_value=1),
    junk=st.binary(max_size=40),
)
def test_damaged_corpus_files_never_raise(path: Path, cut: float, junk: bytes) -> None:
    data = path.read_bytes()
    at = int(len(data) * cut)

    events, skipped = parse(data[:at] + junk + data[at:], source=path.name)

    assert all(e.start.utcoffset() is not None for e in events)
    assert all(s.reason for s in skipped)


# -- what icalendar reads, we read (issue 11, point 6) -------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        # icalendar's own test calendar timezone_same_start_and_offset.ics ends this way.
        pytest.param(ics(*vcalendar(*GOOD_EVENT)[:-1], "END:VCALENDARD"), id="END:VCALENDARD"),
        # recurring_ical_events' issue_201_test_matrix.ics closes each VTODO with END:VTOOD.
        pytest.param(
            ics(
                *vcalendar(
                    "BEGIN:VTODO",
                    "UID:todo@example.com",
                    "DTSTART;VALUE=DATE:20240101",
                    "END:VTOOD",
                    *GOOD_EVENT,
                )
            ),
            id="END:VTOOD",
        ),
        pytest.param(ics(*vcalendar(*GOOD_EVENT[:-1], "END:VEVNT")), id="END:VEVNT"),
    ],
)
def test_a_mistyped_end_line_loses_no_event(data: bytes) -> None:
    """icalendar closes the open component at any END line, whatever name it gives; the repair
    that closes components a truncated file left open must count the same way."""
    events, skipped = parse(data)

    assert skipped == []
    assert [e.uid for e in events] == ["good@example.com"]


_END_STYLES = ("right", "typo", "lower", "missing")


def _block(kind: str, index: int, end: str, alarm: str | None) -> list[str]:
    lines = [f"BEGIN:{kind}", f"UID:{kind.lower()}-{index}@example.com"]
    lines.append(f"DTSTART:202401{index + 1:02d}T100000Z")
    if alarm is not None:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M"]
        lines += _end_line("VALARM", alarm)
    return lines + _end_line(kind, end)


def _end_line(kind: str, style: str) -> list[str]:
    return {
        "right": [f"END:{kind}"],
        "typo": [f"END:{kind}X"],
        "lower": [f"end:{kind.lower()}"],
        "missing": [],
    }[style]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blocks=st.lists(
        st.tuples(
            st.sampled_from(("VEVENT", "VTODO", "VJOURNAL", "X-THING")),
            st.sampled_from(_END_STYLES),
            st.none() | st.sampled_from(_END_STYLES),
        ),
        max_size=6,
    ),
    calendar_end=st.sampled_from(_END_STYLES),
    tail=st.sampled_from(("", "X-COMMENT:cached", "junk after the end")),
)
def test_every_event_icalendar_reads_is_read(
    blocks: list[tuple[str, str, str | None]], calendar_end: str, tail: str
) -> None:
    """Our repairs of a calendar's structure never lose a VEVENT that icalendar itself reads
    from the unrepaired file: mistyped, lower-case and missing END lines, and text after the end."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for index, (kind, end, alarm) in enumerate(blocks):
        lines += _block(kind, index, end, alarm)
    lines += _end_line("VCALENDAR", calendar_end)
    data = ics(*lines, *([tail] if tail else []))
    try:
        read = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:  # icalendar refuses it: nothing of it we must match
        read = []
    expected = {str(v["UID"]) for c in read for v in c.walk("VEVENT") if "DTSTART" in v}

    events, _ = parse(data)

    assert expected <= {e.uid for e in events}


# -- writing -------------------------------------------------------------------------------------


def test_written_calendar_is_valid_and_carries_timezones() -> None:
    event = CalendarEvent(
        id="w1",
        uid="w1",
        title="Interview: Platform team, round 2",
        start=datetime(2024, 6, 3, 15, tzinfo=BERLIN),
        end=datetime(2024, 6, 3, 16, tzinfo=BERLIN),
        organizer=Person("Ana Lima", "ana@example.com"),
        attendees=(Attendee("Ana Lima", "ana@example.com", organizer=True),),
        conference_urls=("https://zoom.us/j/1",),
    )

    data = events_to_ics([event])
    calendar = icalendar.Calendar.from_ical(data)

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//mailagent//fixtures//EN"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    vevent_ = calendar.walk("VEVENT")[0]
    assert vevent_["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "DTSTAMP" in vevent_
    assert parse(data)[0] == [event]


def test_writing_is_deterministic() -> None:
    event = CalendarEvent(
        id="d",
        uid="d",
        title="x",
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 1, 1, 1, tzinfo=UTC),
    )

    assert events_to_ics([event]) == events_to_ics([event])


def test_occurrences_round_trip_with_their_ids() -> None:
    events = corpus_events("rie--thunderbird_recurring_one-instance-status-cancelled.ics")

    again, skipped = parse(events_to_ics(events))

    assert skipped == []
    assert again == events


ZONES = [
    UTC,
    BERLIN,
    NEW_YORK,
    ZoneInfo("Asia/Kolkata"),
    timezone(timedelta(hours=-3, minutes=-30)),
]
TEXT_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\r")
PLAIN_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\r/<")
"""Descriptions and locations are searched for links and HTML: keep generated ones free of both."""


def stripped(chars: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    return st.text(chars, max_size=max_size).map(str.strip)


names = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="@"), max_size=30
).map(lambda text: " ".join(text.split()))
addresses = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,12}@[a-z0-9-]{1,12}\.[a-z]{2,6}", fullmatch=True)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from(ZONES),
).map(lambda moment: moment.replace(microsecond=0))


@st.composite
def calendar_events(draw: st.DrawFn) -> CalendarEvent:
    uid = draw(stripped(TEXT_CHARS, 40).filter(bool))
    if draw(st.booleans()):
        day = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
        start = datetime.combine(day, time(), tzinfo=BERLIN)
        end = datetime.combine(day + timedelta(days=draw(st.integers(1, 3))), time(), tzinfo=BERLIN)
        all_day = True
    else:
        start = draw(moments)
        end = start + timedelta(minutes=draw(st.integers(0, 600)))
        all_day = False
    organizer = draw(st.none() | st.builds(Person, names, addresses))
    attendees = []
    for name, address in draw(st.lists(st.tuples(names, addresses), max_size=4)):
        attendees.append(
            Attendee(
                name,
                address,
                organizer=organizer is not None and address == organizer.address,
                response=draw(st.sampled_from(ResponseStatus)),
                resource=draw(st.booleans()),
                optional=draw(st.booleans()),
            )
        )
    urls = ("https://zoom.us/j/1?pwd=a&b=c", "https://meet.google.com/x-y-z", "tel:+1-555-0100,,42")
    return CalendarEvent(
        id=uid,
        uid=uid,
        title=draw(stripped(TEXT_CHARS, 60)),
        start=start,
        end=end,
        all_day=all_day,
        status=draw(st.sampled_from(EventStatus)),
        organizer=organizer,
        attendees=tuple(attendees),
        description=draw(stripped(PLAIN_CHARS, 300)),
        location=draw(stripped(PLAIN_CHARS, 60)),
        conference_urls=tuple(draw(st.lists(st.sampled_from(urls), unique=True))),
        sequence=draw(st.integers(0, 10_000)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calendar_events(), min_size=1, max_size=4, unique_by=lambda event: event.uid))
def test_round_trip_of_single_events(events: list[CalendarEvent]) -> None:
    again, skipped = parse(events_to_ics(events))

    assert skipped == []
    assert [_in_utc(e) for e in sorted(again, key=lambda e: e.id)] == [
        _in_utc(e) for e in sorted(events, key=lambda e: e.id)
    ]


def _in_utc(event: CalendarEvent) -> CalendarEvent:
    """The event with its times as UTC instants. Needed because (PEP 495) an aware datetime in a
    repeated DST hour never compares equal to the same instant in another zone, and the writer
    stores such wall times in UTC on purpose."""
    return replace(event, start=event.start.astimezone(UTC), end=event.end.astimezone(UTC))


@pytest.mark.parametrize("text", ["\\N", "a\\Nb\\n", "x\\,y;z", "line one\nline two"])
def test_text_with_backslashes_round_trips(text: str) -> None:
    """Found by hypothesis: icalendar's writer turns a literal backslash-N into a line break,
    so a location "\\N" came back empty."""
    event = CalendarEvent(
        id="u1",
        uid="u1",
        title="Interview",
        start=datetime(2026, 11, 17, 9, tzinfo=UTC),
        end=datetime(2026, 11, 17, 10, tzinfo=UTC),
        description=text,
        location=text,
    )
    [again], _ = parse(events_to_ics([event]))
    assert (again.description, again.location) == (text, text)


@pytest.mark.parametrize("name", ["\\,", "a\\b", "\\", "Doe\\; Jane", "\\\\,"])
def test_attendee_names_with_backslashes_round_trip(name: str) -> None:
    """Found by hypothesis: icalendar's reader takes a backslash before , ; or \\ inside a
    parameter value for an escape, so the writer must double every backslash in a CN."""
    event = CalendarEvent(
        id="u1",
        uid="u1",
        title="Interview",
        start=datetime(2026, 3, 2, 10, tzinfo=BERLIN),
        end=datetime(2026, 3, 2, 11, tzinfo=BERLIN),
        attendees=(Attendee(name, "jane@acme.example", response=ResponseStatus.ACCEPTED),),
    )
    (again,), skipped = parse(events_to_ics([event]))
    assert skipped == []
    assert again.attendees[0].name == name


@pytest.mark.parametrize(
    "rule", ["FREQ=WEEKLY;INTERVAL=0", "FREQ=DAILY;INTERVAL=-2", "FREQ=DAILY;INTERVAL=x"]
)
def test_a_recurrence_rule_without_a_positive_interval_is_skipped_not_looped(rule: str) -> None:
    """Found with a real CalDAV server: it stores INTERVAL=0, and expanding it never ends."""
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:loop\r\n"
        "DTSTAMP:20260301T000000Z\r\nDTSTART:20260302T100000Z\r\nDTEND:20260302T110000Z\r\n"
        f"SUMMARY:Interview\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    events, skipped = parse(data)
    assert events == []
    assert len(skipped) == 1
    assert "RRULE" in skipped[0].reason
