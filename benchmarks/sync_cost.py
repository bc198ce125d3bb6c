"""What a sync costs as the mailbox grows: files read, seconds and memory, first and no-change.

    python benchmarks/sync_cost.py --provider maildir [--sizes 2000,20000,200000] [--json]

Design notes:

- Every mailbox holds the same recent mail and the same calendar, so the work that matters is
  the same at every size: five interviews in the two weeks before `NOW` (two recent enough for
  thank-you notes, three that the user already thanked by hand and that are due a first
  follow-up), a few look-alike and ordinary events, and `RECENT_MESSAGES` messages inside the
  standard policy's 30-day lookback. The rest of the mailbox is *old* mail spread over the
  three years before that, which a correct provider never opens: Maildir file names start with
  the delivery time (`"{unix_ts}.{unique}.{host}:2,S"`), so the first sync should read about
  `RECENT_MESSAGES` + 1 files (the calendar) whatever the size, and a no-change sync none.
  About 15% of all messages are in Sent.
- Messages are written as minimal RFC 5322 bytes with `os.write`, not through the `email`
  package: 200,000 files take seconds. Mailboxes are cached under `--cache-dir` (default: the
  system temp folder), keyed by size, seed and `GENERATOR_VERSION`; a `.complete` marker is
  written last, so an interrupted build is redone.
- Each size is synced in a fresh interpreter (this script, with `--measure`), so that
  `peak_rss_mb` (`resource.getrusage` maxrss) belongs to that size alone. The child gets a run
  folder whose INBOX and Sent are symbolic links into the cache and whose Drafts folder and
  state database are its own, so the cached mailbox is never written to. It syncs through the
  real runner: `wiring.build_account` (the Maildir provider), a `Store`, `TemplateComposer()`,
  `runner.sync_account` at `NOW`, then again 30 minutes later with nothing changed.
- `*_requests` is `SyncResult.requests`: for Maildir, the message and calendar files read.
- Numbers are printed, never asserted (see `tests/test_benchmarks_smoke.py`). The script warns
  on stderr when fewer than five drafts were made or when sizes disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from mailagent.core.models import CalendarEvent

PROVIDERS = ("maildir", "gmail", "outlook", "imap")
DEFAULT_SIZES = "2000,20000,200000"
IMAP_SIZES = "2000,20000,100000"
GENERATOR_VERSION = 2
"""Bump when the generated mailbox changes, so that cached mailboxes are rebuilt."""

NOW = datetime(2025, 3, 12, 19, 0, tzinfo=UTC)
"""A fixed Wednesday, 15:00 in New York: inside working hours."""
NO_CHANGE_AFTER = timedelta(minutes=30)
"""The second sync runs this much later, as the next cron run would (same day: no calendar re-read)."""
TIMEZONE = "America/New_York"
ZONE = ZoneInfo(TIMEZONE)
USER_ADDRESS = "alex@northwind.dev"
USER_NAME = "Alex Kim"
OWN_DOMAIN = "northwind.dev"

RECENT_MESSAGES = 200
"""Messages inside the 30-day lookback, the same at every size (mailboxes hold at least this)."""
RECENT_SPAN = timedelta(days=28)
OLD_SPAN = (timedelta(days=3 * 365), timedelta(days=40))
"""Old mail is delivered between three years and 40 days before NOW: well before the lookback
(30 days) and the provider's two days of timestamp slack."""
SENT_SHARE = 0.15
EXPECTED_DRAFTS = 6
"""Two thank-yous for the panel (A), one for the phone screen (B), one follow-up each for C, D, E."""
MIN_DRAFTS = 5

