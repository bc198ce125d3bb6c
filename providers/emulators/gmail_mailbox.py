"""The Gmail emulator's mailbox in memory: messages and threads, labels, drafts and the history
list, with no I/O and no locking (`GoogleEmulator` holds one lock around every call into it).
Every change (message added or deleted, labels added or removed) appends one history record
with the next value of one monotonic counter, as Gmail does; a message's `historyId` is its
latest change, and the counter doubles as the version that invalidates cached searches.
Searching 200,000 messages stays fast because each message's searchable facts are computed once
(`gmail_query.SearchDoc`) and inverted indexes map labels, Message-IDs and interned
correspondents (`Party`) to message keys, through which a query first narrows itself."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from providers.emulators.gmail_mime import Facts, normalize_subject, read_facts
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
            filenames=facts.filenames,
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
