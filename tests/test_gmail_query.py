"""The Gmail search language of the emulator: parsing, matching, and index narrowing."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from providers.emulators.gmail_query import (
    QueryContext,
    SearchDoc,
    make_party,
    normalize_words,
    parse_query,
    tokenize,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CTX = QueryContext(NOW, "alex@example.com")


def _ms(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 12, tzinfo=UTC).timestamp() * 1000)


def _doc(
    key: int,
    *,
    sender: tuple[str, str],
    to: tuple[tuple[str, str], ...] = (("alex@example.com", "Alex Kim"),),
    cc: tuple[tuple[str, str], ...] = (),
    subject: str = "",
    body: str = "",
    labels: Set[str] = frozenset({"INBOX"}),
    when: int = _ms(2026, 11, 1),
    message_id: str = "",
    attachment: bool = False,
) -> SearchDoc:
    parties = {
        "from": (make_party(*sender),),
        "to": tuple(make_party(*p) for p in to),
        "cc": tuple(make_party(*p) for p in cc),
    }
    shown = " ".join(f"{n} {a}" for n, a in [sender[::-1], *[p[::-1] for p in to + cc]])
    return SearchDoc(
        key=key,
        internal_ms=when,
        labels=frozenset(labels),
        parties=parties,
        subject=normalize_words(subject),
        text=normalize_words(f"{subject} {body} {shown}"),
        message_id=message_id.lower(),
        has_attachment=attachment,
    )


DOCS = [
    _doc(
        1,
        sender=("jane@mail.acme.com", "Jane Doe"),
        subject="Interview next week",
        body="Looking forward to our phone screen. It's at 10am.",
        when=_ms(2026, 11, 18),
        message_id="a1@acme.com",
        labels={"INBOX", "UNREAD"},
    ),
    _doc(
        2,
        sender=("alex@example.com", "Alex Kim"),
        to=(("sam.patel@globex.com", "Sam Patel"),),
        cc=(("hr@globex.com", ""),),
        subject="Re: Phone screen",
        body="Thank you for your time today",
        labels={"SENT"},
        when=_ms(2026, 10, 1),
    ),
    _doc(
        3,
        sender=("news@techweekly.io", "Tech Weekly"),
        subject="Weekly digest: interviews with founders",
        body="Unsubscribe any time",
        labels={"INBOX"},
        when=_ms(2025, 11, 1),
        attachment=True,
    ),
    _doc(
        4,
        sender=("spam@bad.example", "Win Big"),
        subject="You won",
        body="click here",
        labels={"SPAM"},
    ),
    _doc(
        5,
        sender=("alex@example.com", "Alex Kim"),
        to=(("jane@mail.acme.com", "Jane Doe"),),
        subject="Re: Interview next week",
        body="Thanks Jane",
        labels={"DRAFT"},
        when=_ms(2026, 11, 19),
    ),
]


class _Index:
    """The SearchIndex protocol over DOCS, to check that narrowing never loses a match."""

    def with_label(self, label: str) -> Set[int]:
        return {d.key for d in DOCS if label in d.labels}

    def with_party(self, header: str, token: str) -> Set[int]:
        return {d.key for d in DOCS for p in d.parties.get(header, ()) if token in p.tokens}

    def with_message_id(self, message_id: str) -> Set[int]:
        return {d.key for d in DOCS if d.message_id == message_id}


def keys(q: str) -> set[int]:
    query = parse_query(q)
    found = {d.key for d in query.filter(DOCS, CTX)}
    narrowed = query.candidates(_Index())
    if narrowed is not None:
        assert found <= set(narrowed), f"{q!r}: candidates {narrowed} lose {found - set(narrowed)}"
    return found


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("interview", {1, 5}),  # whole words only: "interviews" in 3 is another word
        ("INTERVIEW", {1, 5}),
        ("interv", set()),
        ('"phone screen"', {1, 2}),
        ('"screen phone"', set()),
        ("interview week", {1, 5}),
        ("interview OR digest", {1, 3, 5}),
        ("interview or digest", set()),  # lower-case "or" is a word
        ("{interview digest}", {1, 3, 5}),
        ("-interview", {2, 3, 4}),
        ("interview -in:drafts", {1}),
        ("(interview OR digest) -from:jane", {3, 5}),
        ("it's", {1}),
        ("subject:interview", {1, 5}),
        ("subject:(interview OR screen)", {1, 2, 5}),
        ('subject:"next week"', {1, 5}),
        ("subject:unsubscribe", set()),
        ("unsubscribe", {3}),
    ],
)
def test_words_phrases_and_boolean_structure(q: str, expected: set[int]) -> None:
    assert keys(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("from:jane@mail.acme.com", {1}),
        ("from:acme.com", {1}),  # a parent domain of mail.acme.com
        ("from:@acme.com", {1}),
        ("from:mail.acme.com", {1}),
        ("from:cme.com", set()),
        ("from:jane", {1}),  # the local part and the display-name word
        ("from:doe", {1}),
        ('from:"jane doe"', {1}),
        ("from:me", {2, 5}),
        ("from:(jane@mail.acme.com OR news@techweekly.io)", {1, 3}),
        ("from:{jane@mail.acme.com news@techweekly.io}", {1, 3}),
        ("to:sam.patel@globex.com", {2}),
        ("to:hr@globex.com", {2}),  # Gmail's to: covers Cc and Bcc
        ("cc:hr@globex.com", {2}),
        ("cc:sam.patel@globex.com", set()),
        ("to:globex.com -cc:globex.com", set()),
        ("to:jane", {5}),
        ("FROM:jane", {1}),
    ],
)
def test_address_operators(q: str, expected: set[int]) -> None:
    assert keys(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("after:2026/11/01", {1, 4, 5}),
        ("after:2026-11-18", {1, 5}),
        ("before:2026/11/01", {2, 3}),
        (f"after:{_ms(2026, 11, 18) // 1000}", {1, 5}),
        ("newer_than:3d", {1, 5}),
        ("older_than:3d", {2, 3, 4}),
        ("newer_than:1m", {1, 4, 5}),
        ("older_than:1y", {3}),
        ("newer_than:2y", {1, 2, 3, 4, 5}),
        ("after:yesterday", set()),
        ("newer_than:3w", set()),
    ],
)
def test_dates(q: str, expected: set[int]) -> None:
    assert keys(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("in:inbox", {1, 3}),
        ("in:sent", {2}),
        ("in:drafts", {5}),
        ("in:spam", {4}),
        ("in:anywhere", {1, 2, 3, 4, 5}),
        ("label:unread", {1}),
        ("label:INBOX", {1, 3}),
        ("is:unread", {1}),
        ("is:read in:inbox", {3}),
        ("is:starred", set()),
        ("is:nonsense", set()),
        ("rfc822msgid:a1@acme.com", {1}),
        ("rfc822msgid:<A1@acme.com>", {1}),
        ("has:attachment", {3}),
        ("has:drive", set()),
    ],
)
def test_labels_ids_and_attachments(q: str, expected: set[int]) -> None:
    assert keys(q) == expected


def test_spam_and_trash_are_reached_only_when_asked() -> None:
    assert parse_query("in:anywhere foo").reaches_spam_trash
    assert parse_query("in:trash").reaches_spam_trash
    assert parse_query("label:spam").reaches_spam_trash
    assert not parse_query("-in:spam").reaches_spam_trash
    assert not parse_query("interview").reaches_spam_trash


def test_unknown_operators_are_plain_words() -> None:
    assert keys("weekly:digest") == {3}
    assert keys("category:primary") == set()


@pytest.mark.parametrize(
    "q",
    [
        "",
        "(",
        ")",
        "((interview",
        "interview)",
        "{",
        "OR",
        "OR interview",
        "interview OR",
        "-",
        '"',
    ],
)
def test_malformed_queries_never_raise(q: str) -> None:
    parse_query(q).filter(DOCS, CTX)


def test_deep_nesting_is_bounded() -> None:
    query = parse_query("(" * 5000 + "interview" + ")" * 5000)
    assert {d.key for d in query.filter(DOCS, CTX)} <= {1, 2, 3, 4, 5}
    assert keys("-" * 5000 + "interview") == {1, 5}


def test_tokenizer_keeps_operator_values_and_groups() -> None:
    kinds = [(t.kind, t.op, t.text) for t in tokenize('from:(a@x.com OR b) -subject:"x y" {c d}')]
    assert kinds == [
        ("op", "from", ""),
        ("(", "", ""),
        ("word", "", "a@x.com"),
        ("OR", "", "OR"),
        ("word", "", "b"),
        (")", "", ""),
        ("-", "", ""),
        ("op", "subject", ""),
        ("phrase", "", "x y"),
        ("{", "", ""),
        ("word", "", "c"),
        ("word", "", "d"),
        ("}", "", ""),
    ]


def test_the_index_narrows_address_and_label_queries() -> None:
    index = _Index()
    assert parse_query("from:acme.com").candidates(index) == {1}
    assert parse_query("in:sent OR in:drafts").candidates(index) == {2, 5}
    assert parse_query("from:acme.com interview").candidates(index) == {1}
    assert parse_query("-from:acme.com").candidates(index) is None
    assert parse_query("interview").candidates(index) is None


def test_filename_finds_attachments_by_name_or_type() -> None:
    """Gmail's `filename:pdf`, `filename:homework.txt` (support.google.com/mail/answer/7190)."""
    docs = [
        replace(_doc(10, sender=("a@x.io", "")), has_attachment=True, filenames=("invite.ics",)),
        replace(_doc(11, sender=("b@x.io", "")), has_attachment=True, filenames=("Report.PDF",)),
        _doc(12, sender=("c@x.io", ""), body="filename ics"),
    ]
    cases = {
        "filename:ics": {10},
        "filename:invite.ics": {10},
        "filename:INVITE.ICS": {10},
        "filename:pdf": {11},
        "filename:report.pdf": {11},
        "filename:doc": set(),
        "filename:ics OR filename:pdf": {10, 11},
    }
    for q, expected in cases.items():
        assert {d.key for d in parse_query(q).filter(docs, CTX)} == expected, q
