"""RFC 5322 / MIME: turn raw message bytes into a `Message`, and render drafts as bytes.

Pure functions, no I/O. Two directions with different attitudes:

- Reading (`parse_message`) is lenient. Mail in the wild breaks every rule (see the corpus in
  ``shared/corpus/eml``): wrong or unknown charsets, raw 8-bit bytes in headers, headers the
  stdlib parser chokes on. Each header is read on its own, so one bad header never costs the
  message; the only reasons to give up are "no sender" and "no date" (without a fallback).
- Writing (`render_draft`) is strict. Names, subjects and addresses come from untrusted calendar
  and mail input, so every header value is sanitised (no CR/LF/control characters), addresses
  must be one plain addr-spec, and msg-ids must be well formed; anything else is a `ValueError`
  and the caller skips that draft.

Nothing here logs, and message bodies never leave the returned `Message.snippet`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import functools
import hashlib
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.message import Message as MimePart
from email.utils import format_datetime, parsedate_to_datetime
from html import unescape
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from mailagent.core.models import (
    SNIPPET_LIMIT,
    CalendarEvent,
    DraftContent,
    Folder,
    Message,
    Person,
)
from mailagent.errors import ParseError
from providers.base import Window
from providers.ical import latest_by_id, parse_calendar

__all__ = [
    "DETECTION_HEADERS",
    "draft_message_id",
    "draft_sender",
    "header_lines",
    "make_message_id",
    "message_from_fields",
    "parse_message",
    "render_draft",
    "sanitize_header_text",
]

KEPT_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "precedence",
    "content-type",
    "x-failed-recipients",
    "return-path",
    "list-id",
    "list-unsubscribe",
    "x-mailagent-key",
    "thread-topic",
    "x-ms-exchange-generated-message-source",
)
"""The only headers `Message.headers` carries: what classification needs, nothing private."""

DETECTION_HEADERS: tuple[str, ...] = (
    "From",
    "Sender",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    *(h.title() for h in KEPT_HEADERS),
)
"""The header fields detection and classification read: what a provider that can fetch single
fields (Gmail's metadata format, IMAP's HEADER.FIELDS) asks for."""

CONTENT_FIELDS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})

_MAX_DEPTH = 32
"""MIME nesting we follow; deeper parts are ignored (real mail nests 3 or 4 levels)."""

_HTML_FEED_LIMIT = 2_000_000
"""Characters of one HTML part we convert; a snippet needs far less, this bounds the time."""

# Bounds on what the stdlib parsers see (issue 10). `email`'s feedparser, its header registry and
# `html.parser` are fine on real mail but superlinear on hostile input: a subject of 560 KB of
# encoded words took 10.7 GB, 500 KB of Content-Type parameters 60 s, 100k MIME parts 25 s. So
# every message is cut down to these sizes BEFORE it is parsed (`_bounded`), and what is cut is
# what no classification reads: the tail of a huge field, attachments past the first few MB.
MAX_MESSAGE_BYTES = 4 * 2**20
"""Bytes of one message the parser sees; text parts come first in real mail, the rest is
attachments (a snippet keeps 4,000 characters)."""
MAX_LINES = 100_000
"""Lines of one message the parser sees (it keeps each line as an object)."""
MAX_PARTS = 100
"""MIME parts (boundary lines and nested part headers) the parser sees; real mail has a few."""
MAX_FIELDS = 500
"""Header fields per header section (a long Received chain has 30)."""
MAX_FIELD_BYTES = 16_384
"""Bytes of one header field, folded lines together (References of a long thread fit)."""
MAX_CONTENT_FIELD_BYTES = 512
"""Bytes of one Content-* field: the header registry parses it several times per part, at a
cost that grows faster than its length; real ones are under 300 bytes."""
MAX_SECTION_BYTES = 256 * 1024
"""Bytes of one header section."""
_POLICY_PARSE_LIMIT = 2_000
"""Longer header values skip the stdlib header parser for our own linear RFC 2047 decoder."""
MAX_TEXT_CHARS = 64 * SNIPPET_LIMIT
"""Characters of API-given text (`message_from_fields`) read; the snippet keeps 4,000."""

# --- sanitising ------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def sanitize_header_text(value: str) -> str:
    """One line of plain text: control characters, CR/LF, tabs, Unicode line separators and
    runs of white space become single spaces; lone surrogates become U+FFFD; ends stripped."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", value))
    return " ".join(text.split())


# --- charsets --------------------------------------------------------------------------------

_SUPERSETS = {
    # What mail clients and browsers actually decode these labels as: senders that declare the
    # narrow charset routinely use the superset's extra characters.
    # https://encoding.spec.whatwg.org/#names-and-labels (keys are Python codec names)
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
_LABELS = {
    # common labels Python's codec registry does not know
    "x-sjis": "cp932",
    "windows-874": "cp874",
    "x-gbk": "gb18030",
    "x-euc-jp": "euc_jp",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-7": "utf-7",
}
_WESTERN = frozenset({"cp1252", "iso8859-15"})
"""Declared charsets that are often a lie for UTF-8 bodies: valid UTF-8 wins over them."""


def _codec(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when it is unknown or not text."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").partition("*")[0].strip()  # RFC 2231 "utf-8*en"
    if not label:
        return None
    try:
        name = codecs.lookup(_LABELS.get(label.lower(), label)).name
    except (LookupError, ValueError):
        return None
    try:
        b"a".decode(name)
    except LookupError:  # a bytes-to-bytes codec (base64, zlib...): not a charset
        return None
    except (UnicodeError, ValueError):
        pass
    return _SUPERSETS.get(name, name)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes under a charset that may be wrong, unknown or missing. Never raises:
    declared charset, then UTF-8, then windows-1252 with replacement characters."""
    declared = _codec(charset)
    if not data.isascii():
        if declared in _WESTERN or declared is None:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
    elif declared is None or declared in _WESTERN:
        return data.decode("ascii")
    for codec in (declared, "utf-8"):
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError, ValueError):
            continue
    return data.decode("cp1252", errors="replace")


# --- header decoding -------------------------------------------------------------------------

_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def _raw_bytes(value: str) -> bytes:
    """The original bytes of a header value the parser kept as str (8-bit bytes are stored
    as surrogate escapes by `message_from_bytes`)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def _decode_encoded_text(kind: bytes, text: bytes) -> bytes | None:
    if kind in b"qQ":
        return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.replace(b"_", b" "))
    compact = b"".join(text.split())
    try:
        return binascii.a2b_base64(compact + b"=" * (-len(compact) % 4))
    except binascii.Error:
        return None


