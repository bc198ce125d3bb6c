"""The IMAP provider: any mail host over imapclient, with a CalDAV or iCalendar calendar.

One sync is one connection. Per folder (INBOX, Sent, Drafts) a STATUS tells UIDVALIDITY,
UIDNEXT, MESSAGES and, where the server has CONDSTORE, HIGHESTMODSEQ; a folder whose status is
unchanged costs nothing more, so a sync with no changes is LOGIN, three STATUS and LOGOUT.
A changed folder is SELECTed and searched for the UIDs dated inside the window (SEARCH SINCE):
UIDs that left are removed, new ones have only their header fields fetched
(`BODY.PEEK[HEADER.FIELDS (...)]`), in chunks; the text (a bounded partial fetch) is read only
for inbox mail that can matter (`MailInterest`). On a first sync the search is narrowed on the
server to that mail, so its cost follows the interviews, not the mailbox. A changed UIDVALIDITY
reads the folder again under new ids.

Drafts are APPENDed to the Drafts folder with the \\Draft flag (APPENDUID kept when the server
has UIDPLUS), tagged with X-Mailagent-Key and a Message-ID derived from the key. When Drafts
changed, the agent's drafts there are read again: present (with a digest of the text, so an
edit shows), else found in Sent (sent) or gone (deleted). Clients that edit a draft by
appending a new copy and expunging the old keep the key, so the edit is seen as an edit.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from mailagent.detect import UserIdentity
from mailagent.errors import AuthError, ConfigError, ParseError, ProviderError, Transient
from mailagent.models import (
    CalendarEvent,
    DraftContent,
    DraftObservation,
    DraftStatus,
    Folder,
    Message,
    body_digest,
)
from mailagent.relevance import MailInterest
from providers.base import Changes, KnownDraft, Skipped, Window
from providers.calendar_source import CalendarSource
from providers.mime import DETECTION_HEADERS, draft_message_id, parse_message, render_draft

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "plain"]
HEADER_FIELDS = DETECTION_HEADERS
FETCH_CHUNK = 500
TEXT_BYTES = 262_144
"""The most of a message's text read for classification (a partial fetch)."""
SEARCH_TERMS = 15
FOLDER_NAMES: dict[Folder, tuple[str, ...]] = {
    Folder.SENT: (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "[Gmail]/Sent Mail",
        "INBOX.Sent",
    ),
    Folder.DRAFTS: ("Drafts", "Draft", "[Gmail]/Drafts", "INBOX.Drafts"),
}
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
SPECIAL_USE = {Folder.SENT: b"\\Sent", Folder.DRAFTS: b"\\Drafts"}
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    socket.timeout,
    imaplib.IMAP4.abort,
)


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    username: str
    port: int | None = None
    security: Security = "tls"
    password: str | None = None
    oauth_token: Callable[[bool], str] | None = None
    """XOAUTH2 (Gmail, Outlook): returns an access token; True asks for a fresh one."""
    folders: Mapping[Folder, str] = field(default_factory=dict)
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = None

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class _Counted:
    """Counts the commands sent and the bytes read on one imaplib connection."""

    def __init__(self, client: IMAPClient) -> None:
        self.commands = 0
        self.bytes = 0
        imap = client._imap
        command, read, readline = imap._command, imap.read, imap.readline

        def counted_command(*args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return command(*args, **kwargs)

        def counted_read(size: int) -> bytes:
            data = read(size)
            self.bytes += len(data)
            return bytes(data)

        def counted_readline() -> bytes:
            data = readline()
            self.bytes += len(data)
            return bytes(data)

        imap._command, imap.read, imap.readline = counted_command, counted_read, counted_readline


class ImapProvider:
    """Reads and drafts in one IMAP mailbox; the calendar comes from `calendar`."""

    name: ClassVar[str] = "imap"

    def __init__(
        self,
        settings: ImapSettings,
        *,
        user: UserIdentity,
        timezone: ZoneInfo,
        calendar: CalendarSource | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        account: str = "imap",
        reconnect_advice: str = "",
    ) -> None:
        self.settings = settings
        self.user = user
        self.timezone = timezone
        self.calendar = calendar
        self.clock = clock
        self.account = account
        self.reconnect_advice = (
            reconnect_advice or f"run: mailagent connect imap --account {account}"
        )
        self._client: IMAPClient | None = None
        self._counter: _Counted | None = None
        self.commands = 0
        self.bytes_received = 0
        self._folders: dict[Folder, str] = {}
        self._drafts_changed = False
        self._sent_keys: dict[str, str] = {}
        self._capabilities: frozenset[bytes] = frozenset()

    # connection

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        s = self.settings
        context = s.ssl_context or ssl.create_default_context()
        try:
            client = IMAPClient(
                s.host,
                port=s.effective_port,
                ssl=s.security == "tls",
                ssl_context=context if s.security == "tls" else None,
                timeout=s.timeout,
            )
        except CONNECTION_ERRORS as exc:
            raise Transient(f"IMAP {s.host}:{s.effective_port}: cannot connect ({exc})") from exc
        counter = _Counted(client)
        if s.security == "starttls":
            try:
                client.starttls(context)
            except CapabilityError as exc:
                self._shutdown(client)
                raise ConfigError(
                    f"IMAP {s.host}:{s.effective_port}: the server offers no STARTTLS",
                    advice='use imap_security = "tls" (port 993) if the server has it',
                ) from exc
            except (*CONNECTION_ERRORS, IMAPClientError) as exc:
                self._shutdown(client)
                raise Transient(
                    f"IMAP {s.host}:{s.effective_port}: cannot start TLS ({exc})"
                ) from exc
        try:
            if s.oauth_token is not None:
                client.oauth2_login(s.username, s.oauth_token(False))
            elif s.password is not None:
                client.login(s.username, s.password)
            else:
                self._shutdown(client)
                raise ConfigError(f"account {self.account}: no IMAP password or token")
        except LoginError as exc:
            self._count(counter)
            with contextlib.suppress(*CONNECTION_ERRORS, IMAPClientError):
                client.logout()
            raise AuthError(
                f"account {self.account}: the IMAP server refused the login",
                advice=self.reconnect_advice,
            ) from exc
        self._client, self._counter = client, counter
        self._capabilities = frozenset(client.capabilities())
        return client

    def _count(self, counter: _Counted | None) -> None:
        if counter is not None:
            self.commands += counter.commands
            self.bytes_received += counter.bytes
            counter.commands = counter.bytes = 0

    def close(self) -> None:
        if self.calendar is not None:
            self.calendar.close()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*CONNECTION_ERRORS, IMAPClientError):
                client.logout()
            self._count(self._counter)
            self._counter = None

    def _retrying(self, what: str, action: Callable[[IMAPClient], Any]) -> Any:
        """Runs `action` on the connection; a dropped connection is opened again once."""
        for attempt in (1, 2):
            client = self._connect()
            try:
                return action(client)
            except CONNECTION_ERRORS as exc:
                self._drop()
                if attempt == 2:
                    raise Transient(f"IMAP {what}: connection lost twice ({exc})") from exc
                log.info("IMAP %s: connection lost (%s); connecting again", what, exc)
            finally:
                self._count(self._counter)
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._shutdown(client)

    @staticmethod
    def _shutdown(client: IMAPClient) -> None:
        with contextlib.suppress(Exception):
            client.shutdown()

    # folders

    def _resolve_folders(self, client: IMAPClient) -> dict[Folder, str]:
        if self._folders:
            return self._folders
        listed = client.list_folders()
        names = {str(name) for _, _, name in listed}
        found: dict[Folder, str] = {Folder.INBOX: self.settings.folders.get(Folder.INBOX, "INBOX")}
        for folder in (Folder.SENT, Folder.DRAFTS):
            configured = self.settings.folders.get(folder)
            if configured:
                found[folder] = configured
                continue
            special = next(
                (str(name) for flags, _, name in listed if SPECIAL_USE[folder] in flags), None
            )
            fallback = next((n for n in FOLDER_NAMES[folder] if n in names), None)
            choice = special or fallback
            if choice is None and folder is Folder.DRAFTS:
                client.create_folder("Drafts")
                choice = "Drafts"
            if choice is not None:
                found[folder] = choice
        self._folders = found
        return found

    # reading

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        before_commands = self.commands
        skipped: list[Skipped] = []
        events: Sequence[CalendarEvent] = ()
        replace_events = False
        removed_events: Sequence[str] = ()
        calendar_state = state.get("calendar")
        calendar_requests = 0
        if self.calendar is not None:
            read = self.calendar.read(calendar_state, window)
            events, replace_events, removed_events = read.events, read.replace, read.removed_ids
            calendar_state, calendar_requests = read.state, read.requests
            skipped.extend(read.skipped)
        interest = MailInterest.from_events(events, self.user)
        if not replace_events:
            interest = MailInterest.from_json(state.get("interest")) | interest
        known_interest = MailInterest.from_json(state.get("interest"))

        def sync_mail(client: IMAPClient) -> tuple[dict[str, Any], list[Message], list[str]]:
            folders = self._resolve_folders(client)
            new_folders: dict[str, Any] = {}
            messages: list[Message] = []
            removed: list[str] = []
            self._sent_keys = {}
            self._drafts_changed = cursor is None
            for folder, name in folders.items():
                previous = state.get("folders", {}).get(folder.value)
                status = self._status(client, name)
                if (
                    previous
                    and previous.get("status") == status
                    and not (folder is not Folder.DRAFTS and interest - known_interest)
                ):
                    new_folders[folder.value] = previous
                    continue
                if folder is Folder.DRAFTS:
                    self._drafts_changed = True
                    new_folders[folder.value] = {"status": status}
                    continue
                folder_state, found, gone, skips = self._read_folder(
                    client, folder, name, status, previous, interest, known_interest, window
                )
                new_folders[folder.value] = folder_state
                messages.extend(found)
                removed.extend(gone)
                skipped.extend(skips)
            return new_folders, messages, removed

        folders_state, messages, removed = self._retrying("sync", sync_mail)
        for message in messages:
            if message.folder is Folder.SENT and message.agent_key:
                self._sent_keys[message.agent_key] = message.id
        new_state = {
            "folders": folders_state,
            "calendar": calendar_state,
            "interest": interest.widened_by(messages, self.user).to_json(),
        }
        return Changes(
            cursor=json.dumps(new_state, sort_keys=True),
            events=events,
            events_replace=replace_events,
            removed_event_ids=removed_events,
            messages=messages,
            removed_message_ids=removed,
            skipped=skipped,
            requests=self.commands - before_commands + calendar_requests,
        )

    def _status(self, client: IMAPClient, name: str) -> list[int]:
        items = [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"]
        if b"CONDSTORE" in self._capabilities:
            items.append(b"HIGHESTMODSEQ")
        answer = client.folder_status(name, items)
        return [int(answer.get(item, 0)) for item in items]

    def _read_folder(
        self,
        client: IMAPClient,
        folder: Folder,
        name: str,
        status: list[int],
        previous: Mapping[str, Any] | None,
        interest: MailInterest,
        known_interest: MailInterest,
        window: Window,
    ) -> tuple[dict[str, Any], list[Message], list[str], list[Skipped]]:
        uidvalidity = status[0]
        client.select_folder(name, readonly=True)
        since = window.start.astimezone(UTC).date()
        in_window = set(client.search(["SINCE", since]))
        same_validity = previous is not None and previous.get("uidvalidity") == uidvalidity
        known = set(previous.get("uids", ())) if previous and same_validity else set()
        removed = (
            [
                self._id(folder, int(previous["uidvalidity"]), u)
                for u in previous.get("uids", ())
                if not same_validity or u not in in_window
            ]
            if previous
            else []
        )
        if previous is None or not same_validity:
            candidates = self._interesting(client, since, interest) & in_window
        else:
            candidates = in_window - known
            fresh = interest - known_interest
            if fresh:  # new people in the calendar: their earlier mail matters now
                candidates |= self._interesting(client, since, fresh) & in_window
        messages, skipped = self._fetch(
            client, folder, uidvalidity, sorted(candidates), interest, window
        )
        folder_state = {"status": status, "uidvalidity": uidvalidity, "uids": sorted(in_window)}
        return folder_state, messages, removed, skipped

    def _interesting(self, client: IMAPClient, since: Any, interest: MailInterest) -> set[int]:
        """UIDs since `since` of the mail `interest` asks for, searched on the server."""
        terms: list[list[Any]] = []
        for who in sorted(interest.addresses | interest.domains):
            terms.extend([["FROM", who], ["TO", who], ["CC", who]])
        terms.extend(["SUBJECT", word] for word in sorted(interest.subject_tokens))
        terms.extend(["BODY", link] for link in sorted(interest.links))
        found: set[int] = set()
        for i in range(0, len(terms), SEARCH_TERMS):
            found |= set(client.search(["SINCE", since, *_any_of(terms[i : i + SEARCH_TERMS])]))
        return found

    def _id(self, folder: Folder, uidvalidity: int, uid: int) -> str:
        return f"{folder.value}:{uidvalidity}:{uid}"

    def _fetch(
        self,
        client: IMAPClient,
        folder: Folder,
        uidvalidity: int,
        uids: Sequence[int],
        interest: MailInterest,
        window: Window,
    ) -> tuple[list[Message], list[Skipped]]:
        part = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS).upper()})]"
        key = f"BODY[HEADER.FIELDS ({' '.join(HEADER_FIELDS).upper()})]".encode()
        messages: dict[int, Message] = {}
        skipped: list[Skipped] = []
        for chunk in _chunks(uids, FETCH_CHUNK):
            for uid, data in client.fetch(chunk, [part, "INTERNALDATE"]).items():
                arrived = data.get(b"INTERNALDATE")
                when = (
                    arrived.astimezone(UTC)
                    if isinstance(arrived, datetime) and arrived.tzinfo
                    else None
                )
                try:
                    message = parse_message(
                        bytes(data.get(key, b"")) + b"\r\n",
                        folder=folder,
                        id=self._id(folder, uidvalidity, uid),
                        fallback_date=when,
                    )
                except ParseError as exc:
                    skipped.append(Skipped(f"{folder.value} UID {uid}", str(exc)))
                    continue
                if message.date >= window.start:
                    messages[uid] = message
        threads = {m.message_id for m in messages.values() if m.folder is Folder.SENT}
        wanted = [
            uid
            for uid, m in messages.items()
            if folder is Folder.INBOX
            and (interest.matches(m) or bool(threads & {m.in_reply_to, *m.references}))
        ]
        for chunk in _chunks(wanted, 50):
            for uid, data in client.fetch(chunk, [f"BODY.PEEK[]<0.{TEXT_BYTES}>"]).items():
                raw = next((v for k, v in data.items() if k.startswith(b"BODY[]")), None)
                if not isinstance(raw, bytes):
                    continue
                try:
                    full = parse_message(
                        raw, folder=folder, id=messages[uid].id, fallback_date=messages[uid].date
                    )
                except ParseError as exc:
                    skipped.append(Skipped(f"{folder.value} UID {uid}", str(exc)))
                    continue
                messages[uid] = full
        return list(messages.values()), skipped

    # drafts

    def _message_id(self, key: str) -> str:
        return draft_message_id(key, self.user.address)

    def create_draft(self, content: DraftContent, key: str) -> str:
        message_id = self._message_id(key)
        raw = render_draft(
            content,
            sender=self.user.primary,
            key=key,
            date=self.clock().astimezone(self.timezone),
            message_id=message_id,
        )

        tries = 0

        def append(client: IMAPClient) -> str:
            nonlocal tries
            tries += 1
            drafts = self._resolve_folders(client)[Folder.DRAFTS]
            if tries > 1:  # the connection dropped: the first APPEND may have got through
                existing = self._find(client, drafts, message_id)
                if existing is not None:
                    return existing
            answer = client.append(
                drafts, raw, flags=[b"\\Draft", b"\\Seen"], msg_time=self.clock()
            )
            match = _APPENDUID.search(answer or b"")
            if match:
                return f"drafts:{int(match.group(1))}:{int(match.group(2))}"
            return self._find(client, drafts, message_id) or f"drafts:?:{message_id}"

        try:
            return str(self._retrying("append draft", append))
        except IMAPClientError as exc:
            raise ProviderError(f"IMAP: could not append the draft: {exc}") from exc

    def _find(self, client: IMAPClient, folder: str, message_id: str) -> str | None:
        status = client.select_folder(folder)
        uids = client.search(["HEADER", "Message-ID", message_id])
        if not uids:
            return None
        return f"drafts:{int(status[b'UIDVALIDITY'])}:{max(uids)}"

    def find_drafts(self, drafts: Sequence[KnownDraft]) -> list[DraftObservation]:
        if not drafts:
            return []
        creating = any(not d.provider_id for d in drafts)
        if not self._drafts_changed and not creating:
            return [
                DraftObservation(d.key, self._sent_keys[d.key], DraftStatus.SENT)
                for d in drafts
                if d.key in self._sent_keys
            ]

        def look(client: IMAPClient) -> list[DraftObservation]:
            folders = self._resolve_folders(client)
            present = self._tagged_drafts(client, folders[Folder.DRAFTS])
            found: list[DraftObservation] = []
            for draft in drafts:
                if draft.key in present:
                    found.append(present[draft.key])
                elif draft.key in self._sent_keys:
                    found.append(
                        DraftObservation(draft.key, self._sent_keys[draft.key], DraftStatus.SENT)
                    )
                elif Folder.SENT in folders and self._in_folder(
                    client, folders[Folder.SENT], draft.key
                ):
                    found.append(DraftObservation(draft.key, "sent", DraftStatus.SENT))
                elif draft.provider_id:
                    found.append(DraftObservation(draft.key, "", DraftStatus.DELETED))
            return found

        return list(self._retrying("find drafts", look))

    def _tagged_drafts(self, client: IMAPClient, folder: str) -> dict[str, DraftObservation]:
        status = client.select_folder(folder, readonly=True)
        uids = client.search(["HEADER", "X-Mailagent-Key", ""])
        found: dict[str, DraftObservation] = {}
        validity = int(status[b"UIDVALIDITY"])
        for chunk in _chunks(sorted(uids), 50):
            for uid, data in client.fetch(chunk, ["BODY.PEEK[]"]).items():
                raw = data.get(b"BODY[]")
                if not isinstance(raw, bytes):
                    continue
                try:
                    message = parse_message(raw, folder=Folder.DRAFTS, id=str(uid))
                except ParseError:
                    continue
                if message.agent_key:
                    found[message.agent_key] = DraftObservation(
                        message.agent_key,
                        f"drafts:{validity}:{uid}",
                        DraftStatus.PRESENT,
                        body_digest(message.snippet),
                    )
        return found

    def _in_folder(self, client: IMAPClient, folder: str, key: str) -> bool:
        client.select_folder(folder, readonly=True)
        if client.search(["HEADER", "X-Mailagent-Key", key]):
            return True
        return bool(client.search(["HEADER", "Message-ID", self._message_id(key)]))


def _any_of(terms: Sequence[list[Any]]) -> list[Any]:
    """IMAP SEARCH "any of these": OR is binary and prefix, so OR t1 OR t2 t3."""
    tokens: list[Any] = []
    for term in terms[:-1]:
        tokens.extend(["OR", *term])
    tokens.extend(terms[-1])
    return tokens


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
