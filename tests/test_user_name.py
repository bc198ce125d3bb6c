"""The user's name (issue 12, point 2): without `user_name` in the config, drafts are signed with
the user's CN in calendar entries, else the display name of their From in Sent; never with an
address. `explain` and `status` say where the name came from."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mailagent.core.identity import (
    UNSIGNED,
    NameSource,
    SignedAs,
    clean_name,
    signed_as,
)
from mailagent.core.models import Attendee, CalendarEvent, Folder, Message, Person
from mailagent.scenario import MaildirMailbox, load_scenario, play
from mailagent.store import Store

from .conftest import cli_sync, run_cli, run_json

ME = "jordan.lee@proton.example"
ALIAS = "jlee@fastmail.example"
ADDRESSES = frozenset({ME, ALIAS})
T0 = datetime(2026, 11, 16, 10, tzinfo=UTC)


# -- the pure choice -----------------------------------------------------------------------------


def _event(n: int, user_name: str, address: str = ME, *, organizer: bool = False) -> CalendarEvent:
    start = T0 + timedelta(days=n)
    them = Attendee("Kim Tran", "kim.tran@umbrella.example")
    me = Attendee(user_name, address)
    return CalendarEvent(
        id=f"e{n}",
        uid=f"e{n}",
        title="Interview",
        start=start,
        end=start + timedelta(hours=1),
        organizer=Person(user_name, address) if organizer else them.person,
        attendees=(them, me),
    )


def _sent(n: int, name: str, address: str = ME) -> Message:
    return Message(
        id=f"m{n}",
        folder=Folder.SENT,
        message_id=f"<m{n}@x>",
        subject="Hello",
        sender=Person(name, address),
        date=T0 + timedelta(hours=n),
    )


def test_the_config_wins_then_the_calendar_then_sent_mail() -> None:
    events = [_event(1, "Jordan Lee")]
    sent = [_sent(1, "Jordan M. Lee")]
    assert signed_as("Jo Lee", ADDRESSES, events, sent) == SignedAs("Jo Lee", NameSource.CONFIG)
    assert signed_as("", ADDRESSES, events, sent) == SignedAs("Jordan Lee", NameSource.CALENDAR)
    assert signed_as("", ADDRESSES, [], sent) == SignedAs("Jordan M. Lee", NameSource.SENT)
    assert signed_as("", ADDRESSES, [], []) == UNSIGNED


def test_the_organizer_line_and_aliases_count() -> None:
    events = [_event(1, "Jordan Lee", ALIAS, organizer=True)]
    assert signed_as("", ADDRESSES, events).name == "Jordan Lee"


def test_other_peoples_names_never_count() -> None:
    events = [_event(1, "Kim Tran", "kim.tran@umbrella.example")]
    sent = [_sent(1, "Kim Tran", "kim.tran@umbrella.example")]
    assert signed_as("", ADDRESSES, events, sent) == UNSIGNED


def test_addresses_me_role_accounts_and_fragments_are_not_names() -> None:
    for value in (
        ME,
        f'"{ME}"',
        f"'{ME}'",
        f"<{ME}>",
        "jordan.lee",
        "Jordan.Lee",
        "jordan",  # only a local part: jordan@... is the address
        "me",
        "You",
        "Careers Team",
        "Recruiting",
        "no-reply",
        "Calendar",
        "user123",
        "",
        "  ",
        "Jordan Lee <x>",
        "=?utf-8?q?Jordan?=",
    ):
        assert clean_name(value, {ME, "jordan@other.example"}) == "", value


def test_names_are_tidied() -> None:
    assert clean_name('  "Jordan   Lee" ') == "Jordan Lee"
    assert clean_name("Lee, Jordan") == "Jordan Lee"
    assert clean_name("Jordan Lee, PhD") == "Jordan Lee"
    assert clean_name("Jordan Lee (Proton)") == "Jordan Lee"
    assert clean_name("Zoë O'Brien-Núñez") == "Zoë O'Brien-Núñez"
    assert clean_name("Jordan") == "Jordan"


def test_two_words_beat_one_and_the_most_common_wins() -> None:
    events = [_event(n, "Jordan") for n in range(5)] + [_event(9, "Jordan Lee")]
    assert signed_as("", ADDRESSES, events).name == "Jordan Lee"
    sent = [_sent(1, "J Lee"), _sent(2, "Jordan Lee"), _sent(3, "jordan lee"), _sent(4, "J Lee")]
    sent.append(_sent(5, "Jordan Lee"))
    assert signed_as("", ADDRESSES, [], sent).name == "Jordan Lee"


def test_a_remembered_name_stands_in_for_evidence_out_of_the_window() -> None:
    kept = SignedAs("Jordan Lee", NameSource.CALENDAR)
    sent = [_sent(1, "Jordan M. Lee")]
    assert signed_as("", ADDRESSES, [], sent, remembered=kept) == kept
    assert signed_as("", ADDRESSES, [], [], remembered=kept) == kept
    fresh = [_event(1, "Jordan Lee-Park")]
    assert signed_as("", ADDRESSES, fresh, remembered=kept).name == "Jordan Lee-Park"
    from_sent = SignedAs("Jordan Lee", NameSource.SENT)
    assert signed_as("", ADDRESSES, fresh, remembered=from_sent).name == "Jordan Lee-Park"
    assert signed_as("", ADDRESSES, [], [], remembered=from_sent) == from_sent
    assert signed_as("Jo", ADDRESSES, [], [], remembered=kept).source is NameSource.CONFIG


def test_describe_says_where_the_name_came_from() -> None:
    assert (
        SignedAs("Jordan Lee", NameSource.CALENDAR).describe()
        == "as Jordan Lee (from your calendar entries)"
    )
    assert SignedAs("Jordan Lee", NameSource.SENT).describe().endswith("(from your sent mail)")
    assert SignedAs("Jordan Lee", NameSource.CONFIG).describe().endswith("(from the config)")
    assert UNSIGNED.describe().startswith("without a name")


_any_text = st.text(
    alphabet=st.sampled_from([*"Jordan Lee.@\"'<>,()-_ 1jl", "é", "\t", "\n"]),
    max_size=30,
)
_any_address = st.sampled_from([ME, ALIAS, "kim@umbrella.example", "JORDAN.LEE@proton.example"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_any_text, _any_address, st.booleans()), max_size=8),
    st.lists(st.tuples(_any_text, _any_address), max_size=8),
    _any_text,
    st.randoms(use_true_random=False),
)
def test_never_an_address_and_the_same_whatever_the_order(
    in_calendar: list[tuple[str, str, bool]],
    in_sent: list[tuple[str, str]],
    configured: str,
    shuffler: random.Random,
) -> None:
    events = [_event(n, name, a, organizer=o) for n, (name, a, o) in enumerate(in_calendar)]
    sent = [_sent(n, name, a) for n, (name, a) in enumerate(in_sent)]
    found = signed_as(configured, ADDRESSES, events, sent)
    assert "@" not in found.name
    assert found.name.strip() == found.name
    assert (found.name == "") == (found.source is NameSource.NONE)
    for fragment in ("jordan.lee", "proton"):
        assert found.name.casefold() != fragment
    shuffler.shuffle(events)
    shuffler.shuffle(sent)
    assert signed_as(configured, ADDRESSES, events, sent) == found


# -- through the CLI -----------------------------------------------------------------------------

SCENARIO = """
name: signing
user: {{name: "{calendar_name}", address: {me}, timezone: America/New_York}}
people:
  me_sent: {{name: "{sent_name}", address: {me}}}
  kim: {{name: Kim Tran, address: kim.tran@umbrella.example}}
  ana: {{name: Ana Costa, address: ana.costa@initech.example}}
