"""One rig per provider for the chaos campaign (`chaos.py`): a fresh mailbox per run on a
server reused across runs, a provider built the way the CLI builds it (one per sync, retries
without sleeping), the faults that provider can meet, and a snapshot of its Drafts folder.

Faults come from what the test doubles already offer: the emulators' `inject` (429/403/5xx
storms, "drop" and "drop-after", the latter being a lost answer: the server made the draft and
the client never heard), their cursor and token expiry, Dovecot's `kill_connections` and
`change_uidvalidity`. What no double offers is done at the provider seam: a lost answer on
Maildir and IMAP (the write happens, then the call raises `Transient`), a kill -9 at one of
the runner's crash points (`Killed`, raised where `MAILAGENT_CRASH_AT` would exit), and a
calendar file that is empty for one sync.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from mailagent import runner
from mailagent.core.compose import TemplateComposer
from mailagent.core.detect import UserIdentity
from mailagent.core.models import CalendarEvent, DraftContent, DraftRequest, Folder, Message
from mailagent.errors import Transient
from mailagent.scenario import MaildirMailbox, Scenario, ScenarioMailbox
from providers.base import Provider
from providers.ical import events_to_ics
from providers.mime import parse_message
from providers.testservers.chaos_script import HOSTILE_KINDS_ALL, HOSTILE_KINDS_ICS

__all__ = [
    "COMMON_FAULTS",
    "ChaosComposer",
    "GmailRig",
    "GraphRig",
    "ImapRig",
    "Killed",
    "MaildirRig",
    "Rig",
    "Seen",
    "arm_kill",
]

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

COMMON_FAULTS = ("kill", "state-loss", "state-zero")
"""Faults every rig meets; the campaign applies them itself (see `chaos.py`)."""


class Killed(BaseException):
    """A simulated kill -9: raised at a runner crash point, it passes every `except Exception`
    and leaves the state store as a killed process would (each store step is its own
    transaction; an open one rolls back)."""


@dataclass
class _KillSwitch:
    step: str | None = None
    left: int = 0

    def __call__(self, step: str) -> None:
        if step == self.step:
            self.left -= 1
            if self.left <= 0:
                self.step = None
                raise Killed(step)


_SWITCH = _KillSwitch()


def arm_kill(step: str | None, occurrence: int = 1) -> None:
    """Kill the next sync at the `occurrence`-th time it reaches crash point `step` (None:
    disarm). Replaces the runner's `_crash_point` hook (which exits on MAILAGENT_CRASH_AT) once
    per process."""
    if getattr(runner, "_crash_point", None) is not _SWITCH:
        setattr(runner, "_crash_point", _SWITCH)  # noqa: B010 (the runner's crash hook)
    _SWITCH.step, _SWITCH.left = step, occurrence


@dataclass(frozen=True, slots=True)
class Seen:
    """One draft in the Drafts folder: its provider id, the agent's key (empty: none), its
    recipients and a fingerprint of what the user sees (subject and text)."""

    id: str
    key: str
    to: tuple[str, ...]
    fingerprint: str


def _seen(message: Message) -> Seen:
    digest = hashlib.sha256(f"{message.subject}\n{message.snippet}".encode()).hexdigest()[:16]
    return Seen(message.id, message.agent_key, tuple(p.address for p in message.to), digest)


class ChaosComposer(TemplateComposer):
    """Composes drafts, running `hooks[n]` first when composing the n-th draft of a sync (1 is
    the first): faults that must strike in the middle of a sync's writes."""

    def __init__(self) -> None:
        super().__init__()
        self.hooks: dict[int, Callable[[], None]] = {}
        self.composed = 0

    def compose(self, request: DraftRequest) -> DraftContent:
        self.composed += 1
        hook = self.hooks.pop(self.composed, None)
        if hook is not None:
            hook()
        return super().compose(request)

    def reset(self) -> None:
        self.hooks.clear()
        self.composed = 0


def lose_answer(provider: Provider, nth: int) -> None:
    """The `nth` `create_draft` of this provider writes its draft, then raises `Transient` as
    a connection that drops before the answer does: the outcome is unknown to the caller."""
    write = provider.create_draft
    calls = count(1)

    def losing(content: DraftContent, key: str) -> str:
        made = write(content, key)
        if next(calls) == nth:
            raise Transient("connection lost before the answer (chaos)")
        return made

    setattr(provider, "create_draft", losing)  # noqa: B010 (an instance's method, on purpose)


