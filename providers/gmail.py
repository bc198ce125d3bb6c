"""The Gmail provider: Gmail API v1 and Google Calendar API v3 through google-api-python-client.

One read (`read_changes`):
1. Calendar: events.list over the window with `singleEvents`, then with the stored `syncToken`
   (410 `fullSyncRequired`: the window again). The window is read again in full when it has
   slid a week past the last full read, since a sync token only reports changed events.
2. Which mail matters follows from the calendar (`MailInterest`): the people and company
   domains of its events, and the title words of events without attendees.
3. Mail, first time (or when Google answers 404 because the stored historyId is too old):
   getProfile for the historyId to continue from, then messages.list with a `q` search for
   that mail inside the window. Later: history.list from the stored historyId, plus a search
   for the people of events that are new since the last read. So the cost follows the
   interviews, not the mailbox: nothing is listed that no interview could be about.
4. Headers of the listed messages through batched messages.get `format=metadata` (only the
   headers detection and classification use), then the text of the inbox mail that matters
   (`format=full`: text parts inline, attachments left on the server).
A sync with no changes is one history.list and one events.list call.

Drafts carry a Message-ID derived from the key (no header names the key: see docs/gmail.md), so
a draft written just before a crash, a lost answer or a lost state file is found again by an
`rfc822msgid:` search, in Drafts and in Sent. The provider id of a draft is
"draftId/threadId": history entries name threads, and a user's edit, send or delete shows up
as a change in the draft's thread; only those drafts are looked at again.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import google_auth_httplib2
from google.auth.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from mailagent.core.detect import UserIdentity
from mailagent.core.models import (
    AGENT_KEY_HEADER,
    DraftContent,
    DraftObservation,
    DraftStatus,
    Folder,
    Message,
    body_digest,
)
from mailagent.core.relevance import INVITATION_SUBJECTS, MailInterest
from mailagent.errors import AuthError, NotFound, ParseError, ProviderError
from providers.base import Changes, KnownDraft, NotWritten, Skipped, Window
from providers.budget import DEFAULT_BUDGET, Budget, ItemBudget, OverBudget
from providers.google_calendar import SyncTokenExpired, read_calendar
from providers.google_http import CountingHttp, GoogleCalls
from providers.mime import (
    DETECTION_HEADERS,
    MAX_CALENDAR_BYTES,
    MAX_CALENDAR_PARTS,
    MAX_MESSAGE_BYTES,
    MAX_PARTS,
    draft_message_id,
    header_lines,
    message_from_fields,
    parse_message,
    render_draft,
)
from providers.retry import RetryPolicy

log = logging.getLogger(__name__)

GOOGLE_BATCH_URI = "https://gmail.googleapis.com/batch/gmail/v1"
"""The discovery document's batchPath gives /batch, which Google no longer serves for Gmail."""

METADATA_HEADERS = DETECTION_HEADERS
QUERY_TERMS = 30
"""Addresses or domains per search; Gmail does not publish a limit for `q`, long ones fail."""
CALENDAR_REFRESH = timedelta(days=7)
SKIP_LABELS = frozenset({"DRAFT", "SPAM", "TRASH", "CHAT"})


@dataclass(frozen=True, slots=True)
class GoogleEndpoints:
    """Where the APIs are. Google's by default; an emulator's base URL for tests and trials."""

    gmail: str | None = None
    calendar: str | None = None
    gmail_batch: str = GOOGLE_BATCH_URI

    @classmethod
    def at(cls, base_url: str) -> GoogleEndpoints:
        base = base_url.rstrip("/")
        return cls(base, f"{base}/calendar/v3/", f"{base}/batch/gmail/v1")


