"""The IMAP provider end to end against a real Dovecot server, with a real Radicale CalDAV
server or an iCalendar file for the calendar.

The scenario suite runs through the real CLI on Maildir and on IMAP and both must draft the
same things at the same moments and learn the same draft states. A server restart in the
middle of a sync, a changed UIDVALIDITY and a kill at each step of a sync end with exactly the
drafts of a clean run. A sync with no changes is one connection and six commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailagent.core.compose import TemplateComposer
from mailagent.core.detect import UserIdentity
from mailagent.core.models import CalendarEvent, DraftRequest
from mailagent.core.policy import load_policy
from mailagent.runner import CRASH_POINTS, Account, SyncResult, sync_account
from mailagent.scenario import DraftMade, Scenario, load_scenario, play
from mailagent.store import Store
from mailagent.wiring import close_provider
from providers.ical import events_to_ics
from providers.ics_source import IcsFileSource
from providers.imap import ImapProvider, ImapSettings
from providers.testservers.caldav_server import CalDavTestServer
from providers.testservers.dovecot import DovecotServer
from providers.testservers.imap_scenario import ImapScenarioMailbox, ImapTestServer
from providers.testservers.radicale import PASSWORD as RADICALE_PASSWORD
from providers.testservers.radicale import RadicaleServer, publish

from .conftest import DEMO, SCENARIOS
from .scenario_support import (
    Timeline,
    folder,
    play_cli,
    same_as_maildir,
    sync_with_a_kill,
    without_clock,
)

SCENARIO_FILES = [*sorted(SCENARIOS.glob("*.yaml")), DEMO]
FAULT_SCENARIO = SCENARIOS / "offer-next-round-timeframe.yaml"
ICS_FILE_SCENARIOS = [
    DEMO,
    FAULT_SCENARIO,
    SCENARIOS / "follow-up-past-the-lookback.yaml",
    SCENARIOS / "invited-by-email.yaml",
]
"""The scenarios also run with the calendar in an .ics file: the file source is the one every
scenario runs on with Maildir, and the IMAP side the same as with CalDAV, so a few that lean on
the calendar keep CI within its time."""
Drafts = list[tuple[str, str, str]]


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with DovecotServer() as server:
        yield server


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with RadicaleServer() as server:
        yield server


_users = iter(range(10_000))


def fresh_user(scenario: Scenario) -> str:
    """A mailbox of its own for each run (Dovecot creates it on first login)."""
    local, _, domain = scenario.spec.user.address.partition("@")
    return f"{local}-t{next(_users)}@{domain}"


def write_imap_config(
    scenario: Scenario,
    root: Path,
    server: ImapTestServer,
    user: str,
    calendar: str,
    *,
    auth: str = "password",
    record: dict[str, Any] | None = None,
) -> Path:
    """`calendar` is a line of config: caldav_url = "..." or calendar = "..."; `auth` the
    account's imap_auth and `record` its token record (default: the server's password)."""
    spec = scenario.spec
    config = root / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\n'
        f'name = "{spec.name}"\nprovider = "imap"\n'
        f'address = "{spec.user.address}"\nuser_name = "{spec.user.name}"\n'
        f'imap_host = "127.0.0.1"\nimap_port = {server.port}\nimap_security = "plain"\n'
        f'imap_user = "{user}"\nimap_auth = "{auth}"\n{calendar}\n'
        f'policy = "{spec.policy}"\ntimezone = "{spec.user.timezone}"\n',
        encoding="utf-8",
    )
    tokens = root / "tokens"
    tokens.mkdir(mode=0o700, exist_ok=True)
    token_file = tokens / f"{spec.name}.json"
    token_file.touch(mode=0o600)
    default = {
        "kind": "password",
        "password": server.password,
        "caldav_password": RADICALE_PASSWORD,
    }
    token_file.write_text(json.dumps(record or default), encoding="utf-8")
    return config


def caldav_calendar(
    server: CalDavTestServer, name: str
) -> tuple[str, Callable[[Sequence[CalendarEvent]], None]]:
    url = server.calendar_url(name)
    line = f'caldav_url = "{url}"\ncaldav_user = "{server.username}"'
    return line, lambda events: publish(server, name, events)


def file_calendar(root: Path) -> tuple[str, Callable[[Sequence[CalendarEvent]], None]]:
    path = root / "calendar.ics"

    def write(events: Sequence[CalendarEvent]) -> None:
        data = events_to_ics(list(events))
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)

    return f'calendar = "{path.name}"', write


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_drafts_the_same_on_imap_and_caldav_as_on_maildir(
    path: Path, tmp_path: Path, dovecot: DovecotServer, radicale: RadicaleServer
) -> None:
    scenario = without_clock(load_scenario(path))
    user = fresh_user(scenario)

    def on_imap(root: Path) -> tuple[Timeline, list[str]]:
        line, publish_events = caldav_calendar(radicale, user.replace("@", "-").replace("+", "-"))
        config = write_imap_config(scenario, root, dovecot, user, line)
        mailbox = ImapScenarioMailbox(dovecot, user, calendar=publish_events)
        return play_cli(scenario, mailbox, config)

    same_as_maildir(scenario, tmp_path, on_imap)


@pytest.mark.parametrize("path", ICS_FILE_SCENARIOS, ids=[p.stem for p in ICS_FILE_SCENARIOS])
def test_scenario_drafts_the_same_on_imap_and_an_ics_file_as_on_maildir(
    path: Path, tmp_path: Path, dovecot: DovecotServer
) -> None:
    scenario = without_clock(load_scenario(path))
    user = fresh_user(scenario)

    def on_imap(root: Path) -> tuple[Timeline, list[str]]:
        line, write = file_calendar(root)
        config = write_imap_config(scenario, root, dovecot, user, line)
        return play_cli(scenario, ImapScenarioMailbox(dovecot, user, calendar=write), config)

    same_as_maildir(scenario, tmp_path, on_imap)


# --- in-process runs --------------------------------------------------------------------------


class Restarting(TemplateComposer):
    """Composes drafts, but restarts the IMAP server first: between the read and the writes
    of a sync, so that the provider's open connection dies in the middle of the sync."""

    def __init__(self, server: ImapTestServer) -> None:
        super().__init__()
        self.server = server
        self.armed = False

    def compose(self, request: DraftRequest):  # type: ignore[no-untyped-def]
        if self.armed:
            self.armed = False
            self.server.restart()
        return super().compose(request)