class Rig:
    """What the campaign needs of a provider. Subclasses set the class attributes and build."""

    provider_name: ClassVar[str]
    fault_kinds: ClassVar[tuple[str, ...]]
    hostile_kinds: ClassVar[tuple[str, ...]] = HOSTILE_KINDS_ALL
    file_calendar: ClassVar[bool] = False

    def __init__(self) -> None:
        self.composer = ChaosComposer()
        self._scenario: Scenario | None = None
        self.root = Path()
        self.extra_ics = b""
        self.blank_calendar = False
        self.lost_answer = 0
        """Make the n-th draft write of the next sync lose its answer (0: none)."""
        self._events: list[CalendarEvent] = []
        self._ics: dict[str, bytes] = {}
        self._seen: dict[tuple[str, str], Seen] = {}

    # -- runs --

    def begin(self, scenario: Scenario, root: Path) -> None:
        """A fresh, empty mailbox for one run (its files under `root`)."""
        self._scenario, self.root = scenario, root
        self.extra_ics, self.blank_calendar, self.lost_answer = b"", False, 0
        self._events = []
        self.composer.reset()

    @property
    def scenario(self) -> Scenario:
        if self._scenario is None:
            raise RuntimeError("no run begun")
        return self._scenario

    @property
    def mailbox(self) -> ScenarioMailbox:
        raise NotImplementedError

    def materialize(self, moment: datetime) -> None:
        self.mailbox.materialize(self.scenario, moment)

    def provider(self, now: datetime, zone: str) -> Provider:
        built = self._build(now, ZoneInfo(zone))
        if self.lost_answer:
            lose_answer(built, self.lost_answer)
            self.lost_answer = 0
        return built

    def _build(self, now: datetime, zone: ZoneInfo) -> Provider:
        raise NotImplementedError

    def identity(self) -> UserIdentity:
        user = self.scenario.spec.user
        return UserIdentity(user.address.lower(), user.name)

    def set_zone(self, zone: str) -> None:
        """The account's time zone changed (a calendar service may follow it)."""

    def inject(self, kind: str, rng: random.Random) -> str:
        """Arm fault `kind` (one of `fault_kinds` beyond `COMMON_FAULTS`) for the next sync;
        returns what was armed, for the log."""
        if kind == "lost-answer":
            self.lost_answer = rng.randint(1, 3)
            return f"lost-answer(write {self.lost_answer})"
        if kind == "blank-calendar":
            self.blank_calendar = True
            self._write_calendar_now()
            return kind
        raise ValueError(f"{self.provider_name}: no fault {kind!r}")

    def clear_faults(self) -> None:
        """Disarm what the last sync did not meet, before the recovery syncs."""
        self.lost_answer = 0
        self.composer.reset()
        if self.blank_calendar:
            self.blank_calendar = False
            self._write_calendar_now()

    def end(self) -> None:
        """The run is over (release what `begin` made)."""

    def close(self) -> None:
        """The campaign is over (stop the servers)."""

    def snapshot(self) -> list[Seen]:
        """The drafts in the Drafts folder now."""
        return [_seen(m) for m in self.mailbox.drafts()]

    def _seen_raw(self, draft_id: str, raw: bytes) -> Seen:
        """`Seen` of a raw draft, parsed once per content."""
        token = (draft_id, hashlib.sha256(raw).hexdigest())
        found = self._seen.get(token)
        if found is None:
            message = parse_message(raw, folder=Folder.DRAFTS, id=draft_id, fallback_date=_EPOCH)
            found = self._seen[token] = _seen(message)
        return found

    # -- file calendars (Maildir, IMAP) --

    @property
    def calendar_path(self) -> Path:
        return self.root / "feed.ics"

    def write_calendar(self, events: Sequence[CalendarEvent]) -> None:
        """Publish the scenario's events, with the hostile components spliced in; an empty
        file while `blank_calendar` is set (a sync tool rewriting it)."""
        self._events = list(events)
        self._write_calendar_now()

    def _write_calendar_now(self) -> None:
        if self.blank_calendar:
            data = b""
        else:
            token = repr(self._events)
            if token not in self._ics:
                self._ics = {token: events_to_ics(self._events)}
            data = self._ics[token]
            if self.extra_ics:
                head, _, _ = data.rpartition(b"END:VCALENDAR")
                data = head + self.extra_ics + b"END:VCALENDAR\r\n"
        path = self.calendar_path
        if not path.exists() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(".feed.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)


# --- Maildir ------------------------------------------------------------------------------------


class MaildirRig(Rig):
    provider_name = "maildir"
    fault_kinds = (*COMMON_FAULTS, "lost-answer", "blank-calendar")
    hostile_kinds = (*HOSTILE_KINDS_ALL, *HOSTILE_KINDS_ICS)
    file_calendar = True

    def begin(self, scenario: Scenario, root: Path) -> None:
        super().begin(scenario, root)
        self._mailbox = MaildirMailbox(root)
        # The mailbox delivers the mail; the calendar is the rig's own file (hostile parts).
        self._mail_only = Scenario(scenario.spec.model_copy(update={"events": ()}), scenario.path)

    @property
    def mailbox(self) -> ScenarioMailbox:
        return self._mailbox

    def materialize(self, moment: datetime) -> None:
        self._mailbox.materialize(self._mail_only, moment)
        self.write_calendar(self.scenario.events_at(moment))

    def snapshot(self) -> list[Seen]:
        found = []
        for sub in ("cur", "new"):
            folder = self._mailbox.maildir / "Drafts" / sub
            if folder.is_dir():
                for path in sorted(folder.iterdir()):
                    found.append(self._seen_raw(path.name, path.read_bytes()))
        return found

    def _build(self, now: datetime, zone: ZoneInfo) -> Provider:
        from providers.maildir import MaildirProvider

        identity = self.identity()
        return MaildirProvider(
            root=self._mailbox.maildir,
            calendar=self.calendar_path,
            address=identity.primary.address,
            timezone=zone,
            user_name=identity.primary.name,
            clock=lambda: now,
        )


# --- Gmail (the Google emulator) ----------------------------------------------------------------


class GmailRig(Rig):
    provider_name = "gmail"
    fault_kinds = (
        *COMMON_FAULTS,
        "storm",
        "drop-after",
        "expire-history",
        "expire-sync-token",
        "expire-tokens",
    )
    STORM_KINDS = ("429", "403-rate", "403-user-rate", "500", "503", "drop")
    METHODS = (
        None,
        "gmail.users.messages.list",
        "gmail.users.messages.get",
        "gmail.users.history.list",
        "gmail.users.drafts.create",
        "gmail.users.drafts.list",
        "gmail.users.getProfile",
        "calendar.events.list",
    )

    def __init__(self) -> None:
        super().__init__()
        self.emulator: Any = None

    def begin(self, scenario: Scenario, root: Path) -> None:
        from providers.emulators.google import GoogleEmulator
        from providers.emulators.google_scenario import GoogleScenarioMailbox

        super().begin(scenario, root)
        self.end()
        user = scenario.spec.user
        self.emulator = GoogleEmulator(user_address=user.address, time_zone=user.timezone).start()
        self._mailbox = GoogleScenarioMailbox(self.emulator)

    @property
    def mailbox(self) -> ScenarioMailbox:
        return self._mailbox

    def _build(self, now: datetime, zone: ZoneInfo) -> Provider:
        from google.oauth2.credentials import Credentials

        from providers.gmail import GmailProvider, GoogleEndpoints
        from providers.retry import RetryPolicy

        emulator = self.emulator
        credentials = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=emulator.refresh_token,
            token_uri=emulator.token_uri,
            client_id="chaos",
            client_secret="chaos",  # noqa: S106 (the emulator's, not a secret)
        )
        return GmailProvider(
            credentials,
            user=self.identity(),
            timezone=zone,
            clock=lambda: now,
            account="chaos",
            endpoints=GoogleEndpoints.at(emulator.base_url),
            retry=RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.01),
            sleep=lambda _: None,
        )

    def set_zone(self, zone: str) -> None:
        self.emulator.time_zone = zone

    def snapshot(self) -> list[Seen]:
        return [self._seen_raw(draft_id, raw) for draft_id, raw in self.emulator.drafts()]

    def inject(self, kind: str, rng: random.Random) -> str:
        emulator = self.emulator
        if kind == "storm":
            what, method, times = (
                rng.choice(self.STORM_KINDS),
                rng.choice(self.METHODS),
                rng.randint(1, 10),
            )
            emulator.inject(what, method=method, times=times)
            return f"storm({what} x{times} on {method or 'any'})"
        if kind == "drop-after":
            times = rng.randint(1, 3)
            emulator.inject("drop-after", method="gmail.users.drafts.create", times=times)
            return f"drop-after(drafts.create x{times})"
        if kind == "expire-history":
            emulator.expire_history()
        elif kind == "expire-sync-token":
            emulator.expire_sync_tokens()
        elif kind == "expire-tokens":
            emulator.expire_tokens()
        else:
            return super().inject(kind, rng)
        return kind

    def clear_faults(self) -> None:
        super().clear_faults()
        with self.emulator.lock:
            self.emulator._backend.faults.clear()

    def end(self) -> None:
        if self.emulator is not None:
            self.emulator.close()
            self.emulator = None


