"""Invitations that arrive only by mail (issue 12, point 5): calendar parts read from MIME, and
merged with the calendar by UID, the highest SEQUENCE winning, in any order."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mailagent.core.detect import UserIdentity
from mailagent.core.invitations import merge_invitations
from mailagent.core.models import Attendee, CalendarEvent, EventStatus, Folder, Message, Person
from mailagent.core.relevance import MailInterest, looks_like_invitation
from providers.ical import events_to_ics
from providers.mime import parse_message

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "eml"
START = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
USER = UserIdentity("alex@example.com", "Alex Kim")
ANA = Person("Ana Souza", "ana@nimbus.io")


def interview(
    uid: str = "nimbus-1@nimbus.io",
    *,
    sequence: int = 0,
    start: datetime = START,
    status: EventStatus = EventStatus.CONFIRMED,
    event_id: str = "",
) -> CalendarEvent:
    return CalendarEvent(
        id=event_id or uid,
        uid=uid,
        title="Technical interview - Nimbus",
        start=start,
        end=start + timedelta(hours=1),
        status=status,
        organizer=ANA,
        attendees=(
            Attendee("Ana Souza", "ana@nimbus.io", organizer=True),
            Attendee("Alex Kim", "alex@example.com"),
        ),
        sequence=sequence,
    )


def invitation_mail(
    *events: CalendarEvent,
    method: str = "REQUEST",
    attach: bool = False,
    subject: str = "Invitation: Technical interview - Nimbus",
    date: datetime = SENT_AT,
    calendar: bytes | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Ana Souza <ana@nimbus.io>"
    message["To"] = "alex@example.com"
    message["Subject"] = subject
    message["Date"] = date.strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = f"<{date.timestamp()}@nimbus.io>"
    message.set_content("You have been invited.\n")
    data = calendar if calendar is not None else events_to_ics(events, method=method)
    if attach:
        message.add_attachment(data, maintype="application", subtype="ics", filename="invite.ics")
    else:
        message.add_alternative(data.decode(), subtype="calendar", params={"method": method})
    return bytes(message)


def read(data: bytes, message_id: str = "m1", folder: Folder = Folder.INBOX) -> Message:
    return parse_message(data, folder=folder, id=message_id)


# -- reading calendar parts ---------------------------------------------------------------------


def test_a_text_calendar_part_is_read_as_an_invitation() -> None:
    message = read(invitation_mail(interview(sequence=2)))
    assert [e.uid for e in message.invitations] == ["nimbus-1@nimbus.io"]
    (event,) = message.invitations
    assert event.organizer == ANA
    assert {a.address for a in event.attendees} == {"ana@nimbus.io", "alex@example.com"}
    assert event.sequence == 2
    assert event.start == START
    assert message.snippet.startswith("You have been invited.")


def test_an_ics_attachment_without_method_is_read_as_an_invitation() -> None:
    message = read(invitation_mail(interview(), attach=True, method=""))
    assert [e.uid for e in message.invitations] == ["nimbus-1@nimbus.io"]


def test_a_cancel_is_a_cancelled_event() -> None:
    message = read(invitation_mail(interview(sequence=1), method="CANCEL"))
    assert [e.status for e in message.invitations] == [EventStatus.CANCELLED]


def test_a_reply_or_counter_is_not_an_invitation() -> None:
    for method in ("REPLY", "COUNTER", "REFRESH"):
        assert read(invitation_mail(interview(), method=method)).invitations == ()


def test_the_same_invitation_inline_and_attached_is_one_event() -> None:
    both = EmailMessage(policy=SMTP)
    both["From"] = "ana@nimbus.io"
    both["Date"] = "Mon, 09 Nov 2026 09:00:00 +0000"
    both.set_content("hi\n")
    ics = events_to_ics([interview()], method="REQUEST")
    both.add_alternative(ics.decode(), subtype="calendar", params={"method": "REQUEST"})
    both.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    assert len(read(bytes(both)).invitations) == 1


def test_a_bad_calendar_part_is_a_problem_of_that_part_never_a_crash() -> None:
    junk = (
        b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\nEND:VEVENT\r\n"
    )
    message = read(invitation_mail(calendar=junk + b"END:VCALENDAR\r\n"))
    assert message.invitations == ()
    assert message.invitation_problems
    assert all("\n" not in p for p in message.invitation_problems)
    assert message.subject == "Invitation: Technical interview - Nimbus"


def test_not_icalendar_at_all_is_a_problem() -> None:
    message = read(invitation_mail(calendar=b"just some text, no calendar"))
    assert message.invitations == ()
    assert message.invitation_problems


def test_corpus_invitations_are_read_and_replies_are_not_crashes() -> None:
    found = {}
    for path in sorted(CORPUS.glob("*.eml")):
        data = path.read_bytes()
        if b"calendar" not in data.lower():
            continue
        message = parse_message(data, folder=Folder.INBOX, id=path.name, fallback_date=SENT_AT)
        found[path.name] = message
    google = found["cc--gmail_google-calendar-meet-invite_swedish.eml"]
    assert len(google.invitations) == 1
    assert google.invitations[0].organizer is not None
    cancelled = found["cc--cancellation_method-cancel_malformed-qp.eml"]
    assert cancelled.invitations
    assert {e.status for e in cancelled.invitations} == {EventStatus.CANCELLED}


# -- merging with the calendar -------------------------------------------------------------------


def inbox(message_id: str, *events: CalendarEvent, at: datetime = SENT_AT) -> Message:
    return Message(
        id=message_id,
        folder=Folder.INBOX,
        message_id=f"<{message_id}@nimbus.io>",
        subject="Invitation: Technical interview - Nimbus",
        sender=ANA,
        date=at,
        invitations=events,
    )


def test_an_invitation_only_in_mail_is_an_event() -> None:
    merged = merge_invitations([], [inbox("m1", interview())])
    assert [e.uid for e in merged] == ["nimbus-1@nimbus.io"]


def test_an_interview_in_the_calendar_and_in_mail_is_one_event_the_calendars() -> None:
    calendar = interview(event_id="g-123")  # Google and Graph have ids of their own
    merged = merge_invitations([calendar], [inbox("m1", interview()), inbox("m2", interview())])
    assert len(merged) == 1
    assert merged[0].id == "g-123"
    assert "nimbus-1@nimbus.io" in merged[0].aliases  # drafts made from the mail alone match


def test_a_higher_sequence_replaces_and_a_lower_one_is_ignored() -> None:
    moved = START + timedelta(days=2)
    first, update = interview(sequence=0), interview(sequence=1, start=moved)
    forward = inbox("fwd", first, at=SENT_AT + timedelta(days=3))  # the original, forwarded later
    merged = merge_invitations([], [inbox("m1", first), inbox("m2", update), forward])
    assert [e.start for e in merged] == [moved]
    on_calendar = merge_invitations([interview(sequence=0, event_id="g")], [inbox("m2", update)])
    assert [(e.id, e.start) for e in on_calendar] == [("g", moved)]
    stale = merge_invitations([interview(sequence=3, event_id="g")], [inbox("m2", update)])
    assert [e.start for e in stale] == [START]


def test_a_later_cancel_cancels_by_mail_and_on_the_calendar() -> None:
    cancel = interview(sequence=1, status=EventStatus.CANCELLED)
    merged = merge_invitations([], [inbox("m1", interview()), inbox("m2", cancel)])
    assert [e.status for e in merged] == [EventStatus.CANCELLED]
    same_sequence = interview(sequence=0, status=EventStatus.CANCELLED)
    merged = merge_invitations([interview(event_id="g")], [inbox("m2", same_sequence)])
    assert [(e.id, e.status) for e in merged] == [("g", EventStatus.CANCELLED)]


def test_a_cancel_of_the_whole_series_cancels_every_occurrence_on_the_calendar() -> None:
    """A CANCEL without RECURRENCE-ID (RFC 5546 3.2.5) is the whole series; the calendar lists
    its occurrences one by one, each with its RECURRENCE-ID."""
    occurrences = [
        replace(
            interview(event_id=f"g-{week}", start=START + timedelta(weeks=week)),
            recurrence_id=START + timedelta(weeks=week),
            recurring=True,
        )
        for week in range(3)
    ]
    series_cancel = replace(interview(sequence=1, status=EventStatus.CANCELLED), recurring=True)

    merged = merge_invitations(occurrences, [inbox("m1", series_cancel)])

    assert [(e.id, e.status) for e in merged] == [
        (f"g-{week}", EventStatus.CANCELLED) for week in range(3)
    ]
    assert all("nimbus-1@nimbus.io" in e.aliases for e in merged)
    stale = replace(series_cancel, sequence=0, status=EventStatus.CONFIRMED)
    untouched = merge_invitations(occurrences, [inbox("m1", stale)])
    assert [e.status for e in untouched] == [EventStatus.CONFIRMED] * 3


def test_the_calendar_wins_on_an_equal_sequence() -> None:
    calendar = replace(interview(event_id="g"), title="Edited on the calendar")
    merged = merge_invitations([calendar], [inbox("m1", interview())])
    assert [e.title for e in merged] == ["Edited on the calendar"]


def test_invitations_in_sent_mail_are_not_read() -> None:
    sent = replace(inbox("s1", interview()), folder=Folder.SENT)
    assert merge_invitations([], [sent]) == []


messages_strategy = st.lists(
    st.builds(
        lambda n, seq, cancelled, days: inbox(
            f"m{n}",
            interview(
                uid=f"u{n % 3}@x",
                sequence=seq,
                status=EventStatus.CANCELLED if cancelled else EventStatus.CONFIRMED,
                start=START + timedelta(days=days),
            ),
            at=SENT_AT + timedelta(hours=n),
        ),
        st.integers(0, 20),
        st.integers(0, 3),
        st.booleans(),
        st.integers(0, 3),
    ),
    max_size=8,
    unique_by=lambda m: m.id,
)
calendar_strategy = st.lists(
    st.builds(
        lambda n, seq: interview(uid=f"u{n}@x", sequence=seq, event_id=f"g{n}"),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    max_size=3,
    unique_by=lambda e: e.id,
)


@given(calendar_strategy, messages_strategy, st.randoms())
def test_the_merge_does_not_depend_on_order(
    calendar: list[CalendarEvent], messages: list[Message], rng: object
) -> None:
    expected = merge_invitations(calendar, messages)
    shuffled_calendar, shuffled_messages = list(calendar), list(messages)
    rng.shuffle(shuffled_calendar)  # type: ignore[attr-defined]
    rng.shuffle(shuffled_messages)  # type: ignore[attr-defined]
    assert merge_invitations(shuffled_calendar, shuffled_messages) == expected
    assert len({(e.uid, e.recurrence_id) for e in expected}) == len(expected)


# -- which mail is read --------------------------------------------------------------------------


def test_invitation_mail_is_wanted_whoever_sent_it() -> None:
    message = read(invitation_mail(interview()))
    headers_only = replace(message, invitations=(), snippet="")
    assert looks_like_invitation(headers_only)
    assert MailInterest().matches(headers_only)
    plain = replace(headers_only, subject="Lunch?", headers={})
    assert not looks_like_invitation(plain)
    calendar_type = replace(plain, headers={"content-type": "text/calendar; method=REQUEST"})
    assert looks_like_invitation(calendar_type)


def test_the_people_of_an_invitation_widen_the_interest() -> None:
    message = read(invitation_mail(interview()))
    widened = MailInterest().widened_by([message], USER)
    assert "ana@nimbus.io" in widened.addresses
    assert "nimbus.io" in widened.domains


def test_graph_events_of_foreign_invitations_keep_the_invitations_uid() -> None:
    """Exchange wraps the UID of an invitation from another system in a Global Object ID
    (MS-OXOCAL 2.2.1.27, "vCal-Uid"); the mail's calendar part has the UID itself."""
    from providers.emulators.graph_scenario import ical_uid
    from providers.graph_events import calendar_uid

    assert calendar_uid(ical_uid("nimbus-1@nimbus.io")) == "nimbus-1@nimbus.io"
    native = "040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5A6B70000000000000000"
    assert calendar_uid(native + "1000000012345678") == native + "1000000012345678"
    assert calendar_uid("not hex at all") == "not hex at all"
    assert calendar_uid(_GOID_HEAD + "FFFF0000" + "00") == _GOID_HEAD + "FFFF0000" + "00"


