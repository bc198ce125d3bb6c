"""The real `mailagent` command tried as a new user would (issue 11, points 13 to 16): a
`status` that says what matters, an `explain` that finds what the user types, notes that name
their interview, a demo whose summary matches the Drafts folder, and a warning when a draft
went out with a spot still to fill."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from mailagent.demo import write_config
from mailagent.scenario import DraftMade, MaildirMailbox, Scenario, load_scenario, play
from mailagent.store import Store

from .conftest import DEMO, run_cli
from .scenario_support import without_clock

END = "2026-11-30T18:00:00-05:00"
"""The demo's last sync."""
WIDTH = 80


def _played(root: Path, until: str | None = None) -> tuple[Path, str]:
    """The demo's script (explicit steps only, up to `until`) synced through the text CLI:
    returns the config and everything the syncs printed."""
    scenario = without_clock(load_scenario(DEMO))
    if until is not None:
        last = datetime.fromisoformat(until)
        steps = tuple(s for s in scenario.spec.steps if scenario.local(s.at) <= last)
        scenario = Scenario(
            scenario.spec.model_copy(update={"steps": steps, "expect_total": None}),
            scenario.path,
        )
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(scenario, root)
    printed: list[str] = []
    seen: set[str] = set()

    def sync(moment: datetime) -> Sequence[DraftMade]:
        result = run_cli("--config", str(config), "sync", "--now", moment.isoformat())
        printed.append(result.stdout)
        store = Store(root / "state.db")
        try:
            new = [d for d in store.drafts(scenario.spec.name) if d.key not in seen]
        finally:
            store.close()
        seen.update(d.key for d in new)
        return [DraftMade(d.key, d.kind.value, d.step, d.recipient, d.subject) for d in new]

    log = play(scenario, MaildirMailbox(root), sync)
    assert log.failures == []
    return config, "".join(printed)


def _add_events(root: Path, *vevents: str) -> None:
    calendar = root / "calendar.ics"
    text = calendar.read_text(encoding="utf-8").replace("\r\n", "\n")
    body = "".join(v.strip() + "\n" for v in vevents)
    calendar.write_text(text.replace("END:VCALENDAR", body + "END:VCALENDAR"), encoding="utf-8")


def _assert_fits(text: str) -> None:
    wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not wide, "\n".join(wide)


# -- 15: every note names its interview; unknown accounts are errors ----------------------------


def test_every_sync_note_names_its_interview_and_person(tmp_path: Path) -> None:
    _, printed = _played(tmp_path)
    notes = [line for line in printed.splitlines() if line.strip().startswith("note:")]
    assert notes
    titles = (
        "Phone screen - Globex",
        "Acme Onsite",
        "Initech technical interview",
        "Hooli - Hiring manager interview",
        "Umbrella hiring manager interview",
    )
    for note in notes:
        assert any(title in note for title in titles), note
    waiting = [n for n in notes if "waiting for you to send follow-up 1" in n]
    assert waiting
    assert all("olivia.chen@umbrella.com" in n or "sam.patel@globex.com" in n for n in waiting)


def test_an_unknown_account_is_an_error_that_lists_the_accounts(tmp_path: Path) -> None:
    config, _ = _played(tmp_path, until="2026-11-16T12:00:00-05:00")
    for command in ("sync", "status"):
        result = run_cli(
            "--config", str(config), command, "--account", "nosuch", "--now", END, check=False
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: no account named 'nosuch'"), result.stderr
        assert "fix: " in result.stderr
        assert "demo" in result.stderr.partition("fix: ")[2], result.stderr
    both = run_cli(
        "--config", str(config), "sync", "-a", "demo", "-a", "nosuch", "--now", END, check=False
    )
    assert both.returncode == 2, both.stdout
