"""The IMAP provider: any mail host over imapclient, with a CalDAV or iCalendar calendar.

One sync is one connection. Per folder (INBOX, Sent, Drafts) a STATUS tells UIDVALIDITY,
UIDNEXT, MESSAGES and, where the server has CONDSTORE, HIGHESTMODSEQ; a folder whose status is
unchanged costs nothing more, so a sync with no changes is LOGIN, LIST, three STATUS and LOGOUT.
In a changed folder the new mail is UIDNEXT's new range, fetched by UID with only its header
fields (`BODY.PEEK[HEADER.FIELDS (...)]`), in chunks; what left is known without a search when
MESSAGES grew by as much, else named by QRESYNC's VANISHED, else by asking which known UIDs are
still there. The text (a bounded partial fetch) is read only for inbox mail that can matter
(`MailInterest`). A first sync, or a changed UIDVALIDITY, searches the window (SEARCH SINCE)
narrowed on the server to that mail, so its cost follows the interviews, not the mailbox.

Drafts are APPENDed to the Drafts folder with the \\Draft flag (APPENDUID kept when the server
has UIDPLUS), known by a Message-ID derived from the key (no header names the key). When Drafts
changed, the agent's drafts there are read again: present (with a digest of the text, so an
edit shows), else found in Sent (sent) or gone (deleted). Clients that edit a draft by
appending a new copy and expunging the old keep the key, so the edit is seen as an edit.
"""

from __future__ import annotations

