"""The benchmark scripts run and print what they promise. Their numbers are never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

CORE_KEYS = {"events", "messages", "interviews", "stages", "tracemalloc_peak_mb", "maxrss_mb"}
STAGE_KEYS = {"items", "unit", "seconds", "per_s"}
SYNC_KEYS = {
    "provider",
    "messages",
    "first_sync_requests",
    "first_sync_s",
    "no_change_requests",
    "no_change_s",
    "peak_rss_mb",
    "drafts_created",
    "build_s",
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_core_prints_one_json_object_with_every_stage() -> None:
    done = _run(str(BENCHMARKS / "core.py"), "--events", "200", "--messages", "300", "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result.keys() >= CORE_KEYS
    assert set(result["stages"]) == {"detect", "classify", "plan"}
    for stage in result["stages"].values():
        assert stage.keys() >= STAGE_KEYS
    assert set(result["tracemalloc_peak_mb"]) == {"detect", "classify", "plan"}
    assert result["events"] == 200
    assert result["messages"] == 300


def test_sync_cost_prints_one_json_line_per_size(tmp_path: Path) -> None:
    done = _run(
        str(BENCHMARKS / "sync_cost.py"),
        "--provider",
        "maildir",
        "--sizes",
        "300",
        "--json",
        "--cache-dir",
        str(tmp_path),
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert row.keys() >= SYNC_KEYS
    assert row["provider"] == "maildir"
    assert row["messages"] == 300


@pytest.mark.parametrize(
    ("provider", "extra"),
    [
        ("gmail", {"first_sync_quota_units", "no_change_quota_units"}),
        ("outlook", set()),
        ("imap", {"first_sync_bytes", "no_change_bytes"}),
    ],
)
def test_sync_cost_measures_api_providers_through_their_emulators(
    provider: str, extra: set[str]
) -> None:
    done = _run(
        str(BENCHMARKS / "sync_cost.py"), "--provider", provider, "--sizes", "300", "--json"
    )

    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout.strip().splitlines()[0])
    assert row.keys() >= SYNC_KEYS | extra
    assert row["provider"] == provider
    assert row["messages"] == 300


def test_sync_cost_refuses_an_unknown_provider() -> None:
    done = _run(str(BENCHMARKS / "sync_cost.py"), "--provider", "pop3", "--json")

    assert done.returncode == 2
    assert "unknown provider pop3" in done.stderr
    assert done.stdout == ""


QUALITY_KEYS = {
    "cases",
    "detection_precision",
    "detection_recall",
    "company_exact",
    "role_exact",
    "interviewers_exact",
    "by_language",
    "misses",
}


def test_quality_prints_rates_over_the_interview_corpus() -> None:
    done = _run(str(BENCHMARKS / "quality.py"), "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result.keys() >= QUALITY_KEYS
    assert result["cases"] >= 150
    for key in QUALITY_KEYS - {"cases", "by_language", "misses"}:
        assert 0 <= result[key] <= 1
    assert "en" in result["by_language"]


def test_quality_text_report_fits_80_columns() -> None:
    done = _run(str(BENCHMARKS / "quality.py"))

    assert done.returncode == 0, done.stderr
    assert "precision" in done.stdout
    assert all(len(line) <= 80 for line in done.stdout.splitlines())
