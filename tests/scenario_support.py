"""What every provider's end-to-end suite shares: playing a scenario through the CLI on Maildir
and on another provider, and comparing what the two drafted, when, and what became of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from mailagent.demo import write_config
from mailagent.scenario import DraftMade, MaildirMailbox, Scenario, ScenarioMailbox, play
from mailagent.store import Store

from .conftest import cli_sync, run_cli

TOKEN_ENV = {"MAILAGENT_TOKEN_STORE": "file"}

Timeline = list[tuple[str, str, int, str, str]]
Statuses = dict[tuple[str, str, int], str]
T = TypeVar("T")


def without_clock(scenario: Scenario) -> Scenario:
    """The scenario synced at its explicit steps only (the clock's extra syncs cost time)."""
    return Scenario(scenario.spec.model_copy(update={"clock": None}), scenario.path)


def folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def timeline(made: Sequence[tuple[datetime, DraftMade]]) -> Timeline:
    return sorted((t.isoformat(), m.kind, m.step, m.to, m.subject) for t, m in made)


def statuses(root: Path, scenario: Scenario) -> Statuses:
    """What the store learned of each draft: present, edited, sent or deleted."""
    store = Store(root / "state.db")
    try:
        return {
            (d.kind.value, d.recipient, d.step): d.status for d in store.drafts(scenario.spec.name)
        }
    finally:
        store.close()


def same_as_maildir(
    scenario: Scenario,
    tmp_path: Path,
    play_other: Callable[[Path], tuple[Timeline, list[str]]],
) -> Statuses:
    """Plays `scenario` on Maildir, then through `play_other(root)` (which returns the other
    provider's timeline and failures, its state in `root`), and checks they agree."""
    local_root = folder(tmp_path / "m")
    local = play(scenario, MaildirMailbox(local_root), cli_sync(write_config(scenario, local_root)))
    assert local.failures == []
    other_root = folder(tmp_path / "o")
    other_timeline, failures = play_other(other_root)
    assert failures == []
    assert other_timeline == timeline(local.made)
    found = statuses(other_root, scenario)
    assert found == statuses(local_root, scenario)
    return found


def play_cli(
    scenario: Scenario, mailbox: ScenarioMailbox, config: Path
) -> tuple[Timeline, list[str]]:
    log = play(scenario, mailbox, cli_sync(config, TOKEN_ENV))
    return timeline(log.made), log.failures


PANEL_DONE = datetime.fromisoformat("2026-11-17T18:00:00-05:00")
BEFORE = datetime.fromisoformat("2026-11-16T09:00:00-05:00")
LATER = datetime.fromisoformat("2026-11-17T20:00:00-05:00")


def sync_with_a_kill(
    scenario: Scenario,
    mailbox: ScenarioMailbox,
    config: Path,
    crash_at: str | None,
    drafts: Callable[[], T],
) -> T:
    """The demo synced before and after its panel, the second sync killed at `crash_at` (then
    run again), and once more later: returns the drafts after the panel, which the later sync
    must leave as they are. A clean run (`crash_at` None) gives what every kill must end with."""
    mailbox.materialize(scenario, BEFORE)
    run_cli("--config", str(config), "sync", "--now", BEFORE.isoformat(), env=TOKEN_ENV)
    mailbox.materialize(scenario, PANEL_DONE)
    if crash_at is not None:
        killed = run_cli(
            "--config",
            str(config),
            "sync",
            "--now",
            PANEL_DONE.isoformat(),
            env={**TOKEN_ENV, "MAILAGENT_CRASH_AT": crash_at},
            check=False,
        )
        assert killed.returncode == 137, killed.stderr
    run_cli("--config", str(config), "sync", "--now", PANEL_DONE.isoformat(), env=TOKEN_ENV)
    after = drafts()
    mailbox.materialize(scenario, LATER)
    run_cli("--config", str(config), "sync", "--now", LATER.isoformat(), env=TOKEN_ENV)
    assert drafts() == after
    return after