import contextlib
import email
import imaplib
import json
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from mailagent.core.detect import UserIdentity
from mailagent.core.models import (
    CalendarEvent,
    DraftContent,
    DraftObservation,
    DraftStatus,
    Folder,
    Message,
    body_digest,
    key_from_message_id,
)
from mailagent.core.relevance import INVITATION_SUBJECTS, MailInterest
from mailagent.errors import AuthError, ConfigError, ParseError, ProviderError, Transient
from providers.base import Changes, KnownDraft, NotWritten, Skipped, Window
from providers.budget import DEFAULT_BUDGET, Budget, ItemBudget, OverBudget
from providers.calendar_source import CalendarSource
from providers.mime import DETECTION_HEADERS, draft_message_id, parse_message, render_draft

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "plain"]
HEADER_FIELDS = DETECTION_HEADERS
FETCH_CHUNK = 500
TEXT_BYTES = 262_144
"""The most of a message's text read for classification (a partial fetch)."""
SEARCH_TERMS = 15
BULK_LOOKUP = 3
"""Above this many drafts looked up by key, Sent is searched once for every agent draft."""
SEQUENCE_SET_CHARS = 4000
"""Long UID sets are sent in parts: servers cap a command line (Dovecot at 64 KB)."""
FOLDER_NAMES: dict[Folder, tuple[str, ...]] = {
    Folder.SENT: ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail"),
    Folder.DRAFTS: ("Drafts", "Draft", "[Gmail]/Drafts"),
}
"""Where Sent and Drafts often are when no SPECIAL-USE flag says: at the top, or under INBOX
with the server's separator (`_common_names`)."""
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
    """Counts the commands sent (every command takes a new tag, imapclient's raw ones too),
    logs their names and counts the bytes read on one imaplib connection."""

    def __init__(self, client: IMAPClient, log: list[str]) -> None:
        self.commands = 0
        self.bytes = 0
        imap = client._imap
        new_tag, send, read, readline = imap._new_tag, imap.send, imap.read, imap.readline
        tags: list[bytes] = []

        def counted_new_tag() -> Any:
            tag = new_tag()
            self.commands += 1
            tags[:] = [bytes(tag) + b" "]
            return tag

        def logged_send(data: bytes) -> Any:
            if tags and data.startswith(tags[0]):
                words = data[len(tags[0]) :].split(None, 2)
                name = b" ".join(words[:2]) if words[:1] == [b"UID"] else words[0]
                log.append(name.decode("ascii", "replace").upper())
                tags.clear()
            return send(data)

        def counted_read(size: int) -> bytes:
            data = read(size)
            self.bytes += len(data)
            return bytes(data)

        def counted_readline() -> bytes:
            data = readline()
            self.bytes += len(data)
            return bytes(data)

        imap._new_tag, imap.send = counted_new_tag, logged_send
        imap.read, imap.readline = counted_read, counted_readline


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
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.budget = budget
        self._guard = ItemBudget(budget)
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
        self.command_log: list[str] = []
        """The name of every command sent (no arguments: they name people and folders)."""
        self._folders: dict[Folder, str] = {}
        self._drafts_changed = False
        self._sent_keys: dict[str, str] = {}
        self._capabilities: frozenset[bytes] = frozenset()
        self._qresync = False

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
        counter = _Counted(client, self.command_log)
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
                self._token_login(client, s.oauth_token)
            elif s.password is not None:
                client.login(s.username, s.password)
            else:
                self._shutdown(client)
                raise ConfigError(f"account {self.account}: no IMAP password or token")
        except (AuthError, Transient):
            self._shutdown(client)
            raise
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
        self._qresync = False
        return client

    def _token_login(self, client: IMAPClient, token: Callable[[bool], str]) -> None:
        """XOAUTH2 with the current access token; when the server refuses it (it may have
        expired or been revoked early), once more on the same connection with a renewed one."""
        try:
            client.oauth2_login(self.settings.username, token(False))
        except LoginError:
            log.info(
                "account %s: the IMAP server refused the access token; renewing it", self.account
            )
            client.oauth2_login(self.settings.username, token(True))

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
        """Sent and Drafts: as the config names them, else the folder with the SPECIAL-USE
        flag (RFC 6154; flags are case-insensitive, and Cyrus gives `\\sent`), else a common
        name, at the top or under INBOX; a missing Drafts is created."""
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
            flag = SPECIAL_USE[folder].lower()
            special = next(
                (str(name) for flags, _, name in listed if flag in {f.lower() for f in flags}),
                None,
            )
            fallback = next((n for n in _common_names(folder, listed) if n in names), None)
            choice = special or fallback
            if choice is None and folder is Folder.DRAFTS:
                choice = self._create_drafts(client, listed)
            if choice is not None:
                found[folder] = choice
        self._folders = found
        return found

    def _create_drafts(self, client: IMAPClient, listed: Sequence[Any]) -> str:
        """Create "Drafts" where the server keeps a user's folders: under its personal
        namespace's prefix (RFC 2342; "INBOX." on Courier and on Cyrus as Debian sets it up),
        which a server without NAMESPACE shows by listing every folder under INBOX."""
        prefix = _inbox_prefix(listed)
        if b"NAMESPACE" in self._capabilities:
            personal = client.namespace().personal
            prefix = str(personal[0][0]) if personal else ""
        name = f"{prefix}Drafts"
        try:
            client.create_folder(name)
        except IMAPClientError as exc:
            if "ALREADYEXISTS" in str(exc).upper():  # another client made it meanwhile
                return name
            raise ProviderError(
                f"IMAP: the mailbox has no Drafts folder and the server refused to create "
                f"{name!r} ({exc})",
                advice="create a Drafts folder in your mail client, or name the folder to use "
                'in the config: [accounts.folders] drafts = "..."',
            ) from exc
        log.info("account %s: created the folder %s for drafts", self.account, name)
        return name

    # reading

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        self._guard = ItemBudget(self.budget, state.get("over_budget"))
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
            statuses = {folder: self._status(client, name) for folder, name in folders.items()}
            previous_folders = state.get("folders", {})
            unchanged = {
                folder
                for folder, status in statuses.items()
                if previous_folders.get(folder.value, {}).get("status") == status
                and not (folder is not Folder.DRAFTS and interest - known_interest)
            }
            self._enable_qresync(
                client,
                [
                    (previous_folders[f.value], statuses[f])
                    for f in statuses
                    if f not in unchanged and f is not Folder.DRAFTS and f.value in previous_folders
                ],
            )
            for folder, name in folders.items():
                previous = previous_folders.get(folder.value)
                status = statuses[folder]
                if previous and folder in unchanged:
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
            "over_budget": self._guard.remembered,
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

    def _enable_qresync(
        self, client: IMAPClient, changed: Sequence[tuple[Mapping[str, Any], list[int]]]
    ) -> None:
        """ENABLE QRESYNC, which must come before any SELECT, when a changed folder may have
        lost messages (MESSAGES grew by less than UIDNEXT) and its HIGHESTMODSEQ is known."""
        if self._qresync or b"QRESYNC" not in self._capabilities:
            return
        if client._imap.state != "AUTH":
            return
        for previous, status in changed:
            before = previous.get("status") or []
            if (
                len(before) > 3
                and previous.get("uidvalidity") == status[0]
                and status[2] - before[2] != max(status[1] - before[1], 0)
            ):
                enabled = client.enable("QRESYNC")
                self._qresync = b"QRESYNC" in {bytes(c).upper() for c in enabled}
                return

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
        if previous is None or previous.get("uidvalidity") != uidvalidity:
            tracked = set(client.search(["SINCE", since]))
            removed = (
                [
                    self._id(folder, int(previous["uidvalidity"]), u)
                    for u in previous.get("uids", ())
                ]
                if previous and "uidvalidity" in previous
                else []
            )
            candidates = (
                self._interesting(client, since, interest, invitations=folder is Folder.INBOX)
                & tracked
            )
        else:
            known = set(previous.get("uids", ()))
            arrived, gone = self._changes(client, previous["status"], status, known, since)
            tracked = (known - gone) | arrived
            removed = [self._id(folder, uidvalidity, u) for u in sorted(gone)]
            candidates = arrived - known
            fresh = interest - known_interest
            if fresh:  # new people in the calendar: their earlier mail matters now
                candidates |= self._interesting(client, since, fresh) & tracked
            if previous.get("since") != since.isoformat():
                tracked = self._still_in_window(client, tracked, since) | arrived
        messages, skipped = self._fetch(
            client, folder, uidvalidity, sorted(candidates), interest, window
        )
        folder_state = {
            "status": status,
            "uidvalidity": uidvalidity,
            "uids": sorted(tracked),
            "since": since.isoformat(),
        }
        return folder_state, messages, removed, skipped

    def _changes(
        self,
        client: IMAPClient,
        before: Sequence[int],
        now: Sequence[int],
        known: set[int],
        since: date,
    ) -> tuple[set[int], set[int]]:
        """The UIDs that arrived in a folder and the known UIDs that left it, between two
        STATUS answers ([UIDVALIDITY, UIDNEXT, MESSAGES, HIGHESTMODSEQ?]).

        UIDs only grow, so the ones that arrived are UIDNEXT's new range. When MESSAGES grew
        by exactly that range, nothing that was there before has left, and no search is
        needed. Otherwise QRESYNC's VANISHED (RFC 7162) names what left since the stored
        HIGHESTMODSEQ; a server without it is asked which known UIDs are still there."""
        old_next, old_count = before[1], before[2]
        allotted = set(range(old_next, max(now[1], old_next)))
        nothing_left = now[2] - old_count == len(allotted)
        if len(allotted) > FETCH_CHUNK:  # a mass move: only the ones dated inside the window
            found = client.search(["UID", f"{old_next}:*", "SINCE", since])
            allotted = {u for u in found if u >= old_next}
        if nothing_left:
            return allotted, set()
        if self._qresync and len(before) > 3:
            vanished = self._vanished(client, known | allotted, before[3])
            return allotted - vanished, vanished & known
        present: set[int] = set()
        for uid_set in _sequence_sets(known | allotted):
            present.update(client.search(["UID", uid_set]))
        return allotted & present, known - present

    def _vanished(self, client: IMAPClient, known: set[int], modseq: int) -> set[int]:
        """The known UIDs expunged since `modseq`: UID FETCH (CHANGEDSINCE m VANISHED)."""
        imap = client._imap
        imap.untagged_responses.pop("VANISHED", None)
        for uid_set in _sequence_sets(known):
            typ, data = imap.uid("FETCH", uid_set, "(UID)", f"(CHANGEDSINCE {modseq} VANISHED)")
            if typ != "OK":
                raise ProviderError(f"IMAP UID FETCH VANISHED refused: {data!r}")
        ranges = [
            span
            for line in imap.untagged_responses.pop("VANISHED", [])
            for span in _sequence_spans(line)
        ]
        return {uid for uid in known if any(low <= uid <= high for low, high in ranges)}

    @staticmethod
    def _still_in_window(client: IMAPClient, uids: set[int], since: date) -> set[int]:
        """Once a day the UIDs the window left behind are forgotten (not reported removed:
        the messages are still there, only older than the window)."""
        kept: set[int] = set()
        for uid_set in _sequence_sets(uids):
            kept.update(client.search(["UID", uid_set, "SINCE", since]))
        return kept

    def _interesting(
        self, client: IMAPClient, since: Any, interest: MailInterest, *, invitations: bool = False
    ) -> set[int]:
        """UIDs since `since` of the mail `interest` asks for, searched on the server; with
        `invitations` (a first read of the Inbox), also the mail that may carry an invitation
        whoever sent it: an invitation's subject or a `text/calendar` message (RFC 3501
        section 6.4.4: SUBJECT and HEADER match substrings)."""
        terms: list[list[Any]] = []
        if invitations:
            terms.extend(["SUBJECT", subject] for subject in INVITATION_SUBJECTS)
            terms.append(["HEADER", "Content-Type", "text/calendar"])
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
                item = self._id(folder, uidvalidity, uid)
                headers = _header_fields(data) + b"\r\n"
                message = self._guard.read(
                    item,
                    f"{folder.value} UID {uid}",
                    partial(parse_message, headers, folder=folder, id=item, fallback_date=when),
                )
                if message is None or isinstance(message, Skipped):
                    skipped.extend([message] if message else [])
                    continue
                if message.date >= window.start:
                    messages[uid] = message
        threads = {m.message_id for m in messages.values() if m.folder is Folder.SENT}
        wanted = [
            uid
            for uid, m in messages.items()
            if folder is Folder.INBOX
            and (interest.matches(m) or bool(threads & {m.in_reply_to, *m.references}))
            and not self._guard.is_remembered(f"{m.id}/text")  # its headers will do
        ]
        for chunk in _chunks(wanted, 50):
            for uid, data in client.fetch(chunk, [f"BODY.PEEK[]<0.{TEXT_BYTES}>"]).items():
                raw = next((v for k, v in data.items() if k.startswith(b"BODY[]")), None)
                if not isinstance(raw, bytes):
                    continue
                headers_only = messages[uid]
                try:
                    full = self._guard.run(
                        f"{headers_only.id}/text",
                        partial(
                            parse_message,
                            raw,
                            folder=folder,
                            id=headers_only.id,
                            fallback_date=headers_only.date,
                        ),
                    )
                except ParseError as exc:
                    skipped.append(Skipped(f"{folder.value} UID {uid}", str(exc)))
                    continue
                if isinstance(full, OverBudget):
                    skipped.append(
                        Skipped(
                            f"{folder.value} UID {uid}",
                            f"text {full.reason}; classified from its headers",
                        )
                    )
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
            self._leave_folder(client)
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
            # A tagged NO or BAD: the server refused the APPEND (a connection lost before the
            # answer is retried above, else raised as Transient: an unknown outcome).
            raise NotWritten(ProviderError(f"IMAP: could not append the draft: {exc}")) from exc

    def _leave_folder(self, client: IMAPClient) -> None:
        """Leave the selected folder, if any: Courier-IMAP refuses an APPEND into the folder
        the connection has selected read-only. CLOSE, where the server has no UNSELECT
        (RFC 3691), expunges nothing here: this provider selects folders only read-only
        (EXAMINE), and CLOSE expunges only a folder selected read-write (RFC 3501 6.4.2)."""
        if client._imap.state != "SELECTED":  # imapclient does not say; imaplib does
            return
        if b"UNSELECT" in self._capabilities:
            client.unselect_folder()
        else:
            client.close_folder()

    def _find(self, client: IMAPClient, folder: str, message_id: str) -> str | None:
        status = client.select_folder(folder, readonly=True)
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
            unknown = [d for d in drafts if d.key not in present and d.key not in self._sent_keys]
            sent_keys: set[str] | None = None
            if Folder.SENT in folders and len(unknown) > BULK_LOOKUP:
                sent_keys = self._agent_keys_in(client, folders[Folder.SENT])
            for draft in drafts:
                if draft.key in present:
                    found.append(present[draft.key])
                elif draft.key in self._sent_keys:
                    found.append(
                        DraftObservation(draft.key, self._sent_keys[draft.key], DraftStatus.SENT)
                    )
                elif Folder.SENT in folders and (
                    draft.key in sent_keys
                    if sent_keys is not None
                    else self._in_folder(client, folders[Folder.SENT], draft.key)
                ):
                    found.append(DraftObservation(draft.key, "sent", DraftStatus.SENT))
                elif draft.provider_id:
                    found.append(DraftObservation(draft.key, "", DraftStatus.DELETED))
            return found

        return list(self._retrying("find drafts", look))

    def _tagged_drafts(self, client: IMAPClient, folder: str) -> dict[str, DraftObservation]:
        status = client.select_folder(folder, readonly=True)
        # The key is in the Message-ID (RFC 3501 section 6.4.4: HEADER matches a substring);
        # drafts written by older versions carry it in an X-Mailagent-Key header instead.
        uids = client.search(
            _any_of([["HEADER", "Message-ID", "<mailagent."], ["HEADER", "X-Mailagent-Key", ""]])
        )
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

    def _agent_keys_in(self, client: IMAPClient, folder: str) -> set[str]:
        """The keys of every agent draft in `folder` (one SEARCH, one header FETCH): cheaper
        than a SEARCH per key when many are looked up (a first sync rebuilding its state)."""
        client.select_folder(folder, readonly=True)
        uids = client.search(
            _any_of([["HEADER", "Message-ID", "<mailagent."], ["HEADER", "X-Mailagent-Key", ""]])
        )
        keys: set[str] = set()
        wanted = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MAILAGENT-KEY)]"
        for chunk in _chunks(sorted(uids), FETCH_CHUNK):
            for data in client.fetch(chunk, [wanted]).values():
                raw = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), None)
                if not isinstance(raw, bytes):
                    continue
                headers = email.message_from_bytes(raw)
                key = str(headers.get("X-Mailagent-Key", "")).strip() or key_from_message_id(
                    str(headers.get("Message-ID", ""))
                )
                if key:
                    keys.add(key)
        return keys

    def _in_folder(self, client: IMAPClient, folder: str, key: str) -> bool:
        client.select_folder(folder, readonly=True)
        if client.search(["HEADER", "X-Mailagent-Key", key]):
            return True
        return bool(client.search(["HEADER", "Message-ID", self._message_id(key)]))


