"""How the IMAP provider follows a changed folder, against a real Dovecot server.

New mail is UIDNEXT's new range: fetched by UID with no search when MESSAGES grew by as much.
Mail that left is named by QRESYNC's VANISHED where the server has it, else by asking which
known UIDs are still there. Mail the window left behind is forgotten, never reported removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailagent.core.detect import UserIdentity
from mailagent.core.models import DraftContent, DraftStatus, Person
from providers import imap
from providers.base import Changes, KnownDraft, Window
from providers.budget import DEFAULT_BUDGET, Budget
from providers.imap import ImapProvider, ImapSettings
from providers.testservers.dovecot import DovecotServer
from providers.testservers.imap_proxy import (
    ImapFaultProxy,
    NoLoginCapabilities,
    quoted_field_names,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOOKBACK = timedelta(days=30)
ZONE = ZoneInfo("Europe/Berlin")
_users = iter(range(10_000))

# Dovecot 2.3's own post-login capabilities, less QRESYNC (and, for the second, CONDSTORE)
WITHOUT_QRESYNC = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE ESEARCH ESORT SEARCHRES WITHIN "
    "CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE "
    "SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"
)
WITHOUT_CONDSTORE = WITHOUT_QRESYNC.replace(" CONDSTORE", "")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with DovecotServer() as server:
        yield server


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[DovecotServer]:
    with DovecotServer(imap_capability=WITHOUT_QRESYNC) as server:
        yield server


@pytest.fixture(scope="module")
def bare_dovecot() -> Iterator[DovecotServer]:
    with DovecotServer(imap_capability=WITHOUT_CONDSTORE) as server:
        yield server


class Mailbox:
    """One fresh Dovecot user, synced through `ImapProvider.read_changes` as the runner does."""

    def __init__(self, server: DovecotServer) -> None:
        self.server = server
        self.user = f"pat-{next(_users)}@example.com"
        self.cursor: str | None = None
        self.commands: list[str] = []
        with server.connect(self.user) as client:  # Dovecot makes the mailbox on first login
            client.select_folder("INBOX")

    def deliver(self, subject: str, when: datetime, folder: str = "INBOX") -> int:
        message = EmailMessage()
        message["From"] = "Sam Lee <sam@acme.example>"
        message["To"] = self.user
        message["Subject"] = subject
        message["Date"] = format_datetime(when)
        message["Message-ID"] = f"<{subject.replace(' ', '-')}@acme.example>"
        message.set_content("Hello.")
        with self.server.connect(self.user) as client:
            answer = client.append(folder, message.as_bytes(), msg_time=when)
        match = re.search(rb"APPENDUID \d+ (\d+)", answer)
        assert match, answer
        return int(match.group(1))

    def expunge(self, uid: int, folder: str = "INBOX") -> None:
        with self.server.connect(self.user) as client:
            client.select_folder(folder)
            client.delete_messages([uid])
            client.uid_expunge([uid])

    def provider(
        self, now: datetime = NOW, budget: Budget = DEFAULT_BUDGET, port: int | None = None
    ) -> ImapProvider:
        return ImapProvider(
            ImapSettings(
                host=self.server.host,
                port=port or self.server.port,
                security="plain",
                username=self.user,
                password=self.server.password,
            ),
            user=UserIdentity(self.user, "Pat Doe"),
            timezone=ZONE,
            clock=lambda: now,
            budget=budget,
        )

    def sync(
        self, now: datetime = NOW, budget: Budget = DEFAULT_BUDGET, port: int | None = None
    ) -> Changes:
        provider = self.provider(now, budget, port)
        try:
            changes = provider.read_changes(self.cursor, Window(now - LOOKBACK, now + LOOKBACK))
        finally:
            provider.close()
        self.cursor = changes.cursor
        self.commands = provider.command_log
        return changes

    def state(self, folder: str = "inbox") -> dict[str, Any]:
        assert self.cursor is not None
        return dict(json.loads(self.cursor)["folders"][folder])


def subjects(changes: Changes) -> set[str]:
    return {m.subject for m in changes.messages}


def removed_uids(changes: Changes) -> set[int]:
    return {int(i.rpartition(":")[2]) for i in changes.removed_message_ids}


def test_new_mail_is_fetched_by_uid_with_no_search(dovecot: DovecotServer) -> None:
    box = Mailbox(dovecot)
    box.deliver("before", NOW - timedelta(days=2))
    box.sync()
    box.deliver("one", NOW - timedelta(hours=2))
    box.deliver("two", NOW - timedelta(hours=1))

    changes = box.sync()

    assert subjects(changes) == {"one", "two"}
    assert changes.removed_message_ids == []
    assert box.commands == [
        "LOGIN", "LIST", "STATUS", "STATUS", "STATUS", "EXAMINE", "UID FETCH", "LOGOUT"
    ]  # fmt: skip


def test_an_expunged_message_is_named_by_qresync_vanished(dovecot: DovecotServer) -> None:
    box = Mailbox(dovecot)
    kept = box.deliver("kept", NOW - timedelta(days=3))
    gone = box.deliver("gone", NOW - timedelta(days=2))
    box.sync()
    box.expunge(gone)
    box.deliver("new", NOW - timedelta(hours=1))

    changes = box.sync()

    assert removed_uids(changes) == {gone}
    assert subjects(changes) == {"new"}
    assert "ENABLE" in box.commands
    assert "SEARCH" not in " ".join(box.commands)
    assert kept in box.state()["uids"]
    assert gone not in box.state()["uids"]


@pytest.mark.parametrize("server", ["plain_dovecot", "bare_dovecot"])
def test_without_qresync_the_known_uids_still_there_are_searched(
    server: str, request: pytest.FixtureRequest
) -> None:
    box = Mailbox(request.getfixturevalue(server))
    box.deliver("kept", NOW - timedelta(days=3))
    gone = box.deliver("gone", NOW - timedelta(days=2))
    box.sync()
    box.expunge(gone)

    changes = box.sync()

    assert removed_uids(changes) == {gone}
    assert "ENABLE" not in box.commands
    assert "UID SEARCH" in box.commands


def test_mail_moved_in_from_before_the_window_is_not_read(dovecot: DovecotServer) -> None:
    box = Mailbox(dovecot)
    box.sync()
    box.deliver("old", NOW - timedelta(days=90))
    box.deliver("recent", NOW - timedelta(days=1))

    assert subjects(box.sync()) == {"recent"}


def test_a_mass_arrival_is_narrowed_to_the_window_on_the_server(
    dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap, "FETCH_CHUNK", 2)
    box = Mailbox(dovecot)
    box.sync()
    for day in (90, 80, 70):
        box.deliver(f"archived {day}", NOW - timedelta(days=day))
    box.deliver("recent", NOW - timedelta(days=1))

    changes = box.sync()

    assert subjects(changes) == {"recent"}
    assert "UID SEARCH" in box.commands
    assert box.commands.count("UID FETCH") == 1


def test_mail_the_window_left_behind_is_forgotten_not_removed(dovecot: DovecotServer) -> None:
    box = Mailbox(dovecot)
    aging = box.deliver("aging", NOW - timedelta(days=29))
    box.sync()
    later = NOW + timedelta(days=3)
    box.deliver("new", later - timedelta(hours=1))

    changes = box.sync(later)

    assert subjects(changes) == {"new"}
    assert changes.removed_message_ids == []
    assert aging not in box.state()["uids"]


def test_sent_mail_is_followed_the_same_way(dovecot: DovecotServer) -> None:
    box = Mailbox(dovecot)
    box.sync()
    uid = box.deliver("thanks", NOW - timedelta(hours=3), folder="Sent")

    changes = box.sync()

    assert {(m.folder.value, m.subject) for m in changes.messages} == {("sent", "thanks")}
    assert box.state("sent")["uids"] == [uid]


# --- the invariant, over any run of arrivals and expunges ----------------------------------

Step = tuple[list[int], list[int]]
"""Between two syncs: the ages in days of the mail that arrives (over 30: before the window),
and which of the messages there (as indexes into them) are expunged."""

steps = st.lists(
    st.tuples(
        st.lists(st.sampled_from([0, 1, 5, 29, 45]), max_size=4),
        st.lists(st.integers(min_value=0, max_value=20), max_size=3),
    ),
    min_size=1,
    max_size=4,
)


def follows_the_folder(server: DovecotServer, run: list[Step]) -> None:
    """After each sync, the messages read minus those reported removed are exactly the
    mail in INBOX dated inside the window, and nothing is read twice between expunges."""
    box = Mailbox(server)
    box.sync()
    seen: set[str] = set()
    there: dict[int, datetime] = {}
    count = 0
    for arrivals, expunges in run:
        for age in arrivals:
            count += 1
            when = NOW - timedelta(days=age, minutes=count)
            there[box.deliver(f"m{count}", when)] = when
        uids = sorted(there)
        for uid in {uids[i % len(uids)] for i in expunges} if uids else set():
            box.expunge(uid)
            del there[uid]
        changes = box.sync()
        seen -= set(changes.removed_message_ids)
        read = {m.id for m in changes.messages}
        assert not read & seen
        seen |= read
        expected = {u for u, when in there.items() if when >= NOW - LOOKBACK}
        assert {int(i.rpartition(":")[2]) for i in seen} == expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=steps)
def test_qresync_follows_any_run_of_changes(dovecot: DovecotServer, run: list[Step]) -> None:
    follows_the_folder(dovecot, run)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=steps)
def test_uid_search_follows_any_run_of_changes(
    plain_dovecot: DovecotServer, run: list[Step]
) -> None:
    follows_the_folder(plain_dovecot, run)


def test_broken_and_strange_mail_is_skipped_with_a_reason_never_stopping_the_sync(
    dovecot: DovecotServer, corpus: Path
) -> None:
    box = Mailbox(dovecot)
    box.sync()
    with dovecot.connect(box.user) as client:
        for path in sorted((corpus / "eml").glob("*.eml")):
            client.append("INBOX", path.read_bytes(), msg_time=NOW - timedelta(hours=1))
        client.append("INBOX", b"Subject: no sender, no date\r\n\r\nHello.\r\n", msg_time=NOW)

    changes = box.sync()

    reasons = {s.reason for s in changes.skipped}
    assert "no sender" in reasons
    assert all(s.item.startswith("inbox UID ") for s in changes.skipped)
    assert box.sync().messages == []  # the cursor moved past them: nothing is read again
    assert box.commands == ["LOGIN", "LIST", "STATUS", "STATUS", "STATUS", "LOGOUT"]


def test_a_message_over_its_budget_is_skipped_remembered_and_not_parsed_again(
    dovecot: DovecotServer,
) -> None:
    """Issue 10, point 9, on IMAP: the item budget (here 0 s, so every parse is over it) skips
    a message with its reason, the cursor remembers it, and a later read that fetches the same
    UIDs again neither parses nor reports it; the cursor moves all the same."""
    box = Mailbox(dovecot)
    box.sync()
    start = box.cursor or "{}"
    box.deliver("Interview one", NOW - timedelta(days=1))
    box.deliver("Interview two", NOW - timedelta(hours=2))
    nothing = Budget(seconds=0, hard_seconds=0)

    first = box.sync(budget=nothing)
    assert first.messages == []
    assert len(first.skipped) == 2
    assert all("over the 0 s budget" in s.reason for s in first.skipped)
    assert box.state()["uids"] == [1, 2]  # the cursor moved past them
    remembered = json.loads(box.cursor or "{}")["over_budget"]
    assert len(remembered) == 2

    box.cursor = json.dumps({**json.loads(start), "over_budget": remembered})
    again = box.sync(budget=nothing)  # the same new UIDs, fetched again
    assert (again.messages, again.skipped) == ([], [])
    assert json.loads(box.cursor or "{}")["over_budget"] == remembered

    box.cursor = start
    assert subjects(box.sync()) == {"Interview one", "Interview two"}


def test_quoted_header_field_names_in_a_fetch_answer_are_read(dovecot: DovecotServer) -> None:
    """Courier-IMAP answers `BODY[HEADER.FIELDS ("FROM" ...)]` (issue 11, point 1): the
    answer's key is matched by meaning, not by the exact string sent."""
    box = Mailbox(dovecot)
    box.sync()
    box.deliver("Interview one", NOW - timedelta(hours=2))
    with ImapFaultProxy(dovecot.port) as proxy:
        proxy.dialect = quoted_field_names
        changes = box.sync(port=proxy.port)
    assert changes.skipped == []
    assert subjects(changes) == {"Interview one"}


