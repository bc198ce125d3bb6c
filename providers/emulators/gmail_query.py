"""Gmail search-box queries (the `q` parameter), for the local Gmail emulator.

Design notes:

- A tokenizer turns the query into tokens, a recursive-descent parser turns those into a tree
  of small frozen nodes, and each node answers two questions: `matches(doc, ctx)` (the
  predicate) and `candidates(index)` (a superset of the matching message keys read from the
  emulator's inverted indexes, or None when the node cannot narrow the search). The emulator
  evaluates the predicate only on the candidates, so `from:acme.com` over 200,000 messages
  touches a handful of them.
- Gmail never rejects a query: unbalanced brackets are closed at the end, stray closing
  brackets are skipped, and unknown operators (`foo:bar`) are searched as plain words, as
  Gmail does (https://support.google.com/mail/answer/7190).
- Words match whole words, case-insensitively, like Gmail (no substrings: `interv` does not
  find "interview"). Text is normalised once per message into " word word ... " so a word or
  a phrase is one substring test.

Grammar (implicit AND binds loosest, `OR` tighter, `-` tightest):

    query   := item*
    item    := unary ("OR" unary)*
    unary   := "-" unary | primary
    primary := "(" query ")" | "{" unary* "}" | OP ":" (value | PHRASE | "(" query ")" |
               "{" unary* "}") | PHRASE | WORD
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = [
    "Party",
    "Query",
    "QueryContext",
    "SearchDoc",
    "SearchIndex",
    "make_party",
    "normalize_words",
    "parse_query",
    "party_tokens",
]

_WORD = re.compile(r"\w+")


def normalize_words(text: str) -> str:
    """The lower-cased words of `text` as " w1 w2 ... ": one space between and around them."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


@dataclass(frozen=True, slots=True)
class Party:
    """One address of a From/To/Cc/Bcc header. Build it with `make_party`; the emulator interns
    parties, so a correspondent met in 10,000 messages costs one object."""

    address: str
    name_words: str
    """normalize_words(display name)."""
    tokens: frozenset[str]
    """What an address operator value may equal to match this party (see `party_tokens`)."""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def party_tokens(address: str, name_words: str) -> frozenset[str]:
    """The address, its local part, its domain and every parent domain, each domain label, and
    each display-name word: `from:jane`, `from:acme`, `from:acme.com`, `from:mail.acme.com` and
    `from:jane@mail.acme.com` all find jane@mail.acme.com, as in Gmail."""
    local, _, domain = address.partition("@")
    tokens = {address, local, *name_words.split()}
    labels = domain.split(".")
    tokens.update(labels)
    tokens.update(".".join(labels[i:]) for i in range(len(labels)))
    tokens.discard("")
    return frozenset(tokens)


def make_party(address: str, name: str = "") -> Party:
    address = address.strip().lower()
    words = normalize_words(name)
    return Party(address, words, party_tokens(address, words))


@dataclass(slots=True)
class SearchDoc:
    """The searchable facts of one message, computed once when it is added."""

    key: int
    internal_ms: int
    labels: frozenset[str]
    """Interned by the emulator: a label change swaps in another shared frozenset."""
    parties: dict[str, tuple[Party, ...]]
    """"from", "to", "cc", "bcc" -> the parties of that header."""
    subject: str
    """normalize_words(Subject)."""
    text: str
    """normalize_words of the subject, body text and the From/To/Cc headers."""
    message_id: str
    """The Message-ID without angle brackets, lower-cased."""
    has_attachment: bool = False
    filenames: tuple[str, ...] = ()
    """The names of the message's attachments (for `filename:`, which ignores case)."""


class SearchIndex(Protocol):
    """Inverted indexes the emulator keeps; each returns the keys of matching messages."""

    def with_label(self, label: str) -> Set[int]: ...

    def with_party(self, header: str, token: str) -> Set[int]: ...

    def with_message_id(self, message_id: str) -> Set[int]: ...


