"""Hostile mail costs bounded time and memory (issue 10, point 7).

Each message here once stalled a sync for seconds to minutes, or grew it by gigabytes: an HTML
body that is quadratic in `html.parser`, a subject of RFC 2047 encoded words that the standard
header parser turns into a huge parse tree, half a megabyte of Content-Type parameters, 100,000
MIME parts. Each must now be read (with what is oversized truncated) or skipped with a reason
within 2 s and 200 MB, on the whole-message path (Maildir, IMAP, Gmail `format=full`) and on the
header-field path (Gmail metadata, Graph) alike.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mailagent.core.models import SNIPPET_LIMIT, Folder, Message
from mailagent.errors import ParseError
from providers.mime import message_from_fields, parse_message

SECONDS = 2.0
MEGABYTES = 200
ARRIVAL = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

HEAD = b"From: Rita Recruiter <rita@acme.example>\r\nDate: Fri, 01 Mar 2024 10:00:00 +0000\r\n"


def within_budget(read: Callable[[], Message | str]) -> Message | str:
    """Run `read` twice: once timed, once under tracemalloc (which slows it), and check both."""
    gc.collect()
    started = time.perf_counter()
    result = read()
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    gc.collect()
    tracemalloc.start()
    try:
        read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEGABYTES * 2**20, f"peak {peak / 2**20:.0f} MB"
    return result


def parse(data: bytes) -> Message | str:
    try:
        return parse_message(data, folder=Folder.INBOX, id="hostile", fallback_date=ARRIVAL)
    except ParseError as exc:
        return f"skipped: {exc}"


def from_fields(fields: list[tuple[str, str]], text: str = "") -> Message | str:
    try:
        return message_from_fields(
            fields, text, folder=Folder.INBOX, id="hostile", fallback_date=ARRIVAL
        )
    except ParseError as exc:
        return f"skipped: {exc}"


def encoded_subject(size: int) -> str:
    word = "=?utf-8?q?Interview_=C3=A9?= "
    return word * (size // len(word))


def html_message(html: bytes) -> bytes:
    return HEAD + b"Subject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html


def test_html_of_unclosed_tags_is_read_in_linear_time() -> None:
    result = within_budget(lambda: parse(html_message(b"<a " * 340_000)))  # 1 MB
    assert isinstance(result, Message)


@pytest.mark.parametrize(
    "html",
    [
        b"<script " * 120_000,
        b"<!--" * 250_000,
        b"<p title='" * 100_000,
        b"<" * 1_000_000,
        b"&amp" * 250_000,
        b"<meta charset=" * 70_000,
        b"<b>x</b>" * 125_000,
    ],
    ids=["scripts", "comments", "quotes", "brackets", "entities", "meta", "tags"],
)
def test_other_hostile_html_is_bounded(html: bytes) -> None:
    result = within_budget(lambda: parse(html_message(html)))
    assert isinstance(result, Message)
    assert len(result.snippet) <= SNIPPET_LIMIT


def test_a_subject_of_encoded_words_is_bounded_on_the_whole_message_path() -> None:
    subject = encoded_subject(560_000).encode()
    result = within_budget(lambda: parse(HEAD + b"Subject: " + subject + b"\r\n\r\nHello\r\n"))
    assert isinstance(result, Message)
    assert result.subject.startswith("Interview é")
    assert len(result.subject) < 20_000


def test_a_subject_of_encoded_words_is_bounded_on_the_header_field_path() -> None:
    fields = [
        ("From", "rita@acme.example"),
        ("Date", "Fri, 01 Mar 2024 10:00:00 +0000"),
        ("Subject", encoded_subject(560_000)),
    ]
    result = within_budget(lambda: from_fields(fields, "Hello"))
    assert isinstance(result, Message)
    assert result.subject.startswith("Interview é")
    assert result.snippet == "Hello"


def test_every_header_field_is_bounded_on_the_header_field_path() -> None:
    big = "=?utf-8?b?SW50ZXJ2aWV3?= " * 20_000
    fields = [
        ("From", "rita@acme.example, " * 30_000),
        ("Date", "Fri, 01 Mar 2024 10:00:00 +0000"),
        ("To", big),
        ("References", "<a@b> " * 100_000),
        ("Content-Type", "text/plain" + "; a=b" * 100_000),
        *[("X-Filler", big[:1000])] * 5_000,
    ]
    result = within_budget(lambda: from_fields(fields, "x" * 5_000_000))
    assert isinstance(result, Message)
    assert len(result.snippet) <= SNIPPET_LIMIT


def test_half_a_megabyte_of_content_type_parameters_is_bounded() -> None:
    params = b"; a=b" * 100_000
    top = HEAD + b"Subject: x\r\nContent-Type: text/plain" + params + b"\r\n\r\nHello\r\n"
    result = within_budget(lambda: parse(top))
    assert isinstance(result, Message)
    assert result.snippet == "Hello"


def test_content_type_parameters_in_a_part_are_bounded() -> None:
    params = b";\r\n a=b" * 70_000
    data = (
        HEAD + b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
        b"--b\r\nContent-Type: text/plain" + params + b"\r\n\r\nmore\r\n--b--\r\n"
    )
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message)
    assert result.snippet.startswith("Hello")


def test_a_hundred_thousand_mime_parts_are_bounded() -> None:
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    data = (
        HEAD
        + b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
        + part * 100_000
        + b"--b--\r\n"
    )
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message)
    assert result.snippet.startswith("Hello")


def test_deeply_nested_parts_are_bounded() -> None:
    depth = 20_000
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)
    )
    data = HEAD + b"Subject: x\r\n" + opening + b"Content-Type: text/plain\r\n\r\nHello\r\n"
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message | str)


def test_a_million_header_fields_are_bounded() -> None:
    data = HEAD + b"Subject: x\r\n" + b"X-A: b\r\n" * 1_000_000 + b"\r\nHello\r\n"
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message)


def test_a_huge_header_without_a_body_is_bounded() -> None:
    data = HEAD + b"Subject: " + b"word " * 2_000_000
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message)


def test_a_huge_body_is_read_truncated() -> None:
    data = HEAD + b"Subject: x\r\n\r\nHello\r\n" + b"a long line of text " * 3_000_000  # 60 MB
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message)
    assert result.snippet.startswith("Hello")


@pytest.mark.parametrize(
    "name", ["From", "To", "Cc", "References", "In-Reply-To", "Message-ID", "Date"]
)
def test_any_huge_header_field_is_bounded(name: str) -> None:
    value = (b'=?utf-8?q?a?= (c) "q" <x@y.example>, ' * 30_000).strip(b", ")
    data = HEAD + name.encode() + b": " + value + b"\r\nSubject: x\r\n\r\nHello\r\n"
    result = within_budget(lambda: parse(data))
    assert isinstance(result, Message | str)