def test_a_draft_is_appended_after_its_folder_was_examined_read_only(
    dovecot: DovecotServer,
) -> None:
    """Courier-IMAP refuses an APPEND into the folder the connection has selected read-only
    (issue 11, point 2): a sync looks its drafts up in Drafts with EXAMINE, then writes new
    ones on the same connection, so it must leave that folder first."""
    box = Mailbox(dovecot)
    box.sync()
    to = (Person("Sam Lee", "sam@acme.example"),)
    first = box.provider()
    try:
        made = first.create_draft(DraftContent("Thank you", "Hello.", to), "k0")
    finally:
        first.close()
    with ImapFaultProxy(dovecot.port) as proxy:
        proxy.refuse_append_to_examined = True
        provider = box.provider(port=proxy.port)
        try:
            provider.read_changes(box.cursor, Window(NOW - LOOKBACK, NOW + LOOKBACK))
            [seen] = provider.find_drafts([KnownDraft("k0", made, "sam@acme.example")])
            assert seen.status is DraftStatus.PRESENT
            assert "EXAMINE" in provider.command_log  # Drafts, read-only, and nothing after
            provider.create_draft(DraftContent("Thank you again", "Hello.", to), "k1")
        finally:
            provider.close()
    with dovecot.connect(box.user) as client:
        client.select_folder("Drafts", readonly=True)
        assert len(client.search(["ALL"])) == 2


def test_a_no_change_sync_asks_capability_when_login_did_not_say(dovecot: DovecotServer) -> None:
    """Courier's LOGIN answer carries no capabilities: a no-change sync is then 7 commands
    (docs/imap.md gives the count per server)."""
    box = Mailbox(dovecot)
    box.sync()
    with ImapFaultProxy(dovecot.port) as proxy:
        proxy.dialect = NoLoginCapabilities()
        box.sync(port=proxy.port)
    assert box.commands == [
        "LOGIN",
        "CAPABILITY",
        "LIST",
        "STATUS",
        "STATUS",
        "STATUS",
        "LOGOUT",
    ]
