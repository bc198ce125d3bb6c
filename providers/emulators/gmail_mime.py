"""Raw RFC 5322 messages as the Gmail emulator reads and edits them, with no mailbox involved:
header lines and their RFC 2047 values, the body text and the snippet Gmail shows, the `Facts`
the mailbox indexes and threads a message by (`read_facts`), and the two edits a mail client
makes (`replace_header`, `append_text`), which leave every other byte as it was."""

from __future__ import annotations

import binascii
import email
import email.policy
import email.utils
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from functools import lru_cache

_SNIPPET_CHARS = 200
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
    filenames: tuple[str, ...] = ()

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
        filenames=attachment_names(raw) if attachment else (),
    )


def attachment_names(raw: bytes) -> tuple[str, ...]:
    """The file names of a message's parts, lower-cased (what `filename:` searches)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        names = (part.get_filename() for part in message.walk() if not part.is_multipart())
        return tuple(name.lower() for name in names if name)
    except Exception:  # hostile MIME: no names rather than a failed delivery
        return ()


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
