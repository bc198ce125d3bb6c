"""A kill at any step of a sync, then a new sync: no duplicate and no missing draft.
And the real-world corpus through a whole sync: no crash, unreadable items skipped with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from mailagent.demo import write_config
from mailagent.runner import CRASH_POINTS
from mailagent.scenario import MaildirMailbox, load_scenario

from .conftest import DEMO, run_cli, run_json

PANEL_DONE = "2026-11-17T18:00:00-05:00"


def _mailbox_at(root: Path, moment: str) -> Path:
    from datetime import datetime

    scenario = load_scenario(DEMO)
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(scenario, root)
    MaildirMailbox(root).materialize(scenario, datetime.fromisoformat(moment))
    return config


def _draft_keys(root: Path) -> list[str]:
    """The agent keys of the drafts (read back from their Message-IDs)."""
    return sorted(m.agent_key for m in MaildirMailbox(root).drafts())


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_a_kill_at_any_step_then_a_sync_gives_exactly_the_clean_drafts(
    step: str, tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    config = _mailbox_at(clean, PANEL_DONE)
    run_cli("--config", str(config), "sync", "--now", PANEL_DONE)
    expected = _draft_keys(clean)
    # the three panellists, and Sam, late: his was due before this sync, within the late grace
    assert len(expected) == 4

    crashed = tmp_path / "crashed"
    config = _mailbox_at(crashed, PANEL_DONE)
    killed = run_cli(
        "--config",
        str(config),
        "sync",
        "--now",
        PANEL_DONE,
        env={"MAILAGENT_CRASH_AT": step},
        check=False,
    )
    assert killed.returncode == 137, killed.stderr
    run_cli("--config", str(config), "sync", "--now", PANEL_DONE)
    assert _draft_keys(crashed) == expected
    run_cli("--config", str(config), "sync", "--now", "2026-11-17T20:00:00-05:00")
    assert _draft_keys(crashed) == expected


def test_overlapping_runs_do_not_double_act(tmp_path: Path) -> None:
    import fcntl
    import os

    config = _mailbox_at(tmp_path, PANEL_DONE)
    lock = os.open(tmp_path / "state.db.lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        blocked = run_cli("--config", str(config), "sync", "--now", PANEL_DONE, check=False)
    finally:
        os.close(lock)
    assert blocked.returncode != 0
    assert "another mailagent sync is running" in blocked.stderr
    assert _draft_keys(tmp_path) == []


def corpus_account(
    root: Path,
    messages: Iterable[tuple[str, bytes]],
    calendars: Iterable[tuple[str, bytes]],
    *,
    lookback: str = "3600d",
) -> Path:
    """A Maildir account whose INBOX holds `messages` and whose calendar is a vdir folder of
    `calendars` (file name, content), with a wide look-back so that old dates are inside the
    window; returns its config file."""
    mail = root / "Mail"
    for folder in ("INBOX", "Sent", "Drafts"):
        for sub in ("cur", "new", "tmp"):
            (mail / folder / sub).mkdir(parents=True)
    for index, (name, data) in enumerate(messages):
        (mail / "INBOX" / "cur" / f"corpus{index}.{name}:2,S").write_bytes(data)
    vdir = root / "calendars"
    vdir.mkdir()
    for name, data in calendars:
        (vdir / name).write_bytes(data)
    (root / "wide.yaml").write_text(f"name: wide\nlookback: {lookback}\n")
    config = root / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n[[accounts]]\nname = "corpus"\nprovider = "maildir"\n'
        'address = "me@example.org"\nmaildir = "Mail"\ncalendar = "calendars"\n'
        'policy = "wide.yaml"\ntimezone = "Europe/Helsinki"\n'
    )
    return config


def sync_without_a_crash(config: Path) -> None:
    """Two syncs a day apart (each reads the whole calendar again: the window moved) and a dry
    run: each ends with exit code 0 and no traceback, whatever the corpus holds."""
    for now in ("2026-11-22T12:00:00+02:00", "2026-11-23T12:00:00+02:00"):
        result = run_cli("--config", str(config), "-v", "sync", "--now", now, "--json", check=False)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    results = run_json(
        "--config", str(config), "sync", "--now", "2026-11-24T12:00:00+02:00", "--dry-run"
    )
    assert results[0]["ok"]


def test_the_whole_corpus_goes_through_a_sync(tmp_path: Path, corpus: Path) -> None:
    graph = "graph_v1_message-get_dollar-value_MIME_trailing-spaces_blank-line-before-MIME-Version"
    messages = [(path.stem, path.read_bytes()) for path in sorted((corpus / "eml").glob("*.eml"))]
    messages += [
        ("graph", (corpus / "api-json" / f"{graph}.eml").read_bytes()),
        ("empty", b""),
        ("garbage", b"\x00\xff\xfe not a message"),
    ]
    calendars = [(path.name, path.read_bytes()) for path in sorted((corpus / "ics").glob("*"))]

    sync_without_a_crash(corpus_account(tmp_path, messages, calendars))
