"""The real `mailagent` command on hostile input: clear errors instead of tracebacks, no
terminal escapes from calendars, no user file touched (issue 10, points 3 and 11 to 14)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from mailagent.demo import write_config
from mailagent.scenario import MaildirMailbox, load_scenario

from .conftest import DEMO, run_cli, run_json

PANEL_DONE = "2026-11-17T18:00:00-05:00"
ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")
"""Control characters a terminal acts on (ESC starts screen clears and colours; CSI is 0x9b)."""


def _mailbox_at(root: Path, moment: str = PANEL_DONE) -> Path:
    scenario = load_scenario(DEMO)
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(scenario, root)
    MaildirMailbox(root).materialize(scenario, datetime.fromisoformat(moment))
    return config


def _assert_clear_error(result: object, code: int, *needles: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == code, (result.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    assert stderr.startswith("error: "), stderr
    assert "\nfix: " in stderr, stderr
    for needle in needles:
        assert needle in stderr, stderr


# -- 13: explain shows no terminal escapes -------------------------------------------------------


def test_explain_strips_terminal_escapes_from_event_titles(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    calendar = tmp_path / "calendar.ics"
    hostile = "\x1b[2J\x1b[31mAcme Onsite\x07\x9b0m"
    calendar.write_text(
        calendar.read_text(encoding="utf-8").replace("SUMMARY:Acme Onsite", f"SUMMARY:{hostile}"),
        encoding="utf-8",
    )
    synced = run_cli("--config", str(config), "sync", "--now", PANEL_DONE)
    status = run_cli("--config", str(config), "status", "--now", PANEL_DONE)
    listed = run_json("--config", str(config), "status", "--now", PANEL_DONE)
    acme = next(i for i in listed[0]["interviews"] if i["company"] == "Acme")
    assert "\x1b" in acme["title"]  # JSON keeps the data, escaped by json.dumps
    explained = run_cli("--config", str(config), "explain", acme["id"])
    for output in (synced.stdout, status.stdout, explained.stdout):
        assert not ESCAPE.search(output), output
    assert "[2J[31mAcme Onsite" in explained.stdout or "Acme Onsite" in explained.stdout


# -- 14: demo --keep never deletes what it did not make ------------------------------------------


def test_demo_keep_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "checkout"
    (mine / "src").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes", encoding="utf-8")
    (mine / "src" / "main.py").write_text("print(1)", encoding="utf-8")
    result = run_cli("demo", "--keep", str(mine), check=False)
    _assert_clear_error(result, 2, str(mine), "not empty")
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "my notes"
    assert (mine / "src" / "main.py").exists()
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt", "src"]


def test_demo_keep_reuses_its_own_folder_and_keeps_other_files(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    run_cli("demo", "--keep", str(demo))
    (demo / "mine.txt").write_text("keep me", encoding="utf-8")
    again = run_json("demo", "--keep", str(demo))
    assert again["failures"] == []
    assert len(again["drafts"]) == 8  # a fresh mailbox and state, not added to the old ones
    assert (demo / "mine.txt").read_text(encoding="utf-8") == "keep me"


def test_demo_keep_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("data", encoding="utf-8")
    result = run_cli("demo", "--keep", str(target), check=False)
    _assert_clear_error(result, 2, str(target))
    assert target.read_text(encoding="utf-8") == "data"


# -- 11: errors, not tracebacks ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["sync", "status"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00+00:00"])
def test_now_far_outside_any_calendar_is_a_clear_error(
    tmp_path: Path, command: str, moment: str
) -> None:
    config = _mailbox_at(tmp_path)
    result = run_cli("--config", str(config), command, "--now", moment, check=False)
    _assert_clear_error(result, 2, "--now")
    assert not (tmp_path / "Mail" / "Drafts" / "cur").exists() or not any(
        (tmp_path / "Mail" / "Drafts" / "cur").iterdir()
    )