def _common_names(folder: Folder, listed: Sequence[Any]) -> list[str]:
    """`FOLDER_NAMES[folder]` at the top, then under INBOX ("INBOX.Sent", "INBOX/Sent")."""
    separators = [str(sep.decode() if isinstance(sep, bytes) else sep) for _, sep, _ in listed]
    prefixes = [f"INBOX{sep}" for sep in dict.fromkeys(separators) if sep]
    names = FOLDER_NAMES[folder]
    return [*names, *(prefix + name for prefix in prefixes for name in names)]


def _inbox_prefix(listed: Sequence[Any]) -> str:
    """ "INBOX." when every folder but INBOX is under it (a server that keeps a user's folders
    there and has no NAMESPACE to say so), else ""."""
    others = [(str(name), sep) for _, sep, name in listed if str(name).upper() != "INBOX"]
    if not others:
        return ""
    separator = others[0][1]
    separator = separator.decode() if isinstance(separator, bytes) else str(separator or "")
    if separator and all(name.upper().startswith(f"INBOX{separator}") for name, _ in others):
        return f"INBOX{separator}"
    return ""


def _any_of(terms: Sequence[list[Any]]) -> list[Any]:
    """IMAP SEARCH "any of these": OR is binary and prefix, so OR t1 OR t2 t3."""
    tokens: list[Any] = []
    for term in terms[:-1]:
        tokens.extend(["OR", *term])
    tokens.extend(terms[-1])
    return tokens


