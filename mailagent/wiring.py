"""Builds runner `Account`s from a config file: the one place that knows provider names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from mailagent.config import AccountConfig, Config
from mailagent.detect import UserIdentity
from mailagent.errors import ConfigError
from mailagent.models import Folder
from mailagent.policy import load_policy
from mailagent.runner import Account
from providers.base import Provider


def build_provider(config: AccountConfig, clock: Callable[[], datetime]) -> Provider:
    if config.provider == "maildir":
        from providers.maildir import MaildirProvider

        names = {
            folder: value
            for folder, value in (
                (Folder.INBOX, config.folders.inbox),
                (Folder.SENT, config.folders.sent),
                (Folder.DRAFTS, config.folders.drafts),
            )
            if value
        }
        return MaildirProvider(
            root=config.maildir,
            calendar=config.calendar,
            address=config.address.lower(),
            timezone=ZoneInfo(config.timezone),
            user_name=config.user_name,
            folder_names=names,
            clock=clock,
        )
    raise ConfigError(f"account {config.name}: unknown provider {config.provider!r}")


def build_account(config: AccountConfig, base: Config, now: datetime) -> Account:
    policy = load_policy(config.policy, base_dir=base.base_dir)
    user = UserIdentity(
        config.address.lower(), config.user_name, frozenset(a.lower() for a in config.also)
    )
    return Account(
        name=config.name,
        provider=build_provider(config, lambda: now),
        user=user,
        policy=policy,
        timezone=config.timezone,
    )