HOST = "bench"
FIRST_NAMES = (
    "Lucas",
    "Grace",
    "Omar",
    "Ingrid",
    "Diego",
    "Hannah",
    "Ravi",
    "Chloe",
    "Mateo",
    "Yuki",
)
LAST_NAMES = (
    "Silva",
    "Berg",
    "Lopez",
    "Schmidt",
    "Patel",
    "Martin",
    "Rossi",
    "Tanaka",
    "Nasser",
    "Kim",
)
NOISE_SENDERS = (
    ("Data Weekly", "newsletter@dataweekly.news"),
    ("GitHub", "notifications@github.com"),
    ("Bank of Examples", "alerts@bank.example"),
    ("Contoso Careers", "no-reply@contoso.com"),
    ("Fabrikam Talent", "talent@fabrikam.com"),
)
NOISE_SUBJECTS = (
    "Your weekly digest",
    "Re: design doc",
    "Lunch on Thursday?",
    "Invoice 2231",
    "[northwind/api] PR #4521: fix pagination",
    "Thank you for applying",
    "Photos from the weekend",
    "Re: quarterly planning",
    "Your statement is ready",
    "Meetup: data engineering night",
)
NOISE_BODIES = (
    "Hi Alex,\n\nJust a quick note about the plan for next week. Let me know what you think.\n",
    "This week in data engineering: streaming joins, lakehouse formats and a long read on "
    "schema evolution.\n\nUnsubscribe at any time.\n",
    "Thanks, looks good to me. I merged it.\n\nOn Mon, 3 Mar 2025 at 10:00, Alex Kim "
    "<alex@northwind.dev> wrote:\n> Could you take a look at the pull request?\n",
    "We have received your application and will review it shortly.\n",
)


@dataclass(frozen=True, slots=True)
class Interview:
    """One of the five interviews every mailbox holds, and the mail around it."""

    title: str
    start: datetime
    minutes: int
    interviewers: tuple[tuple[str, str], ...]
    organizer: str
    role: str
    thanked_at: datetime | None
    """When the user thanked the interviewers by hand (then a follow-up is due), or None."""


def _ny(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZONE)


INTERVIEWS = (
    Interview(
        title="Acme | Onsite interview - Senior Data Engineer",
        start=_ny("2025-03-12", "10:00"),
        minutes=90,
        interviewers=(("Priya Raman", "priya.raman@acme.io"), ("Jordan Lee", "jordan.lee@acme.io")),
        organizer="no-reply@greenhouse.io",
        role="Senior Data Engineer",
        thanked_at=None,
    ),
    Interview(
        title="Phone screen with Globex",
        start=_ny("2025-03-11", "16:00"),
        minutes=30,
        interviewers=(("Maria Garcia", "maria.garcia@globex.com"),),
        organizer="scheduling@hire.lever.co",
        role="Backend Engineer",
        thanked_at=None,
    ),
    Interview(
        title="Initech - Technical interview (Backend Engineer)",
        start=_ny("2025-02-27", "11:00"),
        minutes=60,
        interviewers=(("Wei Zhang", "wei.zhang@initech.com"),),
        organizer="no-reply@ashbyhq.com",
        role="Backend Engineer",
        thanked_at=_ny("2025-02-27", "14:00"),
    ),
    Interview(
        title="Hiring manager interview - Umbrella",
        start=_ny("2025-03-03", "13:00"),
        minutes=60,
        interviewers=(("Samuel Okafor", "samuel.okafor@umbrella.co"),),
        organizer="no-reply@greenhouse.io",
        role="Engineering Manager",
        thanked_at=_ny("2025-03-03", "16:00"),
    ),
    Interview(
        title="Hooli final round",
        start=_ny("2025-03-04", "10:00"),
        minutes=120,
        interviewers=(
            ("Aisha Khan", "aisha.khan@hooli.xyz"),
            ("Tomasz Nowak", "tomasz.nowak@hooli.xyz"),
        ),
        organizer="notifications@goodtime.io",
        role="Staff Software Engineer",
        thanked_at=_ny("2025-03-04", "15:00"),
    ),
)


# --- building a mailbox --------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc5322_date(ts: int) -> str:
    """An RFC 5322 date in UTC, without the locale-dependent strftime names."""
    t = time.gmtime(ts)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


@dataclass(frozen=True, slots=True)
class Mail:
    ts: int
    sent: bool
    sender: str
    to: str
    subject: str
    body: str
    message_id: str
    extra_headers: str = ""
    unread: bool = False

    def render(self) -> bytes:
        return (
            f"From: {self.sender}\nTo: {self.to}\nSubject: {self.subject}\n"
            f"Date: {rfc5322_date(self.ts)}\nMessage-ID: {self.message_id}\n{self.extra_headers}"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            f"{self.body}"
        ).encode()


def _user() -> str:
    return f"{USER_NAME} <{USER_ADDRESS}>"


