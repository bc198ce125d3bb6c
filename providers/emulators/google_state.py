"""In-memory state of the Google emulator: one Gmail mailbox and one Calendar, no I/O.

Design notes:

- Nothing here locks: `GoogleEmulator` owns one lock and holds it around every call into this
  module (HTTP dispatch and the in-process API alike).
- Every mailbox change (message added or deleted, labels added or removed) appends one history
  record with the next value of one monotonic counter, as Gmail does; a message's `historyId`
  is its latest change. The counter doubles as the version that invalidates cached searches.
- Searching 200,000 messages stays fast because each message's searchable facts are computed
  once (`gmail_query.SearchDoc`) and inverted indexes map labels, Message-IDs and interned
  correspondents (`Party`) to message keys; a query first narrows itself through them.
- The calendar keeps one change sequence; a sync token names a sequence number and a
  generation, and `expire_sync_tokens` moves to a new generation.
"""

from __future__ import annotations

import base64
import binascii
import copy
import email
import email.policy
import email.utils
import html
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rruleset, rrulestr  # type: ignore[import-untyped]

from providers.emulators.gmail_query import (
    Party,
    Query,
    QueryContext,
    SearchDoc,
    make_party,
    normalize_words,
    parse_query,
)

_FIRST_MESSAGE_ID = 0x19A2_0000_0000_0000
"""Gmail ids are 16 lowercase hex digits that grow with time; ours start near 2025's."""
_MESSAGE_ID_STEP = 0x1F3
_FIRST_HISTORY_ID = 10_000
_SNIPPET_CHARS = 200


class ApiError(Exception):
    """A Google-style error response: {"error": {"code", "message", "errors": [...], ...}}."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        status: str | None = None,
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.status = status
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}
        self.detail = detail
        """errors[0].message when it differs from the top-level message (as for 401)."""

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "message": self.detail or self.message,
            "domain": self.domain,
            "reason": self.reason,
        }
        if self.location_type is not None:
            detail["locationType"] = self.location_type
        if self.location is not None:
            detail["location"] = self.location
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [detail]}
        if self.status is not None:
            error["status"] = self.status
        return {"error": error}


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "notFound", status="NOT_FOUND")


def bad_request(message: str, reason: str = "badRequest") -> ApiError:
    return ApiError(400, message, reason, status="INVALID_ARGUMENT")


# --- reading raw messages ----------------------------------------------------------------------

_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_CHARSET = re.compile(r"""charset\s*=\s*"?([^";\s]+)""", re.IGNORECASE)
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body (the first empty line separates them; CRLF or LF)."""
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return raw[:crlf], raw[crlf + 4 :]
    if lf >= 0:
        return raw[:lf], raw[lf + 2 :]
    return raw, b""


def _text(data: bytes, charset: str | None = None) -> str:
    for name in (charset, "utf-8"):
        if name:
            try:
                return data.decode(name)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("latin-1")


def raw_headers(raw: bytes) -> list[tuple[str, str]]:
    """(name, unfolded undecoded value) for each header line, in order."""
    head, _ = split_message(raw)
    found: list[tuple[str, str]] = []
    for line in _UNFOLD.sub("", _text(head)).splitlines():
        name, colon, value = line.partition(":")
        if colon and name and not name[0].isspace():
            found.append((name.strip(), value.strip()))
    return found


def decode_value(value: str) -> str:
    """RFC 2047 encoded words decoded (Gmail returns decoded header values)."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, binascii.Error):
        return value


def normalize_subject(subject: str) -> str:
    """Re:/Fwd:/AW: prefixes stripped, case folded: Gmail's thread-subject comparison."""
    return " ".join(_PREFIX.sub("", subject).split()).casefold()


def _first(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in headers if n.lower() == name), None)


