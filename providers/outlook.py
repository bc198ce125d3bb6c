"""The Outlook provider: Microsoft Graph v1.0 over httpx, tokens from MSAL or the host.

One read is one `$batch` of four delta queries: Inbox and Sent Items (messages received inside
the window: `$filter=receivedDateTime ge`, the one filter message delta takes), Drafts (the
agent's tag expanded, to see its drafts edited, sent or deleted) and the calendar view over the
window. Their deltaLinks are the cursor; while a stream pages, its nextLink goes into the next
`$batch`. 410 Gone or `syncStateNotFound` restarts that stream. A sync with no changes is one
HTTP request. The calendar view's range is fixed by its first request, so the stream restarts
when the window has slid a week past it.

Delta pages carry headers and `bodyPreview` only. The text of the inbox mail that can matter
(`MailInterest`: mail with the calendar's people and companies, or in their conversations) is
fetched with its internet headers in further `$batch`es, so classification reads the same text
as with the other providers.

Drafts: a thank-you is `POST /me/messages`; a follow-up or a rejection reply is `createReply` on
the user's last message (Outlook threads it: conversation, In-Reply-To, References), tagged
as unfinished, then one PATCH sets the body, recipients and subject and the key's tag together;
a reply whose PATCH failed is deleted, never left as an empty "RE:" (see `_reply`). Each draft carries the agent's key in a named
extended property (`TAG_PROPERTY`): a MAPI property, not an internet header, so it does not go
out with the message to other organisations; its value is an opaque hash. The agent's drafts
live only in Drafts, which is never read as mail: a draft is never taken for the user's latest
message (one project made about 1,500 duplicate drafts for one user that way).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.utils import format_datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from mailagent.core.addresses import require_valid
from mailagent.core.detect import UserIdentity
from mailagent.core.models import (
    AGENT_KEY_HEADER,
    CalendarEvent,
    DraftContent,
    DraftObservation,
    DraftStatus,
    Folder,
    Message,
    body_digest,
)
from mailagent.core.relevance import MailInterest, looks_like_invitation
from mailagent.errors import AuthError, NotFound, ParseError, ProviderError, Transient
from providers.base import Changes, KnownDraft, NotWritten, Skipped, Window
from providers.budget import DEFAULT_BUDGET, Budget, ItemBudget, OverBudget
from providers.graph_events import event_from_graph
from providers.graph_http import GRAPH_BASE, GraphClient, GraphRequest, TokenProvider, relative
from providers.mime import (
    draft_sender,
    header_lines,
    message_from_fields,
    parse_message,
    sanitize_header_text,
)

log = logging.getLogger(__name__)

TAG_PROPERTY = "String {6f7c3f4e-2b8a-4d1e-9c55-8a3f1d2b7e61} Name MailagentKey"
LIST_FIELDS = (
    "id,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,"
    "internetMessageId,conversationId,isDraft,bodyPreview,hasAttachments"
)
DETAIL_FIELDS = "id,conversationId,receivedDateTime,body,internetMessageHeaders"
PAGE_SIZE = 200
TEXT = 'outlook.body-content-type="text"'
CALENDAR_REFRESH = timedelta(days=7)
MAIL_STREAMS = {"inbox": Folder.INBOX, "sentitems": Folder.SENT}
EXPIRED_CODES = frozenset({"syncStateNotFound", "resyncRequired", "SyncStateNotFound"})
EXPAND_TAG = f"singleValueExtendedProperties($filter=id eq '{TAG_PROPERTY}')"
MEETING_TYPES = frozenset({"#microsoft.graph.eventMessageRequest", "#microsoft.graph.eventMessage"})
"""How Graph annotates a meeting request and a cancellation in a list of messages (an
`eventMessageResponse` is an attendee's answer: nothing new about the event).
https://learn.microsoft.com/graph/api/resources/eventmessage"""
MIME_LIMIT = 20
"""Invitations whose MIME one read fetches (one GET each: `$value` has no place in `$batch`'s
JSON); the rest wait for the next read. A mailbox gets a few a week."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(path: str, **params: str) -> str:
    """`path` with OData query options, percent-encoded (a space in `$filter` is %20)."""
    query = "&".join(f"{name}={quote(value, safe=SAFE)}" for name, value in params.items())
    return f"{path}?{query}" if query else path


SAFE = "$,()'/:=@"


def _initial_url(stream: str, window: Window) -> str:
    if stream == "calendar":
        return _url(
            "/me/calendarView/delta",
            startDateTime=_iso(window.start),
            endDateTime=_iso(window.end),
        )
    if stream == "drafts":
        return _url(
            "/me/mailFolders/drafts/messages/delta",
            **{"$select": "id,subject,body,conversationId", "$expand": EXPAND_TAG},
        )
    options = {
        "$select": LIST_FIELDS,
        "$filter": f"receivedDateTime ge {_iso(window.start)}",
    }
    if stream == "sentitems":
        options["$expand"] = EXPAND_TAG
    return _url(f"/me/mailFolders/{stream}/messages/delta", **options)


PREFER = {"Prefer": f"odata.maxpagesize={PAGE_SIZE}, {TEXT}"}


def _tag(item: Mapping[str, Any]) -> str:
    for prop in item.get("singleValueExtendedProperties") or ():
        if str(prop.get("id", "")).lower() == TAG_PROPERTY.lower():
            return str(prop.get("value", ""))
    return ""


def _address(value: object) -> str:
    if not isinstance(value, Mapping):
        return ""
    email = value.get("emailAddress")
    if not isinstance(email, Mapping) or not email.get("address"):
        return ""
    name, address = str(email.get("name") or ""), str(email["address"])
    local, _, domain = address.partition("@")
    try:
        return str(Address(display_name=name, username=local, domain=domain))
    except (ValueError, IndexError):
        return address


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def light_message(item: Mapping[str, Any], folder: Folder) -> Message:
    """A `Message` from a delta page: addresses, subject, dates, and `bodyPreview` as text."""
    moment = _when(item.get("sentDateTime")) or _when(item.get("receivedDateTime"))
    fields = [
        ("From", _address(item.get("from"))),
        ("To", ", ".join(a for a in map(_address, item.get("toRecipients") or ()) if a)),
        ("Cc", ", ".join(a for a in map(_address, item.get("ccRecipients") or ()) if a)),
        ("Subject", str(item.get("subject") or "")),
        ("Message-ID", str(item.get("internetMessageId") or "")),
    ]
    if moment is not None:
        fields.append(("Date", format_datetime(moment)))
    return _message(fields, str(item.get("bodyPreview") or ""), item, folder, moment)


def detailed_message(item: Mapping[str, Any], light: Message) -> Message:
    """A `Message` from the internet headers and the text body Graph gives for a message."""
    fields = [
        (str(h.get("name", "")), str(h.get("value", "")))
        for h in item.get("internetMessageHeaders") or ()
    ]
    if not header_lines(fields):
        return light
    body = item.get("body")
    text = str(body.get("content", "")) if isinstance(body, Mapping) else light.snippet
    return _message(fields, text, item, light.folder, light.date)


def _message(
    fields: list[tuple[str, str]],
    text: str,
    item: Mapping[str, Any],
    folder: Folder,
    moment: datetime | None,
) -> Message:
    return message_from_fields(
        fields,
        text,
        folder=folder,
        id=str(item["id"]),
        thread_id=str(item.get("conversationId") or ""),
        fallback_date=moment,
    )


@dataclass
class _Round:
    """What one read saw, per stream."""

    items: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)


class OutlookProvider:
    """Reads and drafts in one Microsoft 365 or Outlook.com mailbox through Graph."""

    name: ClassVar[str] = "outlook"

    def __init__(
        self,
        token: TokenProvider,
        *,
        user: UserIdentity,
        timezone: ZoneInfo,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        account: str = "outlook",
        base_url: str = GRAPH_BASE,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
        base_delay: float = 1.0,
        reconnect_advice: str = "",
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.budget = budget
        self._guard = ItemBudget(budget)
        self.user = user
        self.timezone = timezone
        self.clock = clock
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=60.0)
        self._graph = GraphClient(
            self._http,
            token,
            account,
            reconnect_advice or f"run: mailagent connect outlook --account {account}",
            base=base_url,
            attempts=attempts,
            base_delay=base_delay,
            sleep=sleep,
        )
        self._drafts_seen: dict[str, DraftObservation] = {}
        self._drafts_gone: set[str] = set()
        self._drafts_listed: set[str] | None = None
        self._sent_keys: dict[str, str] = {}
        self._all_listed = False
        """This sync's read listed Drafts and Sent Items in full (a first or restarted round):
        a key found in neither is in neither, without a look-up per key."""

    @property
    def requests(self) -> int:
        return self._graph.requests

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # reading

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        before = self.requests
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        self._guard = ItemBudget(self.budget, state.get("over_budget"))
        streams: dict[str, str] = {}
        for stream in ("inbox", "sentitems", "drafts"):
            streams[stream] = state.get(stream) or _initial_url(stream, window)
        calendar_end = _when(state.get("calendar_end"))
        if (
            not state.get("calendar")
            or calendar_end is None
            or window.end > calendar_end + CALENDAR_REFRESH
            # all-day events take the account zone: a new zone reads them all again
            or state.get("calendar_zone") != self.timezone.key
        ):
            streams["calendar"] = _initial_url("calendar", window)
            calendar_end = window.end
        else:
            streams["calendar"] = str(state["calendar"])
        seen = self._delta(streams, window)

        skipped: list[Skipped] = []
        events: list[CalendarEvent] = []
        for item in seen.items.get("calendar", ()):
            try:
                events.append(event_from_graph(item, self.user, self.timezone))
            except (KeyError, ValueError, TypeError) as exc:
                skipped.append(Skipped(f"calendar event {item.get('id')}", f"unreadable: {exc!r}"))
        calendar_full = "calendar" in seen.full
        interest = MailInterest.from_events(events, self.user)
        if not calendar_full:
            interest = MailInterest.from_json(state.get("interest")) | interest
        threads = set(state.get("threads", ()))

        self._learn_drafts(seen)
        messages, more = self._messages(seen, interest, threads, window)
        skipped.extend(more)
        threads |= {m.thread_id for m in messages if m.thread_id and interest.matches(m)}
        new_state = {
            **seen.links,
            "calendar_end": calendar_end.isoformat(),
            "calendar_zone": self.timezone.key,
            "over_budget": self._guard.remembered,
            "interest": interest.widened_by(messages, self.user).to_json(),
            "threads": sorted(threads)[-2000:],
        }
        removed = [i for s in MAIL_STREAMS for i in seen.removed.get(s, ())]
        return Changes(
            cursor=json.dumps(new_state, sort_keys=True),
            events=events,
            events_replace=calendar_full,
            removed_event_ids=seen.removed.get("calendar", ()),
            messages=messages,
            removed_message_ids=removed,
            skipped=skipped,
            requests=self.requests - before,
        )

    def _delta(self, streams: Mapping[str, str], window: Window) -> _Round:
        seen = _Round()
        pending = dict(streams)
        for stream, url in streams.items():
            seen.items[stream], seen.removed[stream] = [], []
            if url == _initial_url(stream, window):
                seen.full.add(stream)
        restarted: set[str] = set()
        while pending:
            answers = self._graph.batch(
                [GraphRequest(s, "GET", u, headers=PREFER) for s, u in pending.items()],
                "delta",
            )
            following: dict[str, str] = {}
            for stream, answer in answers.items():
                if answer.status == 410 or answer.error_code in EXPIRED_CODES:
                    if stream in restarted:
                        raise Transient(f"delta {stream}: the server keeps refusing a new round")
                    log.info("delta %s: token expired; reading the stream again", stream)
                    restarted.add(stream)
                    seen.items[stream], seen.removed[stream] = [], []
                    seen.full.add(stream)
                    following[stream] = _initial_url(stream, window)
                    continue
                if answer.status != 200 or not isinstance(answer.body, Mapping):
                    raise Transient(
                        f"delta {stream}: HTTP {answer.status} {answer.error_code}".strip()
                    )
                for item in answer.body.get("value", ()):
                    if "@removed" in item:
                        seen.removed[stream].append(str(item.get("id")))
                    else:
                        seen.items[stream].append(item)
                link = answer.body.get("@odata.nextLink")
                if link:
                    following[stream] = relative(str(link), self._graph.base)
                else:
                    delta = answer.body.get("@odata.deltaLink")
                    if not delta:
                        raise Transient(f"delta {stream}: a page with neither next nor delta link")
                    seen.links[stream] = relative(str(delta), self._graph.base)
            pending = following
        return seen

    def _messages(
        self,
        seen: _Round,
        interest: MailInterest,
        threads: set[str],
        window: Window,
    ) -> tuple[list[Message], list[Skipped]]:
        skipped: list[Skipped] = []
        light: dict[str, Message] = {}
        invited: list[str] = []
        for stream, folder in MAIL_STREAMS.items():
            for item in seen.items.get(stream, ()):
                if item.get("isDraft") or (_tag(item) and folder is Folder.INBOX):
                    continue  # a draft is never the user's mail
                key = str(item.get("id"))
                message = self._guard.read(
                    key, f"outlook message {key}", partial(light_message, item, folder)
                )
                if message is None or isinstance(message, Skipped):
                    skipped.extend([message] if message else [])
                    continue
                if _tag(item):  # a draft of the agent's that the user sent
                    tagged = {**message.headers, AGENT_KEY_HEADER: _tag(item)}
                    message = replace(message, headers=tagged)
                if message.date >= window.start:
                    light[message.id] = message
                    if folder is Folder.INBOX and _may_invite(item, message):
                        invited.append(message.id)
        wanted = [
            m.id
            for m in light.values()
            if m.folder is Folder.INBOX
            and (interest.matches(m) or m.thread_id in threads)
            and not self._guard.is_remembered(f"{m.id}/text")  # its preview will do
        ]
        answers = self._graph.batch(
            [
                GraphRequest(
                    i,
                    "GET",
                    _url(f"/me/messages/{i}", **{"$select": DETAIL_FIELDS}),
                    headers={"Prefer": TEXT},
                )
                for i in wanted
            ],
            "message text",
        )
        for message_id in wanted:
            answer = answers.get(message_id)
            if answer is None or answer.status != 200 or not isinstance(answer.body, Mapping):
                status = answer.status if answer is not None else "none"
                skipped.append(
                    Skipped(
                        f"outlook message {message_id}",
                        f"text not read (HTTP {status}); classified from its preview",
                    )
                )
                continue
            try:
                detailed = self._guard.run(
                    f"{message_id}/text",
                    partial(detailed_message, answer.body, light[message_id]),
                )
            except ParseError as exc:
                skipped.append(Skipped(f"outlook message {message_id}", str(exc)))
                continue
            if isinstance(detailed, OverBudget):
                skipped.append(
                    Skipped(
                        f"outlook message {message_id}",
                        f"text {detailed.reason}; classified from its preview",
                    )
                )
                continue
            light[message_id] = detailed
        for message_id in invited[:MIME_LIMIT]:
            found = self._invitations(light[message_id])
            if isinstance(found, Skipped):
                skipped.append(found)
            else:
                light[message_id] = found
        return sorted(light.values(), key=lambda m: m.date), skipped

    def _invitations(self, message: Message) -> Message | Skipped:
        """`message` with the invitations of its calendar parts, read from its MIME content
        (`$value`, https://learn.microsoft.com/graph/outlook-get-mime-message): Graph's event
        navigation property has no SEQUENCE and no METHOD, the MIME has both."""
        item = f"outlook message {message.id}"
        try:
            answer = self._graph.send(
                "GET", f"/me/messages/{quote(message.id, safe=SAFE)}/$value", what="message MIME"
            )
        except NotFound:
            return message  # gone since it was listed: the next delta says so
        if answer.status != 200 or not answer.content:
            return Skipped(item, f"invitation not read (HTTP {answer.status})")
        try:
            parsed = self._guard.run(
                f"{message.id}/mime",
                partial(
                    parse_message,
                    answer.content,
                    folder=message.folder,
                    id=message.id,
                    fallback_date=message.date,
                ),
            )
        except ParseError as exc:
            return Skipped(item, f"invitation not read: {exc}")
        if isinstance(parsed, OverBudget):
            return Skipped(item, f"invitation {parsed.reason}")
        return replace(
            message,
            invitations=parsed.invitations,
            invitation_problems=parsed.invitation_problems,
        )

    # drafts

    def _learn_drafts(self, seen: _Round) -> None:
        self._drafts_seen, self._sent_keys = {}, {}
        self._drafts_gone = set(seen.removed.get("drafts", ()))
        listed: set[str] = set()
        for item in seen.items.get("drafts", ()):
            listed.add(str(item["id"]))
            key = _tag(item)
            if key:
                body = item.get("body")
                text = str(body.get("content", "")) if isinstance(body, Mapping) else ""
                self._drafts_seen[key] = DraftObservation(
                    key, str(item["id"]), DraftStatus.PRESENT, body_digest(text) if text else ""
                )
        self._drafts_listed = listed if "drafts" in seen.full else None
        self._all_listed = {"drafts", "sentitems"} <= seen.full
        for item in seen.items.get("sentitems", ()):
            key = _tag(item)
            if key:
                self._sent_keys[key] = str(item["id"])

    def find_drafts(self, drafts: Sequence[KnownDraft]) -> list[DraftObservation]:
        found: list[DraftObservation] = []
        for draft in drafts:
            if not draft.provider_id:
                if self._all_listed and _unfinished(draft.key) not in self._drafts_seen:
                    if draft.key in self._drafts_seen:
                        found.append(self._drafts_seen[draft.key])
                    elif draft.key in self._sent_keys:
                        found.append(
                            DraftObservation(
                                draft.key, self._sent_keys[draft.key], DraftStatus.SENT
                            )
                        )
                    continue
                observation = self._lookup(draft.key)
                if observation is not None:
                    found.append(observation)
            elif draft.key in self._sent_keys:
                found.append(
                    DraftObservation(draft.key, self._sent_keys[draft.key], DraftStatus.SENT)
                )
            elif draft.key in self._drafts_seen:
                found.append(self._drafts_seen[draft.key])
            elif draft.provider_id in self._drafts_gone or (
                self._drafts_listed is not None and draft.provider_id not in self._drafts_listed
            ):
                found.append(DraftObservation(draft.key, "", DraftStatus.DELETED))
        return found

    def _lookup(self, key: str) -> DraftObservation | None:
        """A draft whose creation went unrecorded (a crash, a lost answer, a lost state file),
        found by its tag. A reply draft left unfinished (its text never set) is deleted and
        reported `discarded`, so that the runner writes the reply again."""
        for folder, status in (("drafts", DraftStatus.PRESENT), ("sentitems", DraftStatus.SENT)):
            found = self._tagged(folder, key)
            if found:
                return DraftObservation(key, found[0], status)
        orphans = self._tagged("drafts", _unfinished(key))
        for orphan in orphans:
            self._delete_orphan(orphan)
        if orphans:
            log.warning("outlook: removed an unfinished reply draft for %s", key)
            return DraftObservation(key, "", DraftStatus.DELETED, discarded=True)
        return None

    def _tagged(self, folder: str, value: str) -> list[str]:
        query = _url(
            f"/me/mailFolders/{folder}/messages",
            **{
                "$select": "id",
                "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{TAG_PROPERTY}'"
                f" and ep/value eq '{value}')",
            },
        )
        response = self._graph.send("GET", query, what=f"find draft in {folder}")
        if response.status != 200 or not isinstance(response.body, Mapping):
            raise Transient(f"find draft in {folder}: HTTP {response.status}")
        return sorted(str(m["id"]) for m in response.body.get("value", ()))

    def _settle(self, value: str) -> str | None:
        """The draft tagged `value`, if one was made; copies that a lost answer caused, beyond
        the first, are deleted."""
        found = self._tagged("drafts", value)
        for extra in found[1:]:
            log.warning("outlook: deleting a duplicate of draft %s", found[0])
            with contextlib.suppress(NotFound):
                self._graph.send("DELETE", f"/me/messages/{extra}", what="delete duplicate draft")
        return found[0] if found else None

    def _delete_orphan(self, draft_id: str) -> None:
        """Deletes an unfinished reply draft (the agent's own, never shown as finished)."""
        with contextlib.suppress(NotFound):
            response = self._graph.send(
                "DELETE", f"/me/messages/{draft_id}", what="delete unfinished reply draft"
            )
            if response.status >= 300:
                raise Transient(f"delete unfinished reply draft: HTTP {response.status}")

    def create_draft(self, content: DraftContent, key: str) -> str:
        """POST /me/messages, or createReply + PATCH for a reply. A failure whose outcome a
        look-up by tag settles at once (nothing there) raises `NotWritten`; one it cannot
        settle is left to the runner's next sync."""
        try:
            return self._create(content, key)
        except AuthError as error:  # refused before anything was made (see GraphClient)
            raise NotWritten(error) from error
        except NotWritten:
            raise
        except ProviderError as error:
            try:
                found = self._settle(key)
                if found is None:
                    for orphan in self._tagged("drafts", _unfinished(key)):
                        self._delete_orphan(orphan)
                looked = True
            except ProviderError:
                found, looked = None, False
            if found is not None:
                return found
            if looked:
                raise NotWritten(error) from error
            raise

    def _create(self, content: DraftContent, key: str) -> str:
        recipients = [
            {"emailAddress": {"name": p.name, "address": require_valid(p.address)}}
            for p in content.to
        ]  # require_valid: the planner checked already; Graph takes any string (defence in depth)
        body = {"contentType": "text", "content": content.body}
        if content.reply_to_id:
            try:
                return self._reply(content, key, recipients, body)
            except NotFound:
                log.warning("outlook: the message a reply answers is gone; drafting a new one")
        message = {
            "subject": content.subject,
            "body": body,
            "toRecipients": recipients,
            **self._from(content),
            "singleValueExtendedProperties": [{"id": TAG_PROPERTY, "value": key}],
        }
        return self._created(
            self._graph.send(
                "POST",
                "/me/messages",
                json=message,
                what="create draft",
                done_already=lambda: _as_body(self._settle(key)),
            ),
            key,
        )

    def _from(self, content: DraftContent) -> dict[str, Any]:
        """The draft's `from`: the account's address with the name the draft is signed with
        (`draft_sender`); nothing when no name is known (Exchange then shows the mailbox's
        own display name)."""
        sender = draft_sender(content, self.user.primary)
        name = sanitize_header_text(sender.name).strip()
        if not name:
            return {}
        address = require_valid(sender.address)
        return {"from": {"emailAddress": {"name": name, "address": address}}}

    def _reply(
        self,
        content: DraftContent,
        key: str,
        recipients: list[dict[str, Any]],
        body: dict[str, str],
    ) -> str:
        """createReply tags the new draft as unfinished; the PATCH that sets its text, subject
        and recipients tags it with the key in the same request. A draft never carries the
        key without its text, so no empty "RE:" is ever taken for the agent's finished draft.
        When the PATCH fails the unfinished draft is deleted (`NotWritten`: written again at
        the next sync); when that fails too, the next sync's look-up by key deletes it."""
        pending = _unfinished(key)
        created = self._graph.send(
            "POST",
            f"/me/messages/{content.reply_to_id}/createReply",
            json={
                "message": {
                    "singleValueExtendedProperties": [{"id": TAG_PROPERTY, "value": pending}]
                }
            },
            what="create reply draft",
            done_already=lambda: _as_body(self._settle(pending)),
        )
        draft_id = self._created(created, key)
        try:
            patched = self._graph.send(
                "PATCH",
                f"/me/messages/{draft_id}",
                json={
                    "subject": content.subject,
                    "body": body,
                    "toRecipients": recipients,
                    **self._from(content),
                    "singleValueExtendedProperties": [{"id": TAG_PROPERTY, "value": key}],
                },
                what="set the reply draft's text",
            )
            if patched.status >= 300:
                raise Transient(f"set the reply draft's text: HTTP {patched.status}")
        except ProviderError as error:
            if self._settle(key) is not None:  # the PATCH was applied, its answer lost
                return draft_id
            self._delete_orphan(draft_id)
            raise NotWritten(error) from error
        return draft_id

    def _created(self, response: Any, key: str) -> str:
        if response.status >= 300 or not isinstance(response.body, Mapping):
            raise ProviderError(f"draft {key}: Graph answered HTTP {response.status}")
        return str(response.body["id"])


def _may_invite(item: Mapping[str, Any], message: Message) -> bool:
    """A meeting request or cancellation (Exchange made one of an iMIP message), or mail with
    an attachment and an invitation's subject (an `.ics` file Exchange left as a file)."""
    if str(item.get("@odata.type", "")) in MEETING_TYPES:
        return True
    return bool(item.get("hasAttachments")) and looks_like_invitation(message)


def _unfinished(key: str) -> str:
    """The tag of a reply draft whose text is not set yet."""
    return f"{key}.unfinished"


def _as_body(draft_id: str | None) -> dict[str, str] | None:
    return {"id": draft_id} if draft_id is not None else None