def _decode_header_bytes(raw: bytes) -> str:
    """RFC 2047 decoding that never raises (`decode_header` raises on bad base64 and
    `make_header` on unknown charsets). Adjacent encoded words in one charset are joined before
    decoding, so a character split across two words survives (RFC 2047 section 6.2 also says
    the white space between them is dropped). Text outside encoded words may be raw 8-bit."""
    pieces: list[str] = []
    run: list[tuple[str, bytes]] = []

    def flush() -> None:
        while run:
            charset, data = run.pop(0)
            while run and run[0][0] == charset:
                data += run.pop(0)[1]
            pieces.append(_decode_bytes(data, charset))

    pos = 0
    for match in _ENCODED_WORD.finditer(raw):
        between = raw[pos : match.start()]
        if between and not (run and between.isspace()):
            flush()
            pieces.append(_decode_bytes(between, None))
        pos = match.end()
        data = _decode_encoded_text(match.group(2), match.group(3))
        if data is None:
            flush()
            pieces.append(_decode_bytes(match.group(0), None))
            continue
        run.append((match.group(1).decode("ascii", "replace").lower(), data))
    flush()
    pieces.append(_decode_bytes(raw[pos:], None))
    return "".join(pieces)


def _unfold(raw: bytes) -> bytes:
    return _LINE_BREAK.sub(b"", raw)


def _raw_headers(msg: MimePart, name: str) -> list[str]:
    """Raw values of every header called `name`, in order, without any policy parsing."""
    return [value for key, value in msg.raw_items() if key.lower() == name]


_MISDECODED = re.compile("[\ufffd\x80-\x9f]")
"""What a decoder that used too narrow a charset leaves: U+FFFD, or C1 control characters
(iso-8859-1 for windows-1252's quotes and dashes). Neither belongs in a real header."""


def _header_text(msg: MimePart, raw: str, name: str) -> str:
    """One header value as sanitised text. The policy parser is tried first; when it raises
    (malformed header), leaves an encoded word undecoded, or the value has raw 8-bit bytes (it
    would turn them into U+FFFD), the raw value is decoded here instead. So it is when the
    policy parser's text has characters it could not decode (`_MISDECODED`): it decodes with
    the declared charset, ours with its superset (`_SUPERSETS`: a subject labelled gb2312 that
    holds GBK characters); the text with fewer such characters wins."""
    if len(raw) <= _POLICY_PARSE_LIMIT and not _SURROGATE.search(raw):
        try:
            parsed = str(msg.policy.header_fetch_parse(name, raw))
        except Exception:  # noqa: S110 - the stdlib header parsers raise many types; fall back
            pass
        else:
            text = sanitize_header_text(parsed)
            if "=?" not in text:  # else it left an encoded word it could not decode
                misdecoded = len(_MISDECODED.findall(parsed))
                if not misdecoded:
                    return text
                ours = _decode_header_bytes(_unfold(_raw_bytes(raw)))
                if len(_MISDECODED.findall(ours)) >= misdecoded:
                    return text
                return sanitize_header_text(ours)
    return sanitize_header_text(_decode_header_bytes(_unfold(_raw_bytes(raw))))


def _first_text(msg: MimePart, name: str) -> str | None:
    values = _raw_headers(msg, name)
    return _header_text(msg, values[0], name) if values else None


# --- addresses -------------------------------------------------------------------------------


def _split_address_list(text: str) -> list[str]:
    """Split an address list at commas outside quotes, comments and angle brackets. Group
    names ("undisclosed-recipients:;") are dropped; empty entries (trailing commas) too.

    Written out instead of `email.utils.getaddresses`: that one reads "a@x <b@y>" as two
    addresses, and its behaviour on malformed input changed in 3.11.10 (CVE-2023-27043)."""
    entries: list[str] = []
    buf: list[str] = []
    angle = False
    plain, balanced = _plain_positions(text)
    for index, ch in enumerate(text):
        if plain[index]:
            if ch == "<":
                angle = True
            elif ch == ">":
                angle = False
            elif not angle and ch in ",;":
                entries.append("".join(buf))
                buf = []
                continue
            elif not angle and ch == ":":
                buf = []
                continue
        buf.append(ch)
    entries.append("".join(buf))
    if not balanced:  # an unclosed quote or comment swallowed the rest: read it without them
        return _split_address_list(re.sub(r'["()]', "", text))
    return [entry.strip() for entry in entries if entry.strip()]


def _angle_start(entry: str) -> int:
    """Index of the last '<' outside quotes and comments, or -1."""
    plain, _ = _plain_positions(entry)
    return max((i for i, ch in enumerate(entry) if ch == "<" and plain[i]), default=-1)