@dataclass(frozen=True, slots=True)
class QueryContext:
    now: datetime
    user_address: str


# --- nodes -----------------------------------------------------------------------------------


class Node(Protocol):
    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool: ...

    def candidates(self, index: SearchIndex) -> Set[int] | None: ...

    def reaches(self) -> bool:
        """Whether the node explicitly asks for SPAM or TRASH (in:anywhere, in:trash...)."""
        ...


@dataclass(frozen=True, slots=True)
class All:
    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return True

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return None

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Nothing:
    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return False

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return frozenset()

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Anywhere(All):
    def reaches(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return all(item.matches(doc, ctx) for item in self.items)

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        sets = [s for s in (item.candidates(index) for item in self.items) if s is not None]
        if not sets:
            return None
        sets.sort(key=len)
        found = set(sets[0])
        for other in sets[1:]:
            found.intersection_update(other)
        return found

    def reaches(self) -> bool:
        return any(item.reaches() for item in self.items)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return any(item.matches(doc, ctx) for item in self.items)

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        found: set[int] = set()
        for item in self.items:
            part = item.candidates(index)
            if part is None:
                return None
            found.update(part)
        return found

    def reaches(self) -> bool:
        return any(item.reaches() for item in self.items)


@dataclass(frozen=True, slots=True)
class Not:
    item: Node

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return not self.item.matches(doc, ctx)

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return None

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Words:
    """Plain words or a phrase, in the whole text or only in the subject."""

    words: str
    """normalize_words(value): " a b " matches those words in sequence."""
    subject_only: bool = False

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        if self.words == "  ":
            return True
        return self.words in (doc.subject if self.subject_only else doc.text)

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return None

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Address:
    """from:/to:/cc:/bcc: one value. `to:` also looks at Cc and Bcc, as Gmail's does."""

    headers: tuple[str, ...]
    value: str
    """Lower-cased; "me" stands for the user; "@acme.com" for the domain."""

    def _token(self, ctx: QueryContext | None) -> str:
        if self.value == "me" and ctx is not None:
            return ctx.user_address
        return self.value.lstrip("@")

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        token = self._token(ctx)
        phrase = normalize_words(token) if " " in token else None
        for header in self.headers:
            for party in doc.parties.get(header, ()):
                if phrase is not None:
                    if phrase in party.name_words:
                        return True
                elif token in party.tokens:
                    return True
        return False

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        if self.value == "me":
            return None  # the user's address is known only at match time
        token = self._token(None)
        if " " in token:
            first = normalize_words(token).split()
            if not first:
                return None
            token = first[0]
        found: set[int] = set()
        for header in self.headers:
            found.update(index.with_party(header, token))
        return found

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Label:
    label: str

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return self.label in doc.labels

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return index.with_label(self.label)

    def reaches(self) -> bool:
        return self.label in {"SPAM", "TRASH"}


@dataclass(frozen=True, slots=True)
class MessageId:
    message_id: str

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return doc.message_id == self.message_id

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return index.with_message_id(self.message_id)

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Filename:
    """`filename:pdf` or `filename:homework.txt`: an attachment of that type or name
    (https://support.google.com/mail/answer/7190)."""

    name: str

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        names = (f.lower() for f in doc.filenames)
        return any(f == self.name or f.endswith("." + self.name) for f in names)

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return None

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class HasAttachment:
    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return doc.has_attachment

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return None

    def reaches(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Since:
    """after:/before: (a fixed bound) or newer_than:/older_than: (relative to ctx.now)."""

    newer: bool
    """True: internalDate at or after the bound; False: strictly before it."""
    epoch_ms: int | None = None
    relative: tuple[int, str] | None = None
    """(amount, unit) with unit d, m or y."""

    def bound(self, ctx: QueryContext) -> int:
        if self.relative is None:
            return self.epoch_ms if self.epoch_ms is not None else 0
        amount, unit = self.relative
        return int(_go_back(ctx.now, amount, unit).timestamp() * 1000)

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        bound = self.bound(ctx)
        return doc.internal_ms >= bound if self.newer else doc.internal_ms < bound

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return None

    def reaches(self) -> bool:
        return False


def _go_back(now: datetime, amount: int, unit: str) -> datetime:
    if unit == "d":
        return now - timedelta(days=amount)
    months = amount * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month + 1, day=day)
        except ValueError:  # 31 March minus one month: the last day of February
            day -= 1


# --- tokenizer -------------------------------------------------------------------------------

OPERATORS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "after",
        "before",
        "newer_than",
        "older_than",
        "in",
        "label",
        "is",
        "rfc822msgid",
        "has",
        "filename",
    }
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """"(", ")", "{", "}", "-", "OR", "AND", "phrase", "word" or "op"."""
    text: str = ""
    op: str = ""