def interview_mail() -> list[Mail]:
    """The invitations and the user's own thank-you notes around the five interviews."""
    mails: list[Mail] = []
    for n, iv in enumerate(INTERVIEWS):
        domain = iv.interviewers[0][1].rpartition("@")[2]
        company = domain.split(".")[0].title()
        invited = int((iv.start - timedelta(days=5)).timestamp())
        mails.append(
            Mail(
                invited,
                False,
                f"Elena Petrova <elena.petrova@{domain}>",
                _user(),
                f"Interview confirmation: {iv.title}",
                f"Hi Alex,\n\nThis confirms your interview for the {iv.role} role at {company}. "
                "You will receive a calendar invitation shortly.\n\nBest,\nElena\n",
                f"<invite{n}@{domain}>",
            )
        )
        if iv.thanked_at is None:
            continue
        for m, (name, address) in enumerate(iv.interviewers):
            first = name.split()[0]
            mails.append(
                Mail(
                    int((iv.thanked_at + timedelta(minutes=m)).timestamp()),
                    True,
                    _user(),
                    f"{name} <{address}>",
                    f"Thank you - {iv.role} interview",
                    f"Hi {first},\n\nThank you for taking the time to talk with me today about the "
                    f"{iv.role} role. I enjoyed the conversation.\n\nBest,\nAlex\n",
                    f"<thanks{n}.{m}@{OWN_DOMAIN}>",
                )
            )
    return mails


def noise_mail(rng: random.Random, index: int, ts: int) -> Mail:
    """Ordinary mail: newsletters, colleagues, friends, other companies; never an interview's."""
    sent = rng.random() < SENT_SHARE
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if rng.random() < 0.5:
        other = f"{first} {last} <{first.lower()}.{last.lower()}@{OWN_DOMAIN}>"
    else:
        name, address = rng.choice(NOISE_SENDERS)
        other = f"{name} <{address}>"
    sender, to = (_user(), other) if sent else (other, _user())
    return Mail(
        ts,
        sent,
        sender,
        to,
        rng.choice(NOISE_SUBJECTS),
        rng.choice(NOISE_BODIES),
        f"<n{index}.{rng.getrandbits(32):08x}@{'sent' if sent else 'mail'}.bench>",
    )


def calendar_bytes() -> bytes:
    """calendar.ics: the five interviews and some noise, written with the provider's own writer."""
    from providers.ical import events_to_ics

    return events_to_ics(calendar_events())


