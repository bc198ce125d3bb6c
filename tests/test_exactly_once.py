"""Exactly one draft per key, whatever fails (issue 10, points 1, 2, 3 and 16).

- An unknown outcome is not a failure: a write whose answer was lost is settled by a later sync
  that looks the draft up by its key, never written again (Gmail, Graph, Dovecot).
- A write that may have happened and whose draft is then gone was deleted by the user: it is
  not written again (Maildir, with a kill right after the write).
- Lost or replaced state: the mailbox is the record. A sync on a fresh state file adopts the
  agent's drafts it finds (Drafts and Sent) instead of writing them again, on every provider.
- The key never travels in a header a recipient sees.
"""

from __future__ import annotations

import collections
import contextlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailagent.core.models import DraftStatus, Folder, Message
from mailagent.demo import write_config
from mailagent.runner import SyncResult
from mailagent.scenario import (
    DraftMade,
    MaildirMailbox,
    Scenario,
    ScenarioMailbox,
    load_scenario,
    play,
)
from mailagent.statefile import APPLICATION_ID
from mailagent.store import MIGRATIONS, Store
from providers.emulators import GoogleEmulator
from providers.emulators.google_scenario import GoogleScenarioMailbox
from providers.emulators.graph import GraphEmulator
from providers.emulators.graph_scenario import GraphScenarioMailbox
from providers.mime import parse_message
from providers.testservers.dovecot import DovecotServer
from providers.testservers.imap_proxy import ImapFaultProxy
from providers.testservers.imap_scenario import ImapScenarioMailbox

from .conftest import DEMO, run_cli, run_json
from .scenario_support import TOKEN_ENV, without_clock
from .test_gmail_provider import LibraryRun as GmailRun
from .test_gmail_provider import write_gmail_config
from .test_imap_provider import LibraryRun as ImapRun
from .test_imap_provider import file_calendar, fresh_user, write_imap_config
from .test_outlook_provider import FAULT_SCENARIO, write_outlook_config
from .test_outlook_provider import LibraryRun as GraphRun

PANEL_DONE = datetime.fromisoformat("2026-11-17T18:00:00-05:00")
USER_ACTS = datetime.fromisoformat("2026-11-17T19:00:00-05:00")
WINDOW_PASSED = datetime.fromisoformat("2026-11-18T18:00:00-05:00")
"""The panel ended on the 17th at 16:00; its thank-yous were due within a day."""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with DovecotServer() as server:
        yield server


def _per_key(messages: Sequence[Message]) -> collections.Counter[str]:
    return collections.Counter(m.agent_key for m in messages)


def _drafted(result: SyncResult) -> list[DraftMade]:
    return [DraftMade(d.key, d.kind, d.step, d.to, d.subject) for d in result.drafted]


PANEL = ["dana.lee@acme.com", "marco.rossi@acme.com", "priya.raman@acme.com"]
SAM = "sam.patel@globex.com"
"""Whose phone screen ended 31.5 h before PANEL_DONE: a first sync then drafts his thank-you
late, within the policy's late grace (issue 11, point 18)."""


def _once_each(drafts: Sequence[Message]) -> None:
    """The three panel thank-yous and Sam's, each once (keys differ between providers: event
    ids do)."""
    counts = _per_key(drafts)
    assert "" not in counts, "every draft in Drafts is one of the agent's, found by its key"
    assert all(n == 1 for n in counts.values()), counts
    assert sorted(m.to[0].address for m in drafts) == [*PANEL, SAM]


# --- 1. an unknown outcome is not a failure ------------------------------------------------------


def test_gmail_a_lost_answer_then_a_drafts_list_storm_gives_one_copy(tmp_path: Path) -> None:
    """The issue's three copies: drafts.create is served but its answer lost (httplib2 sends
    the POST again), then drafts.list fails twelve times so the provider cannot settle it."""
    scenario = load_scenario(DEMO)
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = GmailRun(scenario, emulator, tmp_path / "g.db")
        mailbox = GoogleScenarioMailbox(emulator)
        mailbox.materialize(scenario, PANEL_DONE)
        emulator.inject("drop-after", method="gmail.users.drafts.create", times=1)
        # the storm meets the settling look-up (a call of its own), not the batched look-ups
        # of the drafts the sync could make, which run before the write
        emulator.inject("503", method="gmail.users.drafts.list", times=12, direct_only=True)
        first = run.account(PANEL_DONE)
        from mailagent.runner import sync_account
        from mailagent.wiring import close_provider

        try:
            failed = sync_account(run.store, first, run.composer, PANEL_DONE)
        finally:
            close_provider(first.provider)
        assert not failed.ok
        emulator.clear_faults()
        for moment in (PANEL_DONE, PANEL_DONE + timedelta(hours=1)):
            run.sync(moment)
        _once_each(mailbox.drafts())
        assert {d.status for d in run.store.drafts("a")} == {"present"}


