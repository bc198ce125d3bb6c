"""The local provider: Maildir folders plus an iCalendar file or vdir folder.

This is how people who sync with mbsync/offlineimap and vdirsyncer use mailagent, and the
demo's mailbox. Maildir (https://cr.yp.to/proto/maildir.html) messages are immutable files
whose names start with the delivery time, so a sync reads only files that are new since the
cursor and within the window, and a no-change sync reads no file at all: it compares the
modification times of the `new/` and `cur/` folders and of the calendar files.

Both layouts are understood: plain folders under one root (`INBOX/`, `Sent/`, `Drafts/`, as
mbsync writes them) and Maildir++ (`.Sent/`, `.Drafts/` beside the root's own cur/new/tmp,
whose root is the inbox). A missing INBOX, Sent or Drafts is a configuration error naming the
folders that are there, unless the config lists it in `folders.absent`: a root one level too
high (mbsync's per-account layout) must not quietly get a Drafts folder no client shows.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from mailagent.core.models import (
    AGENT_KEY_HEADER,
    CalendarEvent,
    DraftContent,
    DraftObservation,
    DraftStatus,
    Folder,
    Message,
    Person,
    body_digest,
    key_from_message_id,
)
from mailagent.errors import ConfigError, ParseError, ProviderError
from providers.base import Changes, KnownDraft, NotWritten, Skipped, Window
from providers.budget import DEFAULT_BUDGET, Budget, ItemBudget
from providers.calendar_source import window_day
from providers.ics_source import IcsFileSource
from providers.mime import (
    MAX_MESSAGE_BYTES,
    draft_message_id,
    parse_message,
    render_draft,
)

log = logging.getLogger(__name__)

FOLDER_ALIASES: dict[Folder, tuple[str, ...]] = {
    Folder.INBOX: ("INBOX", "Inbox", "inbox"),
    Folder.SENT: ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "sent", "[Gmail]/Sent Mail"),
    Folder.DRAFTS: ("Drafts", "drafts", "Draft", "[Gmail]/Drafts"),
}

TIMESTAMP_SLACK = timedelta(days=2)
"""A file whose name says it was delivered more than this before the window is not opened."""


@dataclass
class MaildirProvider:
    """Reads `root` (holding INBOX, Sent, Drafts) and `calendar` (an .ics file or vdir)."""

    root: Path
    calendar: Path | None
    address: str
    timezone: ZoneInfo
    user_name: str = ""
    folder_names: dict[Folder, str] = field(default_factory=dict)
    absent: frozenset[Folder] = frozenset()
    """Folders the config says this mailbox lacks: INBOX or Sent read as empty, Drafts made."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The runner passes its `now` so that simulated syncs date their drafts consistently."""
    budget: Budget = DEFAULT_BUDGET
    """What reading one message may cost; one over it is skipped and remembered in the cursor."""

    name: ClassVar[str] = "maildir"

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise ConfigError(
                f"maildir {self.root} does not exist",
                advice="set `maildir` to the folder that holds INBOX, Sent and Drafts",
            )
        self._folders = {folder: self._resolve(folder) for folder in Folder}
        self._calendar = IcsFileSource(self.calendar, self.timezone) if self.calendar else None

    # layout

    def _resolve(self, folder: Folder) -> Path:
        configured = self.folder_names.get(folder)
        names = (configured,) if configured else FOLDER_ALIASES[folder]
        for name in names:
            for candidate in (self.root / name, self.root / ("." + name.replace("/", "."))):
                if (candidate / "cur").is_dir() or (candidate / "new").is_dir():
                    return candidate
        if folder is Folder.INBOX and not configured and _is_maildir(self.root):
            return self.root  # Maildir++: the root is the inbox
        if folder not in self.absent:
            raise _missing_folder(self.root, folder, configured)
        path = self.root / (configured or FOLDER_ALIASES[folder][0])
        if folder is Folder.DRAFTS:
            for sub in ("cur", "new", "tmp"):
                (path / sub).mkdir(parents=True, exist_ok=True)
        else:
            log.info("maildir %s: no %s folder (absent, says the config)", self.root, folder.value)
        return path

    def folder_path(self, folder: Folder) -> Path:
        return self._folders[folder]

    # reading

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        state = json.loads(cursor) if cursor else {}
        new_state: dict[str, object] = {}
        files_read = 0
        skipped: list[Skipped] = []
        messages: list[Message] = []
        guard = ItemBudget(self.budget, state.get("over_budget"))
        for folder in (Folder.INBOX, Folder.SENT):
            previous = state.get(folder.value, {})
            stamps = _dir_stamps(self._folders[folder])
            seen: set[str] = set(previous.get("seen", []))
            if previous and previous.get("stamps") == stamps:
                new_state[folder.value] = previous
                continue
            current: list[str] = []
            for path in _maildir_files(self._folders[folder]):
                unique = _unique_name(path.name)
                delivered = _delivery_time(path.name)
                if delivered is not None and delivered < window.start - TIMESTAMP_SLACK:
                    continue
                current.append(unique)
                key = f"{folder.value}/{unique}"
                if unique in seen or guard.is_remembered(key):
                    continue
                files_read += 1
                message = guard.read(
                    key, str(path), functools.partial(_read, path, folder), (ParseError, OSError)
                )
                if message is None or isinstance(message, Skipped):
                    skipped.extend([message] if message else [])
                    continue
                if message.date >= window.start:
                    messages.append(message)
            new_state[folder.value] = {"stamps": stamps, "seen": sorted(current)}
        events, calendar_state, calendar_replace, calendar_reads, calendar_skips = (
            self._read_calendar(state.get("calendar"), window)
        )
        files_read += calendar_reads
        skipped.extend(calendar_skips)
        new_state["calendar"] = calendar_state
        new_state["window_start"] = window.start.isoformat()
        if guard.remembered:
            new_state["over_budget"] = guard.remembered
        return Changes(
            cursor=json.dumps(new_state, sort_keys=True),
            events=events,
            events_replace=calendar_replace,
            messages=messages,
            skipped=skipped,
            requests=files_read,
        )

    def _read_calendar(
        self, previous: object, window: Window
    ) -> tuple[Sequence[CalendarEvent], dict[str, object], bool, int, list[Skipped]]:
        if self._calendar is None:
            state: dict[str, object] = {"window_day": window_day(window)}
            return [], state, previous != state, 0, []
        read = self._calendar.read(previous if isinstance(previous, dict) else None, window)
        return read.events, read.state, read.replace, read.requests, list(read.skipped)

    # drafts

    def create_draft(self, content: DraftContent, key: str) -> str:
        drafts = self._folders[Folder.DRAFTS]
        sender = Person(self.user_name, self.address)
        data = render_draft(
            content,
            sender=sender,
            key=key,
            date=self.clock().astimezone(self.timezone),
            message_id=draft_message_id(key, self.address),
        )
        # The key is also in the file name: local to this machine, it never goes out.
        unique = f"{int(self.clock().timestamp())}.M{key}P{os.getpid()}.{_hostname()}"
        tmp = drafts / "tmp" / unique
        target = drafts / "cur" / f"{unique}:2,D"
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, target)
        except OSError as exc:
            # rename() is atomic: a draft is in cur/ whole or not at all.
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise NotWritten(ProviderError(f"could not write draft into {drafts}: {exc}")) from exc
        return f"drafts/{unique}"

    def find_drafts(self, drafts: Sequence[KnownDraft]) -> list[DraftObservation]:
        keys = [d.key for d in drafts]
        wanted = set(keys)
        found: dict[str, DraftObservation] = {}
        for path in _maildir_files(self._folders[Folder.DRAFTS]):
            key = _key_from_name(path.name)
            if key is None or key not in wanted:
                key = _key_from_headers(path) if key is None else None
            if key is None or key not in wanted:
                continue
            try:
                message = parse_message(path.read_bytes(), folder=Folder.DRAFTS, id=path.name)
                digest = body_digest(message.snippet)
            except (ParseError, OSError):
                digest = ""
            found[key] = DraftObservation(
                key, f"drafts/{_unique_name(path.name)}", DraftStatus.PRESENT, digest
            )
        missing = wanted - found.keys()
        if missing:
            for path in _maildir_files(self._folders[Folder.SENT]):
                key = _key_from_headers(path)
                if key in missing:
                    found[key] = DraftObservation(
                        key, f"sent/{_unique_name(path.name)}", DraftStatus.SENT
                    )
            for key in missing - found.keys():
                found[key] = DraftObservation(key, "", DraftStatus.DELETED)
        return [found[k] for k in keys if k in found]


