"""A Maildir account whose folders are not where the config says: a configuration error that
lists what is there, never a silent sync into a Drafts folder no client shows (issue 10,
point 15)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import run_cli, run_json
from .test_cli_errors import PANEL_DONE, _drafts, _mailbox_at


def _folders(root: Path, *names: str) -> None:
    for name in names:
        for sub in ("cur", "new", "tmp"):
            (root / name / sub).mkdir(parents=True, exist_ok=True)


def _set_folders(config: Path, section: str) -> None:
    config.write_text(
        config.read_text(encoding="utf-8") + f"\n[accounts.folders]\n{section}\n",
        encoding="utf-8",
    )


def _sync(config: Path) -> tuple[int, str]:
    result = run_cli("--config", str(config), "sync", "--now", PANEL_DONE, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stderr


def test_an_mbsync_folder_of_accounts_is_a_configuration_error(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    mail = tmp_path / "Mail"
    shutil.move(mail, tmp_path / "personal")
    mail.mkdir()
    shutil.move(tmp_path / "personal", mail / "personal")
    _folders(mail, "work/INBOX", "work/Sent", "work/Drafts")
    code, stderr = _sync(config)
    assert code != 0
    assert "INBOX" in stderr
    assert "personal, work" in stderr  # the folders found
    assert str(mail / "personal") in stderr  # the likely fix
    assert "fix:" in stderr
    assert not (mail / "Drafts").exists()  # nothing made where no client looks


def test_a_mailbox_without_sent_is_a_configuration_error(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    shutil.rmtree(tmp_path / "Mail" / "Sent")
    code, stderr = _sync(config)
    assert code != 0
    assert "Sent" in stderr
    assert "Drafts, INBOX" in stderr  # the folders found
    assert "absent" in stderr  # how to say there is none
    assert _drafts(tmp_path) == []


def test_a_mailbox_without_drafts_is_a_configuration_error(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    shutil.rmtree(tmp_path / "Mail" / "Drafts")
    code, stderr = _sync(config)
    assert code != 0
    assert "Drafts" in stderr
    assert not (tmp_path / "Mail" / "Drafts").exists()


def test_a_configured_folder_name_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    _set_folders(config, 'sent = "Sent Itemz"')
    code, stderr = _sync(config)
    assert code != 0
    assert "Sent Itemz" in stderr
    assert "Drafts, INBOX, Sent" in stderr
    assert not (tmp_path / "Mail" / "Sent Itemz").exists()


def test_a_folder_the_config_says_is_absent_is_read_as_empty(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    shutil.rmtree(tmp_path / "Mail" / "Sent")
    shutil.rmtree(tmp_path / "Mail" / "Drafts")
    _set_folders(config, 'absent = ["sent", "drafts"]')
    results = run_json("--config", str(config), "sync", "--now", PANEL_DONE)
    assert results[0]["ok"], results
    assert results[0]["drafted"]
    assert len(_drafts(tmp_path)) == len(results[0]["drafted"])  # an absent Drafts is created


def test_maildir_plus_plus_still_works(tmp_path: Path) -> None:
    config = _mailbox_at(tmp_path)
    mail = tmp_path / "Mail"
    for sub in ("cur", "new", "tmp"):
        shutil.move(mail / "INBOX" / sub, mail / sub)
    for name in ("Sent", "Drafts"):
        shutil.move(mail / name, mail / f".{name}")
    (mail / "INBOX").rmdir()
    results = run_json("--config", str(config), "sync", "--now", PANEL_DONE)
    assert results[0]["ok"], results
    assert len(list((mail / ".Drafts" / "cur").iterdir())) == len(results[0]["drafted"]) > 0