# --- Outlook (the Graph emulator) ---------------------------------------------------------------


@dataclass
class _Tokens:
    """A host application's token provider: the emulator's token, a new one when asked."""

    emulator: Any
    current: str = ""
    refreshes: int = 0
    issued: list[str] = field(default_factory=list)

    def __call__(self, force_refresh: bool) -> str:
        if force_refresh or not self.current:
            self.current = self.emulator.issue_token()
        return self.current


class GraphRig(Rig):
    provider_name = "graph"
    fault_kinds = (*COMMON_FAULTS, "storm", "drop-after", "expire-delta", "expire-tokens")
    STORM_KINDS = ("429", "503", "500", "drop")
    OPERATIONS = (
        None,
        "messages.delta",
        "calendarView.delta",
        "messages.get",
        "messages.create",
        "messages.createReply",
        "messages.patch",
        "messages.list",
    )
    WRITES = ("messages.create", "messages.createReply", "messages.patch")

    def __init__(self) -> None:
        super().__init__()
        self.emulator: Any = None
        self.tokens: _Tokens | None = None
        self._http: Any = None
        self._context = ssl.create_default_context()

    def begin(self, scenario: Scenario, root: Path) -> None:
        from providers.emulators.graph import GraphEmulator
        from providers.emulators.graph_scenario import GraphScenarioMailbox

        super().begin(scenario, root)
        self.end()
        user = scenario.spec.user
        self.emulator = GraphEmulator(user_address=user.address, user_name=user.name).start()
        self.tokens = _Tokens(self.emulator)
        self._mailbox = GraphScenarioMailbox(self.emulator)

    @property
    def mailbox(self) -> ScenarioMailbox:
        return self._mailbox

    def _build(self, now: datetime, zone: ZoneInfo) -> Provider:
        import httpx

        from providers.outlook import OutlookProvider

        if self.tokens is None:
            raise RuntimeError("no run begun")
        if self._http is not None:
            self._http.close()
        # A client per sync, as the CLI has, sharing one TLS context (httpx loads the CA
        # bundle for every client otherwise: 40 ms, for a loopback server without TLS).
        self._http = httpx.Client(timeout=60.0, verify=self._context)
        return OutlookProvider(
            self.tokens,
            http=self._http,
            user=self.identity(),
            timezone=zone,
            clock=lambda: now,
            account="chaos",
            base_url=self.emulator.base_url,
            sleep=lambda _: None,
            base_delay=0.01,
        )

    def inject(self, kind: str, rng: random.Random) -> str:
        emulator = self.emulator
        if kind == "storm":
            what, operation, times = (
                rng.choice(self.STORM_KINDS),
                rng.choice(self.OPERATIONS),
                rng.randint(1, 10),
            )
            emulator.inject(what, operation=operation, times=times, retry_after=0.01)
            return f"storm({what} x{times} on {operation or 'any'})"
        if kind == "drop-after":
            operation, times = rng.choice(self.WRITES), rng.randint(1, 2)
            emulator.inject("drop-after", operation=operation, times=times)
            return f"drop-after({operation} x{times})"
        if kind == "expire-delta":
            emulator.delta_expiry_status = rng.choice((410, 400, 404))
            emulator.expire_delta_tokens()
            return f"expire-delta({emulator.delta_expiry_status})"
        if kind == "expire-tokens":
            emulator.expire_tokens()
            return kind
        return super().inject(kind, rng)

    def clear_faults(self) -> None:
        super().clear_faults()
        with self.emulator.lock:
            self.emulator._backend.faults.clear()

    def end(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.emulator is not None:
            self.emulator.close()
            self.emulator = None


# --- IMAP (Dovecot) with a calendar file --------------------------------------------------------


class ImapRig(Rig):
    provider_name = "imap"
    fault_kinds = (
        *COMMON_FAULTS,
        "lost-answer",
        "drop-connection",
        "uidvalidity",
        "blank-calendar",
    )
    hostile_kinds = (*HOSTILE_KINDS_ALL, *HOSTILE_KINDS_ICS)
    file_calendar = True
    _users = count()

    def __init__(self) -> None:
        super().__init__()
        from providers.testservers.dovecot import DovecotServer

        self.server = DovecotServer()
        self.server.start()
        self.user = ""
        self._client: Any = None
        # One TLS context for every provider built (the provider makes one per connection
        # otherwise, 65 ms each, though this plain-text server never uses it).
        self._context = ssl.create_default_context()

    def _drop_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.shutdown()
            self._client = None

    def begin(self, scenario: Scenario, root: Path) -> None:
        from providers.testservers.imap_scenario import ImapScenarioMailbox

        super().begin(scenario, root)
        self._drop_client()
        self.user = f"chaos{next(self._users)}-{random.getrandbits(24):06x}@example.org"
        self._mailbox = ImapScenarioMailbox(self.server, self.user, calendar=self.write_calendar)

    @property
    def mailbox(self) -> ScenarioMailbox:
        return self._mailbox

    def _build(self, now: datetime, zone: ZoneInfo) -> Provider:
        from providers.ics_source import IcsFileSource
        from providers.imap import ImapProvider, ImapSettings

        settings = ImapSettings(
            host="127.0.0.1",
            port=self.server.port,
            security="plain",
            username=self.user,
            password=self.server.password,
            ssl_context=self._context,
        )
        return ImapProvider(
            settings,
            user=self.identity(),
            timezone=zone,
            calendar=IcsFileSource(self.calendar_path, zone),
            clock=lambda: now,
            account="chaos",
        )

    def snapshot(self) -> list[Seen]:
        """Through one connection kept for the run (a new one when a fault dropped it)."""
        for attempt in (1, 2):
            try:
                if self._client is None:
                    self._client = self.server.connect(self.user)
                client = self._client
                status = client.select_folder("Drafts", readonly=True)
                validity = status.get(b"UIDVALIDITY", 0)
                uids = client.search(["ALL"])
                fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
                break
            except Exception:
                self._drop_client()
                if attempt == 2:
                    raise
        return [
            self._seen_raw(f"{validity}/{uid}", item[b"BODY[]"])
            for uid, item in sorted(fetched.items())
        ]

    def inject(self, kind: str, rng: random.Random) -> str:
        if kind == "drop-connection":
            nth = rng.randint(1, 3)
            self.composer.hooks[nth] = lambda: self.server.kill_connections(self.user)
            return f"drop-connection(before write {nth})"
        if kind == "uidvalidity":
            folder = rng.choice(("INBOX", "Sent", "Drafts"))
            self.server.change_uidvalidity(self.user, folder)
            return f"uidvalidity({folder})"
        return super().inject(kind, rng)

    def end(self) -> None:
        self._drop_client()

    def close(self) -> None:
        self._drop_client()
        self.server.close()


RIGS: dict[str, Callable[[], Rig]] = {
    "maildir": MaildirRig,
    "gmail": GmailRig,
    "graph": GraphRig,
    "imap": ImapRig,
}


def describe(rig: Rig) -> str:
    return json.dumps({"provider": rig.provider_name, "faults": list(rig.fault_kinds)})
