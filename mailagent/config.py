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


class FolderNames(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: str | None = None
    sent: str | None = None
    drafts: str | None = None


class AccountConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    provider: Literal["maildir", "gmail", "outlook"]
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
    graph_endpoint: str | None = Field(
        default=None, pattern=r"^https?://[^\s/]+(:\d+)?(/[^\s]*)?$"
    )
    """outlook: the Graph v1.0 base URL of an emulator; unset means Microsoft Graph."""
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
        if self.provider != "maildir" and (self.maildir or self.calendar):
            raise ValueError(
                f"`maildir` and `calendar` are for maildir accounts, not {self.provider}"
            )
        if self.provider != "gmail" and self.google_endpoint:
            raise ValueError("`google_endpoint` is for gmail accounts")
        if self.provider != "outlook" and self.graph_endpoint:
            raise ValueError("`graph_endpoint` is for outlook accounts")
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