@dataclass
class _Cursor:
    history_id: str = ""
    sync_token: str = ""
    calendar_read_at: str = ""
    """Window end of the last full calendar read (ISO)."""
    calendar_zone: str = ""
    """The account zone the stored events were read in: all-day events take it, so a new one
    means a full read (an incremental one would not send the unchanged all-day events)."""
    interest: MailInterest = field(default_factory=MailInterest)
    threads: list[str] = field(default_factory=list)
    """Threads of the mail that matters: a reply in one matters whoever sends it."""
    over_budget: dict[str, str] = field(default_factory=dict)
    """Message id (or id/text) -> why it went over the item budget (`providers.budget`)."""

    @classmethod
    def load(cls, text: str | None) -> _Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                history_id=str(data["history_id"]),
                sync_token=str(data.get("sync_token", "")),
                calendar_read_at=str(data.get("calendar_read_at", "")),
                calendar_zone=str(data.get("calendar_zone", "")),
                interest=MailInterest.from_json(data.get("interest")),
                threads=[str(t) for t in data.get("threads", ())],
                over_budget=ItemBudget(remembered=data.get("over_budget")).remembered,
            )
        except (ValueError, KeyError, TypeError):
            log.warning("gmail: unreadable cursor; reading the window in full")
            return None

    def dumps(self) -> str:
        return json.dumps(
            {
                "history_id": self.history_id,
                "sync_token": self.sync_token,
                "calendar_read_at": self.calendar_read_at,
                "interest": self.interest.to_json(),
                "threads": sorted(set(self.threads))[-2000:],
                "calendar_zone": self.calendar_zone,
                "over_budget": self.over_budget,
            },
            sort_keys=True,
        )


@dataclass
class _HistoryRound:
    history_id: str
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    touched_threads: set[str] = field(default_factory=set)


def _quote(term: str) -> str:
    return '"' + term.replace('"', " ") + '"' if any(c in term for c in ' ()"{}') else term


def invitation_query(since: datetime) -> str:
    """Mail after `since` that may carry an invitation whoever sent it: an `.ics` attachment
    (Google's invitations have `invite.ics`; `filename:` matches a name or a type,
    https://support.google.com/mail/answer/7190), or an invitation's subject."""
    subjects = " ".join(f'subject:"{s}"' for s in INVITATION_SUBJECTS)
    return f"after:{int(since.timestamp())} {{filename:ics {subjects}}}"


def search_queries(
    interest: MailInterest, since: datetime, *, invitations: bool = False
) -> list[str]:
    """Gmail `q` strings that together find the mail `interest` asks for, after `since`; with
    `invitations`, also the mail that may carry an invitation (a first read of the window)."""
    after = f"after:{int(since.timestamp())}"
    queries: list[str] = [invitation_query(since)] if invitations else []
    people = sorted(interest.addresses | interest.domains)
    for i in range(0, len(people), QUERY_TERMS):
        group = " OR ".join(_quote(p) for p in people[i : i + QUERY_TERMS])
        queries.append(f"{after} {{from:({group}) to:({group}) cc:({group})}}")
    words = sorted(interest.subject_tokens)
    for i in range(0, len(words), QUERY_TERMS):
        queries.append(f"{after} subject:({' OR '.join(words[i : i + QUERY_TERMS])})")
    for link in sorted(interest.links):
        queries.append(f'{after} "{link.replace(chr(34), "")}"')
    return queries


