"""Builds runner `Account`s from a config file: the one place that knows provider names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from mailagent.config import AccountConfig, Config
from mailagent.core.detect import UserIdentity
from mailagent.core.policy import load_policy
from mailagent.errors import AuthError, ConfigError
from mailagent.runner import Account
from providers.base import Provider

if TYPE_CHECKING:
    from providers.calendar_source import CalendarSource


def build_provider(
    config: AccountConfig, clock: Callable[[], datetime], *, state: Path | None = None
) -> Provider:
    if config.provider == "gmail":
        return _gmail(config, clock, state or Path("state.db"))
    if config.provider == "outlook":
        return _outlook(config, clock, state or Path("state.db"))
    if config.provider == "imap":
        return _imap(config, clock, state or Path("state.db"))
    if config.provider == "maildir" and config.maildir is not None:
        from providers.maildir import MaildirProvider

        return MaildirProvider(
            root=config.maildir,
            calendar=config.calendar,
            address=config.address.lower(),
            timezone=ZoneInfo(config.timezone),
            user_name=config.user_name,
            folder_names=config.folders.by_folder(),
            absent=config.folders.absent_folders(),
            clock=clock,
        )
    raise ConfigError(f"account {config.name}: unknown provider {config.provider!r}")


def _gmail(config: AccountConfig, clock: Callable[[], datetime], state: Path) -> Provider:
    from mailagent.tokens import default_token_store
    from providers.gmail import GmailProvider, GoogleEndpoints
    from providers.google_auth import credentials_from_record, reconnect_advice

    store = default_token_store(state)
    record = store.load(config.name)
    if record is None:
        raise AuthError(
            f"account {config.name} is not connected to Google (no token in {store.describe()})",
            advice=reconnect_advice(config.name),
        )
    return GmailProvider(
        credentials_from_record(record),
        user=user_identity(config),
        timezone=ZoneInfo(config.timezone),
        clock=clock,
        account=config.name,
        endpoints=GoogleEndpoints.at(config.google_endpoint) if config.google_endpoint else None,
        calendar_id=config.calendar_id,
        reconnect_advice=reconnect_advice(config.name),
    )


def _outlook(config: AccountConfig, clock: Callable[[], datetime], state: Path) -> Provider:
    from providers.graph_http import GRAPH_BASE
    from providers.outlook import OutlookProvider
    from providers.outlook_auth import reconnect_advice, token_provider_for

    return OutlookProvider(
        token_provider_for(config.name, state),
        user=user_identity(config),
        timezone=ZoneInfo(config.timezone),
        clock=clock,
        account=config.name,
        base_url=config.graph_endpoint or GRAPH_BASE,
        reconnect_advice=reconnect_advice(config.name),
    )


def _imap(config: AccountConfig, clock: Callable[[], datetime], state: Path) -> Provider:
    from mailagent.tokens import default_token_store
    from providers.imap import ImapProvider, ImapSettings

    store = default_token_store(state)
    record = store.load(config.name) or {}
    password, token, advice = _imap_login(config, record, state)
    if password is None and token is None:
        what = {"google": "Google sign-in"}.get(config.imap_auth, "IMAP password")
        raise AuthError(
            f"account {config.name} has no {what} stored ({store.describe()})", advice=advice
        )
    settings = ImapSettings(
        host=str(config.imap_host),
        username=config.imap_user or config.address,
        port=config.imap_port,
        security=config.imap_security,
        password=password,
        oauth_token=token,
        folders=config.folders.by_folder(),
    )
    return ImapProvider(
        settings,
        user=user_identity(config),
        timezone=ZoneInfo(config.timezone),
        calendar=_imap_calendar(config, record, password),
        clock=clock,
        account=config.name,
        reconnect_advice=advice,
    )


def _imap_login(
    config: AccountConfig, record: Mapping[str, Any], state: Path
) -> tuple[str | None, Callable[[bool], str] | None, str]:
    """The password or the access-token source of an IMAP account, and its reconnect advice."""
    if config.imap_auth == "google":
        from providers.google_auth import GOOGLE_KIND, GoogleTokenSource, reconnect_advice

        advice = reconnect_advice(config.name, command="imap")
        if record.get("kind") != GOOGLE_KIND:
            return None, None, advice
        return None, GoogleTokenSource(record, account=config.name), advice
    if config.imap_auth == "microsoft":
        from providers.outlook_auth import reconnect_advice as microsoft_advice
        from providers.outlook_auth import token_provider_for

        advice = microsoft_advice(config.name, subcommand="imap")
        return None, token_provider_for(config.name, state, subcommand="imap"), advice
    password = record.get("password") if record.get("kind", "password") == "password" else None
    advice = f"run: mailagent connect imap --account {config.name}"
    return (str(password) if password else None), None, advice


def _imap_calendar(
    config: AccountConfig, record: Mapping[str, Any], password: str | None
) -> CalendarSource | None:
    zone = ZoneInfo(config.timezone)
    if config.caldav_url:
        from providers.caldav_source import CalDavSource

        caldav_password = record.get("caldav_password") or password
        if not caldav_password:
            raise ConfigError(
                f"account {config.name}: no CalDAV password stored for {config.caldav_url}",
                advice=f"run: mailagent connect imap --account {config.name} --caldav-password",
            )
        return CalDavSource(
            config.caldav_url,
            zone,
            username=config.caldav_user or config.imap_user or config.address,
            password=str(caldav_password),
        )
    if config.calendar_url:
        from providers.ics_source import IcsUrlSource

        return IcsUrlSource(config.calendar_url, zone)
    if config.calendar:
        from providers.ics_source import IcsFileSource

        return IcsFileSource(config.calendar, zone)
    return None


def user_identity(config: AccountConfig) -> UserIdentity:
    """Who the user of `config` is (for reading the stored mail without a provider)."""
    return UserIdentity(
        config.address.lower(), config.user_name, frozenset(a.lower() for a in config.also)
    )


def build_account(config: AccountConfig, base: Config, now: datetime) -> Account:
    policy = load_policy(config.policy, base_dir=base.base_dir)
    return Account(
        name=config.name,
        provider=build_provider(config, lambda: now, state=base.state),
        user=user_identity(config),
        policy=policy,
        timezone=config.timezone,
    )


def close_provider(provider: Provider) -> None:
    """Closes what a provider holds open (HTTP connections), if it holds anything."""
    close = getattr(provider, "close", None)
    if callable(close):
        close()
