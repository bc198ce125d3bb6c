"""The real `mailagent` command on hostile input: clear errors instead of tracebacks, no
terminal escapes from calendars, no user file touched (issue 10, points 3 and 11 to 14)."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def _assert_clear_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """What the user sees is a message and advice (`error:` / `fix:`) and the exit code of
    the error class (2 config, 4 state), never a traceback."""
    stderr = result.stderr
    assert result.returncode == code, (result.returncode, stderr)
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
    assert len(again["drafts"]) == 9  # a fresh mailbox and state, not added to the old ones
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


# -- 3, 11, 12: the state file -------------------------------------------------------------------


def _drafts(root: Path) -> list[str]:
    folder = root / "Mail" / "Drafts" / "cur"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _synced(root: Path) -> Path:
    """A mailbox synced once at PANEL_DONE: a real state file beside it."""
    config = _mailbox_at(root)
    run_cli("--config", str(config), "sync", "--now", PANEL_DONE)
    return config


def _other_sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    db.execute("INSERT INTO notes (text) VALUES ('my notes')")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(lambda p: p.write_bytes(b""), "empty", id="zero-bytes"),
        pytest.param(lambda p: p.write_bytes(b"\x00\xffgarbage" * 500), "not a mailagent", id="garbage"),
        pytest.param(_other_sqlite, "not a mailagent", id="another-programs-database"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["sync", "status"])
def test_a_state_file_that_is_not_a_mailagent_database_is_refused(
    tmp_path: Path, make: Callable[[Path], None], says: str, command: str
) -> None:
    config = _mailbox_at(tmp_path)
    state = tmp_path / "state.db"
    make(state)
    before = state.read_bytes()
    result = run_cli("--config", str(config), command, "--now", PANEL_DONE, check=False)
    _assert_clear_error(result, 4, str(state), says, "backup")
    assert "rebuilds state from the mailbox" not in result.stderr  # the old, untrue advice
    assert state.read_bytes() == before  # not converted, not written
    assert _drafts(tmp_path) == []


@pytest.mark.parametrize("damage", ["truncated", "header-only", "overwritten-page"])
def test_a_damaged_state_file_is_refused(tmp_path: Path, damage: str) -> None:
    config = _synced(tmp_path)
    drafts = _drafts(tmp_path)
    state = tmp_path / "state.db"
    data = state.read_bytes()
    assert len(data) > 8 * 4096
    if damage == "truncated":
        state.write_bytes(data[: len(data) // 2])
    elif damage == "header-only":
        state.write_bytes(data[:60])
    else:
        state.write_bytes(data[: 2 * 4096] + b"\xa5" * 4096 + data[3 * 4096 :])
    for command in ("sync", "status"):
        result = run_cli("--config", str(config), command, "--now", PANEL_DONE, check=False)
        _assert_clear_error(result, 4, str(state), "backup")
    assert _drafts(tmp_path) == drafts


def test_a_symlinked_state_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    config = _synced(tmp_path / "box")
    elsewhere = tmp_path / "elsewhere.db"
    (tmp_path / "box" / "state.db").rename(elsewhere)
    elsewhere.chmod(0o644)
    (tmp_path / "box" / "state.db").symlink_to(elsewhere)
    before = elsewhere.read_bytes()
    for command in ("sync", "status"):
        result = run_cli("--config", str(config), command, "--now", PANEL_DONE, check=False)
        _assert_clear_error(result, 4, "symbolic link")
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644
    assert elsewhere.read_bytes() == before


def test_a_dangling_state_symlink_creates_nothing_at_its_target(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path / "box")
    target = tmp_path / "victim.db"
    (tmp_path / "box" / "state.db").symlink_to(target)
    result = run_cli("--config", str(config), "sync", "--now", PANEL_DONE, check=False)
    _assert_clear_error(result, 4, "symbolic link")
    assert not target.exists()
    assert _drafts(tmp_path / "box") == []


@contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real small file system (root only: `mount -t tmpfs`); skips the test elsewhere."""
    where.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _state_config(config: Path, state: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('state = "state.db"', f'state = "{state}"'), encoding="utf-8")


@pytest.mark.parametrize("existing", [True, False], ids=["existing-state", "new-state"])
def test_a_read_only_state_folder_is_a_clear_error(tmp_path: Path, existing: bool) -> None:
    config = _mailbox_at(tmp_path / "box")
    with _tmpfs(tmp_path / "ro", "1m") as folder:
        _state_config(config, folder / "state.db")
        if existing:
            run_cli("--config", str(config), "sync", "--now", PANEL_DONE)
        drafts = _drafts(tmp_path / "box")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        for command in ("sync", "status"):
            result = run_cli("--config", str(config), command, "--now", PANEL_DONE, check=False)
            _assert_clear_error(result, 4, "read-only", str(folder))
        assert _drafts(tmp_path / "box") == drafts


def _fill(folder: Path) -> None:
    """Writes into `folder` until its file system is full."""
    filler = os.open(folder / "filler", os.O_CREAT | os.O_WRONLY, 0o600)
    with contextlib.suppress(OSError):
        while True:
            os.write(filler, b"x" * 4096)
    os.close(filler)


def test_a_full_disk_while_creating_the_state_is_a_clear_error(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path / "box")
    with _tmpfs(tmp_path / "small", "64k") as folder:
        _state_config(config, folder / "state.db")
        _fill(folder)
        result = run_cli("--config", str(config), "sync", "--now", PANEL_DONE, check=False)
        _assert_clear_error(result, 4, "no space", str(folder))
        assert _drafts(tmp_path / "box") == []
        assert not (folder / "state.db").exists()  # no half-made state left to trip on


def test_a_symlinked_wal_file_is_refused(tmp_path: Path) -> None:
    config = _synced(tmp_path / "box")
    target = tmp_path / "victim"
    target.write_bytes(b"precious")
    target.chmod(0o644)
    (tmp_path / "box" / "state.db-wal").symlink_to(target)
    result = run_cli("--config", str(config), "status", "--now", PANEL_DONE, check=False)
    _assert_clear_error(result, 4, "symbolic link", "state.db-wal")
    assert target.read_bytes() == b"precious"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_disk_that_fills_up_under_an_existing_state_is_a_clear_error(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path / "box")
    with _tmpfs(tmp_path / "small", "1m") as folder:
        _state_config(config, folder / "state.db")
        run_cli("--config", str(config), "sync", "--now", "2026-11-16T18:00:00-05:00")
        drafts = _drafts(tmp_path / "box")
        _fill(folder)
        result = run_cli("--config", str(config), "sync", "--now", PANEL_DONE, check=False)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        assert "no space left" in result.stderr, result.stderr
        assert "free some space" in result.stderr, result.stderr
        os.unlink(folder / "filler")
        run_cli("--config", str(config), "sync", "--now", PANEL_DONE)
        assert len(_drafts(tmp_path / "box")) > len(drafts)