class GmailProvider:
    """Reads and drafts in one Gmail account. `credentials` are any google-auth credentials:
    from `mailagent connect gmail`, or a host application's own."""

    name: ClassVar[str] = "gmail"

    def __init__(
        self,
        credentials: Credentials,
        *,
        user: UserIdentity,
        timezone: ZoneInfo,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        account: str = "gmail",
        endpoints: GoogleEndpoints | None = None,
        calendar_id: str = "primary",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60.0,
        reconnect_advice: str = "",
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.budget = budget
        self._guard = ItemBudget(budget)
        self.user = user
        self.timezone = timezone
        self.clock = clock
        self.calendar_id = calendar_id
        self.endpoints = endpoints or GoogleEndpoints()
        self._http = CountingHttp(timeout=timeout)
        authed = google_auth_httplib2.AuthorizedHttp(
            credentials, http=self._http, max_refresh_attempts=1
        )
        self._gmail = build(
            "gmail",
            "v1",
            http=authed,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.endpoints.gmail} if self.endpoints.gmail else None,
        )
        self._calendar = build(
            "calendar",
            "v3",
            http=authed,
            static_discovery=True,
            cache_discovery=False,
            client_options=(
                {"api_endpoint": self.endpoints.calendar} if self.endpoints.calendar else None
            ),
        )
        self._calls = GoogleCalls(
            self._http,
            account,
            reconnect_advice or f"run: mailagent connect gmail --account {account}",
            retry or RetryPolicy(),
            sleep,
        )
        self._touched_threads: set[str] = set()
        self._invited: set[str] = set()
        """Messages the invitation search found in this read: their text is read whoever
        sent them."""
        self._check_every_draft = False

    @property
    def requests(self) -> int:
        return self._calls.requests

    def close(self) -> None:
        """Closes the kept-alive HTTP connections."""
        self._http.close()

    # reading

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        before = self.requests
        state = _Cursor.load(cursor)
        self._guard = ItemBudget(self.budget, state.over_budget if state else None)
        self._touched_threads = set()
        self._check_every_draft = state is None
        self._invited = set()
        skipped: list[Skipped] = []

        full_calendar = (
            state is None
            or not state.sync_token
            or not state.calendar_read_at
            or window.end > datetime.fromisoformat(state.calendar_read_at) + CALENDAR_REFRESH
            or state.calendar_zone != self.timezone.key
        )
        calendar = read_calendar(
            self._list_events,
            sync_token=None if full_calendar or state is None else state.sync_token,
            window=window,
            zone=self.timezone,
        )
        skipped.extend(calendar.skipped)
        interest = MailInterest.from_events(calendar.events, self.user)
        threads: set[str] = set()
        if state is not None and not calendar.full:
            interest = state.interest | interest
        if state is not None:
            threads = set(state.threads)

        candidates: set[str] = set()
        removed: set[str] = set()
        history_round = self._history(state.history_id) if state is not None else None
        if history_round is None:
            history_id = str(
                self._calls.execute(self._gmail.users().getProfile(userId="me"), "gmail profile")[
                    "historyId"
                ]
            )
            self._invited = self._search(interest, window.start, invitations=True)
            candidates |= self._invited
            self._check_every_draft = True
        else:
            history_id = history_round.history_id
            candidates |= history_round.added
            removed |= history_round.removed
            self._touched_threads |= history_round.touched_threads
            new_interest = interest - state.interest if state is not None else interest
            if new_interest:
                candidates |= self._search(new_interest, window.start)

        messages: list[Message] = []
        for _ in range(2):  # a second round for the senders that the first one found by subject
            found, more_skipped = self._read_messages(
                sorted(candidates - removed), interest, threads, window
            )
            messages.extend(found)
            skipped.extend(more_skipped)
            threads |= {m.thread_id for m in found if m.thread_id}
            widened = interest.widened_by(found, self.user)
            if not widened - interest:
                break
            candidates = self._search(widened - interest, window.start) - {m.id for m in messages}
            interest = widened

        new_state = _Cursor(
            history_id=history_id,
            sync_token=calendar.sync_token,
            calendar_read_at=(
                window.end.isoformat() if calendar.full or state is None else state.calendar_read_at
            ),
            interest=interest,
            threads=sorted(threads),
            calendar_zone=self.timezone.key,
            over_budget=self._guard.remembered,
        )
        return Changes(
            cursor=new_state.dumps(),
            events=calendar.events,
            events_replace=calendar.full,
            removed_event_ids=calendar.removed,
            messages=messages,
            removed_message_ids=sorted(removed),
            skipped=skipped,
            requests=self.requests - before,
        )

    def _list_events(self, params: dict[str, Any]) -> Mapping[str, Any]:
        request = self._calendar.events().list(calendarId=self.calendar_id, **params)
        try:
            return dict(self._calls.execute(request, "calendar events.list", gone_ok=True))
        except HttpError as exc:  # 410: the sync token expired
            raise SyncTokenExpired from exc

    def _history(self, start: str) -> _HistoryRound | None:
        """Changes since `start`; None when Google no longer has that history (HTTP 404)."""
        result = _HistoryRound(start)
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {"userId": "me", "startHistoryId": start, "maxResults": 500}
            if page_token:
                params["pageToken"] = page_token
            try:
                page = self._calls.execute(
                    self._gmail.users().history().list(**params), "gmail history.list"
                )
            except NotFound:
                log.warning("gmail: history %s is too old; searching the window again", start)
                return None
            for record in page.get("history", ()):
                _apply_history(record, result)
            page_token = page.get("nextPageToken")
            if not page_token:
                result.history_id = str(page.get("historyId", start))
                return result

    def _search(
        self, interest: MailInterest, since: datetime, *, invitations: bool = False
    ) -> set[str]:
        found: set[str] = set()
        for query in search_queries(interest, since, invitations=invitations):
            page_token: str | None = None
            while True:
                params: dict[str, Any] = {"userId": "me", "q": query, "maxResults": 500}
                if page_token:
                    params["pageToken"] = page_token
                page = self._calls.execute(
                    self._gmail.users().messages().list(**params), "gmail messages.list"
                )
                found |= {str(m["id"]) for m in page.get("messages", ())}
                page_token = page.get("nextPageToken")
                if not page_token:
                    break
        return found

    def _read_messages(
        self,
        ids: Sequence[str],
        interest: MailInterest,
        threads: set[str],
        window: Window,
    ) -> tuple[list[Message], list[Skipped]]:
        if not ids:
            return [], []
        users = self._gmail.users()
        results, failures = self._calls.batch(
            self.endpoints.gmail_batch,
            [
                (
                    i,
                    users.messages().get(
                        userId="me", id=i, format="metadata", metadataHeaders=list(METADATA_HEADERS)
                    ),
                )
                for i in ids
            ],
            "gmail messages.get (metadata)",
        )
        skipped = [
            Skipped(f"gmail message {i}", f"HTTP {e.resp.status}")
            for i, e in failures.items()
            if int(e.resp.status) != 404
        ]
        headed: list[Message] = []
        for message_id in ids:
            item = results.get(message_id)
            if item is None:
                continue
            labels = set(item.get("labelIds", ()))
            if labels & SKIP_LABELS or not labels & {"INBOX", "SENT"}:
                continue
            folder = Folder.SENT if "SENT" in labels else Folder.INBOX
            message = self._guard.read(
                message_id, f"gmail message {message_id}", partial(metadata_message, item, folder)
            )
            if message is None or isinstance(message, Skipped):
                skipped.extend([message] if message else [])
                continue
            if message.date < window.start:
                continue
            sent_here = message.thread_id in threads
            if interest.matches(message) or sent_here or message.id in self._invited:
                headed.append(message)
        wanted = [m.id for m in headed if m.folder is Folder.INBOX]
        bodies, body_failures = (
            self._calls.batch(
                self.endpoints.gmail_batch,
                [(i, users.messages().get(userId="me", id=i, format="full")) for i in wanted],
                "gmail messages.get (full)",
            )
            if wanted
            else ({}, {})
        )
        bodies = self._with_calendar_attachments(bodies)
        messages: list[Message] = []
        for headers_only in headed:
            message = headers_only
            item = bodies.get(message.id)
            text_key = f"{message.id}/text"
            if item is not None and not self._guard.is_remembered(text_key):
                try:
                    full = self._guard.run(text_key, partial(full_message, item, message.folder))
                except ParseError as exc:
                    skipped.append(Skipped(f"gmail message {message.id}", str(exc)))
                else:
                    if isinstance(full, OverBudget):
                        skipped.append(
                            Skipped(
                                f"gmail message {message.id}",
                                f"text {full.reason}; classified from its headers and snippet",
                            )
                        )
                    else:
                        message = full
            elif message.id in body_failures:
                skipped.append(
                    Skipped(
                        f"gmail message {message.id}",
                        f"text not read (HTTP {body_failures[message.id].resp.status}); "
                        "classified from its headers and snippet",
                    )
                )
            messages.append(message)
        return messages, skipped

    # drafts

    def _with_calendar_attachments(self, bodies: dict[str, Any]) -> dict[str, Any]:
        """`format=full` leaves attachments on the server: an invitation sent only as an
        `.ics` attachment (no inline `text/calendar` part) is fetched with
        messages.attachments.get, at most `MAX_CALENDAR_PARTS` small ones per message, in one
        batch, and put back into its payload for `parse_message`."""
        wanted: list[tuple[str, Any]] = []
        asked: dict[str, tuple[str, str]] = {}
        users = self._gmail.users()
        for message_id, item in bodies.items():
            parts = list(_leaf_parts(item.get("payload", {})))
            if any(_is_calendar(p) and p.get("body", {}).get("data") for p in parts):
                continue
            attached = [
                str(p["body"]["attachmentId"])
                for p in parts
                if _is_calendar(p)
                and p.get("body", {}).get("attachmentId")
                and int(p["body"].get("size", 0) or 0) <= MAX_CALENDAR_BYTES
            ][:MAX_CALENDAR_PARTS]
            for attachment in attached:
                asked[f"a{len(asked)}"] = (message_id, attachment)
                wanted.append(
                    (
                        f"a{len(wanted)}",
                        users.messages()
                        .attachments()
                        .get(userId="me", messageId=message_id, id=attachment),
                    )
                )
        if not wanted:
            return bodies
        found, _ = self._calls.batch(
            self.endpoints.gmail_batch, wanted, "gmail messages.attachments.get"
        )
        data: dict[str, dict[str, str]] = {}
        for request_id, body in found.items():
            message_id, attachment = asked[request_id]
            if isinstance(body, Mapping) and body.get("data"):
                data.setdefault(message_id, {})[attachment] = str(body["data"])
        return {
            message_id: (
                {**item, "payload": _with_data(item.get("payload", {}), data[message_id])}
                if message_id in data
                else item
            )
            for message_id, item in bodies.items()
        }

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
        body: dict[str, Any] = {"message": {"raw": base64.urlsafe_b64encode(raw).decode()}}
        if content.thread_id:
            body["message"]["threadId"] = content.thread_id
        drafts = self._gmail.users().drafts()
        resent = self._http.resent
        try:
            draft = self._calls.execute(
                drafts.create(userId="me", body=body),
                "gmail drafts.create",
                done_already=lambda: self._settle_draft(message_id),
            )
        except AuthError as error:
            # The token was refused before the call left, or the call was answered 401; an
            # earlier attempt that failed ambiguously was looked up by `done_already`.
            raise NotWritten(error) from error
        except ProviderError as error:
            # The last attempt may have made the draft although its answer was lost: a search
            # by its Message-ID that finds nothing proves it was not; a search that fails
            # leaves the outcome unknown (the runner keeps the intent for a later sync).
            try:
                found = self._settle_draft(message_id)
            except ProviderError:
                looked = False
            else:
                looked = True
            if not looked:
                raise error from error.__cause__
            if found is not None:
                return found
            raise NotWritten(error) from error
        if isinstance(draft, str):
            return draft
        if self._http.resent != resent:
            settled = self._settle_draft(message_id)
            if settled is not None:
                return settled
        return f"{draft['id']}/{draft['message'].get('threadId', '')}"

    def _settle_draft(self, message_id: str) -> str | None:
        """The draft with this Message-ID, if one was made; when a resent request made two,
        the later ones are deleted (the user never saw them)."""
        users = self._gmail.users()
        page = self._calls.execute(
            users.drafts().list(userId="me", q=f"rfc822msgid:{message_id}"),
            "gmail drafts.list",
        )
        found = sorted(page.get("drafts", ()), key=lambda d: str(d["id"]))
        for extra in found[1:]:
            log.warning("gmail: deleting a duplicate of draft %s", found[0]["id"])
            with contextlib.suppress(NotFound):
                self._calls.execute(
                    users.drafts().delete(userId="me", id=extra["id"]), "gmail drafts.delete"
                )
        if not found:
            return None
        return f"{found[0]['id']}/{found[0]['message'].get('threadId', '')}"

    def _find_by_key(self, drafts: Sequence[KnownDraft]) -> list[DraftObservation]:
        """Drafts known only by key (an intent, or a first sync adopting what is in the
        mailbox), looked up by their Message-ID in Drafts, then in Sent: one batch of searches
        each, not two requests per key. A search that fails is a ProviderError: a draft that
        may exist is never taken as missing."""
        if not drafts:
            return []
        users = self._gmail.users()
        ids = {d.key: self._message_id(d.key) for d in drafts}
        listed = self._searched(
            [(k, users.drafts().list(userId="me", q=f"rfc822msgid:{m}")) for k, m in ids.items()],
            "gmail drafts.list",
        )
        found: list[DraftObservation] = []
        for key, page in listed.items():
            if page.get("drafts"):
                provider_id = self._settle_draft(ids[key]) if len(page["drafts"]) > 1 else None
                first = page["drafts"][0]
                provider_id = provider_id or f"{first['id']}/{first['message'].get('threadId', '')}"
                found.append(DraftObservation(key, provider_id, DraftStatus.PRESENT))
        missing = [k for k in ids if not listed[k].get("drafts")]
        sent = self._searched(
            [
                (k, users.messages().list(userId="me", q=f"in:sent rfc822msgid:{ids[k]}"))
                for k in missing
            ],
            "gmail messages.list",
        )
        found.extend(
            DraftObservation(k, "", DraftStatus.SENT) for k in missing if sent[k].get("messages")
        )
        return found

    def _searched(
        self, requests: Sequence[tuple[str, Any]], what: str
    ) -> dict[str, Mapping[str, Any]]:
        """Every search answered, by request id; a part that failed for good raises."""
        if not requests:
            return {}
        results, failures = self._calls.batch(self.endpoints.gmail_batch, requests, what)
        if failures:
            first = next(iter(failures.values()))
            raise ProviderError(
                f"{what}: {len(failures)} of {len(requests)} look-ups failed "
                f"(HTTP {int(first.resp.status)})"
            )
        return results

    def find_drafts(self, drafts: Sequence[KnownDraft]) -> list[DraftObservation]:
        found = self._find_by_key([d for d in drafts if not d.provider_id])
        check = [
            d
            for d in drafts
            if d.provider_id
            and (self._check_every_draft or _thread_of(d.provider_id) in self._touched_threads)
        ]
        if not check:
            return found
        users = self._gmail.users()
        results, failures = self._calls.batch(
            self.endpoints.gmail_batch,
            [
                (d.key, users.drafts().get(userId="me", id=_draft_of(d.provider_id), format="raw"))
                for d in check
            ],
            "gmail drafts.get",
        )
        for draft in check:
            item = results.get(draft.key)
            if item is not None:
                found.append(self._present(draft, item))
            elif draft.key in failures and int(failures[draft.key].resp.status) == 404:
                found.append(self._gone(draft))
        return found

    def _present(self, draft: KnownDraft, item: Mapping[str, Any]) -> DraftObservation:
        try:
            raw = _unbase64(str(item["message"]["raw"]))
            text = parse_message(raw, folder=Folder.DRAFTS, id=str(item["id"])).snippet
            digest = body_digest(text)
        except (KeyError, ParseError, ValueError):
            digest = ""
        thread = item.get("message", {}).get("threadId", _thread_of(draft.provider_id))
        return DraftObservation(draft.key, f"{item['id']}/{thread}", DraftStatus.PRESENT, digest)

    def _gone(self, draft: KnownDraft) -> DraftObservation:
        """A draft that no longer exists was sent or deleted: its thread tells which."""
        thread_id = _thread_of(draft.provider_id)
        message_id = self._message_id(draft.key)
        try:
            thread = self._calls.execute(
                self._gmail.users()
                .threads()
                .get(
                    userId="me",
                    id=thread_id,
                    format="metadata",
                    metadataHeaders=["To", "Message-ID", "X-Mailagent-Key"],
                ),
                "gmail threads.get",
            )
        except NotFound:
            thread = {}
        for message in thread.get("messages", ()):
            if "SENT" not in message.get("labelIds", ()):
                continue
            headers = {
                h["name"].lower(): str(h["value"])
                for h in message.get("payload", {}).get("headers", ())
            }
            ours = (
                headers.get(AGENT_KEY_HEADER) == draft.key
                or headers.get("message-id", "").strip() == message_id
            )
            # The Gmail web client may send with a new Message-ID and without X- headers:
            # then a message to the draft's recipient, in its thread, sent after it was made.
            sent_at = _internal_date(message)
            to = {a.lower() for _, a in getaddresses([headers.get("to", "")])}
            later = (
                draft.created_at is not None
                and sent_at is not None
                and sent_at >= draft.created_at - timedelta(minutes=1)
            )
            if ours or (draft.recipient.lower() in to and later):
                return DraftObservation(draft.key, f"sent/{message['id']}", DraftStatus.SENT)
        return DraftObservation(draft.key, "", DraftStatus.DELETED)