class LibraryRun:
    def __init__(
        self,
        scenario: Scenario,
        dovecot: ImapTestServer,
        root: Path,
        *,
        sent: str = "Sent",
        drafts: str = "Drafts",
    ) -> None:
        """`sent` and `drafts`: the server's folders, where the simulated user's mail client
        puts what it sends and saves."""
        self.scenario = scenario
        self.dovecot = dovecot
        self.folders = {"sent": sent, "drafts_folder": drafts}
        self.user = fresh_user(scenario)
        self.store = Store(root / "state.db")
        self.composer = Restarting(dovecot)
        self.calendar_path = root / "calendar.ics"
        self.results: list[SyncResult] = []
        self.commands = 0

    def write_calendar(self, events: Sequence[CalendarEvent]) -> None:
        data = events_to_ics(list(events))
        if not self.calendar_path.exists() or self.calendar_path.read_bytes() != data:
            self.calendar_path.write_bytes(data)

    def mailbox(self) -> ImapScenarioMailbox:
        return ImapScenarioMailbox(
            self.dovecot, self.user, calendar=self.write_calendar, **self.folders
        )

    def account(self, moment: datetime) -> Account:
        spec = self.scenario.spec
        identity = UserIdentity(spec.user.address.lower(), spec.user.name)
        settings = ImapSettings(
            host="127.0.0.1",
            port=self.dovecot.port,
            security="plain",
            username=self.user,
            password=self.dovecot.password,
        )
        provider = ImapProvider(
            settings,
            user=identity,
            timezone=self.scenario.zone,
            calendar=IcsFileSource(self.calendar_path, self.scenario.zone),
            clock=lambda: moment,
            account="a",
        )
        return Account("a", provider, identity, load_policy(spec.policy), spec.user.timezone)

    def run(self, moment: datetime) -> SyncResult:
        account = self.account(moment)
        try:
            result = sync_account(self.store, account, self.composer, moment)
        finally:
            close_provider(account.provider)
        assert isinstance(account.provider, ImapProvider)
        self.commands = account.provider.commands
        self.results.append(result)
        return result

    def sync(self, moment: datetime) -> list[DraftMade]:
        result = self.run(moment)
        assert result.ok, (result.error, result.advice)
        return [DraftMade(d.key, d.kind, d.step, d.to, d.subject) for d in result.drafted]

    def drafts(self) -> Drafts:
        return sorted((m.agent_key, m.to[0].address, m.subject) for m in self.mailbox().drafts())


