"""The real `mailagent` command as a new user meets it (issue 11, points 11 and 12): config
errors that say what to change, options where a user puts them, a help that reads as flags, and
a dry run that writes nothing."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from mailagent.config import AccountConfig, Config, FolderNames
from mailagent.demo import write_config
from mailagent.scenario import MaildirMailbox, load_scenario

from .conftest import DEMO, REPO, run_cli, run_json

PANEL_DONE = "2026-11-17T18:00:00-05:00"


def _mailbox_at(root: Path, moment: str = PANEL_DONE) -> Path:
    scenario = load_scenario(DEMO)
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(scenario, root)
    MaildirMailbox(root).materialize(scenario, datetime.fromisoformat(moment))
    return config


ACCOUNT = '[[accounts]]\nname = "me"\nprovider = "maildir"\naddress = "me@example.com"\n'
"""A minimal valid account, to which a test adds (or in which it breaks) one setting."""


def _config_error(tmp_path: Path, text: str) -> list[str]:
    """The lines `mailagent sync` prints on stderr for a config file holding `text`, after
    checking that they are an `error:` and a `fix:`, exit code 2, no traceback."""
    config = tmp_path / "mailagent.toml"
    config.write_text(text, encoding="utf-8")
    result = run_cli("--config", str(config), "sync", check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: "), result.stderr
    assert lines[-1].startswith("fix: "), result.stderr
    return lines


# -- 11: config errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "meant"),
    [
        pytest.param('stat = "x.db"\n' + ACCOUNT + 'maildir = "Mail"\n', "stat", "state", id="top"),
        pytest.param(ACCOUNT + 'maildir = "Mail"\ntimezon = "UTC"\n', "accounts[0].timezon", "timezone", id="account"),
        pytest.param(ACCOUNT + 'maildir = "Mail"\n[accounts.folders]\nsnet = "Sent"\n', "accounts[0].folders.snet", "sent", id="folders"),
    ],
)  # fmt: skip
def test_an_unknown_config_key_gets_a_did_you_mean(
    tmp_path: Path, text: str, where: str, meant: str
) -> None:
    lines = _config_error(tmp_path, text)
    assert len(lines) == 2, lines  # the one problem, then the fix
    assert f'{where}: unknown key (did you mean "{meant}"?)' in lines[0], lines


def test_a_wrong_time_zone_is_named_as_such_and_alone(tmp_path: Path) -> None:
    lines = _config_error(tmp_path, ACCOUNT + 'maildir = "Mail"\ntimezone = "Europe/Berln"\n')
    assert len(lines) == 2, lines  # no second line about the accounts list
    assert "accounts[0].timezone: time zone 'Europe/Berln' is not a known IANA zone" in lines[0]
    assert '(did you mean "Europe/Berlin"?)' in lines[0]
    assert "Value error" not in lines[0]


def test_an_account_with_missing_fields_says_only_what_is_missing(tmp_path: Path) -> None:
    lines = _config_error(tmp_path, "[[accounts]]\n")
    problems = lines[:-1]
    assert [re.findall(r"accounts\[0\]\.\w+", line)[0] for line in problems] == [
        "accounts[0].name",
        "accounts[0].provider",
        "accounts[0].address",
    ], lines
    assert not any("Tuple" in line or "at least 1 item" in line for line in lines), lines


def test_a_config_without_accounts_says_how_to_add_one(tmp_path: Path) -> None:
    lines = _config_error(tmp_path, "accounts = []\n")
    assert len(lines) == 2, lines
    assert "[[accounts]]" in lines[0]
    assert "Tuple" not in lines[0]


def test_a_rule_between_fields_reads_without_pydantics_prefix(tmp_path: Path) -> None:
    lines = _config_error(tmp_path, ACCOUNT)
    assert lines[0].endswith('accounts[0]: a maildir account needs `maildir = "path/to/Mail"`')


def test_the_fix_line_points_at_a_readme_section_that_lists_every_setting(
    tmp_path: Path,
) -> None:
    lines = _config_error(tmp_path, 'stat = "x.db"\n' + ACCOUNT + 'maildir = "Mail"\n')
    named = re.search(r'README\.md, section "([^"]+)"', lines[-1])
    assert named, lines[-1]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    heading = f"\n## {named.group(1)}\n"
    assert heading in readme
    section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
    for model in (Config, AccountConfig, FolderNames):
        for key, info in model.model_fields.items():
            if not info.exclude:  # set by the loader, not a setting
                assert f"`{key}`" in section, key


def _drafts(root: Path) -> list[str]:
    folder = root / "Drafts" / "cur"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_paths_in_the_config_expand_home_and_environment_variables(tmp_path: Path) -> None:
    box = tmp_path / "box"
    _mailbox_at(box)
    home = tmp_path / "home"
    home.mkdir()
    (box / "wide.yaml").write_text("name: wide\n", encoding="utf-8")
    (box / "templates").mkdir()
    config = tmp_path / "elsewhere" / "mailagent.toml"
    config.parent.mkdir()
    config.write_text(
        'state = "~/agent/state.db"\n'
        'templates = "${BOX}/templates"\n'
        + ACCOUNT
        + 'maildir = "$BOX/Mail"\ncalendar = "${BOX}/calendar.ics"\n'
        'policy = "$BOX/wide.yaml"\ntimezone = "America/New_York"\n',
        encoding="utf-8",
    )
    env = {"HOME": str(home), "BOX": str(box)}
    results = run_json("--config", str(config), "sync", "--now", PANEL_DONE, env=env)
    assert results[0]["ok"], results
    assert (home / "agent" / "state.db").is_file()
    assert len(_drafts(box / "Mail")) == 3
    assert not (config.parent / "~").exists()
    assert not (config.parent / "$BOX").exists()


def test_an_unset_variable_in_a_path_is_a_clear_error(tmp_path: Path) -> None:
    assert "MAILAGENT_NO_SUCH_DIR" not in os.environ
    config = tmp_path / "mailagent.toml"
    config.write_text(ACCOUNT + 'maildir = "$MAILAGENT_NO_SUCH_DIR/Mail"\n', encoding="utf-8")
    lines = _config_error(tmp_path, config.read_text(encoding="utf-8"))
    assert "accounts[0].maildir" in lines[0], lines
    assert "MAILAGENT_NO_SUCH_DIR is not set" in lines[0], lines