def _graph_faulty_play(
    tmp_path: Path, inject: Callable[[GraphEmulator], None]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], list[str]]:
    """FAULT_SCENARIO on the Graph emulator twice: clean, then with `inject` armed before each
    sync, each failed sync followed by another at the same moment. Returns both runs' drafts
    and the faulty run's scenario failures."""
    from .test_outlook_provider import _drafts

    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = GraphRun(scenario, emulator, tmp_path / "clean.db")
        assert play(scenario, GraphScenarioMailbox(emulator), run.sync).failures == []
        clean = _drafts(emulator)
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = GraphRun(scenario, emulator, tmp_path / "faulty.db")

        def faulty(moment: datetime) -> list[DraftMade]:
            inject(emulator)
            first = run.run(moment)
            emulator.clear_faults()
            second = run.run(moment)
            assert second.ok, second.error
            return _drafted(first) + _drafted(second)

        log = play(scenario, GraphScenarioMailbox(emulator), faulty)
        return clean, _drafts(emulator), log.failures


def test_graph_a_lost_answer_with_a_failing_lookup_gives_one_copy(tmp_path: Path) -> None:
    """messages.create / createReply served, answer lost; the lookup by tag then fails."""

    def inject(emulator: GraphEmulator) -> None:
        emulator.inject("drop-after", operation="messages.create", times=1)
        emulator.inject("drop-after", operation="messages.createReply", times=1)
        emulator.inject("503", operation="messages.list", times=12, retry_after=0)

    clean, faulty, failures = _graph_faulty_play(tmp_path, inject)
    assert failures == []
    assert faulty == clean


def test_graph_a_reply_whose_text_could_not_be_set_leaves_no_empty_orphan(tmp_path: Path) -> None:
    """createReply succeeds, every PATCH that would set its text fails: no "RE:" draft
    without the agent's text may stay for the user to send, and the reply is made once."""

    def inject(emulator: GraphEmulator) -> None:
        emulator.inject("503", operation="messages.patch", times=12, retry_after=0)

    clean, faulty, failures = _graph_faulty_play(tmp_path, inject)
    assert any(subject.startswith("Re:") for _, _, subject in clean), "the scenario replies"
    assert failures == []
    assert faulty == clean


def test_graph_a_reply_orphan_left_by_a_lost_delete_is_cleaned_up(tmp_path: Path) -> None:
    """The PATCH fails and so does the DELETE of the unfinished reply: the next sync finds the
    orphan by its tag, removes it and writes the reply once."""

    def inject(emulator: GraphEmulator) -> None:
        emulator.inject("503", operation="messages.patch", times=12, retry_after=0)
        emulator.inject("503", operation="messages.delete", times=12, retry_after=0)

    clean, faulty, failures = _graph_faulty_play(tmp_path, inject)
    assert failures == []
    assert faulty == clean


