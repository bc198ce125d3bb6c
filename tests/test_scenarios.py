"""The scenario suite, driven through the real CLI over weeks of simulated time (`--now`).

Each scenario in fixtures/scenarios (and the demo) is materialized as a Maildir + calendar.ics
mailbox; before each step the user's actions are applied, then `mailagent sync --now T --json`
runs, and the Drafts folder is checked: recipients, subjects, thread headers, timing (the step
at which each draft appears), no duplicates, none for the look-alikes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailagent.core.models import Folder
from mailagent.demo import write_config
from mailagent.scenario import MaildirMailbox, load_scenario, play
from providers.mime import parse_message

from .conftest import DEMO, SCENARIOS, cli_sync, run_cli, run_json

SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_through_the_cli(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    config = write_config(scenario, tmp_path)
    log = play(scenario, MaildirMailbox(tmp_path), cli_sync(config))
    assert log.failures == []
    assert log.syncs == len(scenario.sync_times())


def test_the_demo_runs_and_drafts_what_its_script_says(tmp_path: Path) -> None:
    result = run_json("demo", "--keep", str(tmp_path / "demo"))
    assert result["failures"] == []
    kinds = sorted((d["kind"], d["to"]) for d in result["drafts"])
    assert ("thank_you", "priya.raman@acme.com") in kinds
    assert len(result["drafts"]) == 9
    recipients = {d["to"] for d in result["drafts"]}
    # no drafts for the cancelled interview, the candidate, the podcast, or Olivia (thanked by hand)
    assert not recipients & {
        "bill.lumbergh@initech.com",
        "jordan.smith@gmail.com",
        "casey@dataweekly.fm",
    }
    assert ("thank_you", "olivia.chen@umbrella.com") not in kinds
    drafts = list((tmp_path / "demo" / "Mail" / "Drafts" / "cur").iterdir())
    sent_by_user = [
        p
        for p in (tmp_path / "demo" / "Mail" / "Sent" / "cur").iterdir()
        if parse_message(p.read_bytes(), folder=Folder.SENT, id=p.name).agent_key
    ]
    assert len(drafts) == 4  # the scripted user sent the five thank-yous, not Vertex Labs'
    assert ("thank_you", "rita.moreno@vertexlabs.io") in kinds  # invited by email only
    assert len(sent_by_user) == 5
    assert all(p.name.endswith(":2,D") for p in drafts)


def test_demo_scenario_replays_through_the_cli(tmp_path: Path) -> None:
    """The demo's own script, synced by the CLI at its explicit steps only."""
    scenario = load_scenario(DEMO)
    spec = scenario.spec.model_copy(update={"clock": None})
    scenario = type(scenario)(spec, scenario.path)
    config = write_config(scenario, tmp_path)
    log = play(scenario, MaildirMailbox(tmp_path), cli_sync(config))
    assert log.failures == []


def test_status_and_explain_after_the_demo(tmp_path: Path) -> None:
    run_cli("demo", "--keep", str(tmp_path / "d"))
    config = str(tmp_path / "d" / "mailagent.toml")
    status = run_json("--config", config, "status", "--now", "2026-11-30T18:00-05:00")
    interviews = status[0]["interviews"]
    assert {i["company"] for i in interviews} == {
        "Globex",
        "Acme",
        "Initech",
        "Hooli",
        "Umbrella",
        "Vertex Labs",  # invited by email only
    }
    acme = next(i for i in interviews if i["company"] == "Acme")
    explained = run_json("--config", config, "explain", acme["id"])
    names = [s["name"] for s in explained["detection"]["signals"]]
    assert "title: onsite" in names
    assert "scheduling tool" in names
    assert any("decide by" in s["reason"] for s in explained["scheduled"])
    podcast = run_cli("--config", config, "explain", "podcast@scenario").stdout
    assert "not an interview of yours: look-alike" in podcast


def test_a_late_first_sync_explains_its_late_thank_you_and_the_one_it_skipped(
    tmp_path: Path,
) -> None:
    """Issue 11, point 18, through the CLI: the first sync, 50 h after Globex, drafts its
    thank-you marked late; Initrode ended six days before it: no draft, and `explain` says why."""
    scenario = load_scenario(SCENARIOS / "late-first-sync-recruiter-holidays.yaml")
    config = write_config(scenario, tmp_path)
    moment = scenario.local(scenario.spec.steps[0].at)
    first = moment.isoformat()
    MaildirMailbox(tmp_path).materialize(scenario, moment)
    run_cli("--config", str(config), "sync", "--now", first)
    status = run_json("--config", str(config), "status", "--now", first)
    ids = {i["company"]: i["id"] for i in status[0]["interviews"]}

    globex = run_json("--config", str(config), "explain", ids["Globex"])
    (draft,) = globex["drafts"]
    assert draft["reason"].startswith(
        "late: the interview ended 50 h ago; thank-you notes are due within 24h"
    )

    initrode = run_json("--config", str(config), "explain", ids["Initrode"])
    assert initrode["drafts"] == []
    skipped = [d["text"] for d in initrode["decisions"] if d["topic"].startswith("late:")]
    assert skipped == [
        "thank-you to Ian Webb <ian.webb@initrode.com> not drafted: the interview ended "
        "Thu 2026-11-05 15:00; thank-you notes are due within 24h, and a late one is drafted "
        "only up to 72h after the interview (thank_you.late_grace), until Sun 2026-11-08 15:00"
    ]


def test_explain_shows_what_each_interviewers_note_is_based_on(tmp_path: Path) -> None:
    """Issue 12, point 3: `explain` names the facts each thank-you used, and where they came
    from; an interviewer nothing is known about is said to get the general note."""
    scenario = load_scenario(SCENARIOS / "panel-personal-notes.yaml")
    config = write_config(scenario, tmp_path)
    assert play(scenario, MaildirMailbox(tmp_path), cli_sync(config)).failures == []

    text = " ".join(run_cli("--config", str(config), "explain", "northwind").stdout.split())
    assert (
        "Ana Costa: Engineering Manager, team and roadmap, at 11:00 (from the invitation's "
        "schedule); a hiring manager's note" in text
    )
    assert "Bea Kim: Staff Engineer, system design, at 10:00" in text
    screen = " ".join(run_cli("--config", str(config), "explain", "initech").stdout.split())
    assert "Priya Shah: from the interview's title; a recruiter's note" in screen
    globex = " ".join(run_cli("--config", str(config), "explain", "globex").stdout.split())
    assert "Tom Becker: nothing said about them; the general note" in globex

    explained = run_json("--config", str(config), "explain", "northwind")
    facts = explained["detection"]["interview"]["interviewer_facts"]
    assert {f["address"]: f["kind"] for f in facts} == {
        "bea.kim@northwind.dev": "engineer",
        "ana.costa@northwind.dev": "hiring_manager",
        "raj.iyer@northwind.dev": "unknown",
    }


def test_the_demo_shows_a_panel_with_a_personal_note_for_each(tmp_path: Path) -> None:
    """Issue 12, point 3: the Acme panel's three thank-yous are about each one's part."""
    text = " ".join(run_cli("demo", "--keep", str(tmp_path / "demo")).stdout.split())

    for note in (
        "note: I especially appreciated you walking me through the team and roadmap;",
        "note: I enjoyed our discussion of data pipeline design",
        "note: I especially enjoyed our wrap-up session.",
    ):
        assert note in text