def _plain_positions(text: str) -> tuple[list[bool], bool]:
    """For each character, whether it stands outside RFC 5322 quoted strings and comments
    (and is not the quote or parenthesis that opens one); and whether all of them close."""
    plain: list[bool] = []
    quoted = escaped = False
    comment = 0
    for ch in text:
        plain.append(not (escaped or quoted or comment) and ch not in '"(')
        if escaped:
            escaped = False
        elif ch == "\\" and (quoted or comment):
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif comment:
            comment += {"(": 1, ")": -1}.get(ch, 0)
        elif ch == '"':
            quoted = True
        elif ch == "(":
            comment = 1
    return plain, not (quoted or comment)


def _unquote(phrase: str) -> str:
    """Drop the quotes of quoted strings in a display name and undo their backslash escapes."""
    out: list[str] = []
    quoted = escaped = False
    for ch in phrase:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        else:
            out.append(ch)
    return "".join(out)


_COMMENT = re.compile(r"\(([^()]*)\)")


def _mailbox(entry: str) -> tuple[str, str]:
    """(display name, address) of one entry, both still in the latin-1 view of raw bytes."""
    start = _angle_start(entry)
    if start >= 0:
        end = entry.find(">", start)
        address = entry[start + 1 : end if end >= 0 else len(entry)]
        name = entry[:start]
    else:  # "addr (Name)": the old comment form
        comments = _COMMENT.findall(entry)
        address = _COMMENT.sub(" ", entry)
        name = comments[0] if comments else ""
    address = address.rpartition(":")[2]  # obsolete source route "<@relay:user@host>"
    return name, "".join(address.split())


_NOT_IN_ADDRESS = re.compile("[\x00-\x1f\x7f-\x9f<>(),;\\\\]")


def _looks_like_address(name: str) -> bool:
    return "@" in name and not any(ch.isspace() for ch in name)


def _people(msg: MimePart, name: str) -> list[Person]:
    """Every usable mailbox in every header called `name`, de-duplicated by address."""
    people: dict[str, Person] = {}
    for raw in _raw_headers(msg, name):
        text = _unfold(_raw_bytes(raw)).decode("latin-1")  # 1:1 with bytes, keeps delimiters
        for entry in _split_address_list(text):
            raw_name, raw_address = _mailbox(entry)
            address = _decode_bytes(raw_address.encode("latin-1"), None).strip("\"'").lower()
            local, at, domain = address.rpartition("@")
            if not (at and local and domain) or _NOT_IN_ADDRESS.search(address):
                continue
            display = sanitize_header_text(
                _decode_header_bytes(_unquote(raw_name).encode("latin-1"))
            )
            if _looks_like_address(display):
                # "x@y <x@y>" says nothing, and "a@x <b@y>" is a spoofing trick: neither is a name
                display = ""
            if address not in people or (display and not people[address].name):
                people[address] = Person(display, address)
    return list(people.values())


# --- other headers ---------------------------------------------------------------------------

_MSG_ID_TOKEN = re.compile(r"<[^<>]+>")
_BARE_MSG_ID = re.compile(r"[!-;=?-~]+@[!-;=?-~]+")


def _msg_ids(msg: MimePart, name: str) -> list[str]:
    ids: list[str] = []
    for raw in _raw_headers(msg, name):
        text = _unfold(_raw_bytes(raw)).decode("utf-8", "replace")
        ids.extend("".join(token.split()) for token in _MSG_ID_TOKEN.findall(text))
    return ids


def _message_id(msg: MimePart, data: bytes) -> str:
    for raw in _raw_headers(msg, "message-id"):
        compact = "".join(_unfold(_raw_bytes(raw)).decode("utf-8", "replace").split())
        match = _MSG_ID_TOKEN.search(compact)
        if match:
            return match.group(0)
        if _BARE_MSG_ID.fullmatch(compact):  # some mailers forget the angle brackets
            return f"<{compact}>"
    return f"<{hashlib.sha256(data).hexdigest()[:32]}@mailagent.invalid>"


def _date(msg: MimePart) -> datetime | None:
    for raw in _raw_headers(msg, "date"):
        text = " ".join(_unfold(_raw_bytes(raw)).decode("ascii", "replace").split())
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None


# --- body text -------------------------------------------------------------------------------

_SNIPPET_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLANK_LINES = re.compile(r"\n{3,}")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\n)+")
_META_CHARSET = re.compile(
    rb"""<meta[^<>]{0,300}?charset[ \t\n]{0,20}=[ \t\n]{0,20}["']?([A-Za-z0-9_.:-]{1,40})""",
    re.IGNORECASE,
)
"""Stops at '<': a tag that never closes costs its own length, not the rest of the part."""


def _content_type(part: MimePart) -> str:
    try:
        return part.get_content_type()
    except Exception:  # a Content-Type the header parser chokes on: an opaque part
        return "application/octet-stream"


def _is_attachment(part: MimePart) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # an unreadable Content-Disposition: do not take the part as body text
        return True


def _walk(part: MimePart, depth: int = 0) -> Iterator[MimePart]:
    """Leaf parts in order, plus message/delivery-status; attached messages are not entered."""
    if depth > _MAX_DEPTH:
        return
    ctype = _content_type(part)
    if part.is_multipart() and ctype.startswith("multipart/"):
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, MimePart):
                    yield from _walk(sub, depth + 1)
        return
    if ctype.startswith("message/") and ctype != "message/delivery-status":
        return
    yield part


def _part_text(part: MimePart, ctype: str) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding must not cost the message
        return ""
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:  # malformed Content-Type parameters
        charset = None
    if charset is None and ctype == "text/html":
        found = _META_CHARSET.search(data[:4096])
        charset = found.group(1).decode("ascii") if found else None
    return _decode_bytes(data, charset).lstrip("\ufeff")