_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})


def _leaf_parts(part: Mapping[str, Any], depth: int = 0) -> Iterator[Mapping[str, Any]]:
    children = part.get("parts")
    if isinstance(children, list) and depth < MIME_DEPTH:
        for child in children[:MAX_PARTS]:
            if isinstance(child, Mapping):
                yield from _leaf_parts(child, depth + 1)
    elif not children:
        yield part


def _is_calendar(part: Mapping[str, Any]) -> bool:
    mime_type = str(part.get("mimeType", "")).lower()
    return mime_type in _CALENDAR_TYPES or str(part.get("filename", "")).lower().endswith(".ics")


def _with_data(part: Mapping[str, Any], data: Mapping[str, str]) -> dict[str, Any]:
    """A copy of a payload whose attachments named in `data` carry their content inline."""
    copy = dict(part)
    body = part.get("body")
    if isinstance(body, Mapping) and str(body.get("attachmentId", "")) in data:
        copy["body"] = {**body, "data": data[str(body["attachmentId"])]}
    children = part.get("parts")
    if isinstance(children, list):
        copy["parts"] = [_with_data(c, data) if isinstance(c, Mapping) else c for c in children]
    return copy


def _draft_of(provider_id: str) -> str:
    return provider_id.partition("/")[0]


def _thread_of(provider_id: str) -> str:
    return provider_id.partition("/")[2]