events:
  - id: umbrella
    title: Umbrella - Interview
    start: "2026-11-17 10:00"
    end: "2026-11-17 11:00"
    organizer: kim
    attendees: [kim]
    appears: "2026-11-10 09:00"
  - id: initech
    title: Initech technical interview
    start: "2026-11-24 10:00"
    end: "2026-11-24 11:00"
    organizer: ana
    attendees: [ana]
    appears: "2026-11-10 09:00"
messages:
  - id: intro
    folder: sent
    from: me_sent
    to: [kim]
    date: "2026-11-12 09:00"
    subject: Looking forward to Tuesday
    body: "Hi Kim, see you on Tuesday."
steps:
  - at: "2026-11-17 12:00"
    expect:
      - {{kind: thank_you, to: kim}}
"""


def _setup(root: Path, calendar_name: str, sent_name: str) -> tuple[Path, MaildirMailbox]:
    """The scenario (the user's CN in the calendar, the display name of their From in Sent)
    synced once through the CLI after the first interview, with no `user_name` in the config."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "signing.yaml"
    path.write_text(
        SCENARIO.format(calendar_name=calendar_name, sent_name=sent_name, me=ME), encoding="utf-8"
    )
    scenario = load_scenario(path)
    config = root / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\nname = "signing"\nprovider = "maildir"\n'
        f'address = "{ME}"\nmaildir = "Mail"\ncalendar = "calendar.ics"\n'
        'timezone = "America/New_York"\n',
        encoding="utf-8",
    )
    mailbox = MaildirMailbox(root)
    log = play(scenario, mailbox, cli_sync(config))
    assert log.failures == []
    return config, mailbox