def _delivery_status_text(part: MimePart) -> str:
    """The per-message and per-recipient fields of a DSN (RFC 3464): Final-Recipient, Status."""
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, MimePart):
            for name, value in block.raw_items():
                text = _decode_bytes(_unfold(_raw_bytes(value)), None)
                lines.append(f"{name}: {' '.join(text.split())}")
            lines.append("")
    if not lines and isinstance(payload, str):
        return payload
    return "\n".join(lines)


_HTML_SKIP = frozenset({"script", "style", "title", "template", "head"})
_HTML_RAW_TEXT = frozenset({"script", "style"})
"""Elements whose content is text up to their end tag, tags included (html.parser's
CDATA_CONTENT_ELEMENTS; HTML Living Standard 13.1.2, raw text elements)."""
_HTML_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
        "body",
    ]
)
_HTML_SPACE = re.compile(r"\s+")
_HTML_TAG_NAME = re.compile(r"[a-zA-Z][^\t\n\r\f />\x00]*")
"""html.parser's `tagfind_tolerant`."""
_HTML_TAG_REST = re.compile(r"""(?:[^>"'=]++|=\s*+(?:"[^"]*+"|'[^']*+')?+|["'])*+>""")
"""The rest of a tag up to its '>', a '>' inside a quoted attribute value included. Possessive
quantifiers: each character is looked at once, and a tag that never closes fails in one pass."""


