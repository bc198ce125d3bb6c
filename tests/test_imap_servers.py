"""The scenario suite on a second real IMAP server and a second CalDAV server: Cyrus IMAP 3.6
(Debian's packages, unpacked by scripts/unpack-cyrus) and Xandikos.

Cyrus is set up as Debian and many hosts set it up: every folder under `INBOX.` with "." as
the separator, and the Sent and Drafts folders German (INBOX.Gesendet, INBOX.Entwürfe) with the
lower-case SPECIAL-USE flags (`\\sent`, `\\drafts`) its `xlist-` options give them. Every
scenario must draft the same things at the same moments as on Maildir, reading Sent and writing
Drafts in those folders. What Courier does differently (quoted header field names, a refused
APPEND to a folder selected read-only) is played by `ImapFaultProxy.dialect` in
tests/test_imap_changes.py; Courier itself needs its authentication daemon and is not run here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailagent.core.detect import UserIdentity
from mailagent.core.models import DraftContent, Person
from mailagent.errors import ProviderError
from mailagent.scenario import Scenario, load_scenario
from providers.base import Window
from providers.imap import ImapProvider, ImapSettings
from providers.testservers.cyrus import CyrusServer
from providers.testservers.imap_proxy import ImapFaultProxy
from providers.testservers.imap_scenario import ImapScenarioMailbox
from providers.testservers.xandikos import XandikosServer

from .scenario_support import Timeline, play_cli, same_as_maildir, without_clock
from .test_imap_provider import (
    FAULT_SCENARIO,
    SCENARIO_FILES,
    LibraryRun,
    caldav_calendar,
    fresh_user,
    write_imap_config,
)


def cyrus_user(scenario: Scenario) -> str:
    """A fresh login for `scenario` on Cyrus: with "." as the hierarchy separator, Cyrus takes
    no "." in a user name (its mailbox would be user.sam.rivera), so it becomes "-"."""
    local, _, domain = fresh_user(scenario).partition("@")
    return f"{local.replace('.', '-')}@{domain}"


def cyrus_run(scenario: Scenario, cyrus: CyrusServer, root: Path) -> LibraryRun:
    """In-process syncs of `scenario` for a fresh Cyrus user, whose mail client sends to
    INBOX.Gesendet and saves drafts in INBOX.Entwürfe."""
    run = LibraryRun(
        scenario, cyrus, root, sent=cyrus.folder("sent"), drafts=cyrus.folder("drafts")
    )
    run.user = cyrus_user(scenario)
    cyrus.add_user(run.user)
    return run


NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cyrus() -> Iterator[CyrusServer]:
    with CyrusServer() as server:
        yield server


@pytest.fixture(scope="module")
def xandikos() -> Iterator[XandikosServer]:
    with XandikosServer() as server:
        yield server


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_drafts_the_same_on_cyrus_and_xandikos_as_on_maildir(
    path: Path, tmp_path: Path, cyrus: CyrusServer, xandikos: XandikosServer
) -> None:
    scenario = without_clock(load_scenario(path))
    user = cyrus_user(scenario)
    cyrus.add_user(user)

    def on_cyrus(root: Path) -> tuple[Timeline, list[str]]:
        calendar = user.replace("@", "-").replace("+", "-")
        line, publish_events = caldav_calendar(xandikos, calendar)
        config = write_imap_config(scenario, root, cyrus, user, line)
        mailbox = ImapScenarioMailbox(
            cyrus,
            user,
            calendar=publish_events,
            sent=cyrus.folder("sent"),
            drafts_folder=cyrus.folder("drafts"),
        )
        return play_cli(scenario, mailbox, config)

    same_as_maildir(scenario, tmp_path, on_cyrus)


def test_a_no_change_sync_on_cyrus_is_one_connection_and_a_few_commands(
    tmp_path: Path, cyrus: CyrusServer
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = cyrus_run(scenario, cyrus, tmp_path)
    mailbox = run.mailbox()
    for moment in scenario.sync_times()[:4]:
        mailbox.materialize(scenario, moment)
        run.sync(moment)
        run.run(moment)
        run.run(moment)
        # LOGIN (its answer carries the capabilities), LIST, one STATUS per folder, LOGOUT
        assert run.commands == 6, run.commands


def test_the_drafts_go_to_the_folder_flagged_drafts_in_lower_case(
    tmp_path: Path, cyrus: CyrusServer
) -> None:
    scenario = without_clock(load_scenario(FAULT_SCENARIO))
    run = cyrus_run(scenario, cyrus, tmp_path)
    mailbox = run.mailbox()
    made = []
    for moment in scenario.sync_times():
        mailbox.materialize(scenario, moment)
        made += run.sync(moment)
        if made:
            break
    assert made, "the scenario drafts nothing"
    assert {d.agent_key for d in mailbox.drafts()} == {d.key for d in made}
    with cyrus.connect(run.user) as client:
        names = {str(name) for _, _, name in client.list_folders()}
    assert names == {"INBOX", "INBOX.Gesendet", "INBOX.Entwürfe"}  # no new Drafts folder


def provider_for(server: CyrusServer, user: str, port: int | None = None) -> ImapProvider:
    settings = ImapSettings(
        host=server.host,
        port=port or server.port,
        security="plain",
        username=user,
        password=server.password,
    )
    return ImapProvider(settings, user=UserIdentity(user, "Pat Doe"), timezone=UTC)


DRAFT = DraftContent("Thank you", "Hello.", (Person("Sam Lee", "sam@acme.example"),))


@pytest.fixture
def no_drafts_cyrus() -> Iterator[CyrusServer]:
    """Cyrus whose users have INBOX.Gesendet (\\sent) and no Drafts folder at all."""
    with CyrusServer(folders={"sent": "Gesendet"}) as server:
        yield server


def test_a_missing_drafts_folder_is_made_under_the_personal_namespace(
    no_drafts_cyrus: CyrusServer,
) -> None:
    user = "pat-drafts@example.com"
    no_drafts_cyrus.add_user(user)
    provider = provider_for(no_drafts_cyrus, user)
    try:
        provider.create_draft(DRAFT, "k1")
    finally:
        provider.close()
    with no_drafts_cyrus.connect(user) as client:
        names = {str(name) for _, _, name in client.list_folders()}
        assert names == {"INBOX", "INBOX.Gesendet", "INBOX.Drafts"}
        client.select_folder("INBOX.Drafts", readonly=True)
        assert len(client.search(["ALL"])) == 1


def test_a_refused_create_is_an_error_that_says_what_to_do(
    no_drafts_cyrus: CyrusServer,
) -> None:
    user = "pat-refused@example.com"
    no_drafts_cyrus.add_user(user)
    with ImapFaultProxy(no_drafts_cyrus.port) as proxy:
        proxy.refuse_commands["CREATE"] = "[NOPERM] Permission denied"
        provider = provider_for(no_drafts_cyrus, user, port=proxy.port)
        try:
            with pytest.raises(ProviderError) as raised:
                provider.read_changes(None, Window(NOW - timedelta(days=30), NOW))
        finally:
            provider.close()
    assert "refused to create 'INBOX.Drafts'" in str(raised.value)
    assert "Permission denied" in str(raised.value)
    assert '[accounts.folders] drafts = "..."' in raised.value.advice


def test_a_cyrus_that_is_not_unpacked_is_an_error_not_a_skip(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="run scripts/unpack-cyrus"):
        CyrusServer(unpacked=tmp_path).start()