def _apply_history(record: Mapping[str, Any], into: _HistoryRound) -> None:
    for entry in record.get("messagesAdded", ()):
        message = entry.get("message", {})
        labels = set(message.get("labelIds", ()))
        if labels & {"INBOX", "SENT"} and not labels & SKIP_LABELS:
            into.added.add(str(message["id"]))
            into.removed.discard(str(message["id"]))
        if "SENT" in labels:
            into.touched_threads.add(str(message.get("threadId", "")))
    for entry in record.get("messagesDeleted", ()):
        message = entry.get("message", {})
        into.removed.add(str(message["id"]))
        into.added.discard(str(message["id"]))
        into.touched_threads.add(str(message.get("threadId", "")))
    for kind in ("labelsAdded", "labelsRemoved"):
        for entry in record.get(kind, ()):
            message = entry.get("message", {})
            changed = set(entry.get("labelIds", ()))
            message_id = str(message["id"])
            if changed & {"DRAFT", "SENT", "TRASH", "SPAM"}:
                into.touched_threads.add(str(message.get("threadId", "")))
            gone = kind == "labelsAdded" and bool(changed & {"TRASH", "SPAM"})
            back = (kind == "labelsRemoved" and bool(changed & {"TRASH", "SPAM"})) or (
                kind == "labelsAdded" and bool(changed & {"INBOX", "SENT"})
            )
            if gone:
                into.removed.add(message_id)
                into.added.discard(message_id)
            elif back:
                into.added.add(message_id)
                into.removed.discard(message_id)


