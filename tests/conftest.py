"""Shared helpers: paths, and running the real `mailagent` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailagent.scenario import DraftMade, SyncFn

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SCENARIOS = REPO / "fixtures" / "scenarios"
DEMO = REPO / "fixtures" / "demo" / "scenario.yaml"


def run_cli(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "mailagent", *args],
        capture_output=True,
        check=False,
        text=True,
        env=full_env,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"mailagent {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_json(*args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(run_cli(*args, "--json", env=env).stdout)


def cli_sync(config: Path, env: dict[str, str] | None = None) -> SyncFn:
    """A scenario sync step: `mailagent sync --now T --json`, returning the drafts it made."""

    def sync(moment: datetime) -> Sequence[DraftMade]:
        results = run_json("--config", str(config), "sync", "--now", moment.isoformat(), env=env)
        made = []
        for result in results:
            assert result["ok"], result
            made.extend(
                DraftMade(d["key"], d["kind"], d["step"], d["to"], d["subject"])
                for d in result["drafted"]
            )
        return made

    return sync


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS
