"""The Gmail provider end to end against the local Gmail/Calendar emulator.

The scenario suite runs through the real CLI on both the local provider and Gmail and the two
runs must draft the same things at the same moments. Faults (rate limits, server errors,
dropped connections, expired history, expired sync tokens, expired access tokens) and a kill
at each step of a sync must end with exactly the drafts of a clean run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from mailagent.core.compose import TemplateComposer
from mailagent.core.detect import UserIdentity
from mailagent.core.models import Folder, Message
from mailagent.core.policy import load_policy
from mailagent.runner import CRASH_POINTS, Account, SyncResult, sync_account, sync_accounts
from mailagent.scenario import DraftMade, Scenario, load_scenario, play
from mailagent.store import Store
from mailagent.wiring import close_provider
from providers.emulators import GoogleEmulator
from providers.emulators.google_scenario import GoogleScenarioMailbox
from providers.gmail import GmailProvider, GoogleEndpoints
from providers.mime import parse_message
from providers.retry import RetryPolicy

from .conftest import DEMO, SCENARIOS, run_json
from .scenario_support import (
    Statuses,
    Timeline,
    folder,
    play_cli,
    same_as_maildir,
    standalone_emulator_then_sync,
    sync_with_a_kill,
    without_clock,
)

SCENARIO_FILES = [*sorted(SCENARIOS.glob("*.yaml")), DEMO]
PANEL_DONE = datetime.fromisoformat("2026-11-17T18:00:00-05:00")


def write_gmail_config(scenario: Scenario, root: Path, emulator: GoogleEmulator) -> Path:
    user = scenario.spec.user
    config = root / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\n'
        f'name = "{scenario.spec.name}"\nprovider = "gmail"\n'
        f'address = "{user.address}"\nuser_name = "{user.name}"\n'
        f'google_endpoint = "{emulator.base_url}"\n'
        f'policy = "{scenario.spec.policy}"\ntimezone = "{user.timezone}"\n',
        encoding="utf-8",
    )
    tokens = root / "tokens"
    tokens.mkdir(mode=0o700)
    record = {
        "refresh_token": emulator.refresh_token,
        "token_uri": emulator.token_uri,
        "client_id": "test-client",
        "client_secret": "test-secret",
        "scopes": [],
    }
    token_file = tokens / f"{scenario.spec.name}.json"
    token_file.touch(mode=0o600)
    token_file.write_text(json.dumps(record), encoding="utf-8")
    return config


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_drafts_the_same_on_gmail_as_on_maildir(path: Path, tmp_path: Path) -> None:
    _same_as_maildir(path, tmp_path)


def test_drafts_sent_from_the_gmail_web_client_are_known_as_sent(tmp_path: Path) -> None:
    """The web client may send a draft with a new Message-ID and without the agent's header."""
    found = _same_as_maildir(DEMO, tmp_path, send_rewrites_headers=True)
    assert "sent" in found.values()


def _same_as_maildir(
    path: Path, tmp_path: Path, *, send_rewrites_headers: bool = False
) -> Statuses:
    scenario = without_clock(load_scenario(path))

    def on_gmail(root: Path) -> tuple[Timeline, list[str]]:
        with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
            emulator.send_rewrites_headers = send_rewrites_headers
            config = write_gmail_config(scenario, root, emulator)
            return play_cli(scenario, GoogleScenarioMailbox(emulator), config)

    return same_as_maildir(scenario, tmp_path, on_gmail)


# --- in-process runs (the library API a host application uses) ---------------------------------


def emulator_credentials(emulator: GoogleEmulator) -> Credentials:
    """What a host application would hold after `mailagent connect gmail`, for the emulator."""
    return Credentials(
        token=None,
        refresh_token=emulator.refresh_token,
        token_uri=emulator.token_uri,
        client_id="test-client",
        client_secret="test-secret",  # noqa: S106 - the emulator's, not a real secret
    )


class LibraryRun:
    """Plays a scenario through `sync_account` with an injected sleep, so faults cost no time."""

    def __init__(self, scenario: Scenario, emulator: GoogleEmulator, state: Path) -> None:
        self.scenario = scenario
        self.emulator = emulator
        self.store = Store(state)
        self.composer = TemplateComposer()
        self.sleeps: list[float] = []
        self.results: list[SyncResult] = []
        self.credentials = emulator_credentials(emulator)

    def account(self, moment: datetime) -> Account:
        user = self.scenario.spec.user
        identity = UserIdentity(user.address.lower(), user.name)
        provider = GmailProvider(
            self.credentials,
            user=identity,
            timezone=self.scenario.zone,
            clock=lambda: moment,
            account="a",
            endpoints=GoogleEndpoints.at(self.emulator.base_url),
            retry=RetryPolicy(attempts=6, base_delay=0.5),
            sleep=self.sleeps.append,
        )
        return Account(
            "a", provider, identity, load_policy(self.scenario.spec.policy), user.timezone
        )

    def sync(self, moment: datetime) -> list[DraftMade]:
        account = self.account(moment)
        try:
            result = sync_account(self.store, account, self.composer, moment)
        finally:
            close_provider(account.provider)
        self.results.append(result)
        assert result.ok, (result.error, result.advice)
        return [DraftMade(d.key, d.kind, d.step, d.to, d.subject) for d in result.drafted]