def _unbase64(data: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ParseError("body data is not base64url") from exc


def _internal_date(item: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(item["internalDate"]) / 1000, UTC)
    except (KeyError, ValueError, TypeError):
        return None


def metadata_message(item: Mapping[str, Any], folder: Folder) -> Message:
    """A `Message` from a `format=metadata` answer: its headers, and Gmail's snippet as text."""
    return message_from_fields(
        _fields(item.get("payload", {}).get("headers", ())),
        html.unescape(str(item.get("snippet", ""))),
        folder=folder,
        id=str(item["id"]),
        thread_id=str(item.get("threadId", "")),
        fallback_date=_internal_date(item),
    )


def _fields(headers: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(str(h.get("name", "")), str(h.get("value", ""))) for h in headers]


def full_message(item: Mapping[str, Any], folder: Folder) -> Message:
    """A `Message` from a `format=full` answer, rebuilt as MIME so that it is read exactly as
    the other providers read mail (attachments, fetched by id only, stay empty)."""
    data = _mime(item.get("payload", {}), top=True)
    message = parse_message(
        data, folder=folder, id=str(item["id"]), fallback_date=_internal_date(item)
    )
    return replace(message, thread_id=str(item.get("threadId", "")))


MIME_DEPTH = 8
"""Nesting of `payload.parts` rebuilt; real mail nests three or four deep."""


def _mime(part: Mapping[str, Any], *, top: bool = False) -> bytes:
    """The payload as MIME for `parse_message`, bounded like the parser's own input: at most
    `MAX_PARTS` parts, `MIME_DEPTH` levels and `MAX_MESSAGE_BYTES` (a hostile message of 100k
    parts, or parts nested without end, costs no more than a plain one)."""
    budget = _MimeBudget()
    return b"".join(_mime_part(part, top=top, depth=0, budget=budget))


@dataclass
class _MimeBudget:
    parts: int = 0
    size: int = 0

    def spend(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        return chunk

    @property
    def spent(self) -> bool:
        return self.parts >= MAX_PARTS or self.size >= MAX_MESSAGE_BYTES


def _mime_part(
    part: Mapping[str, Any], *, top: bool, depth: int, budget: _MimeBudget
) -> Iterator[bytes]:
    budget.parts += 1
    headers = part.get("headers", ())
    mime_type = str(part.get("mimeType", "text/plain")).lower()
    if mime_type.startswith("multipart/"):
        boundary = f"=_mailagent_{secrets.token_hex(8)}"
        lines = header_lines(_fields(headers))
        lines.append(f'Content-Type: {mime_type}; boundary="{boundary}"')
        yield budget.spend("\r\n".join(lines).encode() + b"\r\n\r\n")
        children = part.get("parts", ())
        if depth < MIME_DEPTH and isinstance(children, list):
            for child in children:
                if budget.spent or not isinstance(child, Mapping):
                    break
                yield budget.spend(f"--{boundary}\r\n".encode())
                yield from _mime_part(child, top=False, depth=depth + 1, budget=budget)
                yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()
        return
    content_type = next(
        (" ".join(v.split()) for n, v in _fields(headers) if n.lower() == "content-type"),
        mime_type,
    )
    lines = header_lines(_fields(headers))
    if not top:
        lines = [ln for ln in lines if ln.lower().startswith(("content-disposition", "content-id"))]
    data = str(part.get("body", {}).get("data", ""))[: MAX_MESSAGE_BYTES * 4 // 3 + 4]
    body = _unbase64(data)
    lines += [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64"]
    encoded = base64.encodebytes(body)
    yield budget.spend("\r\n".join(lines).encode() + b"\r\n\r\n" + encoded.replace(b"\n", b"\r\n"))
