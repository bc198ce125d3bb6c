"""The Outlook provider end to end against the local Microsoft Graph emulator.

The scenario suite runs through the real CLI on Maildir and on Outlook and both must draft the
same things at the same moments and learn the same draft states. Throttling, server errors,
dropped connections, expired delta tokens, expired access tokens and a kill at each step of a
sync must end with exactly the drafts of a clean run; a no-change sync is one HTTP request.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailagent.core.compose import TemplateComposer
from mailagent.core.detect import UserIdentity
from mailagent.core.policy import load_policy
from mailagent.runner import CRASH_POINTS, Account, SyncResult, sync_account
from mailagent.scenario import DraftMade, Scenario, load_scenario, play
from mailagent.store import Store
from mailagent.wiring import close_provider
from providers.emulators.graph import GraphEmulator
from providers.emulators.graph_scenario import GraphScenarioMailbox
from providers.outlook import TAG_PROPERTY, OutlookProvider

from .conftest import DEMO, SCENARIOS
from .scenario_support import (
    folder,
    play_cli,
    same_as_maildir,
    standalone_emulator_then_sync,
    sync_with_a_kill,
    without_clock,
)

SCENARIO_FILES = [*sorted(SCENARIOS.glob("*.yaml")), DEMO]
FAULT_SCENARIO = SCENARIOS / "offer-next-round-timeframe.yaml"

Drafts = list[tuple[str, str, str]]


def write_outlook_config(scenario: Scenario, root: Path, emulator: GraphEmulator) -> Path:
    user = scenario.spec.user
    config = root / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\n'
        f'name = "{scenario.spec.name}"\nprovider = "outlook"\n'
        f'address = "{user.address}"\nuser_name = "{user.name}"\n'
        f'graph_endpoint = "{emulator.base_url}"\n'
        f'policy = "{scenario.spec.policy}"\ntimezone = "{user.timezone}"\n',
        encoding="utf-8",
    )
    tokens = root / "tokens"
    tokens.mkdir(mode=0o700, exist_ok=True)
    token_file = tokens / f"{scenario.spec.name}.json"
    token_file.touch(mode=0o600)
    token_file.write_text(
        json.dumps({"kind": "static-bearer", "access_token": emulator.static_token}),
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_drafts_the_same_on_outlook_as_on_maildir(path: Path, tmp_path: Path) -> None:
    scenario = without_clock(load_scenario(path))

    def on_outlook(root: Path) -> tuple[list[tuple[str, str, int, str, str]], list[str]]:
        with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
            config = write_outlook_config(scenario, root, emulator)
            return play_cli(scenario, GraphScenarioMailbox(emulator), config)

    same_as_maildir(scenario, tmp_path, on_outlook)


# --- in-process runs (the library API a host application uses) ---------------------------------


class Tokens:
    """A host application's token provider: the emulator's token, a new one when asked."""

    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator
        self.current = emulator.static_token
        self.refreshes = 0

    def __call__(self, force_refresh: bool) -> str:
        if force_refresh:
            self.refreshes += 1
            self.current = self.emulator.issue_token()
        return self.current


class LibraryRun:
    """Plays a scenario through `sync_account` with an injected sleep, so faults cost no time."""

    def __init__(self, scenario: Scenario, emulator: GraphEmulator, state: Path) -> None:
        self.scenario = scenario
        self.emulator = emulator
        self.store = Store(state)
        self.composer = TemplateComposer()
        self.sleeps: list[float] = []
        self.tokens = Tokens(emulator)
        self.results: list[SyncResult] = []

    def account(self, moment: datetime) -> Account:
        user = self.scenario.spec.user
        identity = UserIdentity(user.address.lower(), user.name)
        provider = OutlookProvider(
            self.tokens,
            user=identity,
            timezone=self.scenario.zone,
            clock=lambda: moment,
            account="a",
            base_url=self.emulator.base_url,
            sleep=self.sleeps.append,
            base_delay=0.5,
        )
        return Account(
            "a", provider, identity, load_policy(self.scenario.spec.policy), user.timezone
        )

    def run(self, moment: datetime) -> SyncResult:
        account = self.account(moment)
        try:
            result = sync_account(self.store, account, self.composer, moment)
        finally:
            close_provider(account.provider)
        self.results.append(result)
        return result

    def sync(self, moment: datetime) -> list[DraftMade]:
        result = self.run(moment)
        assert result.ok, (result.error, result.advice)
        return [DraftMade(d.key, d.kind, d.step, d.to, d.subject) for d in result.drafted]


def _tag(draft: dict[str, Any]) -> str:
    for prop in draft.get("singleValueExtendedProperties") or ():
        if prop.get("id") == TAG_PROPERTY:
            return str(prop.get("value"))
    return ""


def _drafts(emulator: GraphEmulator) -> Drafts:
    found = []
    for draft in emulator.drafts():
        to = ",".join(r["emailAddress"]["address"] for r in draft.get("toRecipients") or ())
        found.append((_tag(draft), to, str(draft.get("subject"))))
    return sorted(found)


def _clean_run(tmp_path: Path) -> Drafts:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "clean.db")
        log = play(scenario, GraphScenarioMailbox(emulator), run.sync)
        assert log.failures == []
        return _drafts(emulator)


@pytest.fixture(scope="module")
def clean_drafts(tmp_path_factory: pytest.TempPathFactory) -> Drafts:
    drafts = _clean_run(tmp_path_factory.mktemp("clean"))
    assert drafts
    return drafts


FAULTS = ["429", "503", "500", "drop", "401"]


@pytest.mark.parametrize("kind", FAULTS)
def test_each_fault_kind_ends_with_the_drafts_of_a_clean_run(
    kind: str, tmp_path: Path, clean_drafts: Drafts
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")

        def faulty(moment: datetime) -> list[DraftMade]:
            if not emulator.faults_pending():
                emulator.inject(kind, times=2, retry_after=3)
            return run.sync(moment)

        log = play(scenario, GraphScenarioMailbox(emulator), faulty)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts
        if kind in ("429", "503"):
            assert run.sleeps
            assert min(run.sleeps) >= 3


@pytest.mark.parametrize("times", [1, 2])
def test_a_draft_made_but_unanswered_is_not_made_twice(
    times: int, tmp_path: Path, clean_drafts: Drafts
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")

        def dropping(moment: datetime) -> list[DraftMade]:
            if not emulator.faults_pending():
                emulator.inject("drop-after", operation="messages.create", times=times)
                emulator.inject("drop-after", operation="messages.createReply", times=times)
            return run.sync(moment)

        log = play(scenario, GraphScenarioMailbox(emulator), dropping)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts


def test_expired_delta_and_access_tokens_resync_without_duplicates(
    tmp_path: Path, clean_drafts: Drafts
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")

        def expiring(moment: datetime) -> list[DraftMade]:
            emulator.expire_delta_tokens()
            emulator.expire_tokens()
            return run.sync(moment)

        log = play(scenario, GraphScenarioMailbox(emulator), expiring)
        assert log.failures == []
        assert _drafts(emulator) == clean_drafts
        assert run.tokens.refreshes >= len(scenario.sync_times())


def test_a_token_refused_twice_marks_the_account_for_reconnection(tmp_path: Path) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        moment = scenario.sync_times()[0]
        GraphScenarioMailbox(emulator).materialize(scenario, moment)
        emulator.inject("401", times=10)
        result = run.run(moment)
        assert not result.ok
        assert "mailagent connect outlook --account a" in result.advice
        problem = run.store.problem("a")
        assert problem is not None
        assert problem[0].startswith("needs reconnecting")
        assert run.store.cursor("a") is None


def test_a_no_change_sync_is_one_http_request(tmp_path: Path) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        mailbox = GraphScenarioMailbox(emulator)
        for moment in scenario.sync_times()[:4]:
            mailbox.materialize(scenario, moment)
            run.sync(moment)
            emulator.reset_stats()
            run.sync(moment)
            assert emulator.stats.http_requests == 1
        assert emulator.stats.max_in_flight <= 4


def test_replies_are_made_with_create_reply_in_the_conversation_and_leave_it_unread(
    tmp_path: Path,
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        assert play(scenario, GraphScenarioMailbox(emulator), run.sync).failures == []
        messages = _messages(emulator)
        replies = [d for d in emulator.drafts() if d.get("subject", "").startswith("Re:")]
        assert replies
        for draft in replies:
            answered = [
                m
                for m in messages.values()
                if m.get("conversationId") == draft["conversationId"] and not m.get("isDraft")
            ]
            assert answered, "the reply sits in the conversation of the mail it answers"
        assert emulator.stats.calls["messages.createReply"] >= len(replies)
        # a draft is never read as the user's mail (so never their "latest message")
        stored = {m.id for m in run.store.messages("a")}
        assert not stored & {d["id"] for d in emulator.drafts()}
        unread_before = {i for i, m in messages.items() if m.get("isRead") is False}
        assert unread_before == {
            i for i, m in _messages(emulator).items() if m.get("isRead") is False
        }


def _messages(emulator: GraphEmulator) -> dict[str, dict[str, Any]]:
    return {
        i: emulator.message(i)
        for folder in ("inbox", "sentitems")
        for i in emulator.folder_messages(folder)
    }


def _sync_demo(root: Path, crash_at: str | None) -> Drafts:
    scenario = load_scenario(DEMO)
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        config = write_outlook_config(scenario, folder(root), emulator)
        return sync_with_a_kill(
            scenario, GraphScenarioMailbox(emulator), config, crash_at, lambda: _drafts(emulator)
        )


@pytest.fixture(scope="module")
def clean_demo(tmp_path_factory: pytest.TempPathFactory) -> Drafts:
    drafts = _sync_demo(tmp_path_factory.mktemp("clean-demo"), None)
    assert len(drafts) >= 3
    return drafts


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_at_each_step_ends_with_the_drafts_of_a_clean_run(
    point: str, tmp_path: Path, clean_demo: Drafts
) -> None:
    assert _sync_demo(tmp_path, point) == clean_demo


def test_the_standalone_emulator_serves_a_scenario_that_mailagent_syncs(tmp_path: Path) -> None:
    """The documented way to try the provider without an account."""
    printed = standalone_emulator_then_sync("providers.emulators.graph", tmp_path)
    assert printed
    assert "graph_endpoint" in (tmp_path / "mailagent.toml").read_text(encoding="utf-8")


HOSTILE_ATTENDEES = {
    "marco": "marco.rossi@acme.com, evil@x.com",
    "dana": "dana.lee@acme.com\r\nbcc: evil@x.com",
}


def test_an_attendee_that_is_not_one_plain_address_gets_no_draft(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    demo = load_scenario(DEMO)
    people = dict(demo.spec.people)
    for who, address in HOSTILE_ATTENDEES.items():
        people[who] = people[who].model_copy(update={"address": address})
    scenario = without_clock(type(demo)(demo.spec.model_copy(update={"people": people}), demo.path))
    moment = datetime.fromisoformat("2026-11-17T18:00:00-05:00")
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        GraphScenarioMailbox(emulator).materialize(scenario, moment)
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        with caplog.at_level("INFO"):
            result = run.run(moment)
        assert result.ok, result.error
        recipients = [to for _, to, _ in _drafts(emulator)]
        assert "priya.raman@acme.com" in recipients  # the valid panellist is thanked
        assert not any("evil" in to or "marco" in to or "dana" in to for to in recipients)
        skips = [
            n.text for n in result.notes if "not a plain" in n.text or "not one plain" in n.text
        ]
        assert len(skips) == 2, result.notes
        logged = [
            r.getMessage() for r in caplog.records if "not one plain address" in r.getMessage()
        ]
        assert len(logged) == 2
        assert all("\r" not in line and "\n" not in line for line in logged)


@pytest.mark.parametrize("address", list(HOSTILE_ATTENDEES.values()))
def test_the_outlook_provider_itself_refuses_such_a_recipient(tmp_path: Path, address: str) -> None:
    from mailagent.core.models import DraftContent, Person

    scenario = without_clock(load_scenario(DEMO))
    with GraphEmulator(user_address=scenario.spec.user.address) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        provider = run.account(datetime.fromisoformat("2026-11-17T18:00:00-05:00")).provider
        content = DraftContent("Thank you", "Hello", (Person("Marco", address),))
        try:
            with pytest.raises(ValueError, match="not one plain address"):
                provider.create_draft(content, "key-1")
        finally:
            close_provider(provider)
        assert emulator.drafts() == []


def test_a_drafts_from_carries_the_name_it_is_signed_with(tmp_path: Path) -> None:
    """The name learned from the mailbox (`DraftContent.sender`) names the draft's `from`,
    with the account's address."""
    from mailagent.core.models import DraftContent, Person

    scenario = without_clock(load_scenario(DEMO))
    me = scenario.spec.user.address.lower()
    with GraphEmulator(user_address=me) as emulator:
        run = LibraryRun(scenario, emulator, tmp_path / "s.db")
        provider = run.account(datetime.fromisoformat("2026-11-17T18:00:00-05:00")).provider
        to = (Person("Kim Tran", "kim.tran@umbrella.example"),)
        signed = Person("Jordan Lee", "elsewhere@example.net")
        try:
            provider.create_draft(DraftContent("Thank you", "Hello", to, sender=signed), "key-1")
        finally:
            close_provider(provider)
        (draft,) = emulator.drafts()
        assert draft["from"]["emailAddress"] == {"name": "Jordan Lee", "address": me}