def _by_name(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in headers:
        found.setdefault(name.lower(), []).append(value)
    return found


@lru_cache(maxsize=65_536)
def _addresses(value: str) -> tuple[tuple[str, str], ...]:
    """(address, display name) of each mailbox in one header value. Cached: a mailbox hears
    from the same few senders over and over, and the stdlib address parser is the slow part
    of indexing a message."""
    pairs = email.utils.getaddresses([decode_value(value)])
    return tuple((addr.lower(), name) for name, addr in pairs if "@" in addr)


def html_to_text(text: str) -> str:
    return html.unescape(_TAG.sub(" ", text))


def body_text(raw: bytes, headers: Sequence[tuple[str, str]] | None = None) -> tuple[str, bool]:
    """(text of the body, has an attachment). Plain single-part mail takes a fast path; other
    mail goes through the email package: the first text/plain part, else text/html."""
    headers = raw_headers(raw) if headers is None else headers
    ctype = (_first(headers, "content-type") or "text/plain").lower()
    encoding = (_first(headers, "content-transfer-encoding") or "").strip().lower()
    if ctype.split(";")[0].strip() == "text/plain" and encoding in {"", "7bit", "8bit", "binary"}:
        charset = _CHARSET.search(ctype)
        return _text(split_message(raw)[1], charset.group(1) if charset else None), False
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        plain: str | None = None
        rich: str | None = None
        attachment = False
        for part in message.walk():
            if part.is_multipart():
                continue
            if part.get_content_disposition() == "attachment" or part.get_filename():
                attachment = True
                continue
            kind = part.get_content_type()
            if kind == "text/plain" and plain is None:
                plain = _part_text(part)
            elif kind == "text/html" and rich is None:
                rich = html_to_text(_part_text(part))
        return (plain if plain is not None else rich or ""), attachment
    except Exception:  # hostile MIME: search what we can (the headers) rather than fail
        return "", False


def _part_text(part: email.message.Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    return _text(data, part.get_content_charset())


def snippet(text: str) -> str:
    """Gmail-like: the first ~200 characters, white space collapsed, HTML-escaped with &#39;."""
    short = " ".join(text.split())[:_SNIPPET_CHARS]
    return html.escape(short, quote=True).replace("&#x27;", "&#39;")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the mailbox needs of a message: searchable fields, threading, dates."""

    subject: str
    parties: dict[str, tuple[tuple[str, str], ...]]
    """"from"/"to"/"cc"/"bcc" -> ((address, display name), ...)."""
    text: str
    message_id: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    date: datetime | None = None
    has_attachment: bool = False

    @property
    def refs(self) -> tuple[str, ...]:
        """In-Reply-To then References, most recent first, without repeats."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))


def read_facts(raw: bytes) -> Facts:
    headers = raw_headers(raw)
    named = _by_name(headers)
    parties = {
        name: tuple(pair for value in named.get(name, ()) for pair in _addresses(value))
        for name in ("from", "to", "cc", "bcc")
    }
    first = {name: values[0] for name, values in named.items()}
    message_id = first.get("message-id", "")
    ids = _MSG_ID.findall(message_id)
    date: datetime | None = None
    stamp = first.get("date")
    if stamp:
        try:
            date = email.utils.parsedate_to_datetime(stamp)
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    text, attachment = body_text(raw, headers)
    shown = " ".join(decode_value(v) for n in ("from", "to", "cc") for v in named.get(n, ()))
    return Facts(
        subject=decode_value(first.get("subject", "")),
        parties=parties,
        text=text + " " + shown,
        message_id=(ids[0] if ids else message_id.strip()).lower(),
        in_reply_to=tuple(i.lower() for i in _MSG_ID.findall(first.get("in-reply-to", ""))),
        references=tuple(i.lower() for i in _MSG_ID.findall(first.get("references", ""))),
        date=date,
        has_attachment=attachment,
    )


def replace_header(raw: bytes, name: str, value: str | None) -> bytes:
    """`raw` with every `name` header removed and one `name: value` added at the end of the
    header block (none when `value` is None); the body and the other headers stay byte for
    byte."""
    head, body = split_message(raw)
    linesep = b"\r\n" if b"\r\n" in head or not head else b"\n"
    lines = head.split(linesep)
    kept: list[bytes] = []
    skipping = False
    prefix = name.lower().encode() + b":"
    for line in lines:
        if line[:1] in {b" ", b"\t"}:
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(prefix)
        if not skipping:
            kept.append(line)
    if value is not None:
        kept.append(f"{name}: {value}".encode())
    return linesep.join(kept) + linesep + linesep + body


def append_text(raw: bytes, text: str) -> bytes:
    """What a mail client's editor does when the user types `text` at the end of the body."""
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    target = next(
        (
            p
            for p in message.walk()
            if p.get_content_type() == "text/plain" and not p.is_multipart()
        ),
        None,
    )
    if target is None:
        return raw.rstrip(b"\r\n") + b"\r\n\r\n" + text.encode() + b"\r\n"
    current = target.get_content()
    target.set_content(current.rstrip("\r\n") + "\n\n" + text + "\n")
    return message.as_bytes()


# --- the mailbox -------------------------------------------------------------------------------


@dataclass(slots=True)
class StoredMessage:
    id: str
    key: int
    thread_id: str
    raw: bytes
    doc: SearchDoc
    history_id: int
    subject: str
    message_id: str
    refs: tuple[str, ...]
    """In-Reply-To then References, most recent first."""

    @property
    def labels(self) -> frozenset[str]:
        return self.doc.labels

    @property
    def internal_ms(self) -> int:
        return self.doc.internal_ms


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    id: int
    kind: str
    """messageAdded, messageDeleted, labelAdded or labelRemoved."""
    message_id: str
    thread_id: str
    labels: tuple[str, ...]
    """The message's labels after the change."""
    changed: tuple[str, ...] = ()


@dataclass
class Mailbox:
    user_address: str
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    threads: dict[str, list[str]] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)
    """draft id -> message id."""
    draft_by_message: dict[str, str] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)
    history_id: int = _FIRST_HISTORY_ID
    history_floor: int = _FIRST_HISTORY_ID
    """The oldest startHistoryId history.list accepts; older ones get 404."""
    _keys: dict[int, StoredMessage] = field(default_factory=dict)
    _history_ids: list[int] = field(default_factory=list)
    _next_key: int = 1
    _next_draft: int = 1
    _by_label: dict[str, set[int]] = field(default_factory=dict)
    _by_message_id: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Tuples, not sets: nearly every Message-ID is unique, and a 1-tuple is a fifth of a set."""
    _parties: dict[tuple[str, str], Party] = field(default_factory=dict)
    _token_parties: dict[str, set[Party]] = field(default_factory=dict)
    _party_keys: dict[tuple[str, Party], set[int]] = field(default_factory=dict)
    _interned: dict[Any, Any] = field(default_factory=dict)
    _order: list[SearchDoc] | None = None
    _search_cache: dict[tuple[Any, ...], tuple[int, list[str]]] = field(default_factory=dict)

    # -- indexes (the gmail_query.SearchIndex protocol) --

    def with_label(self, label: str) -> Set[int]:
        return self._by_label.get(label, frozenset())

    def with_message_id(self, message_id: str) -> Set[int]:
        return frozenset(self._by_message_id.get(message_id, ()))

    def with_party(self, header: str, token: str) -> Set[int]:
        found: set[int] = set()
        for party in self._token_parties.get(token, ()):
            found.update(self._party_keys.get((header, party), ()))
        return found

    def _party(self, address: str, name: str) -> Party:
        party = self._parties.get((address, name))
        if party is None:
            party = make_party(address, name)
            self._parties[(address, name)] = party
            for token in party.tokens:
                self._token_parties.setdefault(token, set()).add(party)
        return party

    def _label_set(self, labels: Iterable[str]) -> frozenset[str]:
        """Shared frozensets: 200,000 messages carry a handful of distinct label sets."""
        found = frozenset(labels)
        shared: frozenset[str] = self._interned.setdefault(found, found)
        return shared

    def _label_tuple(self, labels: frozenset[str]) -> tuple[str, ...]:
        found = tuple(sorted(labels))
        shared: tuple[str, ...] = self._interned.setdefault(found, found)
        return shared

    def _parties_of(self, facts: Facts) -> dict[str, tuple[Party, ...]]:
        key = tuple(sorted((h, p) for h, p in facts.parties.items() if p))
        found: dict[str, tuple[Party, ...]] | None = self._interned.get(key)
        if found is None:
            found = {h: tuple(self._party(a, n) for a, n in pairs) for h, pairs in key}
            self._interned[key] = found
        return found

    def _index(self, doc: SearchDoc, add: bool) -> None:
        for label in doc.labels:
            self._label_index(label, doc.key, add)
        if doc.message_id:
            same = self._by_message_id.get(doc.message_id, ())
            if add:
                self._by_message_id[doc.message_id] = (*same, doc.key)
            elif len(same) > 1:
                self._by_message_id[doc.message_id] = tuple(k for k in same if k != doc.key)
            else:
                self._by_message_id.pop(doc.message_id, None)
        for header, parties in doc.parties.items():
            for party in parties:
                keys = self._party_keys.setdefault((header, party), set())
                if add:
                    keys.add(doc.key)
                else:
                    keys.discard(doc.key)

    def _label_index(self, label: str, key: int, add: bool) -> None:
        bucket = self._by_label.setdefault(label, set())
        if add:
            bucket.add(key)
        else:
            bucket.discard(key)

    # -- changes --

    def _record(self, kind: str, message: StoredMessage, changed: Iterable[str] = ()) -> None:
        self.history_id += 1
        message.history_id = self.history_id
        record = HistoryRecord(
            self.history_id,
            kind,
            message.id,
            message.thread_id,
            self._label_tuple(message.labels),
            tuple(changed),
        )
        self.history.append(record)
        self._history_ids.append(record.id)

    def add(
        self,
        raw: bytes,
        labels: Iterable[str],
        internal_ms: int,
        *,
        facts: Facts | None = None,
        thread_id: str | None = None,
        auto_thread: bool = True,
    ) -> StoredMessage:
        """Store a message. `thread_id` puts it in that thread; otherwise `auto_thread` threads
        it like received mail (references plus subject), or it starts a new thread."""
        facts = facts or read_facts(raw)
        key = self._next_key
        self._next_key += 1
        message_id = f"{_FIRST_MESSAGE_ID + key * _MESSAGE_ID_STEP:016x}"
        parties = self._parties_of(facts)
        doc = SearchDoc(
            key=key,
            internal_ms=internal_ms,
            labels=self._label_set(labels),
            parties=parties,
            subject=normalize_words(facts.subject),
            text=normalize_words(facts.subject + " " + facts.text),
            message_id=facts.message_id,
            has_attachment=facts.has_attachment,
        )
        refs = facts.refs
        stored = StoredMessage(
            id=message_id,
            key=key,
            thread_id=message_id,
            raw=raw,
            doc=doc,
            history_id=0,
            subject=facts.subject,
            message_id=facts.message_id,
            refs=refs,
        )
        if thread_id is None and auto_thread:
            thread_id = self.find_thread(stored.subject, refs)
        stored.thread_id = thread_id or message_id
        self.messages[message_id] = stored
        self._keys[key] = stored
        self.threads.setdefault(stored.thread_id, []).append(message_id)
        self._index(doc, add=True)
        self._order = None
        self._record("messageAdded", stored)
        return stored

    def find_thread(
        self, subject: str, refs: Sequence[str], within: str | None = None
    ) -> str | None:
        """The thread a message joins: one whose message it names in In-Reply-To/References,
        with the same normalised subject (Gmail's rule). `within` limits it to one thread."""
        wanted = normalize_subject(subject)
        for ref in refs:
            for key in sorted(self._by_message_id.get(ref, ()), reverse=True):
                other = self._keys[key]
                if within is not None and other.thread_id != within:
                    continue
                if normalize_subject(other.subject) == wanted:
                    return other.thread_id
        return None

    def delete(self, message_id: str) -> None:
        message = self.messages.pop(message_id)
        del self._keys[message.key]
        thread = self.threads[message.thread_id]
        thread.remove(message_id)
        if not thread:
            del self.threads[message.thread_id]
        self._index(message.doc, add=False)
        self._order = None
        self._record("messageDeleted", message)

    def modify(self, message_id: str, add: Iterable[str], remove: Iterable[str]) -> None:
        message = self.messages[message_id]
        added = [label for label in dict.fromkeys(add) if label not in message.labels]
        removed = [label for label in dict.fromkeys(remove) if label in message.labels]
        for label in added:
            self._label_index(label, message.key, add=True)
        if added:
            message.doc.labels = self._label_set([*message.labels, *added])
            self._record("labelAdded", message, added)
        for label in removed:
            self._label_index(label, message.key, add=False)
        if removed:
            message.doc.labels = self._label_set(message.labels - set(removed))
            self._record("labelRemoved", message, removed)

    def new_draft_id(self) -> str:
        number = 7_340_000_000_000_000_000 + self._next_draft * 7_919
        self._next_draft += 1
        return f"r{number}"

    def set_draft(self, draft_id: str, message_id: str | None) -> None:
        """Point a draft at a message (None: the draft is gone)."""
        old = self.drafts.pop(draft_id, None)
        if old is not None:
            self.draft_by_message.pop(old, None)
        if message_id is not None:
            self.drafts[draft_id] = message_id
            self.draft_by_message[message_id] = draft_id

    def expire_history(self) -> None:
        """Every history id issued so far becomes too old. The counter skips one value (Gmail's
        ids have gaps), so a client that resyncs gets a fresh, valid id at once."""
        self.history_id += 1
        self.history_floor = self.history_id

    # -- reading --

    def ordered(self) -> list[SearchDoc]:
        """Every message, newest internalDate first (Gmail's list order)."""
        if self._order is None:
            self._order = sorted(
                (m.doc for m in self.messages.values()),
                key=lambda d: (d.internal_ms, d.key),
                reverse=True,
            )
        return self._order

    def search(
        self,
        q: str | None,
        label_ids: Sequence[str],
        include_spam_trash: bool,
        ctx: QueryContext,
    ) -> list[str]:
        """Message ids matching a messages.list request, newest first (cached per version)."""
        cache_key = (q or "", tuple(label_ids), include_spam_trash, ctx.now)
        cached = self._search_cache.get(cache_key)
        if cached is not None and cached[0] == self.history_id:
            return cached[1]
        query = parse_query(q or "")
        docs = self._matching(query, label_ids, include_spam_trash, ctx)
        found = [self._keys[d.key].id for d in docs]
        if len(self._search_cache) >= 16:
            self._search_cache.clear()
        self._search_cache[cache_key] = (self.history_id, found)
        return found

    def _matching(
        self,
        query: Query,
        label_ids: Sequence[str],
        include_spam_trash: bool,
        ctx: QueryContext,
    ) -> list[SearchDoc]:
        excluded = set() if include_spam_trash or query.reaches_spam_trash else {"SPAM", "TRASH"}
        wanted = set(label_ids)
        narrowed = query.candidates(self)
        for label in wanted:
            narrowed = (
                set(self.with_label(label))
                if narrowed is None
                else set(narrowed) & self.with_label(label)
            )

        def keep(doc: SearchDoc) -> bool:
            return (
                wanted <= doc.labels
                and not (excluded and excluded & doc.labels)
                and query.matches(doc, ctx)
            )

        order = self.ordered()
        if narrowed is None:
            return [d for d in order if keep(d)]
        if len(narrowed) * 4 < len(order):
            docs = [self._keys[k].doc for k in narrowed if k in self._keys]
            docs.sort(key=lambda d: (d.internal_ms, d.key), reverse=True)
            return [d for d in docs if keep(d)]
        return [d for d in order if d.key in narrowed and keep(d)]

    def by_key(self, key: int) -> StoredMessage:
        return self._keys[key]

    def history_since(self, start: int) -> Iterator[HistoryRecord]:
        index = bisect_right(self._history_ids, start)
        return iter(self.history[index:])

    def thread_messages(self, thread_id: str) -> list[StoredMessage]:
        found = [self.messages[m] for m in self.threads.get(thread_id, ())]
        return sorted(found, key=lambda m: (m.internal_ms, m.key))


# --- the calendar ------------------------------------------------------------------------------

_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}(_\d{8}(T\d{6}Z)?)?")
"""Google's id alphabet (events.insert `id`), optionally with an instance suffix."""
_INSTANCE_HORIZON = timedelta(days=730)
_MAX_INSTANCES = 1000


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and Z, as Google writes `updated` and `created`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(slots=True)
class StoredEvent:
    resource: dict[str, Any]
    seq: int
    order: int
    updated: datetime
    deleted: bool = False
    tombstone: bool = False
    """A vanished instance of a changed series, kept only so singleEvents syncs report it."""

    @property
    def gone(self) -> bool:
        return self.deleted or self.tombstone or self.resource.get("status") == "cancelled"