def _drafts(emulator: GoogleEmulator) -> list[tuple[str, str, str, str]]:
    found = []
    for _, raw in emulator.drafts():
        message = parse_message(raw, folder=Folder.DRAFTS, id="d")
        found.append(
            (
                message.agent_key,
                ",".join(p.address for p in message.to),
                message.subject,
                message.in_reply_to,
            )
        )
    return sorted(found)


FAULT_SCENARIO = SCENARIOS / "offer-next-round-timeframe.yaml"


def _clean_run(tmp_path: Path) -> list[tuple[str, str, str, str]]:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "clean.db")
        log = play(scenario, GoogleScenarioMailbox(emulator), run.sync)
        assert log.failures == []
        return _drafts(emulator)


@pytest.fixture(scope="module")
def clean_drafts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str]]:
    return _clean_run(tmp_path_factory.mktemp("clean"))


def test_replies_land_in_the_thread_of_the_message_they_answer(tmp_path: Path) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        assert play(scenario, GoogleScenarioMailbox(emulator), run.sync).failures == []
        by_message_id = {}
        for label in ("INBOX", "SENT"):
            for message_id in emulator.messages_with_label(label):
                header = _parse(emulator.raw_message(message_id)).message_id
                by_message_id[header] = message_id
        replies = 0
        for draft_id, raw in emulator.drafts():
            draft = _parse(raw)
            if not draft.in_reply_to:
                continue
            replies += 1
            answered = by_message_id[draft.in_reply_to]
            draft_message = emulator.mailbox.drafts[draft_id]
            assert emulator.thread_id(draft_message) == emulator.thread_id(answered)
            assert draft.in_reply_to in draft.references
            original = _parse(emulator.raw_message(answered)).subject
            assert draft.subject.removeprefix("Re: ") == original.removeprefix("Re: ")
        assert replies >= 1


def _parse(raw: bytes) -> Message:
    return parse_message(raw, folder=Folder.DRAFTS, id="x")