def _signature(mailbox: MaildirMailbox, to: str) -> list[str]:
    """The lines of the draft to `to` from its sign-off on."""
    (draft,) = [d for d in mailbox.drafts() if d.to[0].address == to]
    lines = draft.snippet.strip().splitlines()
    return lines[[line.strip() for line in lines].index("Best regards,") :]


def _explained(config: Path, query: str) -> str:
    return run_cli("--config", str(config), "explain", query).stdout


def test_drafts_are_signed_with_the_users_name_in_the_calendar(tmp_path: Path) -> None:
    config, mailbox = _setup(tmp_path, calendar_name="Jordan Lee", sent_name="Jordan")
    assert _signature(mailbox, "kim.tran@umbrella.example") == ["Best regards,", "Jordan Lee"]
    assert "drafts signed as Jordan Lee (from your calendar entries)" in _explained(
        config, "umbrella"
    )
    status = run_cli("--config", str(config), "status", "--now", "2026-11-17T12:00-05:00").stdout
    assert "drafts signed as Jordan Lee (from your calendar entries)" in status
    listed = run_json("--config", str(config), "status", "--now", "2026-11-17T12:00-05:00")
    assert listed[0]["signed_as"] == {"name": "Jordan Lee", "source": "calendar"}
    assert run_json("--config", str(config), "explain", "umbrella")["signed_as"] == {
        "name": "Jordan Lee",
        "source": "calendar",
    }


def test_the_drafts_from_header_carries_the_learned_name(tmp_path: Path) -> None:
    """Not only the sign-off: the From header shows the name too, though the config has none."""
    _, mailbox = _setup(tmp_path, calendar_name="Jordan Lee", sent_name="")
    (draft,) = mailbox.drafts()
    raw = next((mailbox.maildir / "Drafts" / "cur").iterdir()).read_bytes()
    header = next(line for line in raw.decode().splitlines() if line.startswith("From:"))

    assert draft.sender == Person("Jordan Lee", ME)
    assert header == f"From: Jordan Lee <{ME}>"


def test_drafts_are_signed_with_the_name_in_sent_mail_when_the_calendar_has_none(
    tmp_path: Path,
) -> None:
    config, mailbox = _setup(tmp_path, calendar_name="", sent_name="Jordan Lee")
    assert _signature(mailbox, "kim.tran@umbrella.example") == ["Best regards,", "Jordan Lee"]
    assert "drafts signed as Jordan Lee (from your sent mail)" in _explained(config, "umbrella")


def test_without_a_name_anywhere_the_sign_off_stands_alone(tmp_path: Path) -> None:
    config, mailbox = _setup(tmp_path, calendar_name="", sent_name="")
    signature = _signature(mailbox, "kim.tran@umbrella.example")
    assert signature == ["Best regards,"]
    (draft,) = mailbox.drafts()
    assert "jordan" not in draft.snippet.casefold()
    assert "@" not in draft.snippet
    shown = _explained(config, "umbrella")
    assert "drafts signed without a name" in " ".join(shown.split())
    assert "user_name" in shown


def test_a_learned_name_is_kept_when_its_evidence_leaves_the_window(tmp_path: Path) -> None:
    """The name learned from the calendar signs a later draft though the calendar (and Sent)
    no longer hold it: it was kept in the state."""
    config, mailbox = _setup(tmp_path, calendar_name="Jordan Lee", sent_name="")
    calendar = mailbox.calendar.read_text(encoding="utf-8")
    assert 'CN="Jordan Lee";' in calendar
    mailbox.calendar.write_text(calendar.replace('CN="Jordan Lee";', ""), encoding="utf-8")
    later = "2026-11-24T12:00:00-05:00"
    run_cli("--config", str(config), "sync", "--now", later)
    assert _signature(mailbox, "ana.costa@initech.example") == ["Best regards,", "Jordan Lee"]
    assert "drafts signed as Jordan Lee (from your calendar entries)" in _explained(
        config, "initech"
    )
    store = Store(tmp_path / "state.db")
    try:
        assert store.signed_as("signing") == SignedAs("Jordan Lee", NameSource.CALENDAR)
    finally:
        store.close()


def test_a_user_name_that_is_an_address_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "mailagent.toml"
    (tmp_path / "Mail").mkdir()
    config.write_text(
        '[[accounts]]\nname = "a"\nprovider = "maildir"\n'
        f'address = "{ME}"\nuser_name = "{ME}"\nmaildir = "Mail"\n',
        encoding="utf-8",
    )
    result = run_cli("--config", str(config), "status", check=False)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert "accounts[0].user_name" in first, result.stderr
    assert "your name" in first, result.stderr