def test_dovecot_a_dropped_append_with_reconnect_refused_gives_one_copy(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    """The issue's 16 drafts for 15 keys: the connection drops after the APPEND was served
    and the reconnect is refused, so the provider cannot look the draft up."""
    scenario = load_scenario(DEMO)
    with ImapFaultProxy(dovecot.port) as proxy:
        run = ImapRun(scenario, dovecot, tmp_path)
        account_for = run.account

        def through_proxy(moment: datetime) -> Any:
            account = account_for(moment)
            account.provider.settings = _via(account.provider.settings, proxy.port)  # type: ignore[attr-defined]
            return account

        run.account = through_proxy  # type: ignore[method-assign]
        mailbox = run.mailbox()
        mailbox.materialize(scenario, PANEL_DONE)
        proxy.drop_after_append(1, then_refuse=5)
        failed = run.run(PANEL_DONE)
        assert proxy.faults_met[:2] == ["drop-after-append", "refuse"]
        assert not failed.ok
        proxy.clear_faults()
        run.sync(PANEL_DONE)
        run.sync(PANEL_DONE + timedelta(hours=1))
        _once_each(mailbox.drafts())


def _via(settings: Any, port: int) -> Any:
    from dataclasses import replace

    return replace(settings, port=port)


# --- 2. a write that may have happened, then the user deletes the draft --------------------------


def _demo_panel_done(root: Path) -> Path:
    """The demo's Maildir under `root` as it is when the panel has ended; its config."""
    scenario = load_scenario(DEMO)
    config = write_config(scenario, root)
    MaildirMailbox(root).materialize(scenario, PANEL_DONE)
    return config


def _maildir_keys(root: Path) -> list[str]:
    return sorted(m.agent_key for m in MaildirMailbox(root).drafts())


def test_a_kill_after_the_write_then_a_delete_does_not_bring_the_draft_back(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(DEMO)
    config = write_config(scenario, tmp_path)
    mailbox = MaildirMailbox(tmp_path)
    mailbox.materialize(scenario, PANEL_DONE)
    killed = run_cli(
        "--config",
        str(config),
        "sync",
        "--now",
        PANEL_DONE.isoformat(),
        env={"MAILAGENT_CRASH_AT": "after-provider-write"},
        check=False,
    )
    assert killed.returncode == 137, killed.stderr
    (written,) = _maildir_keys(tmp_path)
    mailbox.delete_draft(written)
    run_cli("--config", str(config), "sync", "--now", PANEL_DONE.isoformat())
    after = _maildir_keys(tmp_path)
    assert written not in after
    assert len(after) == 3  # the rest of the panel, and Sam's late thank-you
    store = Store(tmp_path / "state.db")
    try:
        assert {d.key: d.status for d in store.drafts("demo")}[written] == "deleted"
    finally:
        store.close()


# --- 3. lost or replaced state: the mailbox is the record ----------------------------------------


def _lose_state(root: Path) -> None:
    aside = root / "aside"
    aside.mkdir()
    for path in root.glob("state.db*"):
        shutil.move(path, aside / path.name)


def _rebuild_case(
    mailbox: ScenarioMailbox, config: Path, root: Path, scenario: Scenario
) -> tuple[set[str], list[Message], dict[str, str], list[dict[str, Any]]]:
    """Panel drafted; the user sends one thank-you and deletes another; the state file is
    moved aside; a sync once the thank-you window has passed. Returns the panel's keys, the
    drafts, what the rebuilt store says of each panel draft, and what that sync drafted."""
    mailbox.materialize(scenario, PANEL_DONE)
    first = run_json(
        "--config", str(config), "sync", "--now", PANEL_DONE.isoformat(), env=TOKEN_ENV
    )
    made = {d["to"]: d["key"] for d in first[0]["drafted"]}
    assert sorted(made) == [*PANEL, SAM], made
    mailbox.send_draft(made["priya.raman@acme.com"], USER_ACTS)
    mailbox.delete_draft(made["marco.rossi@acme.com"])
    _lose_state(root)
    mailbox.materialize(scenario, WINDOW_PASSED)
    later = run_json(
        "--config", str(config), "sync", "--now", WINDOW_PASSED.isoformat(), env=TOKEN_ENV
    )
    assert later[0]["ok"], later
    store = Store(root / "state.db")
    try:
        statuses = {d.recipient: d.status for d in store.drafts(scenario.spec.name)}
    finally:
        store.close()
    return set(made.values()), mailbox.drafts(), statuses, later[0]["drafted"]


def _check_rebuilt(
    keys: set[str],
    drafts: list[Message],
    statuses: dict[str, str],
    drafted: list[dict[str, Any]],
) -> None:
    assert not keys & {d["key"] for d in drafted}, "a panel draft was written again"
    assert [d for d in drafted if d["to"].endswith("@acme.com")] == []
    panel = [m for m in drafts if m.agent_key in keys]
    assert sorted(m.to[0].address for m in panel) == ["dana.lee@acme.com", SAM]
    assert statuses.get("dana.lee@acme.com") == DraftStatus.PRESENT.value
    assert statuses.get(SAM) == DraftStatus.PRESENT.value  # his late one, left as it was
    assert statuses.get("priya.raman@acme.com") == DraftStatus.SENT.value
    assert "marco.rossi@acme.com" not in statuses  # deleted, its window passed: nothing to do


def test_maildir_a_fresh_state_adopts_the_drafts_it_finds(tmp_path: Path) -> None:
    scenario = load_scenario(DEMO)
    config = write_config(scenario, tmp_path)
    _check_rebuilt(*_rebuild_case(MaildirMailbox(tmp_path), config, tmp_path, scenario))


def test_gmail_a_fresh_state_adopts_the_drafts_it_finds(tmp_path: Path) -> None:
    scenario = load_scenario(DEMO)
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        config = write_gmail_config(scenario, tmp_path, emulator)
        mailbox = GoogleScenarioMailbox(emulator)
        _check_rebuilt(*_rebuild_case(mailbox, config, tmp_path, scenario))


def test_graph_a_fresh_state_adopts_the_drafts_it_finds(tmp_path: Path) -> None:
    scenario = load_scenario(DEMO)
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        config = write_outlook_config(scenario, tmp_path, emulator)
        mailbox = GraphScenarioMailbox(emulator)
        _check_rebuilt(*_rebuild_case(mailbox, config, tmp_path, scenario))


def test_dovecot_a_fresh_state_adopts_the_drafts_it_finds(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    scenario = load_scenario(DEMO)
    user = fresh_user(scenario)
    line, write = file_calendar(tmp_path)
    config = write_imap_config(scenario, tmp_path, dovecot, user, line)
    mailbox = ImapScenarioMailbox(dovecot, user, calendar=write)
    _check_rebuilt(*_rebuild_case(mailbox, config, tmp_path, scenario))


def test_a_second_machine_on_the_same_mailbox_writes_nothing_twice(tmp_path: Path) -> None:
    """Two state files, one Maildir: the second machine's sync adopts the first one's drafts."""
    scenario = load_scenario(DEMO)
    config = write_config(scenario, tmp_path)
    other = tmp_path / "other.toml"
    other.write_text(config.read_text().replace('state = "state.db"', 'state = "other.db"'))
    assert other.read_text() != config.read_text()
    mailbox = MaildirMailbox(tmp_path)
    mailbox.materialize(scenario, PANEL_DONE)
    run_cli("--config", str(config), "sync", "--now", PANEL_DONE.isoformat())
    second = run_json("--config", str(other), "sync", "--now", PANEL_DONE.isoformat())
    assert second[0]["drafted"] == []
    keys = _maildir_keys(tmp_path)
    assert len(set(keys)) == len(keys) == 4  # the panel, and Sam's late thank-you


# --- 16. the key stays where a recipient never sees it -------------------------------------------


def test_a_maildir_draft_carries_no_agent_header_and_is_still_known_by_its_message_id(
    tmp_path: Path,
) -> None:
    config = _demo_panel_done(tmp_path)
    results = run_json("--config", str(config), "sync", "--now", PANEL_DONE.isoformat())
    keys = {d["key"] for d in results[0]["drafted"]}
    for path in (tmp_path / "Mail" / "Drafts" / "cur").iterdir():
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0].lower()
        assert b"x-mailagent" not in head
        message = parse_message(path.read_bytes(), folder=Folder.DRAFTS, id=path.name)
        assert message.agent_key in keys
        # the file name is local to this machine: nothing of it goes out with the message
        sent_copy = path.read_bytes().replace(b"\r\n", b"\n")
        assert sent_copy.count(b"mailagent.") == 1  # the Message-ID only


def test_an_old_draft_with_the_agent_header_is_still_recognised(tmp_path: Path) -> None:
    """Drafts written before the header was dropped keep their X-Mailagent-Key (and a random
    Message-ID): they are still the agent's, in Drafts and in Sent."""
    config = _demo_panel_done(tmp_path)
    results = run_json("--config", str(config), "sync", "--now", PANEL_DONE.isoformat())
    for path in (tmp_path / "Mail" / "Drafts" / "cur").iterdir():
        data = path.read_bytes()
        message = parse_message(data, folder=Folder.DRAFTS, id=path.name)
        old = data.replace(
            message.message_id.encode(), b"<old.0123456789abcdef@example.com>"
        ).replace(
            b"MIME-Version: 1.0\r\n",
            f"X-Mailagent-Key: {message.agent_key}\r\n".encode() + b"MIME-Version: 1.0\r\n",
            1,
        )
        renamed = path.with_name(f"1763420000.old{message.agent_key[:6]}.host:2,DS")
        renamed.write_bytes(old)
        path.unlink()
    assert len(results[0]["drafted"]) == 4  # the panel, and Sam's late thank-you
    _lose_state(tmp_path)
    later = run_json("--config", str(config), "sync", "--now", PANEL_DONE.isoformat())
    assert later[0]["drafted"] == []
    assert len(list((tmp_path / "Mail" / "Drafts" / "cur").iterdir())) == 4


def test_the_mailbox_look_up_is_pending_until_done_and_says_whether_the_state_was_rebuilt(
    tmp_path: Path,
) -> None:
    """A new account waits for the look-up of the agent's drafts; finding some makes the state
    a rebuilt one from the moment it began; a state from before the look-up existed is not."""
    began = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    store = Store(tmp_path / "state.db")
    try:
        store.ensure_account("new", "maildir", "me@example.com", began)
        store.ensure_account("found", "maildir", "me@example.com", began)
        assert store.adoption_pending("new")
        assert store.adoption_pending("found")
        store.set_adopted("new", rebuilt=False)
        store.set_adopted("found", rebuilt=True)
        assert not store.adoption_pending("new")
        assert not store.adoption_pending("found")
        assert store.rebuilt_at("new") is None
        assert store.rebuilt_at("found") == began
    finally:
        store.close()

    old = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(old)) as db:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 2")
        db.execute(
            "INSERT INTO accounts (name, provider, address, created_at) VALUES (?, ?, ?, ?)",
            ("a", "maildir", "me@example.com", began.isoformat()),
        )
        db.commit()
    store = Store(old)
    try:
        assert store.schema_version == len(MIGRATIONS)
        assert not store.adoption_pending("a")  # its records were never lost
        assert store.rebuilt_at("a") is None
    finally:
        store.close()