def test_a_server_error_storm_stops_the_sync_after_bounded_retries_and_the_next_one_recovers(
    tmp_path: Path, clean_drafts: list[tuple[str, str, str, str]]
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        mailbox = GoogleScenarioMailbox(emulator)
        first = scenario.sync_times()[0]
        mailbox.materialize(scenario, first)
        emulator.inject("500", times=6)  # as many as the provider makes attempts
        account = run.account(first)
        result = sync_account(run.store, account, run.composer, first)
        close_provider(account.provider)
        assert not result.ok
        assert "still failing after 6 attempts" in result.error
        assert len(run.sleeps) == 5
        assert run.store.cursor("a") is None
        assert emulator.faults_pending() == []
        log = play(scenario, mailbox, run.sync)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts


FAULTS = ["429", "403-rate", "403-user-rate", "500", "503", "drop"]


@pytest.mark.parametrize("kind", FAULTS)
def test_each_fault_kind_ends_with_the_drafts_of_a_clean_run(
    kind: str, tmp_path: Path, clean_drafts: list[tuple[str, str, str, str]]
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        mailbox = GoogleScenarioMailbox(emulator)

        def faulty(moment: datetime) -> list[DraftMade]:
            if not emulator.faults_pending():  # faults a sync did not meet wait for the next
                emulator.inject(kind, times=2)
                emulator.inject(kind, method="gmail.users.messages.get", times=3)
                emulator.inject(kind, method="gmail.users.drafts.create", times=1)
            return run.sync(moment)

        log = play(scenario, mailbox, faulty)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts
        assert run.sleeps, "the faults were retried after a pause"


@pytest.mark.parametrize("times", [1, 2, 3])
def test_a_draft_made_but_unanswered_is_not_made_twice(
    times: int, tmp_path: Path, clean_drafts: list[tuple[str, str, str, str]]
) -> None:
    """The server makes the draft, then the connection drops before the answer. httplib2
    sends the POST again on its own once, and the provider retries: each may make a copy."""
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")

        def dropping(moment: datetime) -> list[DraftMade]:
            if not emulator.faults_pending():
                emulator.inject("drop-after", method="gmail.users.drafts.create", times=times)
            return run.sync(moment)

        log = play(scenario, GoogleScenarioMailbox(emulator), dropping)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts


def test_429_honours_retry_after(tmp_path: Path) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        moment = scenario.sync_times()[0]
        GoogleScenarioMailbox(emulator).materialize(scenario, moment)
        emulator.inject("429", method="calendar.events.list", times=1, retry_after=7)
        run.sync(moment)
        assert run.sleeps
        assert run.sleeps[0] >= 7


def test_expired_history_and_sync_token_resync_without_duplicates(
    tmp_path: Path, clean_drafts: list[tuple[str, str, str, str]]
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")

        def expiring(moment: datetime) -> list[DraftMade]:
            emulator.expire_history()
            emulator.expire_sync_tokens()
            emulator.expire_tokens()
            return run.sync(moment)

        log = play(scenario, GoogleScenarioMailbox(emulator), expiring)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts


def test_a_revoked_grant_names_the_reconnect_command_and_other_accounts_go_on(
    tmp_path: Path,
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    moment = scenario.sync_times()[0]
    with (
        GoogleEmulator(user_address=scenario.spec.user.address) as revoked,
        GoogleEmulator(user_address=scenario.spec.user.address) as working,
    ):
        for emulator in (revoked, working):
            GoogleScenarioMailbox(emulator).materialize(scenario, moment)
        store = tmp_path / "s.db"
        bad, good = LibraryRun(scenario, revoked, store), LibraryRun(scenario, working, store)
        revoked.revoke()
        bad_account = bad.account(moment)
        good_account = replace(good.account(moment), name="b")
        results = sync_accounts(bad.store, [bad_account, good_account], bad.composer, moment)
        for account in (bad_account, good_account):
            close_provider(account.provider)
        assert [r.ok for r in results] == [False, True]
        assert "connected again" in results[0].error
        assert "mailagent connect gmail --account a" in results[0].advice
        assert bad.store.cursor("a") is None
        problem = bad.store.problem("a")
        assert problem is not None
        assert problem[0].startswith("needs reconnecting")
        assert bad.store.problem("b") is None
        bad.store.close()
        config = tmp_path / "mailagent.toml"
        config.write_text(
            'state = "s.db"\n[[accounts]]\nname = "a"\nprovider = "gmail"\n'
            f'address = "{scenario.spec.user.address}"\n',
            encoding="utf-8",
        )
        status = run_json("--config", str(config), "status")
        assert status[0]["problem"].startswith("needs reconnecting")
        assert "mailagent connect gmail --account a" in status[0]["advice"]


def test_a_no_change_sync_is_one_history_call_and_one_calendar_call(tmp_path: Path) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        mailbox = GoogleScenarioMailbox(emulator)
        for moment in scenario.sync_times()[:3]:
            mailbox.materialize(scenario, moment)
            run.sync(moment)
            emulator.reset_stats()
            run.sync(moment)
            assert emulator.stats.http_requests == 2
            assert dict(emulator.stats.calls) == {
                "gmail.users.history.list": 1,
                "calendar.events.list": 1,
            }


def test_a_first_sync_looks_drafts_up_by_key_in_batches_not_per_key(tmp_path: Path) -> None:
    """A first sync looks for each draft it could make in Drafts and Sent (its state may be
    new). Those searches go in batches: the requests do not grow with the number of keys."""
    scenario = load_scenario(DEMO)
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        GoogleScenarioMailbox(emulator).materialize(scenario, PANEL_DONE)
        emulator.reset_stats()
        run.sync(PANEL_DONE)
        stats = emulator.stats
        lookups = stats.calls["gmail.users.drafts.list"]
        assert lookups >= 10  # every thank-you, follow-up and rejection reply it could make
        assert stats.http_requests < 25, dict(stats.calls)


def _keys(emulator: GoogleEmulator) -> list[str]:
    return sorted(key for key, *_ in _drafts(emulator))


def _sync_demo(root: Path, crash_at: str | None) -> list[str]:
    scenario = load_scenario(DEMO)
    with GoogleEmulator(user_address=scenario.spec.user.address) as emulator:
        config = write_gmail_config(scenario, folder(root), emulator)
        return sync_with_a_kill(
            scenario, GoogleScenarioMailbox(emulator), config, crash_at, lambda: _keys(emulator)
        )


@pytest.fixture(scope="module")
def clean_demo_keys(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    keys = _sync_demo(tmp_path_factory.mktemp("clean-demo"), None)
    assert len(keys) >= 3
    return keys


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_at_each_step_ends_with_the_drafts_of_a_clean_run(
    point: str, tmp_path: Path, clean_demo_keys: list[str]
) -> None:
    assert _sync_demo(tmp_path, point) == clean_demo_keys


def test_the_standalone_emulator_serves_a_scenario_that_mailagent_syncs(tmp_path: Path) -> None:
    """The documented way to try the provider without an account."""
    printed = standalone_emulator_then_sync("providers.emulators.google", tmp_path)
    assert printed
    assert "google_endpoint = " in printed
    assert "MAILAGENT_TOKEN_STORE=file mailagent --config" in printed