def _read(path: Path, folder: Folder) -> Message:
    """One message file, at most `MAX_MESSAGE_BYTES` of it (the parser sees no more)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_MESSAGE_BYTES)
        mtime = os.fstat(handle.fileno()).st_mtime
    return parse_message(
        data,
        folder=folder,
        id=f"{folder.value}/{_unique_name(path.name)}",
        fallback_date=datetime.fromtimestamp(mtime, UTC),
    )


def _maildir_files(folder: Path) -> Iterator[Path]:
    for sub in ("new", "cur"):
        directory = folder / sub
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_file() and not entry.name.startswith("."):
                yield Path(entry.path)


def _dir_stamps(folder: Path) -> list[int]:
    stamps = []
    for sub in ("new", "cur"):
        try:
            stamps.append(os.stat(folder / sub).st_mtime_ns)
        except FileNotFoundError:
            stamps.append(0)
    return stamps


def _unique_name(name: str) -> str:
    return name.split(":2,", 1)[0].split("!2,", 1)[0]


def _delivery_time(name: str) -> datetime | None:
    head = name.split(".", 1)[0]
    if head.isdigit() and len(head) >= 9:
        return datetime.fromtimestamp(int(head), UTC)
    return None


def _key_from_name(name: str) -> str | None:
    unique = _unique_name(name)
    parts = unique.split(".")
    if len(parts) >= 2 and parts[1].startswith("M") and "P" in parts[1]:
        return parts[1][1:].split("P", 1)[0]
    return None


def _key_from_headers(path: Path) -> str | None:
    """The agent key of a message, read from its header block only: from its Message-ID, or
    from the X-Mailagent-Key header that older drafts carry."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16384)
    except OSError:
        return None
    header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = header_block.splitlines()
    for index, line in enumerate(lines):
        name, _, value = line.partition(b":")
        field_name = name.strip().lower()
        if field_name == AGENT_KEY_HEADER.encode():
            return value.strip().decode("ascii", "replace")
        if field_name == b"message-id":
            folded = value + b"".join(
                more for more in lines[index + 1 : index + 3] if more[:1] in (b" ", b"\t")
            )
            key = key_from_message_id(folded.decode("ascii", "replace").strip())
            if key:
                return key
    return None