def _sequence_sets(uids: Iterable[int], limit: int = SEQUENCE_SET_CHARS) -> Iterable[str]:
    """UIDs as IMAP sequence sets ("4:9,12"), each at most about `limit` characters long."""
    spans: list[str] = []
    length = 0
    ordered = sorted(uids)
    start = 0
    for i, uid in enumerate(ordered):
        if i + 1 < len(ordered) and ordered[i + 1] == uid + 1:
            continue
        low = ordered[start]
        span = f"{low}:{uid}" if uid != low else str(uid)
        if spans and length + len(span) + 1 > limit:
            yield ",".join(spans)
            spans, length = [], 0
        spans.append(span)
        length += len(span) + 1
        start = i + 1
    if spans:
        yield ",".join(spans)


def _sequence_spans(text: bytes | str) -> list[tuple[int, int]]:
    """The (low, high) spans of a sequence set, past an optional "(EARLIER)" tag."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    text = text.removeprefix("(EARLIER)").strip()
    spans: list[tuple[int, int]] = []
    for part in text.split(","):
        low, _, high = part.strip().partition(":")
        if low.isdigit() and (not high or high.isdigit()):
            a, b = int(low), int(high or low)
            spans.append((min(a, b), max(a, b)))
    return spans


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _header_fields(data: Mapping[bytes, Any]) -> bytes:
    """The `BODY[HEADER.FIELDS (...)]` item of a FETCH answer, found by meaning: servers
    spell its key as they like (Courier quotes the field names, RFC 3501 allows it), so the
    exact string asked for is not the one to look up (issue 11, point 1)."""
    for key, value in data.items():
        if isinstance(key, bytes) and key.upper().startswith(b"BODY[HEADER.FIELDS"):
            return bytes(value or b"")
    return b""
