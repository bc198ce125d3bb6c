"""Gmail v1 JSON resources rendered from the emulator's stored mailbox: a Message in each
`format` (minimal, raw, metadata, or full with its MIME part tree and attachment ids), the
brief {id, threadId} form that list answers carry, and a History record."""

from __future__ import annotations

from email.message import Message as MimePart
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

from providers.emulators.gmail_mailbox import HistoryRecord, StoredMessage
from providers.emulators.gmail_mime import body_text, decode_value, raw_headers, snippet
from providers.emulators.google_base64 import b64url


def _labels(message: StoredMessage) -> list[str]:
    return sorted(message.labels)


def message_resource(
    message: StoredMessage, fmt: str, metadata_headers: list[str] | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {"id": message.id, "threadId": message.thread_id}
    if message.labels:
        resource["labelIds"] = _labels(message)
    text, _ = body_text(message.raw)
    resource["snippet"] = snippet(text)
    resource["sizeEstimate"] = len(message.raw)
    resource["historyId"] = str(message.history_id)
    resource["internalDate"] = str(message.internal_ms)
    if fmt == "raw":
        resource["raw"] = b64url(message.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers or []}
        headers = [
            {"name": n, "value": decode_value(v)}
            for n, v in raw_headers(message.raw)
            if not wanted or n.lower() in wanted
        ]
        ctype = next((v for n, v in raw_headers(message.raw) if n.lower() == "content-type"), "")
        mime = ctype.split(";")[0].strip().lower() or "text/plain"
        resource["payload"] = {"mimeType": mime, "headers": headers}
    elif fmt == "full":
        parsed = BytesParser(policy=compat32).parsebytes(message.raw)
        resource["payload"] = _payload(parsed, "", message)
    return resource


def _payload(part: MimePart, part_id: str, message: StoredMessage) -> dict[str, Any]:
    if part_id == "":
        headers = [{"name": n, "value": decode_value(v)} for n, v in raw_headers(message.raw)]
    else:
        headers = [
            {"name": n, "value": decode_value(" ".join(str(v).split()))} for n, v in part.items()
        ]
    filename = part.get_filename() or ""
    result: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": filename,
        "headers": headers,
    }
    if part.is_multipart():
        result["body"] = {"size": 0}
        children = part.get_payload()
        result["parts"] = [
            _payload(child, f"{part_id}.{i}" if part_id else str(i), message)
            for i, child in enumerate(children if isinstance(children, list) else [])
        ]
        return result
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    if filename:
        result["body"] = {"attachmentId": _attachment_id(message, part_id), "size": len(data)}
    elif data:
        result["body"] = {"size": len(data), "data": b64url(data)}
    else:
        result["body"] = {"size": 0}
    return result


def _attachment_id(message: StoredMessage, part_id: str) -> str:
    return "ANGjdJ" + b64url(f"{message.id}/{part_id}".encode()).rstrip("=")


def attachment_body(message: StoredMessage, attachment_id: str) -> dict[str, Any] | None:
    """messages.attachments.get: the MessagePartBody of the attachment `attachment_id` names
    (an id `format=full` gave for this message), or None."""
    pending: list[tuple[MimePart, str]] = [
        (BytesParser(policy=compat32).parsebytes(message.raw), "")
    ]
    while pending:
        part, part_id = pending.pop()
        if part.is_multipart():
            children = part.get_payload()
            pending.extend(
                (child, f"{part_id}.{i}" if part_id else str(i))
                for i, child in enumerate(children if isinstance(children, list) else [])
            )
        elif part.get_filename() and _attachment_id(message, part_id) == attachment_id:
            data = part.get_payload(decode=True)
            data = data if isinstance(data, bytes) else b""
            return {"attachmentId": attachment_id, "size": len(data), "data": b64url(data)}
    return None


def message_brief(message: StoredMessage, labels: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"id": message.id, "threadId": message.thread_id}
    if labels and message.labels:
        found["labelIds"] = _labels(message)
    return found


def history_resource(record: HistoryRecord) -> dict[str, Any]:
    brief = {"id": record.message_id, "threadId": record.thread_id}
    full = {**brief, "labelIds": list(record.labels)} if record.labels else dict(brief)
    entry: dict[str, Any] = {"id": str(record.id), "messages": [brief]}
    if record.kind == "messageAdded":
        entry["messagesAdded"] = [{"message": full}]
    elif record.kind == "messageDeleted":
        entry["messagesDeleted"] = [{"message": full}]
    else:
        key = "labelsAdded" if record.kind == "labelAdded" else "labelsRemoved"
        entry[key] = [{"message": full, "labelIds": list(record.changed)}]
    return entry