_SPECIAL = '(){}"'


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "(){}":
            tokens.append(Token(char))
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            end = n if end < 0 else end
            tokens.append(Token("phrase", query[i + 1 : end]))
            i = end + 1
        elif char == "-" and i + 1 < n and not query[i + 1].isspace():
            tokens.append(Token("-"))
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            tokens.append(_word_token(query[start:i]))
    return tokens


def _word_token(word: str) -> Token:
    if word in {"OR", "AND"}:
        return Token(word, word)
    name, colon, value = word.partition(":")
    if colon and name.lower() in OPERATORS:
        return Token("op", value, name.lower())
    return Token("word", word.lstrip("+"))


# --- parser ----------------------------------------------------------------------------------


@dataclass
class _Parser:
    tokens: list[Token]
    pos: int = 0
    depth: int = 0
    """Brackets open now; past _MAX_DEPTH they are ignored, so hostile input cannot recurse."""

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def query(self, op: str, stop: str | None) -> Node:
        items: list[Node] = []
        while (token := self.peek()) is not None:
            if token.kind == stop:
                self.pos += 1
                break
            if token.kind in {")", "}"}:  # a stray closing bracket: Gmail ignores it
                self.pos += 1
                continue
            if token.kind == "AND":
                self.pos += 1
                continue
            items.append(self.either(op))
        return _and(items)

    def either(self, op: str) -> Node:
        items = [self.unary(op)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.pos += 1
            if self.peek() is None:
                break
            items.append(self.unary(op))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def unary(self, op: str) -> Node:
        negated = False
        while (token := self.peek()) is not None and token.kind == "-":
            self.pos += 1
            negated = not negated
        if self.peek() is None:
            return All()
        node = self.primary(op)
        return Not(node) if negated else node

    def group(self, op: str, opener: str) -> Node:
        if self.depth >= _MAX_DEPTH:
            return All()
        self.depth += 1
        try:
            return self.query(op, ")") if opener == "(" else self.braces(op)
        finally:
            self.depth -= 1

    def braces(self, op: str) -> Node:
        items: list[Node] = []
        while (token := self.peek()) is not None:
            if token.kind == "}":
                self.pos += 1
                break
            if token.kind in {")", "OR", "AND"}:
                self.pos += 1
                continue
            items.append(self.unary(op))
        return Or(tuple(items)) if items else All()

    def primary(self, op: str) -> Node:
        token = self.take()
        if token.kind in {"(", "{"}:
            return self.group(op, token.kind)
        if token.kind == "op":
            if token.text:
                return term(token.op, token.text)
            following = self.peek()
            if following is not None and following.kind == "phrase":
                return term(token.op, self.take().text)
            if following is not None and following.kind in {"(", "{"}:
                self.pos += 1
                return self.group(token.op, following.kind)
            return term(op, token.op)  # "from:" alone: the word "from"
        if token.kind in {"OR", "AND"}:  # "OR" where no operand precedes it: a plain word
            return term(op, token.text.lower())
        return term(op, token.text)


_MAX_DEPTH = 32


def _and(items: list[Node]) -> Node:
    if not items:
        return All()
    return items[0] if len(items) == 1 else And(tuple(items))


_DATE = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})")
_RELATIVE = re.compile(r"(\d+)([dmy])")
_IN = {
    "inbox": "INBOX",
    "sent": "SENT",
    "drafts": "DRAFT",
    "draft": "DRAFT",
    "trash": "TRASH",
    "spam": "SPAM",
}
_IS = {"unread": "UNREAD", "starred": "STARRED", "important": "IMPORTANT", "draft": "DRAFT"}


