"""What every provider's end-to-end suite shares: playing a scenario through the CLI on Maildir
and on another provider, and comparing what the two drafted, when, and what became of it."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from mailagent.demo import write_config
from mailagent.scenario import (
    DraftMade,
    MaildirMailbox,
    Scenario,
    ScenarioMailbox,
    load_scenario,
    play,
)
from mailagent.store import Store

from .conftest import DEMO, cli_sync, run_cli, run_json

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
    scenario: Scenario, mailbox: ScenarioMailbox, config: Path, env: dict[str, str] | None = None
) -> tuple[Timeline, list[str]]:
    log = play(scenario, mailbox, cli_sync(config, env or TOKEN_ENV))
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


def standalone_emulator_then_sync(module: str, tmp_path: Path) -> str:
    """Starts `python -m <module> --scenario DEMO --port 0 --config-dir tmp_path`, syncs the
    config it wrote through the CLI at the scenario's last moment (drafts must come), stops
    it with Ctrl-C; returns what it printed before serving."""
    scenario = load_scenario(DEMO)
    command = [sys.executable, "-m", module, "--scenario", str(DEMO), "--port", "0"]
    server = subprocess.Popen(
        [*command, "--config-dir", str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        lines = []
        for line in server.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        tokens = tmp_path / "tokens"
        assert stat.S_IMODE(tokens.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tokens.iterdir())
        moment = scenario.sync_times()[-1].isoformat()
        results = run_json(
            "--config", str(tmp_path / "mailagent.toml"), "sync", "--now", moment, env=TOKEN_ENV
        )
        assert results[0]["ok"], results
        assert results[0]["drafted"]
        return "".join(lines)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
