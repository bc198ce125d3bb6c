"""The TOML config file, validated at the edge; paths are relative to the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mailagent.errors import ConfigError
from mailagent.models import Folder


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

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
            ) from exc
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
    accounts: tuple[AccountConfig, ...] = Field(min_length=1)
    base_dir: Path = Path()

    @property
    def lock_path(self) -> Path:
        return self.state.with_name(self.state.name + ".lock")


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found", advice="pass --config FILE") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError("\n".join(lines), advice="see the Config section of the README") from exc
    base = path.resolve().parent
    names = [a.name for a in config.accounts]
    if len(set(names)) != len(names):
        raise ConfigError(
            f"{path}: accounts: two accounts share a name", advice="give each a unique name"
        )
    return config.model_copy(
        update={
            "base_dir": base,
            "state": base / config.state,
            "templates": base / config.templates if config.templates else None,
            "accounts": tuple(
                a.model_copy(
                    update={
                        "maildir": base / a.maildir if a.maildir else None,
                        "calendar": base / a.calendar if a.calendar else None,
                    }
                )
                for a in config.accounts
            ),
        }
    )
