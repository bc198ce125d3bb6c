"""`pip install .` (not editable) carries what mailagent reads at run time: the shipped
policies, the draft templates and the demo scenario, which live beside the code in the
checkout (policies/, fixtures/demo/) and are package data once installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import mailagent
from mailagent.demo import demo_scenario_path
from mailagent.core.policy import load_policy
from mailagent.core.compose import TemplateComposer
print(mailagent.__file__)
print(demo_scenario_path())
print(sorted(load_policy(name).name for name in ("standard", "relaxed", "business-days")))
TemplateComposer()
"""


@pytest.mark.slow
def test_a_non_editable_install_carries_its_policies_templates_and_demo(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip"]
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run(
        [*pip, "wheel", str(ROOT), "--no-deps", "--quiet", "--wheel-dir", str(wheels)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    wheel = next(wheels.glob("mailagent-*.whl"))
    subprocess.run(
        [*pip, "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    package, scenario, policies = done.stdout.splitlines()
    assert package.startswith(str(site))
    assert scenario.startswith(str(site))
    assert policies == "['business-days', 'relaxed', 'standard']"
