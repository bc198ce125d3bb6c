"""The emulators' own commands (`python -m providers.emulators.google` and `.graph`) on bad
input: one line that says what is wrong, never a traceback, and a non-zero exit code (issue 11,
point 19)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DEMO

EMULATORS = ["providers.emulators.google", "providers.emulators.graph"]


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert " error: " in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Ctrl-C" not in result.stdout  # it never said it was serving
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket is listening on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("module", EMULATORS)
def test_a_busy_port_is_one_line(module: str, busy_port: int) -> None:
    result = _run(module, "--scenario", str(DEMO), "--port", str(busy_port))
    _one_line_error(result, str(busy_port), "in use", "--port")


@pytest.mark.parametrize("module", EMULATORS)
def test_a_missing_scenario_is_one_line(module: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such.yaml"
    _one_line_error(_run(module, "--scenario", str(missing)), str(missing), "no such file")


@pytest.mark.parametrize("module", EMULATORS)
@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(None, "is a directory", id="a-folder"),
        pytest.param(b"\xff\xfe not text", "not UTF-8", id="binary"),
        pytest.param(b"name: x\nuser: [\n", "not valid YAML", id="bad-yaml"),
        pytest.param(b"- a list\n", "", id="not-a-mapping"),
    ],
)
def test_an_unreadable_scenario_is_one_line(
    module: str, tmp_path: Path, content: bytes | None, says: str
) -> None:
    scenario = tmp_path / "scenario.yaml"
    if content is None:
        scenario.mkdir()
    else:
        scenario.write_bytes(content)
    _one_line_error(_run(module, "--scenario", str(scenario)), str(scenario), says)


@pytest.mark.parametrize("module", EMULATORS)
@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(("--port", "70000"), "--port", id="port-out-of-range"),
        pytest.param(("--port", "eighty"), "--port", id="port-not-a-number"),
        pytest.param(("--at", "yesterday"), "--at", id="at-not-a-moment"),
        pytest.param(("--latency-ms", "-5"), "--latency-ms", id="negative-latency"),
    ],
)
def test_bad_arguments_are_one_line(module: str, args: tuple[str, ...], says: str) -> None:
    _one_line_error(_run(module, "--scenario", str(DEMO), *args), says)


@pytest.mark.parametrize("module", EMULATORS)
def test_no_scenario_is_one_line(module: str) -> None:
    _one_line_error(_run(module), "--scenario")


@pytest.mark.parametrize("module", EMULATORS)
def test_a_config_dir_that_cannot_be_made_is_one_line(module: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("mine", encoding="utf-8")
    result = _run(module, "--scenario", str(DEMO), "--config-dir", str(blocker / "dir"))
    _one_line_error(result, str(blocker))
    assert blocker.read_text(encoding="utf-8") == "mine"
