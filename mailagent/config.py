"""The TOML config file, validated at the edge. Paths may start with `~` and name environment
variables (`$HOME`, `${XDG_DATA_HOME}`); relative ones are relative to the file.

Every key is described in README.md, section "Configuration reference": the errors point
there, and a test checks that the section names every key of these models."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mailagent.core.models import Folder
from mailagent.core.validation_text import (
    TYPE_FIXES,
    describe,
    did_you_mean,
    dotted,
    meaningful,
    problem,
)
from mailagent.errors import ConfigError

README_SECTION = "Configuration reference"
ADVICE = f'see README.md, section "{README_SECTION}", for every setting'

_TYPE_FIXES: dict[str, str] = {
    **TYPE_FIXES,
    "model_type": "is not a table; write it as [section] with key = value lines under it",
    "dict_type": "is not a table; write it as [section] with key = value lines under it",
}


class FolderNames(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: str | None = None
    sent: str | None = None
    drafts: str | None = None
    absent: tuple[Literal["inbox", "sent", "drafts"], ...] = ()
    """maildir: folders this mailbox does not have. mailagent reads an absent INBOX or Sent as
    empty (so it cannot see a thank-you you sent yourself) and creates an absent Drafts;
    without this, a missing folder is a configuration error."""

    def by_folder(self) -> dict[Folder, str]:
        """The names the config sets, by folder."""
        names = {Folder.INBOX: self.inbox, Folder.SENT: self.sent, Folder.DRAFTS: self.drafts}
        return {folder: name for folder, name in names.items() if name}

    def absent_folders(self) -> frozenset[Folder]:
        return frozenset(Folder(name) for name in self.absent)


class AccountConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    provider: Literal["maildir", "gmail", "outlook", "imap"]
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    also: tuple[str, ...] = ()
    """Other addresses of the same person (aliases); their mail counts as the user's."""
    user_name: str = ""
    maildir: Path | None = None
    """maildir: the folder holding INBOX, Sent and Drafts."""
    calendar: Path | None = None
    """maildir: an .ics file or a vdir folder."""
    google_endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    """gmail: the base URL of a Gmail/Calendar API emulator; unset means Google itself."""
    calendar_id: str = "primary"
    """gmail: the Google calendar to read."""
    graph_endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(:\d+)?(/[^\s]*)?$")
    """outlook: the Graph v1.0 base URL of an emulator; unset means Microsoft Graph."""
    imap_host: str | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Literal["tls", "starttls", "plain"] = "tls"
    """imap: TLS (port 993) by default; "plain" only for local test servers."""
    imap_user: str | None = None
    """imap: the login name; the address when unset."""
    imap_auth: Literal["password", "google", "microsoft"] = "password"
    """imap: a password (or app password), or XOAUTH2 with a Google or Microsoft sign-in;
    `mailagent connect imap` stores either."""
    caldav_url: str | None = None
    """imap: a CalDAV calendar (or server) URL; its password is the account's unless the
    token record holds a separate caldav_password."""
    caldav_user: str | None = None
    """imap: the CalDAV login name; the IMAP one when unset."""
    calendar_url: str | None = None
    """imap: a published iCalendar URL (https or webcal), read with conditional requests."""
    policy: str = "standard"
    timezone: str = "UTC"
    folders: FolderNames = FolderNames()

    @field_validator("user_name")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if "@" in value:
            raise problem(
                f"user_name {value!r} is an address; it is your name as you sign your mail "
                '(user_name = "Jordan Lee"), or leave it out to take it from your mailbox'
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise problem(
                f"time zone {value!r} is not a known IANA zone"
                f"{did_you_mean(value, available_timezones())}; use a name like Europe/Berlin"
            ) from None
        return value

    @model_validator(mode="after")
    def _provider_fields(self) -> AccountConfig:
        if self.provider == "maildir" and self.maildir is None:
            raise ValueError('a maildir account needs `maildir = "path/to/Mail"`')
        if self.provider not in ("maildir", "imap") and self.calendar:
            raise ValueError(f"`calendar` is for maildir and imap accounts, not {self.provider}")
        if self.provider != "maildir" and self.maildir:
            raise ValueError(f"`maildir` is for maildir accounts, not {self.provider}")
        if self.provider == "imap" and not self.imap_host:
            raise ValueError('an imap account needs `imap_host = "imap.example.com"`')
        if self.provider != "imap" and (
            self.imap_host
            or self.caldav_url
            or self.calendar_url
            or "imap_auth" in self.model_fields_set
        ):
            raise ValueError(
                "`imap_host`, `imap_auth`, `caldav_url` and `calendar_url` are for imap accounts"
            )
        if sum(bool(x) for x in (self.calendar, self.caldav_url, self.calendar_url)) > 1:
            raise ValueError("give one calendar: `calendar`, `caldav_url` or `calendar_url`")
        if self.provider != "gmail" and self.google_endpoint:
            raise ValueError("`google_endpoint` is for gmail accounts")
        if self.provider != "outlook" and self.graph_endpoint:
            raise ValueError("`graph_endpoint` is for outlook accounts")
        if self.provider != "maildir" and self.folders.absent:
            raise ValueError("`folders.absent` is for maildir accounts")
        return self


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Path = Path("state.db")
    templates: Path | None = None
    accounts: tuple[AccountConfig, ...]
    base_dir: Path = Field(default=Path(), exclude=True)
    """The config file's folder, set by `load_config` (excluded: not a setting of the file)."""

    @field_validator("accounts")
    @classmethod
    def _some_accounts(cls, accounts: tuple[AccountConfig, ...]) -> tuple[AccountConfig, ...]:
        if not accounts:
            raise problem("no accounts; add an [[accounts]] table with name, provider and address")
        return accounts

    @property
    def lock_path(self) -> Path:
        return self.state.with_name(self.state.name + ".lock")


def load_config(path: Path) -> Config:
    path = path.expanduser()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found", advice="pass --config FILE") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", advice=ADVICE) from exc
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{path}: {dotted(tuple(error['loc']))}: {describe(error, Config, _TYPE_FIXES)}"
            for error in meaningful(exc.errors())
        ]
        raise ConfigError("\n".join(lines), advice=ADVICE) from exc
    base = path.resolve().parent
    names = [a.name for a in config.accounts]
    if len(set(names)) != len(names):
        raise ConfigError(
            f"{path}: accounts: two accounts share a name", advice="give each a unique name"
        )

    def place(value: Path | None, where: str) -> Path | None:
        return base / expand_path(str(value), f"{path}: {where}") if value else None

    return config.model_copy(
        update={
            "base_dir": base,
            "state": place(config.state, "state"),
            "templates": place(config.templates, "templates"),
            "accounts": tuple(
                a.model_copy(
                    update={
                        "maildir": place(a.maildir, f"accounts[{i}].maildir"),
                        "calendar": place(a.calendar, f"accounts[{i}].calendar"),
                        "policy": expand_path(a.policy, f"{path}: accounts[{i}].policy"),
                    }
                )
                for i, a in enumerate(config.accounts)
            ),
        }
    )


_VARIABLE = re.compile(r"\$(?:(\w+)|\{(\w+)\})")


def expand_path(value: str, where: str) -> str:
    """`value` with `$NAME` and `${NAME}` replaced from the environment, then a leading `~`
    (or `~user`) made the home folder; an unset variable is an error that names `where`."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in os.environ:
            raise ConfigError(
                f"{where}: ${name} is not set (in {value!r})",
                advice=f"set {name} in the environment that runs mailagent, or write the path "
                "out in the config",
            )
        return os.environ[name]

    return os.path.expanduser(_VARIABLE.sub(variable, value))