class _HtmlText:
    """Visible text of an HTML document: no tags, comments, scripts or styles; entities
    unescaped; a line break around block elements and a space around table cells.

    A linear scanner instead of `html.parser`, which is quadratic on markup that does not close
    ("<a <a <a ...": 100 KB took 99 s). Every search moves forward from where the last one
    ended; a search that finds nothing ends the document (an unclosed tag, comment or script
    holds no visible text), so no character is scanned twice."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.lower = ""
        self.parts: list[str] = []
        self.size = 0
        self.skip = 0

    def text(self, data: str) -> None:
        if data and not self.skip:
            data = unescape(data)
            self.parts.append(_HTML_SPACE.sub(" ", data))
            self.size += len(data)

    def start_tag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self.skip += 1
        elif tag == "body":  # a <head> someone forgot to close ends here
            self.skip = 0
        if tag in _HTML_BLOCK or tag in {"td", "th"}:
            self.parts.append("\n" if tag in _HTML_BLOCK else " ")

    def end_tag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _HTML_BLOCK:
            self.parts.append("\n")

    def run(self, limit: int) -> str:
        html = self.html
        pos = 0
        while pos < len(html) and self.size <= limit:
            lt = html.find("<", pos)
            if lt < 0:
                self.text(html[pos:])
                break
            self.text(html[pos:lt])
            after = self._markup(lt)
            if after < 0:
                break
            pos = after
        return "".join(self.parts)

    def _markup(self, lt: int) -> int:
        """Handle the markup at `lt` ('<'); return where text resumes, or -1 for the end."""
        html = self.html
        name = _HTML_TAG_NAME.match(html, lt + 1)
        if name is not None:  # a start tag
            rest = _HTML_TAG_REST.match(html, name.end())
            if rest is None:
                return -1
            tag = name.group(0).lower()
            self.start_tag(tag)
            if tag in _HTML_RAW_TEXT and not html.endswith("/>", 0, rest.end()):
                self.lower = self.lower or html.lower()
                # its content is skipped, its end tag read next (-1: none, the end)
                return self.lower.find(f"</{tag}", rest.end())
            return rest.end()
        if html.startswith("</", lt):
            name = _HTML_TAG_NAME.match(html, lt + 2)
            end = html.find(">", lt + 2)
            if end < 0:
                return -1
            if name is not None:
                self.end_tag(name.group(0).lower())
            return end + 1
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            return -1 if end < 0 else end + 3
        if html.startswith(("<!", "<?"), lt):  # declaration, CDATA, processing instruction
            end = html.find(">", lt + 2)
            return -1 if end < 0 else end + 1
        self.text("<")  # "<" not starting markup is text ("a < b", "<3")
        return lt + 1


def _html_to_text(html: str) -> str:
    text = _HtmlText(html[:_HTML_FEED_LIMIT]).run(4 * SNIPPET_LIMIT)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _clean_snippet(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _LEADING_BLANK.sub("", _SNIPPET_JUNK.sub("", text)).rstrip()


def _snippet(msg: MimePart) -> str:
    plain: list[str] = []
    html: list[MimePart] = []
    size = 0
    for part in _walk(msg):
        ctype = _content_type(part)
        if ctype == "message/delivery-status":  # often marked as an attachment, still wanted
            text = _clean_snippet(_delivery_status_text(part))
        elif _is_attachment(part):
            continue
        elif ctype == "text/plain":
            text = _clean_snippet(_part_text(part, ctype))
        elif ctype == "text/html":
            html.append(part)
            continue
        else:
            continue
        if text.strip():
            plain.append(text)
            size += len(text)
            if size >= SNIPPET_LIMIT:
                break
    if not plain:
        for part in html:
            text = _clean_snippet(_html_to_text(_part_text(part, "text/html")))
            if text:
                plain.append(text)
                size += len(text)
                if size >= SNIPPET_LIMIT:
                    break
    return "\n\n".join(plain)[:SNIPPET_LIMIT].rstrip()


# --- calendar parts --------------------------------------------------------------------------

MAX_CALENDAR_PARTS = 4
"""Calendar parts of one message read: an invitation has one inline and maybe one attached."""
MAX_CALENDAR_BYTES = 256 * 1024
"""Bytes of one calendar part read; an invitation is a few KB (with its VTIMEZONEs)."""
MAX_INVITATION_EVENTS = 20
"""VEVENTs in one calendar part: an invitation has one, with a few overrides of a series; a
part with more is a calendar export, not an invitation, and is not expanded (its cost)."""
INVITATION_SPAN = timedelta(days=400)
"""Events of an invitation are read within this span either side of the message's date (a
recurring invitation is expanded there; an interview is rarely booked a year ahead)."""
INVITATION_METHODS = frozenset({"", "REQUEST", "CANCEL", "PUBLISH"})
"""iTIP methods (RFC 5546 §1.4) whose events are the organizer's: an invitation, its update,
its cancellation, or an "add to calendar" file. REPLY, COUNTER and REFRESH come from attendees
and say nothing new about the event."""
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_VEVENT = re.compile(rb"(?im)^BEGIN:VEVENT")
_METHOD_LINE = re.compile(rb"(?im)^METHOD[ \t]*[;:]([^\r\n]*)")


def _filename(part: MimePart) -> str:
    try:
        return str(part.get_filename() or "")
    except Exception:  # a Content-Disposition the header parser chokes on
        return ""


def _calendar_parts(msg: MimePart) -> list[bytes]:
    """The decoded bytes of the message's calendar parts (`text/calendar`, `application/ics`,
    a file named `*.ics`), each once, at most `MAX_CALENDAR_PARTS` of them."""
    found: list[bytes] = []
    for part in _walk(msg):
        ctype = _content_type(part)
        if ctype not in _CALENDAR_TYPES and not _filename(part).lower().endswith(".ics"):
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: S112 - a broken transfer encoding costs this part only
            continue
        if isinstance(data, bytes) and data.strip() and data not in found:
            found.append(data[:MAX_CALENDAR_BYTES])
        if len(found) >= MAX_CALENDAR_PARTS:
            break
    return found


def _invitations(
    msg: MimePart, date: datetime
) -> tuple[tuple[CalendarEvent, ...], tuple[str, ...]]:
    """The events of the message's calendar parts whose METHOD is in `INVITATION_METHODS`, one
    per event id (the highest SEQUENCE); and why a part, or an event in it, was not read."""
    window = Window(date - INVITATION_SPAN, date + INVITATION_SPAN)
    events: list[CalendarEvent] = []
    problems: list[str] = []
    for number, data in enumerate(_calendar_parts(msg), start=1):
        method = _METHOD_LINE.search(data)
        if method and method[1].strip().upper().decode("ascii", "replace") not in (
            INVITATION_METHODS
        ):
            continue
        source = f"calendar part {number}"
        if len(_VEVENT.findall(data)) > MAX_INVITATION_EVENTS:
            problems.append(f"{source}: more than {MAX_INVITATION_EVENTS} events, not read")
            continue
        found, skipped = parse_calendar(
            data, window=window, default_tz=ZoneInfo("UTC"), source=source
        )
        events.extend(found)
        problems.extend(sanitize_header_text(f"{s.item}: {s.reason}")[:300] for s in skipped)
    return tuple(latest_by_id(events)), tuple(problems)


# --- parse -----------------------------------------------------------------------------------

_LEADING_BLANK_LINES = re.compile(rb"(?:[ \t]*\r?\n)+")
_LONE_CR = re.compile(rb"\r(?!\n)")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_PART_START = re.compile(rb"^(?:--|content-)", re.MULTILINE | re.IGNORECASE)
_HEADER_START = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:")
"""A line the feedparser takes as a header field (its `headerRE`, less continuation lines)."""


def _nth_index(data: bytes, needle: bytes, count: int) -> int:
    """Index of the `count`-th `needle` in `data` (1-based), or -1."""
    index = -1
    for _ in range(count):
        index = data.find(needle, index + 1)
        if index < 0:
            return -1
    return index


def _bounded(data: bytes) -> bytes:
    """`data` cut to what the parsers may see (see `MAX_MESSAGE_BYTES` and the limits after
    it), in one linear pass. A lone CR becomes LF (the feedparser splits lines there too), so
    that a message of lone CRs is bounded as well; CRLF stays (a QP "=0D" before it counts). Header sections are found where the
    feedparser finds them: at the top, after lines starting "--" (any of them may be a boundary)
    and at lines starting "Content-" (the header of an attached message or a part); each field
    in them is capped, and fields past the section's caps are dropped. Past `MAX_PARTS` such
    sections the message ends."""
    data = _LONE_CR.sub(b"\n", data[:MAX_MESSAGE_BYTES])
    if data.count(b"\n") > MAX_LINES:
        data = data[: _nth_index(data, b"\n", MAX_LINES) + 1]
    out: list[bytes] = []
    pos, _ = _bounded_header(data, 0, out)
    parts = 0
    while pos < len(data):
        found = _PART_START.search(data, pos)
        start = found.start() if found else len(data)
        out.append(data[pos:start])
        if found is None:
            break
        if parts >= MAX_PARTS:
            break
        if data.startswith(b"--", start):  # a boundary line (RFC 2046 keeps them under 70)
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end + 1
            out.append(_cut_line(data[start:end], 998))
            pos, section = _bounded_header(data, end, out)
        else:
            pos, section = _bounded_header(data, start, out)
            if not section:  # "Content-wise, ..." in text: not a header, keep the line
                end = data.find(b"\n", start)
                pos = len(data) if end < 0 else end + 1
                out.append(data[start:pos])
        parts += section
    return b"".join(out)


def _bounded_header(data: bytes, pos: int, out: list[bytes]) -> tuple[int, bool]:
    """Copy the header section at `pos` into `out` with its fields capped; return where the
    section's body starts (after its blank line, or at its first line that is not a header),
    and whether there was a section (a header field or the blank line) at all."""
    fields = section = 0
    limit = kept = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end + 1
        line = data[pos:end]
        if line in (b"\n", b"\r\n"):
            out.append(line)
            return end, True
        if line[:1] in (b" ", b"\t") and fields:
            room = min(limit - kept, MAX_SECTION_BYTES - section)
        elif _HEADER_START.match(line):
            fields += 1
            if fields > MAX_FIELDS or section >= MAX_SECTION_BYTES:
                return _skip_section(data, pos), True
            content = line[:8].lower() == b"content-"
            limit = MAX_CONTENT_FIELD_BYTES if content else MAX_FIELD_BYTES
            kept = 0
            room = min(limit, MAX_SECTION_BYTES - section)
        else:
            return pos, fields > 0  # not a header line: the feedparser starts the body here
        if room > 0:
            piece = _cut_line(line, room)
            out.append(piece)
            kept += len(piece)
            section += len(piece)
        pos = end
    return pos, fields > 0


def _skip_section(data: bytes, pos: int) -> int:
    """Where the body of the header section holding `pos` starts (after its blank line)."""
    blank = _BLANK_LINE.search(data, max(pos - 1, 0))
    return len(data) if blank is None else blank.end()


def _cut_line(line: bytes, size: int) -> bytes:
    """`line` cut to `size` bytes, its line end kept."""
    if len(line) <= size:
        return line
    return line[:size].rstrip(b"\r\n") + (b"\r\n" if line.endswith(b"\r\n") else b"\n")


def parse_message(
    data: bytes, *, folder: Folder, id: str, fallback_date: datetime | None = None
) -> Message:
    """Read one RFC 5322 message. Raises `ParseError` when it has no usable sender, or no date
    and no `fallback_date` (for example the provider's arrival time), and never anything else:
    one message that trips the parser must not stop a sync, it is skipped with its reason."""
    try:
        return _parse(data, folder=folder, id=id, fallback_date=fallback_date)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("MIME structure nested too deeply") from exc
    except Exception as exc:  # a parser bug on hostile input; the type names it in the log
        raise ParseError(f"unreadable message ({type(exc).__name__})") from exc


@functools.lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    return email.policy.default.header_fetch_parse(name, value)


class _ReadPolicy(email.policy.EmailPolicy):
    """`email.policy.default`, with each header parsed once. The standard parser asks for a
    part's Content-Type four times while it splits a multipart, and the default policy parses
    the field anew each time: a long parameter list in each of many parts made one message
    cost seconds. Parsed headers are immutable, so sharing them between lookups is safe."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        return _parsed_header(name, value)


_READ_POLICY = _ReadPolicy()


def _parse(data: bytes, *, folder: Folder, id: str, fallback_date: datetime | None) -> Message:
    if not data.strip():
        raise ParseError("empty message")
    data = data[:MAX_MESSAGE_BYTES]
    lead = _LEADING_BLANK_LINES.match(data)  # white-space-only lines before the headers
    bounded = _bounded(data[lead.end() if lead else 0 :])
    msg = email.message_from_bytes(bounded, policy=_READ_POLICY)

    senders = _people(msg, "from") or _people(msg, "sender") or _people(msg, "return-path")
    if not senders:
        raise ParseError("no sender")
    date = _date(msg)
    if date is None:
        if fallback_date is None:
            raise ParseError("no date")
        date = fallback_date if fallback_date.tzinfo else fallback_date.replace(tzinfo=UTC)

    headers: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value = _first_text(msg, name)
        if value is not None:
            headers[name] = value
    in_reply_to = _msg_ids(msg, "in-reply-to")
    invitations, problems = _invitations(msg, date)
    return Message(
        id=id,
        folder=folder,
        message_id=_message_id(msg, data),
        subject=_first_text(msg, "subject") or "",
        sender=senders[0],
        date=date,
        to=tuple(_people(msg, "to")),
        cc=tuple(_people(msg, "cc")),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=tuple(_msg_ids(msg, "references")),
        thread_id="",
        snippet=_snippet(msg),
        headers=headers,
        invitations=invitations,
        invitation_problems=problems,
    )


# --- render ----------------------------------------------------------------------------------

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LOCAL_PART = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_MSG_ID = re.compile(rf"<[.{_ATEXT}]+@(?:[.{_ATEXT}]+|\[[!-Z^-~]*\])>")
_MSG_ID_MAX = 500
_KEY = re.compile(r"[A-Za-z0-9._:/+=-]{1,200}")
_ATOM_PHRASE = re.compile(rf"[{_ATEXT}]+(?: [{_ATEXT}]+)*")
_FIELD_NAME = re.compile(rb"[!-9;-~]+")
_HEADER_LINE_JUNK = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f-\xff]")