def _hostname() -> str:
    return socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


_LISTED = 20
"""Folders named in a missing-folder error; a mailbox of hundreds is cut short."""


def _missing_folder(root: Path, folder: Folder, configured: str | None) -> ConfigError:
    """A missing INBOX, Sent or Drafts, with the folders that are there and the likely fix.

    A sync into the wrong level would put drafts where no mail client shows them and, reading
    no Sent folder, thank people again whom the user already thanked: so it is refused."""
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("tmp"))
    listed = ", ".join(found[:_LISTED]) + (
        f" and {len(found) - _LISTED} more" if len(found) > _LISTED else ""
    )
    wanted = f'"{configured}"' if configured else " or ".join(FOLDER_ALIASES[folder][:3])
    accounts = [
        name
        for name in found
        if any(_is_maildir(root / name / n) for n in FOLDER_ALIASES[Folder.INBOX])
    ]
    key = folder.value
    if accounts:
        advice = (
            f"{root} looks like a folder of accounts ({', '.join(accounts[:5])} each hold an "
            f"INBOX, as mbsync's per-account layout writes them): set `maildir` to one of "
            f"them, like {root / accounts[0]}"
        )
    elif configured:
        advice = f"set [accounts.folders] {key} to one of the folders found, or remove it"
    else:
        advice = (
            f'name yours with [accounts.folders] {key} = "...", or set `maildir` to the folder '
            f"that holds INBOX, Sent and Drafts; if this mailbox has no such folder, say so "
            f'with [accounts.folders] absent = ["{key}"]'
            + (
                " (mailagent then cannot see the thank-yous you sent yourself)"
                if folder is Folder.SENT
                else ""
            )
        )
    return ConfigError(
        f"maildir {root}: no {folder.value} folder {wanted} (nor Maildir++ .{FOLDER_ALIASES[folder][0]}); "
        f"folders found: {listed or 'none'}",
        advice=advice,
    )