@dataclass(frozen=True, slots=True)
class Row:
    """One item of an events.list answer with what it sorts by."""

    item: dict[str, Any]
    start: datetime
    updated: datetime
    order: tuple[int, float]


@dataclass(frozen=True, slots=True)
class EventFilter:
    time_min: datetime | None = None
    time_max: datetime | None = None
    single: bool = False
    show_deleted: bool = False
    since: int | None = None
    """Sync mode: only what changed after this sequence number (deletions included)."""
    updated_min: datetime | None = None
    ical_uid: str | None = None
    q: str | None = None
    event_types: frozenset[str] | None = None
    private: tuple[tuple[str, str], ...] = ()
    shared: tuple[tuple[str, str], ...] = ()
    max_attendees: int | None = None


@dataclass
class Calendar:
    owner: str
    time_zone: str = "UTC"
    events: dict[str, StoredEvent] = field(default_factory=dict)
    seq: int = 0
    generation: int = 1
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    _order: int = 0

    # -- changes --

    def put(self, resource: dict[str, Any], now: datetime) -> dict[str, Any]:
        event_id = str(resource.get("id", ""))
        if not _EVENT_ID.fullmatch(event_id):
            raise ValueError(f"event id {event_id!r} is not 5-1024 characters of a-v and 0-9")
        if "start" not in resource or "end" not in resource:
            raise ValueError("an event needs start and end")
        previous = self.events.get(event_id)
        body = copy.deepcopy(resource)
        body["kind"] = "calendar#event"
        body["created"] = (
            previous.resource.get("created", rfc3339(now)) if previous else rfc3339(now)
        )
        body["updated"] = rfc3339(now)
        eid = base64.urlsafe_b64encode(f"{event_id} {self.owner}".encode()).decode().rstrip("=")
        body["htmlLink"] = f"https://www.google.com/calendar/event?eid={eid}"
        body.setdefault("iCalUID", f"{event_id.partition('_')[0]}@google.com")
        body.setdefault("sequence", 0)
        body.setdefault("status", "confirmed")
        body.setdefault("eventType", "default")
        try:
            self.bounds(body)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"unreadable start/end in {event_id}: {exc}") from exc
        instances = self.instances(body, now)  # raises ValueError on a bad recurrence
        self.seq += 1
        body["etag"] = f'"{3_400_000_000_000_000 + self.seq * 1_000}"'
        for instance in instances:  # an instance that comes back is no longer a tombstone
            stale = self.events.get(instance["id"])
            if stale is not None and stale.tombstone:
                del self.events[instance["id"]]
        if previous is not None and "recurrence" in previous.resource and not previous.gone:
            self._bury_vanished(previous.resource, body, now)
        order = previous.order if previous else self._next_order()
        self.events[event_id] = StoredEvent(body, self.seq, order, now)
        return copy.deepcopy(body)

    def _next_order(self) -> int:
        self._order += 1
        return self._order

    def _bury_vanished(self, old: dict[str, Any], new: dict[str, Any], now: datetime) -> None:
        """Instances a series change removed are reported cancelled to singleEvents syncs."""
        kept = {i["id"] for i in self.instances(new, now)} if "recurrence" in new else set()
        for instance in self.instances(old, now):
            if instance["id"] in kept or instance["id"] in self.events:
                continue
            self.events[instance["id"]] = StoredEvent(
                instance, self.seq, self._next_order(), now, tombstone=True
            )

    def delete(self, event_id: str, now: datetime) -> None:
        stored = self.events.get(event_id)
        if stored is not None and not stored.deleted and not stored.tombstone:
            self.seq += 1
            stored.deleted = True
            stored.seq = self.seq
            stored.updated = now
            stored.resource["updated"] = rfc3339(now)
            return
        master_id, _, _ = event_id.rpartition("_")
        master = self.events.get(master_id)
        if master is not None and not master.gone and "recurrence" in master.resource:
            for instance in self.instances(master.resource, now):
                if instance["id"] == event_id:
                    instance["status"] = "cancelled"
                    instance["updated"] = rfc3339(now)
                    self.seq += 1
                    self.events[event_id] = StoredEvent(instance, self.seq, self._next_order(), now)
                    return
        raise KeyError(event_id)

    def live(self) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(e.resource)
            for e in sorted(self.events.values(), key=lambda e: e.order)
            if not e.deleted and not e.tombstone
        ]

    def expire_tokens(self) -> None:
        self.generation += 1

    # -- times and recurrence --

    def bounds(self, resource: dict[str, Any]) -> tuple[datetime, datetime]:
        return self.when(resource["start"]), self.when(resource["end"])

    def when(self, value: dict[str, Any]) -> datetime:
        if "date" in value:
            day = date.fromisoformat(value["date"])
            return datetime(day.year, day.month, day.day, tzinfo=zone(None, self.time_zone))
        moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone(value.get("timeZone"), self.time_zone))
        return moment

    def instances(self, master: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        """The occurrences of a recurring event, up to two years past `now` (Google expands
        open-ended series lazily; a bounded horizon stands in for that here)."""
        lines = master.get("recurrence")
        if not lines:
            return []
        all_day = "date" in master["start"]
        start, end = self.bounds(master)
        tz = zone(master["start"].get("timeZone"), self.time_zone)
        first = start.replace(tzinfo=None) if all_day else start.astimezone(tz)
        try:
            rules = _rule_set(lines, first, all_day, tz)
            horizon = (now + _INSTANCE_HORIZON).astimezone(tz)
            limit = horizon.replace(tzinfo=None) if all_day else horizon
            found: list[dict[str, Any]] = []
            for occurrence in rules:
                if occurrence > limit or len(found) >= _MAX_INSTANCES:
                    break
                found.append(self._instance(master, occurrence, end - start, all_day, tz))
        except (ValueError, TypeError, KeyError, ZoneInfoNotFoundError) as exc:
            raise ValueError(f"unreadable recurrence {lines!r}: {exc}") from exc
        return found

    def _instance(
        self,
        master: dict[str, Any],
        occurrence: datetime,
        length: timedelta,
        all_day: bool,
        tz: ZoneInfo,
    ) -> dict[str, Any]:
        item = copy.deepcopy(master)
        item.pop("recurrence", None)
        item["recurringEventId"] = master["id"]
        if all_day:
            day = occurrence.date()
            item["id"] = f"{master['id']}_{day:%Y%m%d}"
            item["start"] = {"date": day.isoformat()}
            item["end"] = {"date": (day + timedelta(days=max(1, length.days))).isoformat()}
            item["originalStartTime"] = {"date": day.isoformat()}
            return item
        local = occurrence.astimezone(tz)
        item["id"] = f"{master['id']}_{local.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        name = master["start"].get("timeZone")
        item["start"] = _timed(local, name)
        item["end"] = _timed((local + length).astimezone(tz), master["end"].get("timeZone"))
        item["originalStartTime"] = _timed(local, name)
        return item

    # -- listing --

    def rows(self, flt: EventFilter, now: datetime) -> list[Row]:
        rows: list[Row] = []
        for stored in sorted(self.events.values(), key=lambda e: e.order):
            rows.extend(self._rows_of(stored, flt, now))
        return rows

    def _changed(self, stored: StoredEvent, flt: EventFilter) -> bool | None:
        """True/False in sync or updatedMin mode (whether to report it), None otherwise."""
        if flt.since is not None:
            return stored.seq > flt.since
        if flt.updated_min is not None:
            return stored.updated >= flt.updated_min
        return None

    def _rows_of(self, stored: StoredEvent, flt: EventFilter, now: datetime) -> Iterator[Row]:
        resource = stored.resource
        changed = self._changed(stored, flt)
        if changed is False:
            return
        incremental = changed is True
        if stored.tombstone:
            if flt.single and (incremental or flt.show_deleted):
                yield self._row(stored, resource, flt, cancelled=True)
            return
        if "recurrence" in resource:
            yield from self._series_rows(stored, flt, now, incremental)
            return
        instance = "recurringEventId" in resource
        master = self.events.get(resource["recurringEventId"]) if instance else None
        if stored.gone or (instance and (master is None or master.gone)):
            quirk = instance and not flt.single  # see events.list showDeleted in the discovery doc
            if (incremental or flt.show_deleted or quirk) and self._in_window(resource, flt):
                yield self._row(stored, resource, flt, cancelled=True)
            return
        if (incremental or self._in_window(resource, flt)) and self._wanted(resource, flt):
            yield self._row(stored, resource, flt, cancelled=False)

    def _series_rows(
        self, stored: StoredEvent, flt: EventFilter, now: datetime, incremental: bool
    ) -> Iterator[Row]:
        master = stored.resource
        if not flt.single:
            if stored.gone:
                if incremental or flt.show_deleted:
                    yield self._row(stored, master, flt, cancelled=True)
                return
            instances = self.instances(master, now)
            overlaps = incremental or any(self._in_window(i, flt) for i in instances)
            if overlaps and self._wanted(master, flt):
                yield self._row(stored, master, flt, cancelled=False)
            return
        if stored.gone and not (incremental or flt.show_deleted):
            return
        for instance in self.instances(master, now):
            override = self.events.get(instance["id"])
            if override is not None and override is not stored:
                continue  # an exception: it is listed on its own
            if not incremental and not self._in_window(instance, flt):
                continue
            if stored.gone:
                yield self._row(stored, instance, flt, cancelled=True)
            elif self._wanted(instance, flt):
                yield self._row(stored, instance, flt, cancelled=False)

    def _in_window(self, resource: dict[str, Any], flt: EventFilter) -> bool:
        if flt.time_min is None and flt.time_max is None:
            return True
        start, end = self.bounds(resource)
        if flt.time_min is not None and not end > flt.time_min:
            return False
        return flt.time_max is None or start < flt.time_max

    def _wanted(self, resource: dict[str, Any], flt: EventFilter) -> bool:
        if flt.ical_uid is not None and resource.get("iCalUID") != flt.ical_uid:
            return False
        if flt.event_types is not None and resource.get("eventType") not in flt.event_types:
            return False
        props = resource.get("extendedProperties", {})
        for scope, wanted in (("private", flt.private), ("shared", flt.shared)):
            have = props.get(scope, {})
            if any(have.get(k) != v for k, v in wanted):
                return False
        if flt.q:
            haystack = " ".join(
                [str(resource.get(k, "")) for k in ("summary", "description", "location")]
                + [
                    f"{p.get('email', '')} {p.get('displayName', '')}"
                    for p in [*resource.get("attendees", []), resource.get("organizer", {})]
                ]
            ).lower()
            return all(word in haystack for word in flt.q.lower().split())
        return True

    def _row(
        self, stored: StoredEvent, resource: dict[str, Any], flt: EventFilter, *, cancelled: bool
    ) -> Row:
        start = self.when(resource["start"])
        if cancelled:
            item: dict[str, Any] = {
                "kind": "calendar#event",
                "etag": resource["etag"],
                "id": resource["id"],
                "status": "cancelled",
            }
            if "recurringEventId" in resource:
                item["recurringEventId"] = resource["recurringEventId"]
                item["originalStartTime"] = resource["originalStartTime"]
        else:
            item = copy.deepcopy(resource)
            attendees = item.get("attendees", [])
            if flt.max_attendees is not None and len(attendees) > flt.max_attendees:
                item["attendees"] = [a for a in attendees if a.get("self")]
                item["attendeesOmitted"] = True
        return Row(item, start, stored.updated, (stored.order, start.timestamp()))


def _rule_set(lines: Sequence[str], first: datetime, all_day: bool, tz: ZoneInfo) -> Any:
    """An rruleset from Google `recurrence` lines. dateutil reads the RRULE/EXRULE values; the
    RDATE/EXDATE dates are read here, since dateutil's own parser rejects TZID on RDATE."""
    rules = rruleset()
    for line in lines:
        head, _, value = line.partition(":")
        name, *params = head.upper().split(";")
        if name in {"RRULE", "EXRULE"}:
            rule = rrulestr(value, dtstart=first)
            (rules.rrule if name == "RRULE" else rules.exrule)(rule)
        elif name in {"RDATE", "EXDATE"}:
            tzid = next(
                (p.partition("=")[2] for p in head.split(";") if p.upper().startswith("TZID=")),
                None,
            )
            if any(p.startswith("VALUE=PERIOD") for p in params):
                raise ValueError("RDATE periods are not supported")
            for item in value.split(","):
                moment = _ical_moment(item.strip(), tzid, all_day, tz)
                (rules.rdate if name == "RDATE" else rules.exdate)(moment)
        else:
            raise ValueError(f"unsupported recurrence line {line!r}")
    return rules


def _ical_moment(text: str, tzid: str | None, all_day: bool, tz: ZoneInfo) -> datetime:
    """An iCalendar DATE or DATE-TIME (RFC 5545 3.3.4/3.3.5) as the expansion compares it."""
    if len(text) == 8:
        day = datetime.strptime(text, "%Y%m%d")
        return day if all_day else day.replace(tzinfo=tz)
    moment = datetime.strptime(text.rstrip("Zz"), "%Y%m%dT%H%M%S")
    if text[-1:] in {"Z", "z"}:
        moment = moment.replace(tzinfo=UTC).astimezone(tz)
    else:
        moment = moment.replace(tzinfo=ZoneInfo(tzid) if tzid else tz)
    return moment.replace(tzinfo=None) if all_day else moment


def _timed(moment: datetime, name: str | None) -> dict[str, str]:
    value = {"dateTime": moment.isoformat()}
    if name:
        value["timeZone"] = name
    return value


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64decode_any(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (proto3 JSON accepts all four)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    return base64.b64decode(cleaned, validate=True)