@pytest.fixture(scope="module")
def clean_drafts(dovecot: DovecotServer, tmp_path_factory: pytest.TempPathFactory) -> Drafts:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = LibraryRun(scenario, dovecot, tmp_path_factory.mktemp("clean"))
    assert play(scenario, run.mailbox(), run.sync).failures == []
    return run.drafts()


def test_a_server_restart_in_the_middle_of_a_sync_loses_nothing(
    tmp_path: Path, dovecot: DovecotServer, clean_drafts: Drafts
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = LibraryRun(scenario, dovecot, tmp_path)

    def restarting(moment: datetime) -> list[DraftMade]:
        run.composer.armed = True
        return run.sync(moment)

    assert play(scenario, run.mailbox(), restarting).failures == []
    assert run.drafts() == clean_drafts


def test_a_changed_uidvalidity_resyncs_the_folder_without_duplicates(
    tmp_path: Path, dovecot: DovecotServer, clean_drafts: Drafts
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = LibraryRun(scenario, dovecot, tmp_path)

    def changing(moment: datetime) -> list[DraftMade]:
        if run.results:
            for name in ("INBOX", "Sent"):
                dovecot.change_uidvalidity(run.user, name)
        return run.sync(moment)

    assert play(scenario, run.mailbox(), changing).failures == []
    assert run.drafts() == clean_drafts


def test_a_no_change_sync_is_one_connection_and_a_few_commands(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = LibraryRun(scenario, dovecot, tmp_path)
    mailbox = run.mailbox()
    for moment in scenario.sync_times()[:4]:
        mailbox.materialize(scenario, moment)
        run.sync(moment)
        run.run(moment)  # sees the Drafts folder the first one changed (SELECT, SEARCH, FETCH)
        run.run(moment)
        # LOGIN, LIST (the special-use folders), one STATUS per folder, LOGOUT
        assert run.commands == 6, run.commands


def test_a_refused_login_marks_the_account_for_reconnection(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = LibraryRun(scenario, dovecot, tmp_path)
    moment = scenario.sync_times()[0]
    run.mailbox().materialize(scenario, moment)
    account = run.account(moment)
    provider = account.provider
    assert isinstance(provider, ImapProvider)
    provider.settings = ImapSettings(
        host="127.0.0.1",
        port=dovecot.port,
        security="plain",
        username=run.user,
        password="wrong",  # noqa: S106 - the wrong password on purpose
    )
    result = sync_account(run.store, account, run.composer, moment)
    close_provider(provider)
    assert not result.ok
    assert "mailagent connect imap --account a" in result.advice
    assert run.store.problem("a") is not None


def _demo_kill(root: Path, dovecot: DovecotServer, crash_at: str | None) -> Drafts:
    scenario = load_scenario(DEMO)
    user = fresh_user(scenario)
    line, write = file_calendar(folder(root))
    config = write_imap_config(scenario, root, dovecot, user, line)
    mailbox = ImapScenarioMailbox(dovecot, user, calendar=write)
    return sync_with_a_kill(
        scenario,
        mailbox,
        config,
        crash_at,
        lambda: sorted((m.agent_key, m.to[0].address, m.subject) for m in mailbox.drafts()),
    )


@pytest.fixture(scope="module")
def clean_demo(dovecot: DovecotServer, tmp_path_factory: pytest.TempPathFactory) -> Drafts:
    drafts = _demo_kill(tmp_path_factory.mktemp("clean-demo"), dovecot, None)
    assert len(drafts) >= 3
    return drafts


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_at_each_step_ends_with_the_drafts_of_a_clean_run(
    point: str, tmp_path: Path, dovecot: DovecotServer, clean_demo: Drafts
) -> None:
    assert _demo_kill(tmp_path, dovecot, point) == clean_demo