_LINE = 78
"""RFC 5322 section 2.1.1: lines SHOULD stay within 78 characters, MUST within 998."""
_WORD_BYTES = 45
"""UTF-8 bytes per encoded word: "=?utf-8?b?" + 60 base64 characters + "?=" is 72 octets
(RFC 2047 section 2 allows 75), so a folded line stays within 78."""
_LONGEST_PLAIN = 70
"""Longer plain words or quoted names are encoded instead, so that they can be folded."""


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 B-encoded words for `text`, split between characters. Every character, spaces
    included, is inside a word, so nothing is lost when a reader drops the white space between
    adjacent encoded words (RFC 2047 section 6.2)."""
    chunks: list[bytes] = []
    chunk = b""
    for char in text:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > _WORD_BYTES:
            chunks.append(chunk)
            chunk = b""
        chunk += encoded
    chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks]


def _fold_words(name: str, words: list[str], linesep: str) -> str:
    """`Name: word word ...`, breaking the line before a word that would pass 78 octets."""
    lines: list[str] = []
    line = f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > _LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {word}"
    lines.append(line)
    return linesep.join(lines) + linesep


def _unstructured_words(text: str) -> list[str]:
    """Plain ASCII stays readable and folds at its spaces; anything else is encoded whole."""
    words = text.split(" ")
    if text.isascii() and max(map(len, words)) <= _LONGEST_PLAIN:
        return words
    return _encoded_words(text)


def _mailbox_words(address: Address) -> list[str]:
    """One mailbox: a plain or quoted ASCII name, or an encoded name, then the angle-addr."""
    spec = f"{address.username}@{address.domain}"
    name = address.display_name
    if not name:
        return [spec]
    if name.isascii():
        if _ATOM_PHRASE.fullmatch(name):
            phrase = name
        else:
            phrase = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if len(phrase) <= _LONGEST_PLAIN:
            return [phrase, f"<{spec}>"]
    return [*_encoded_words(name), f"<{spec}>"]


class _DraftPolicy(email.policy.EmailPolicy):
    """`email.policy.SMTP` (CRLF line ends) with our own folding for the headers that carry
    untrusted or threading values. Python 3.11's folder, which this replaces for them:

    - writes a CR/LF decoded from an encoded word out raw (CVE-2024-6923, before 3.11.10);
    - drops the space between two words when it splits them into encoded words;
    - can encode the comma between two addresses, merging them into one mailbox;
    - turns an In-Reply-To or References line over 78 characters into encoded words, which no
      client reads as msg-ids, so threading breaks.

    Other headers (Date, MIME-Version, Content-*) hold trusted values and fold as usual."""

    def _draft_fold(self, name: str, value: Any) -> str | None:
        lowered = name.lower()
        if lowered in {"message-id", "in-reply-to", "references", "x-mailagent-key"}:
            # validated by render_draft: printable ASCII tokens, each well under 998 octets
            return _fold_words(name, str(value).split(), self.linesep)
        if lowered == "subject":
            return _fold_words(name, _unstructured_words(str(value)), self.linesep)
        if lowered in {"from", "to"}:
            mailboxes = [_mailbox_words(address) for address in value.addresses]
            for words in mailboxes[:-1]:
                words[-1] += ","
            return _fold_words(name, [word for words in mailboxes for word in words], self.linesep)
        return None

    def fold(self, name: str, value: Any) -> str:
        folded = self._draft_fold(name, value)
        return super().fold(name, value) if folded is None else folded

    def fold_binary(self, name: str, value: Any) -> bytes:
        folded = self._draft_fold(name, value)
        return super().fold_binary(name, value) if folded is None else folded.encode("ascii")


_POLICY = _DraftPolicy(linesep="\r\n")


def _header_safe(value: str) -> str:
    """Untrusted text for a header: sanitised, and with "=?" written as "= ?" so that no
    reader (nor the stdlib, when it stores the value) decodes it as an RFC 2047 encoded word:
    "=?utf-8?q?=0D=0ABcc:_x?=" must stay text, not become a line break."""
    return sanitize_header_text(value).replace("=?", "= ?")


def _ascii_domain(domain: str) -> str:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError("address domain is not a valid internationalised name") from exc
    if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise ValueError("address domain is not a valid host name")
    return domain


def _address(person: Person, role: str) -> Address:
    """A validated, sanitised `Address`; ValueError unless the address is one plain addr-spec
    (ASCII dot-atom local part, host-name domain; no quotes, spaces, commas or brackets)."""
    address = sanitize_header_text(person.address)
    local, at, domain = address.rpartition("@")
    if not at or len(local) > 64 or not _LOCAL_PART.fullmatch(local) or "=?" in local:
        raise ValueError(f"{role} address is not a single plain addr-spec: {address[:80]!r}")
    domain = _ascii_domain(domain)
    if len(local) + 1 + len(domain) > 254:
        raise ValueError(f"{role} address is too long")
    return Address(display_name=_header_safe(person.name), username=local, domain=domain)


def _valid_msg_id(value: str) -> bool:
    # "=?" is atext, but the stdlib would decode "<=?utf-8?q?=0D=0A?=@x>" as an encoded word
    return len(value) <= _MSG_ID_MAX and "=?" not in value and _MSG_ID.fullmatch(value) is not None


def _check_rendered(data: bytes, expected: list[str]) -> None:
    """Defence in depth: the header section holds exactly the fields we wrote, and every line
    is 7-bit, free of control characters and at most 998 octets (RFC 5322 section 2.1.1)."""
    head, blank, body = data.partition(b"\r\n\r\n")
    names: list[str] = []
    for line in head.split(b"\r\n"):
        if not line or len(line) > 998 or _HEADER_LINE_JUNK.search(line):
            raise ValueError("rendered draft failed the header safety check")
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise ValueError("rendered draft failed the header safety check")
        names.append(name.decode("ascii").lower())
    if not blank or sorted(names) != sorted(expected):
        raise ValueError("rendered draft failed the header safety check")
    if any(len(line) > 998 for line in body.split(b"\r\n")):
        raise ValueError("rendered draft has a body line over 998 octets")


def draft_sender(content: DraftContent, own: Person) -> Person:
    """Who a draft is from: the account's own address, with the name the draft is signed
    with (`DraftContent.sender`: the config's `user_name` or the name learned from the
    mailbox), else the provider's own display name. The address is never the composer's:
    a draft is always from the account it is written in."""
    name = content.sender.name.strip() if content.sender is not None else ""
    return Person(name, own.address) if name else own


def render_draft(
    content: DraftContent, *, sender: Person, key: str, date: datetime, message_id: str
) -> bytes:
    """The draft as RFC 5322 bytes with CRLF line ends. `key` is checked (it is what
    `message_id` was derived from) but not written: no header of the draft names it.
    `sender` is the account's own identity; the From shows it with the name the composer
    signed with (`draft_sender`).

    Names and the subject are sanitised (`sanitize_header_text`; "=?" becomes "= ?", see
    `_header_safe`); references that are not well-formed msg-ids are dropped, and In-Reply-To
    is added as the last reference. Raises ValueError for an invalid address, key or message
    id, a naive date, or no recipients (the caller skips that draft)."""
    if not content.to:
        raise ValueError("draft has no recipients")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("draft date must be timezone-aware")
    clean_key = sanitize_header_text(key)
    if not _KEY.fullmatch(clean_key):
        raise ValueError("draft key must be 1-200 characters of [A-Za-z0-9._:/+=-]")
    if not _valid_msg_id(message_id):
        raise ValueError("draft Message-ID is not a well-formed msg-id")
    from_address = _address(draft_sender(content, sender), "sender")
    to_addresses = tuple(_address(person, "recipient") for person in content.to)

    in_reply_to = content.in_reply_to.strip()
    if not _valid_msg_id(in_reply_to):
        in_reply_to = ""
    references = [ref.strip() for ref in content.references if _valid_msg_id(ref.strip())]
    if in_reply_to and references[-1:] != [in_reply_to]:
        references.append(in_reply_to)

    msg = EmailMessage(policy=_POLICY)
    msg["From"] = from_address
    msg["To"] = to_addresses
    msg["Subject"] = _header_safe(content.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    msg["MIME-Version"] = "1.0"
    # No X-Mailagent-Key header: some clients send a draft's headers along to the recipient.
    # The key lives in the Message-ID the caller derived from it (`draft_message_id`).
    body = _SURROGATE.sub("\ufffd", content.body)
    # quoted-printable keeps every line short and the message 7-bit clean whatever the body
    msg.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    data = msg.as_bytes(policy=_POLICY)
    _check_rendered(data, [name.lower() for name in msg])
    return data


def header_lines(
    fields: Iterable[tuple[str, str]], *, skip: frozenset[str] = CONTENT_FIELDS
) -> list[str]:
    """Header fields as "Name: value" lines: values unfolded onto one line, names that are not
    field names (RFC 5322 section 3.6.8) and those in `skip` (lower case) dropped."""
    lines = []
    for raw_name, value in fields:
        name = str(raw_name).strip()
        if (
            name
            and name.lower() not in skip
            and _FIELD_NAME.fullmatch(name.encode("utf-8", "replace"))
        ):
            lines.append(f"{name}: {' '.join(str(value).split())}")
    return lines


def message_from_fields(
    fields: Iterable[tuple[str, str]],
    text: str,
    *,
    folder: Folder,
    id: str,
    thread_id: str = "",
    fallback_date: datetime | None = None,
) -> Message:
    """A `Message` from header fields and plain text that an API gives apart (Gmail's metadata,
    Graph's properties), read by the same parser as whole messages. The original Content-Type
    stays in `headers` (a delivery report is known by it) though the text is plain."""
    # the same bounds as `_bounded` applies to whole messages, before anything is joined
    pairs = [(str(n)[:200], str(v)[:MAX_FIELD_BYTES]) for n, v in islice(fields, MAX_FIELDS)]
    content_type = next(
        (
            " ".join(v[:MAX_CONTENT_FIELD_BYTES].split())
            for n, v in pairs
            if n.lower() == "content-type"
        ),
        "",
    )
    data = "\r\n".join(
        [*header_lines(pairs), "Content-Type: text/plain; charset=utf-8", "", text[:MAX_TEXT_CHARS]]
    ).encode()
    message = parse_message(data, folder=folder, id=id, fallback_date=fallback_date)
    headers = dict(message.headers)
    if content_type:
        headers["content-type"] = content_type
    else:
        headers.pop("content-type", None)
    return replace(message, thread_id=thread_id, headers=headers)


def draft_message_id(key: str, address: str) -> str:
    """The Message-ID of the agent's draft `key` in the mailbox of `address`: derived from the
    key, so that the draft is found again by it (after a lost answer, a crash or a lost state
    file) and `Message.agent_key` reads the key back from it. It is the only trace of the key
    a sent draft carries: an opaque hash, like any client's Message-ID."""
    return make_message_id(key, address.rpartition("@")[2] or "localhost", stable=True)


def make_message_id(key: str, domain: str, *, stable: bool = False) -> str:
    """A msg-id "<mailagent.{key}.{nonce}@{domain}>"; the key is reduced to characters a msg-id
    allows. The nonce is random, or with `stable` derived from the key, so that a provider
    that can search by Message-ID finds a draft whose creation a crash left unrecorded.
    Raises ValueError when `domain` is not a host name."""
    safe_key = re.sub(r"[^A-Za-z0-9_-]+", "-", sanitize_header_text(key)).strip("-")[:64]
    host = _ascii_domain(sanitize_header_text(domain).strip(".").lower())
    nonce = hashlib.sha256(key.encode()).hexdigest()[:16] if stable else secrets.token_hex(8)
    return f"<mailagent.{safe_key or 'draft'}.{nonce}@{host}>"