def calendar_events() -> list[CalendarEvent]:
    """The five interviews, look-alikes, ordinary meetings and an all-day event."""
    from mailagent.core.models import Attendee, CalendarEvent, Person, ResponseStatus

    me = Attendee(USER_NAME, USER_ADDRESS, response=ResponseStatus.ACCEPTED)
    events: list[CalendarEvent] = []
    for n, iv in enumerate(INTERVIEWS):
        uid = f"interview-{n}@bench"
        events.append(
            CalendarEvent(
                id=uid,
                uid=uid,
                title=iv.title,
                start=iv.start,
                end=iv.start + timedelta(minutes=iv.minutes),
                organizer=Person("", iv.organizer),
                attendees=(
                    me,
                    *(
                        Attendee(name, address, response=ResponseStatus.ACCEPTED)
                        for name, address in iv.interviewers
                    ),
                ),
                description=f"Your interview for the {iv.role} role.\nPosition: {iv.role}",
                conference_urls=(f"https://zoom.us/j/9{n}1234567",),
            )
        )
    colleague = Attendee("Lucas Silva", f"lucas.silva@{OWN_DOMAIN}")
    noise = (
        ("Weekly sync", "10:30", 30, (me, colleague), Person("Lucas Silva", colleague.address)),
        (
            "User research interview - Contoso",
            "13:00",
            60,
            (me, Attendee("Dana Fox", "dana.fox@contoso.com")),
            Person("Dana Fox", "dana.fox@contoso.com"),
        ),
        (
            "Podcast interview: The Data Show",
            "17:00",
            45,
            (me, Attendee("Sam Host", "sam@datashow.fm")),
            Person("Sam Host", "sam@datashow.fm"),
        ),
        (
            "Interview: candidate Chloe Martin (Backend Engineer)",
            "11:00",
            60,
            (me, colleague, Attendee("Chloe Martin", "chloe.martin@gmail.com")),
            Person("Recruiting", f"recruiting@{OWN_DOMAIN}"),
        ),
        (
            "Sales call with Vandelay",
            "15:00",
            30,
            (me, Attendee("Art Vandelay", "art@vandelay.com")),
            Person("Art Vandelay", "art@vandelay.com"),
        ),
        ("Dentist", "08:00", 60, (), None),
    )
    day = _ny("2025-02-17", "00:00")
    for n in range(24):  # weekdays from mid-February to the end of March
        when = day + timedelta(days=n + 2 * (n // 5))
        title, clock, minutes, attendees, organizer = noise[n % len(noise)]
        start = _ny(when.date().isoformat(), clock)
        uid = f"noise-{n}@bench"
        events.append(
            CalendarEvent(
                id=uid,
                uid=uid,
                title=title,
                start=start,
                end=start + timedelta(minutes=minutes),
                organizer=organizer,
                attendees=attendees,
            )
        )
    holiday = _ny("2025-03-07", "00:00")
    events.append(
        CalendarEvent(
            id="allday@bench",
            uid="allday@bench",
            title="Out of office",
            start=holiday,
            end=holiday + timedelta(days=1),
            all_day=True,
        )
    )
    return events


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def generate_mail(size: int, rng: random.Random) -> Iterator[Mail]:
    """`size` messages: the recent interview and ordinary mail first, then old mail."""
    now_ts = int(NOW.timestamp())
    recent = interview_mail()
    recent_span = int(RECENT_SPAN.total_seconds())
    while len(recent) < RECENT_MESSAGES:
        index = len(recent)
        mail = noise_mail(rng, index, now_ts - rng.randrange(3600, recent_span))
        recent.append(mail if mail.sent or rng.random() < 0.7 else _unread(mail))
    old_from, old_to = (int((NOW - d).timestamp()) for d in OLD_SPAN)
    for index in range(size):
        if index < len(recent):
            yield recent[index]
        else:
            yield noise_mail(rng, index, rng.randrange(old_from, old_to))


def build_mailbox(target: Path, size: int, seed: int) -> dict[str, int]:
    """Write a Maildir of `size` messages and calendar.ics into `target`; progress on stderr."""
    rng = random.Random(seed)
    mail_root = target / "Mail"
    for folder in ("INBOX", "Sent", "Drafts"):
        for sub in ("cur", "new", "tmp"):
            (mail_root / folder / sub).mkdir(parents=True, exist_ok=True)
    _write(target / "calendar.ics", calendar_bytes())

    counts = {"inbox": 0, "sent": 0, "recent": RECENT_MESSAGES, "old": size - RECENT_MESSAGES}
    step = max(1, size // 10)
    for index, mail in enumerate(generate_mail(size, rng)):
        folder = "Sent" if mail.sent else "INBOX"
        counts["sent" if mail.sent else "inbox"] += 1
        unique = f"{mail.ts}.B{index:07d}R{rng.getrandbits(24):06x}.{HOST}"
        path = mail_root / folder / ("new" if mail.unread else "cur")
        _write(path / (unique if mail.unread else f"{unique}:2,S"), mail.render())
        if (index + 1) % step == 0:
            print(f"  built {index + 1}/{size} messages", file=sys.stderr, flush=True)
    return counts


def _unread(mail: Mail) -> Mail:
    return Mail(
        mail.ts,
        mail.sent,
        mail.sender,
        mail.to,
        mail.subject,
        mail.body,
        mail.message_id,
        mail.extra_headers,
        unread=True,
    )


def cached_mailbox(cache_dir: Path, size: int, seed: int) -> tuple[Path, float, bool]:
    """The cached mailbox of this size (built if missing); returns it, the seconds its build
    took (then or now), and whether it came from the cache."""
    target = cache_dir / f"maildir-v{GENERATOR_VERSION}-seed{seed}-{size}"
    marker = target / ".complete"
    if marker.exists():
        built = json.loads(marker.read_text(encoding="utf-8"))
        return target, float(built.get("build_s", 0.0)), True
    if target.exists():
        shutil.rmtree(target)
    print(f"building a Maildir of {size} messages in {target}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    counts = build_mailbox(target, size, seed)
    seconds = time.perf_counter() - start
    marker.write_text(json.dumps({**counts, "build_s": round(seconds, 3)}), encoding="utf-8")
    return target, seconds, False


def run_folder(mailbox: Path) -> Path:
    """A folder to sync in: INBOX and Sent link to the cache; Drafts and the state are new."""
    run = Path(tempfile.mkdtemp(prefix="mailagent-sync-cost-"))
    (run / "Mail").mkdir()
    for folder in ("INBOX", "Sent"):
        (run / "Mail" / folder).symlink_to(mailbox / "Mail" / folder, target_is_directory=True)
    for sub in ("cur", "new", "tmp"):
        (run / "Mail" / "Drafts" / sub).mkdir(parents=True)
    shutil.copy2(mailbox / "calendar.ics", run / "calendar.ics")
    return run


# --- measuring (in a child interpreter, one per size) --------------------------------------------


def maxrss_mb() -> float:
    """Peak resident set size of this process; Linux reports KiB (macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measure(run: Path) -> dict[str, Any]:
    """First sync and no-change sync of the mailbox in `run`, through the real runner."""
    from mailagent.config import AccountConfig, Config
    from mailagent.core.compose import TemplateComposer
    from mailagent.runner import sync_account
    from mailagent.store import Store
    from mailagent.wiring import build_account

    config = AccountConfig(
        name="bench",
        provider="maildir",
        address=USER_ADDRESS,
        user_name=USER_NAME,
        maildir=run / "Mail",
        calendar=run / "calendar.ics",
        policy="standard",
        timezone=TIMEZONE,
    )
    base = Config(state=run / "state.db", accounts=(config,), base_dir=run)
    store = Store(base.state)
    composer = TemplateComposer()
    try:
        start = time.perf_counter()
        first = sync_account(store, build_account(config, base, NOW), composer, NOW)
        first_s = time.perf_counter() - start
        later = NOW + NO_CHANGE_AFTER
        start = time.perf_counter()
        again = sync_account(store, build_account(config, base, later), composer, later)
        again_s = time.perf_counter() - start
    finally:
        store.close()
    return {
        "first_sync_requests": first.requests,
        "first_sync_s": round(first_s, 3),
        "no_change_requests": again.requests,
        "no_change_s": round(again_s, 3),
        **outcome(first, again),
    }


def outcome(first: Any, again: Any) -> dict[str, Any]:
    """What both providers report of a first and a no-change `SyncResult`."""
    errors = [f"{r.error} {r.advice}".strip() for r in (first, again) if not r.ok]
    return {
        "peak_rss_mb": round(maxrss_mb(), 1),
        "drafts_created": len(first.drafted),
        "no_change_drafts": len(again.drafted),
        "interviews": first.interviews,
        "drafts": sorted(f"{d.kind}:{d.to}" for d in first.drafted),
        "skipped": len(first.skipped) + len(again.skipped),
        "ok": not errors,
        "error": "; ".join(errors),
    }


LATENCY = 0.05
"""Seconds the API emulators wait before each answer: a round trip to Google or Microsoft."""


def measure_gmail(size: int, seed: int) -> dict[str, Any]:
    """The mailbox loaded into the Gmail/Calendar emulator, synced through the Gmail provider."""
    from google.oauth2.credentials import Credentials

    from providers.emulators import GoogleEmulator
    from providers.emulators.google_scenario import event_resource
    from providers.gmail import GmailProvider, GoogleEndpoints

    with GoogleEmulator(user_address=USER_ADDRESS) as emulator:

        def deliver(mail: Mail) -> None:
            labels = ["SENT"] if mail.sent else ["INBOX", *(["UNREAD"] if mail.unread else [])]
            emulator.add_message(mail.render().replace(b"\n", b"\r\n"), labels)

        def provider(now: datetime, user: Any) -> Any:
            return GmailProvider(
                Credentials(token=emulator.static_token),
                user=user,
                timezone=ZONE,
                clock=lambda: now,
                account="bench",
                endpoints=GoogleEndpoints.at(emulator.base_url),
            )

        row = _measure_api(emulator, size, seed, deliver, event_resource, provider)
        row["first_sync_quota_units"] = sum(row.pop("first_stats").quota_units.values())
        row["no_change_quota_units"] = sum(row.pop("again_stats").quota_units.values())
        return row


def measure_outlook(size: int, seed: int) -> dict[str, Any]:
    """The mailbox loaded into the Microsoft Graph emulator, synced through the Outlook
    provider (Graph has no quota units)."""
    from providers.emulators.graph import GraphEmulator
    from providers.emulators.graph_scenario import event_resource
    from providers.outlook import OutlookProvider

    with GraphEmulator(user_address=USER_ADDRESS) as emulator:

        def deliver(mail: Mail) -> None:
            folder = "sentitems" if mail.sent else "inbox"
            emulator.add_message(mail.render().replace(b"\n", b"\r\n"), folder)

        def provider(now: datetime, user: Any) -> Any:
            return OutlookProvider(
                lambda fresh: emulator.static_token,
                user=user,
                timezone=ZONE,
                clock=lambda: now,
                account="bench",
                base_url=emulator.base_url,
            )

        row = _measure_api(emulator, size, seed, deliver, event_resource, provider)
        del row["first_stats"], row["again_stats"]
        return row


def _measure_api(
    emulator: Any,
    size: int,
    seed: int,
    deliver: Callable[[Mail], None],
    event_resource: Callable[[Any, str], dict[str, Any]],
    make_provider: Callable[[datetime, Any], Any],
) -> dict[str, Any]:
    """Loads the generated mailbox into a running API emulator, then syncs it twice through
    the real runner over loopback HTTP with `LATENCY` per request; counts come from the
    emulator (`first_stats` and `again_stats` are its counters, for the caller to read)."""
    from mailagent.core.compose import TemplateComposer
    from mailagent.core.detect import UserIdentity
    from mailagent.core.policy import load_policy
    from mailagent.runner import Account, sync_account
    from mailagent.store import Store

    emulator.now = NOW
    start = time.perf_counter()
    for mail in generate_mail(size, random.Random(seed)):
        deliver(mail)
    for event in calendar_events():
        emulator.put_event(event_resource(event, USER_ADDRESS))
    load_s = time.perf_counter() - start
    emulator.latency = LATENCY
    user = UserIdentity(USER_ADDRESS, USER_NAME)
    run = Path(tempfile.mkdtemp(prefix="mailagent-sync-cost-"))
    store = Store(run / "state.db")
    composer = TemplateComposer()

    def sync(now: datetime) -> tuple[Any, float, Any]:
        provider = make_provider(now, user)
        account = Account("bench", provider, user, load_policy("standard"), TIMEZONE)
        emulator.reset_stats()
        began = time.perf_counter()
        try:
            result = sync_account(store, account, composer, now)
        finally:
            provider.close()
        return result, time.perf_counter() - began, emulator.stats

    try:
        first, first_s, first_stats = sync(NOW)
        again, again_s, again_stats = sync(NOW + NO_CHANGE_AFTER)
    finally:
        store.close()
        shutil.rmtree(run, ignore_errors=True)
    return {
        "first_sync_requests": first_stats.http_requests,
        "first_sync_calls": dict(first_stats.calls),
        "first_sync_s": round(first_s, 3),
        "no_change_requests": again_stats.http_requests,
        "no_change_s": round(again_s, 3),
        "latency_ms": round(LATENCY * 1000),
        **outcome(first, again),
        "load_s": round(load_s, 3),
        "first_stats": first_stats,
        "again_stats": again_stats,
    }


ONE_NEW_MAIL = (
    b"From: Newsletter <news@example.org>\r\nTo: " + USER_ADDRESS.encode() + b"\r\n"
    b"Subject: This week\r\nMessage-ID: <one-new@example.org>\r\n"
    b"Date: Wed, 12 Mar 2025 19:30:00 +0000\r\n\r\nNothing about interviews.\r\n"
)
"""The mail that arrives before the IMAP benchmark's last sync (its cost: one new message)."""


def measure_imap(size: int, seed: int) -> dict[str, Any]:
    """The mailbox written into a real Dovecot server's Maildir (then indexed), the calendar
    as an .ics file; synced through the IMAP provider on loopback (no added latency: the
    counts that matter are commands and bytes). Dovecot must be installed (dovecot-imapd)."""
    from mailagent.core.compose import TemplateComposer
    from mailagent.core.detect import UserIdentity
    from mailagent.core.policy import load_policy
    from mailagent.runner import Account, sync_account
    from mailagent.store import Store
    from providers.ics_source import IcsFileSource
    from providers.imap import ImapProvider, ImapSettings
    from providers.testservers.dovecot import DovecotServer

    user = UserIdentity(USER_ADDRESS, USER_NAME)
    run = Path(tempfile.mkdtemp(prefix="mailagent-sync-cost-"))
    calendar = run / "calendar.ics"
    calendar.write_bytes(calendar_bytes())
    with DovecotServer(USER_ADDRESS) as server:
        start = time.perf_counter()
        with server.connect() as client:  # Dovecot makes the Maildir and its folders
            for name in ("INBOX", "Sent", "Drafts"):
                client.select_folder(name)
        root = server.maildir()
        for index, mail in enumerate(generate_mail(size, random.Random(seed))):
            data = mail.render()
            folder = root / ".Sent" / "cur" if mail.sent else root / "cur"
            flags = "S" if mail.sent or not mail.unread else ""
            name = f"{mail.ts}.M{index}P{os.getpid()}.bench,S={len(data)}:2,{flags}"
            _write(folder / name, data)
            server.chown_mail(folder / name)
            os.utime(folder / name, (mail.ts, mail.ts))
        server.doveadm("force-resync", "-u", USER_ADDRESS, "*")
        load_s = time.perf_counter() - start
        store = Store(run / "state.db")
        composer = TemplateComposer()

        def sync(now: datetime) -> tuple[Any, float, int, int]:
            settings = ImapSettings(
                host=server.host,
                port=server.port,
                security="plain",
                username=USER_ADDRESS,
                password=server.password,
            )
            provider = ImapProvider(
                settings,
                user=user,
                timezone=ZONE,
                calendar=IcsFileSource(calendar, ZONE),
                clock=lambda: now,
                account="bench",
            )
            account = Account("bench", provider, user, load_policy("standard"), TIMEZONE)
            began = time.perf_counter()
            try:
                result = sync_account(store, account, composer, now)
            finally:
                provider.close()
            return result, time.perf_counter() - began, provider.commands, provider.bytes_received

        try:
            first, first_s, first_commands, first_bytes = sync(NOW)
            # the next sync sees the Drafts folder changed by the first one's drafts
            _, _, settle_commands, _ = sync(NOW + NO_CHANGE_AFTER / 2)
            again, again_s, again_commands, again_bytes = sync(NOW + NO_CHANGE_AFTER)
            with server.connect() as client:
                client.append("INBOX", ONE_NEW_MAIL, msg_time=NOW + NO_CHANGE_AFTER)
            _, new_s, new_commands, new_bytes = sync(NOW + 2 * NO_CHANGE_AFTER)
        finally:
            store.close()
            shutil.rmtree(run, ignore_errors=True)
    return {
        "first_sync_requests": first_commands,
        "first_sync_bytes": first_bytes,
        "first_sync_s": round(first_s, 3),
        "after_own_drafts_requests": settle_commands,
        "no_change_requests": again_commands,
        "no_change_bytes": again_bytes,
        "no_change_s": round(again_s, 3),
        "one_new_requests": new_commands,
        "one_new_bytes": new_bytes,
        "one_new_s": round(new_s, 3),
        **outcome(first, again),
        "load_s": round(load_s, 3),
    }


API_MEASURES = {"gmail": measure_gmail, "outlook": measure_outlook, "imap": measure_imap}


def measure_size(
    provider: str, size: int, cache_dir: Path, seed: int, keep: bool
) -> dict[str, Any]:
    if provider in API_MEASURES:
        measured = _child(provider, ["--measure-size", str(size), "--seed", str(seed)], size)
        return {
            "provider": provider,
            "messages": size,
            **measured,
            "build_s": measured["load_s"],
            "cached": False,
        }
    mailbox, build_s, cached = cached_mailbox(cache_dir, size, seed)
    run = run_folder(mailbox)
    try:
        measured = _child(provider, ["--measure", str(run)], size)
    finally:
        if keep:
            print(f"kept the run folder {run}", file=sys.stderr)
        else:
            shutil.rmtree(run, ignore_errors=True)
    return {
        "provider": provider,
        "messages": size,
        **measured,
        "build_s": round(build_s, 3),
        "cached": cached,
    }


def _child(provider: str, args: list[str], size: int) -> dict[str, Any]:
    """Measures in a fresh interpreter, so that the peak RSS belongs to this size alone."""
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--provider", provider, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        raise SystemExit(f"measuring {size} messages failed (exit status {child.returncode})")
    measured: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return measured


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--sizes wants numbers like 2000,20000: {text!r}"
        ) from exc
    if not sizes or any(s < RECENT_MESSAGES for s in sizes):
        raise argparse.ArgumentTypeError(
            f"every size must be at least {RECENT_MESSAGES} (the recent mail every mailbox holds)"
        )
    return sizes


TABLE_COLUMNS = (
    ("messages", "messages", "{}"),
    ("first_sync_requests", "first reads", "{}"),
    ("first_sync_s", "  first s", "{:.2f}"),
    ("no_change_requests", "no-change reads", "{}"),
    ("no_change_s", "no-change s", "{:.3f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.1f}"),
    ("drafts_created", "drafts", "{}"),
    ("build_s", " build s", "{:.2f}"),
)
"""(key, column title, format); cells are right-aligned to the title."""
API_COLUMNS = (
    ("messages", "messages", "{}"),
    ("first_sync_requests", "first HTTP", "{}"),
    ("first_sync_quota_units", "first units", "{}"),
    ("first_sync_s", "  first s", "{:.2f}"),
    ("no_change_requests", "no-change HTTP", "{}"),
    ("no_change_quota_units", "no-change units", "{}"),
    ("no_change_s", "no-change s", "{:.3f}"),
    ("drafts_created", "drafts", "{}"),
    ("build_s", " load s", "{:.2f}"),
)
GRAPH_COLUMNS = tuple(c for c in API_COLUMNS if "quota" not in c[0])
IMAP_COLUMNS = (
    ("messages", "messages", "{}"),
    ("first_sync_requests", "first commands", "{}"),
    ("first_sync_bytes", "first bytes", "{}"),
    ("first_sync_s", "  first s", "{:.2f}"),
    ("no_change_requests", "no-change commands", "{}"),
    ("no_change_bytes", "no-change bytes", "{}"),
    ("no_change_s", "no-change s", "{:.3f}"),
    ("one_new_requests", "one-new commands", "{}"),
    ("one_new_bytes", "one-new bytes", "{}"),
    ("drafts_created", "drafts", "{}"),
    ("build_s", " load s", "{:.2f}"),
)
NO_CHANGE_REQUESTS = {"maildir": 0, "gmail": 2, "outlook": 1, "imap": 6}
"""What a no-change sync should cost: no file read; one history and one calendar call for
Gmail; one `$batch` of the delta queries for Outlook; LOGIN, LIST, three STATUS and LOGOUT
for IMAP."""


def _columns(provider: str) -> tuple[tuple[str, str, str], ...]:
    columns = {"maildir": TABLE_COLUMNS, "gmail": API_COLUMNS, "imap": IMAP_COLUMNS}
    return columns.get(provider, GRAPH_COLUMNS)


def _check(rows: Sequence[dict[str, Any]]) -> list[str]:
    warnings: list[str] = []
    for row in rows:
        size = row["messages"]
        if not row["ok"]:
            warnings.append(f"{size} messages: a sync failed: {row['error']}")
        if row["drafts_created"] < MIN_DRAFTS:
            warnings.append(
                f"{size} messages: only {row['drafts_created']} drafts were created "
                f"(expected {EXPECTED_DRAFTS}): {row['drafts']}"
            )
        expected = NO_CHANGE_REQUESTS[row["provider"]]
        if row["no_change_requests"] != expected or row["no_change_drafts"]:
            warnings.append(
                f"{size} messages: the no-change sync made {row['no_change_requests']} "
                f"requests and created {row['no_change_drafts']} drafts (expected {expected} and 0)"
            )
    if len({tuple(r["drafts"]) for r in rows}) > 1:
        warnings.append(
            "the drafts differ between sizes: "
            + "; ".join(f"{r['messages']}: {r['drafts']}" for r in rows)
        )
    if len({r["first_sync_requests"] for r in rows}) > 1:
        warnings.append(
            "first-sync files read grow with the mailbox: "
            + ", ".join(f"{r['messages']}: {r['first_sync_requests']}" for r in rows)
        )
    return warnings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--provider", required=True, help=f"one of {', '.join(PROVIDERS)}")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help=f"mailbox sizes in messages, comma-separated (default {DEFAULT_SIZES}; "
        f"for imap {IMAP_SIZES})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mailagent-bench-cache",
        help="where generated mailboxes are kept between runs",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated mail")
    parser.add_argument("--keep", action="store_true", help="keep each run folder (Drafts, state)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = _sizes(IMAP_SIZES if args.provider == "imap" else DEFAULT_SIZES)

    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return 0
    if args.measure_size is not None:
        print(json.dumps(API_MEASURES[args.provider](args.measure_size, args.seed)))
        return 0
    if args.provider not in ("maildir", *API_MEASURES):
        print(f"unknown provider {args.provider}; one of {', '.join(PROVIDERS)}", file=sys.stderr)
        return 2

    args.cache_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    if not args.json:
        print(
            f"sync cost, provider {args.provider} ({os.cpu_count()} cores), now {NOW.isoformat()}"
        )
        print(" ".join(title for _, title, _ in _columns(args.provider)))
    for size in args.sizes:
        row = measure_size(args.provider, size, args.cache_dir, args.seed, args.keep)
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            cells = (
                fmt.format(row[key]).rjust(len(title))
                for key, title, fmt in _columns(args.provider)
            )
            print(" ".join(cells), flush=True)
    for warning in _check(rows):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