_GOID_HEAD = "040000008200E00074C5B7101A82E008" + "00" * 20


def test_a_bad_calendar_part_is_a_logged_skip_and_the_sync_goes_on(tmp_path: Path) -> None:
    """Through the CLI: the message is read, its broken invitation is skipped with a reason,
    and a good invitation in another message still makes its interview."""
    from mailagent.demo import write_config
    from mailagent.scenario import MaildirMailbox, Scenario, ScenarioSpec

    from .conftest import run_cli

    good = invitation_mail(interview(start=datetime(2026, 11, 16, 14, 0, tzinfo=UTC)))
    bad = invitation_mail(
        calendar=b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        b"DTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        date=SENT_AT + timedelta(hours=1),
    )
    spec = ScenarioSpec.model_validate(
        {
            "name": "bad-part",
            "user": {"name": "Alex Kim", "address": "alex@example.com"},
            "messages": [
                {"id": "good", "folder": "inbox", "from": "ana@nimbus.io", "to": ["user"],
                 "date": "2026-11-09 09:00", "subject": "x", "raw": good.decode()},
                {"id": "bad", "folder": "inbox", "from": "ana@nimbus.io", "to": ["user"],
                 "date": "2026-11-09 10:00", "subject": "x", "raw": bad.decode()},
            ],
        }
    )  # fmt: skip
    scenario = Scenario(spec, tmp_path / "bad-part.yaml")
    MaildirMailbox(tmp_path).materialize(scenario, datetime(2026, 11, 16, 16, 0, tzinfo=UTC))
    config = write_config(scenario, tmp_path)
    result = run_cli("--config", str(config), "sync", "--now", "2026-11-16T16:00:00Z", "--json")
    (synced,) = json.loads(result.stdout)
    assert synced["ok"]
    skipped = [s for s in synced["skipped"] if "calendar part 1" in s["item"]]
    assert len(skipped) == 1
    assert skipped[0]["reason"]
    assert "calendar part 1" in result.stderr  # the log names it
    assert {d["to"] for d in synced["drafted"]} == {"ana@nimbus.io"}


def test_a_calendar_part_with_many_events_is_no_invitation() -> None:
    many = [interview(uid=f"u{n}@x", start=START + timedelta(days=n)) for n in range(30)]
    message = read(invitation_mail(*many))
    assert message.invitations == ()
    assert any("events" in p for p in message.invitation_problems)
