"""Raw RFC 5322 mail as Exchange stores it, with no mailbox involved: `parse_mail` reads the
fields a Graph message shows (sender, recipients, subject, the body in its own format, the
Message-ID and threading ids, the Date, every header as `internetMessageHeaders` lists it),
and the body helpers convert between text and HTML the way `Prefer:
outlook.body-content-type` asks (https://learn.microsoft.com/graph/api/resources/message,
"body" and "bodyPreview")."""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from providers.emulators.gmail_mime import body_text, decode_value, raw_headers

Address = tuple[str, str]
"""(display name, address)."""

PREVIEW_CHARS = 255
"""bodyPreview: "The first 255 characters of the message body" (message resource)."""

_MSG_ID = re.compile(r"<[^<>\s]+>")
_DROP = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</(p|div|tr|li|h\d)\s*>|<hr\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")  # a tag never holds "<": linear on "<a <a <a ..."
_BLANKS = re.compile(r"\n[ \t]*(\n[ \t]*)+")


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    body_type: str
    """"text" or "html"."""
    body: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    message_id: str
    """As in the header, with its angle brackets ("" when there is none)."""
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    has_attachments: bool


def addresses(values: Sequence[str]) -> tuple[Address, ...]:
    pairs = email.utils.getaddresses([decode_value(v) for v in values])
    return tuple((name, addr) for name, addr in pairs if "@" in addr)


def _body(raw: bytes, headers: Sequence[tuple[str, str]]) -> tuple[str, str, bool]:
    """(contentType, content, has attachments): HTML when the message has an HTML part,
    as Exchange keeps it; the text part otherwise."""
    ctype = next((v for n, v in headers if n.lower() == "content-type"), "text/plain").lower()
    if ctype.split(";")[0].strip() == "text/plain":
        text, attached = body_text(raw, headers)
        return "text", text, attached
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # hostile MIME: an empty body rather than a failed delivery
        return "text", "", False
    plain: str | None = None
    rich: str | None = None
    attached = False
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            attached = True
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        text = data.decode(part.get_content_charset() or "utf-8", "replace")
        if part.get_content_type() == "text/html" and rich is None:
            rich = text
        elif part.get_content_type() == "text/plain" and plain is None:
            plain = text
    if rich is not None:
        return "html", rich, attached
    return "text", plain or "", attached


_MEETING_TYPES = {"REQUEST": "meetingRequest", "CANCEL": "meetingCancelled"}


def meeting_message_type(raw: bytes) -> str:
    """What Exchange makes of an iMIP message (RFC 6047: a `text/calendar` part with a METHOD):
    a meeting request or cancellation, shown as an `eventMessage` with this
    `meetingMessageType` (https://learn.microsoft.com/graph/api/resources/eventmessage); ""
    for other mail, including a plain `.ics` attachment, which stays a file attachment."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() != "text/calendar" or part.get_filename():
                continue
            method = str(part.get_param("method") or "").upper()
            if method in _MEETING_TYPES:
                return _MEETING_TYPES[method]
    except Exception:  # hostile MIME: an ordinary message
        return ""
    return ""


def parse_mail(raw: bytes) -> Mail:
    headers = raw_headers(raw)
    named: dict[str, list[str]] = {}
    for name, value in headers:
        named.setdefault(name.lower(), []).append(value)

    def first(name: str) -> str:
        return named.get(name, [""])[0]

    date: datetime | None = None
    if first("date"):
        try:
            date = email.utils.parsedate_to_datetime(first("date"))
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    found = _MSG_ID.findall(first("message-id"))
    body_type, body, attached = _body(raw, headers)
    senders = addresses(named.get("from", [])) or addresses(named.get("sender", []))
    return Mail(
        subject=decode_value(first("subject")),
        body_type=body_type,
        body=body,
        sender=senders[0] if senders else None,
        to=addresses(named.get("to", [])),
        cc=addresses(named.get("cc", [])),
        bcc=addresses(named.get("bcc", [])),
        reply_to=addresses(named.get("reply-to", [])),
        message_id=found[0] if found else "",
        in_reply_to=tuple(_MSG_ID.findall(first("in-reply-to"))),
        references=tuple(_MSG_ID.findall(" ".join(named.get("references", [])))),
        date=date,
        headers=tuple(headers),
        has_attachments=attached,
    )


def html_to_text(content: str) -> str:
    """What Exchange gives for an HTML body under `outlook.body-content-type="text"`: tags
    dropped, line breaks where blocks end, entities decoded."""
    text = _BREAK.sub("\n", _DROP.sub("", content))
    text = html.unescape(_TAG.sub("", text)).replace("\xa0", " ").replace("\r\n", "\n")
    return _BLANKS.sub("\n\n", text).strip() + "\n" if text.strip() else ""


def text_to_html(content: str) -> str:
    """A text body as Exchange turns it into HTML."""
    lines = html.escape(content.replace("\r\n", "\n")).split("\n")
    return wrap_html("<div>" + "<br>\r\n".join(lines) + "</div>")


def wrap_html(fragment: str) -> str:
    """The document Exchange stores around an HTML body it is given."""
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; '
        'charset=utf-8">\r\n</head>\r\n<body>\r\n' + fragment + "\r\n</body>\r\n</html>\r\n"
    )


def as_type(body_type: str, content: str, wanted: str | None) -> tuple[str, str]:
    """The body in the format a Prefer header asks for (None: as stored)."""
    if wanted is None or wanted == body_type:
        return body_type, content
    if wanted == "text":
        return "text", html_to_text(content)
    return "html", text_to_html(content)


def preview(body_type: str, content: str) -> str:
    text = html_to_text(content) if body_type == "html" else content
    return " ".join(text.split())[:PREVIEW_CHARS]
