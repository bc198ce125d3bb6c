"""A new account zone makes Gmail and Outlook read the calendar in full again (issue 10,
point 4): an all-day event takes the account's zone, and an incremental read (a sync token,
a delta link) would not send the unchanged all-day events to be read in the new one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from mailagent.core.detect import UserIdentity
from mailagent.wiring import close_provider
from providers.base import Changes, Provider, Window
from providers.emulators import GoogleEmulator
from providers.emulators.graph import GraphEmulator
from providers.gmail import GmailProvider, GoogleEndpoints
from providers.outlook import OutlookProvider

from .test_gmail_provider import emulator_credentials
from .test_outlook_provider import Tokens

USER = UserIdentity("alex@example.com", "Alex Kim")
NOW = datetime(2026, 3, 9, 12, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=30), NOW + timedelta(days=30))
BERLIN, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")


def all_day(changes: Changes) -> Iterator[datetime]:
    return (e.start for e in changes.events if e.all_day)


def read_again_in_the_new_zone(provider: Callable[[ZoneInfo], Provider]) -> None:
    """Berlin: read, then nothing new; Tokyo: read in full in its zone, then nothing new."""
    berlin = provider(BERLIN)
    try:
        first = berlin.read_changes(None, WINDOW)
        quiet = berlin.read_changes(first.cursor, WINDOW)
    finally:
        close_provider(berlin)
    tokyo = provider(TOKYO)
    try:
        moved = tokyo.read_changes(quiet.cursor, WINDOW)
        again = tokyo.read_changes(moved.cursor, WINDOW)
    finally:
        close_provider(tokyo)
    assert list(all_day(first)) == [datetime(2026, 3, 10, tzinfo=BERLIN)]
    assert (list(quiet.events), quiet.events_replace) == ([], False)
    assert moved.events_replace
    assert list(all_day(moved)) == [datetime(2026, 3, 10, tzinfo=TOKYO)]
    assert (list(again.events), again.events_replace) == ([], False)


def test_gmail_reads_the_calendar_again_in_the_new_zone() -> None:
    with GoogleEmulator(user_address=USER.address) as emulator:
        emulator.put_event(
            {
                "id": "offsite1",
                "summary": "Acme onsite day",
                "start": {"date": "2026-03-10"},
                "end": {"date": "2026-03-11"},
            }
        )
        credentials = emulator_credentials(emulator)

        def provider(zone: ZoneInfo) -> GmailProvider:
            return GmailProvider(
                credentials,
                user=USER,
                timezone=zone,
                clock=lambda: NOW,
                endpoints=GoogleEndpoints.at(emulator.base_url),
            )

        read_again_in_the_new_zone(provider)


def test_outlook_reads_the_calendar_again_in_the_new_zone() -> None:
    with GraphEmulator(user_address=USER.address) as emulator:
        emulator.put_event(
            {
                "id": emulator.event_id("offsite1"),
                "subject": "Acme onsite day",
                "isAllDay": True,
                "start": {"dateTime": "2026-03-10T00:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2026-03-11T00:00:00.0000000", "timeZone": "UTC"},
            }
        )
        tokens = Tokens(emulator)

        def provider(zone: ZoneInfo) -> OutlookProvider:
            return OutlookProvider(
                tokens, user=USER, timezone=zone, clock=lambda: NOW, base_url=emulator.base_url
            )

        read_again_in_the_new_zone(provider)
