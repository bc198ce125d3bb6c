"""The randomized fault campaign in CI (issue 10, point 17): a seeded slice per provider.

Each seed is one script (interviews, replies, reschedules, the user's sends, edits and deletes,
a time-zone or policy change) played without faults and with them (storms, lost answers,
dropped connections, expired cursors, kills at crash points, lost state, hostile items), and
the faulty run must end with the clean run's drafts: 0 duplicate, missing, overwritten,
recreated or extra drafts, and no sync over the budget. 200 runs in all; the oracle is in
`providers/testservers/chaos.py` and docs/chaos.md. A failure lists each violation with the
command that replays its seed (`benchmarks/chaos.py --verbose` prints what happened).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailagent.core.models import DraftContent
from providers.base import Provider
from providers.testservers.chaos import Violation, reproduce_command, run_seed
from providers.testservers.chaos_rigs import RIGS, MaildirRig, Rig

BUDGET = 3.0
"""Seconds per sync: issue 10 wants each hostile item handled within 2 s."""
SLICE = {"maildir": 110, "gmail": 35, "graph": 40, "imap": 15}
"""Runs per provider: 200 in all, sized by the cost of a run on a 2-core machine."""


@pytest.fixture(scope="module", params=list(SLICE))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    made = RIGS[request.param]()
    try:
        yield made
    finally:
        made.close()


def _explain(violations: list[Violation]) -> str:
    seeds = sorted({v.seed for v in violations})
    lines = [str(v) for v in violations]
    lines += [reproduce_command(violations[0].provider, s) for s in seeds]
    return "\n".join(lines)


@pytest.mark.slow
def test_the_campaign_slice_finds_no_violation(rig: Rig, tmp_path: Path) -> None:
    violations: list[Violation] = []
    for seed in range(SLICE[rig.provider_name]):
        violations += run_seed(rig, seed, tmp_path, budget=BUDGET).violations
    assert not violations, _explain(violations)


REGRESSIONS = {
    ("maildir", 12): "a rejection reply the user deleted, written again after a state loss",
    ("maildir", 49): "a thank-you due before the state began, written again",
    ("maildir", 111): "a deleted follow-up written again after a state loss past its window",
    ("maildir", 22): "a blank calendar file hid a cancellation: thanked for it",
    ("maildir", 58): "a blank calendar while the state was lost: judged missing",
    ("maildir", 104): "the policy changed while the calendar was blank: judged missing",
    ("maildir", 215): "a thank-you held through a blank calendar, so its follow-up came later",
    ("maildir", 263): "late in its window a thank-you written from stale events (by design)",
    ("maildir", 275): "a follow-up to a thanked panel member counted against the panel's cap",
    ("maildir", 319): "a lost state with a blank calendar adopted nothing, then the user deleted",
    ("imap", 388): "an excused recreation on the panel counted as a 13th person thanked",
    ("gmail", 0): "a 40-person panel's query passed 2,048 characters: every sync failed",
    ("maildir", 61): "a deleted thank-you written late after a state loss that found nothing",
    ("gmail", 28): "a deleted thank-you written late after a state loss that found nothing",
}
"""Seeds the campaign once failed, with what it found (each one fixed by its own commit)."""


@pytest.mark.parametrize(("provider", "seed"), sorted(REGRESSIONS))
def test_a_seed_that_once_failed_passes(provider: str, seed: int, tmp_path: Path) -> None:
    made = RIGS[provider]()
    try:
        violations = run_seed(made, seed, tmp_path, budget=BUDGET).violations
    finally:
        made.close()
    assert not violations, f"{REGRESSIONS[provider, seed]}:\n{_explain(violations)}"


def test_a_seed_replays_the_same_run(tmp_path: Path) -> None:
    rig = MaildirRig()
    first = run_seed(rig, 7, tmp_path / "a", budget=BUDGET)
    again = run_seed(rig, 7, tmp_path / "b", budget=BUDGET)

    def strip(log: list[str], folder: str) -> list[str]:
        return [line.replace(str(tmp_path / folder), "").rsplit(" (", 1)[0] for line in log]

    assert strip(first.log, "a") == strip(again.log, "b")
    assert first.faults == again.faults
    assert [(v.kind, v.detail) for v in first.violations] == [
        (v.kind, v.detail) for v in again.violations
    ]


class _Doubling(MaildirRig):
    """A provider bug on purpose: every draft is written twice."""

    def provider(self, now, zone):  # type: ignore[no-untyped-def]
        built: Provider = super().provider(now, zone)
        write = built.create_draft

        def twice(content: DraftContent, key: str) -> str:
            write(content, f"{key}.copy")  # the same draft again, under a Message-ID of its own
            return write(content, key)

        setattr(built, "create_draft", twice)  # noqa: B010
        return built


def test_the_oracle_sees_a_provider_that_writes_every_draft_twice(tmp_path: Path) -> None:
    report = run_seed(_Doubling(), 3, tmp_path, budget=BUDGET)
    # The copy carries a Message-ID of its own: an extra draft the agent never planned.
    assert {"duplicate", "orphan"} & {v.kind for v in report.violations}


def test_the_command_prints_one_json_object_per_provider() -> None:
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "chaos.py"
    arguments = ["--provider", "maildir", "--runs", "2", "--seed", "1", "--json"]
    done = subprocess.run(
        [sys.executable, str(script), *arguments, "--budget", str(BUDGET)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = json.loads(done.stdout)
    assert summary.keys() >= {"provider", "runs", "faults", "violations", "violating_seeds"}
    assert summary["provider"] == "maildir"
    assert summary["runs"] == 2
    assert done.returncode == (1 if summary["violations"] else 0)
    assert "[maildir] 2/2 seed 2" in done.stderr