def term(op: str, value: str) -> Node:
    """The node for one operator (or "text") applied to one value."""
    builder = _TERMS.get(op)
    return builder(value.strip()) if builder is not None else Words(normalize_words(value))


def _address(headers: tuple[str, ...]) -> Callable[[str], Node]:
    return lambda value: Address(headers, value.lower()) if value else Nothing()


def _in(value: str) -> Node:
    value = value.lower()
    if value == "anywhere":
        return Anywhere()
    label = _IN.get(value)
    return Label(label) if label else Nothing()


def _label(value: str) -> Node:
    return Label(value.upper().replace("-", "_")) if value else Nothing()


def _is(value: str) -> Node:
    value = value.lower()
    if value == "read":
        return Not(Label("UNREAD"))
    label = _IS.get(value)
    return Label(label) if label else Nothing()


def _date(newer: bool) -> Callable[[str], Node]:
    def build(value: str) -> Node:
        if value.isdigit():
            return Since(newer, epoch_ms=int(value) * 1000)
        match = _DATE.fullmatch(value)
        if match is None:
            return Nothing()
        try:
            year, month, day_of_month = (int(g) for g in match.groups())
            day = datetime(year, month, day_of_month, tzinfo=UTC)
        except ValueError:
            return Nothing()
        return Since(newer, epoch_ms=int(day.timestamp() * 1000))

    return build


def _relative(newer: bool) -> Callable[[str], Node]:
    def build(value: str) -> Node:
        match = _RELATIVE.fullmatch(value.lower())
        if match is None:
            return Nothing()
        return Since(newer, relative=(int(match.group(1)), match.group(2)))

    return build


def _message_id(value: str) -> Node:
    return MessageId(value.strip("<>").lower()) if value else Nothing()


def _has(value: str) -> Node:
    return HasAttachment() if value.lower() == "attachment" else Nothing()


_TERMS: dict[str, Callable[[str], Node]] = {
    "text": lambda value: Words(normalize_words(value)),
    "subject": lambda value: Words(normalize_words(value), subject_only=True),
    "from": _address(("from",)),
    "to": _address(("to", "cc", "bcc")),
    "cc": _address(("cc",)),
    "bcc": _address(("bcc",)),
    "in": _in,
    "label": _label,
    "is": _is,
    "after": _date(True),
    "before": _date(False),
    "newer_than": _relative(True),
    "older_than": _relative(False),
    "rfc822msgid": _message_id,
    "has": _has,
    "filename": lambda value: Filename(value.lower()) if value else Nothing(),
}


# --- public ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: a predicate plus what the emulator's indexes can narrow it to."""

    root: Node

    def matches(self, doc: SearchDoc, ctx: QueryContext) -> bool:
        return self.root.matches(doc, ctx)

    def candidates(self, index: SearchIndex) -> Set[int] | None:
        return self.root.candidates(index)

    @property
    def reaches_spam_trash(self) -> bool:
        """in:anywhere, in:spam, in:trash (outside a negation) lift the default exclusion."""
        return self.root.reaches()

    def filter(self, docs: Iterable[SearchDoc], ctx: QueryContext) -> list[SearchDoc]:
        return [doc for doc in docs if self.root.matches(doc, ctx)]


def parse_query(query: str) -> Query:
    """Parse a Gmail search query; never raises (Gmail searches whatever it can read)."""
    return Query(_Parser(tokenize(query)).query("text", None))
