"""Graph resources as the emulator shows them: a stored message as a `message` (the default
property set of https://learn.microsoft.com/graph/api/resources/message, narrowed by $select,
with expanded single-value extended properties and the body in the format `Prefer:
outlook.body-content-type` asks for), a stored event as an `event` in the zone `Prefer:
outlook.timezone` names, a mail folder, and the `@removed` entries of a delta round."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from providers.emulators.graph_calendar import StoredEvent
from providers.emulators.graph_mime import Address, as_type, preview
from providers.emulators.graph_query import Expand
from providers.emulators.graph_store import WELL_KNOWN, Mailbox, StoredMessage
from providers.emulators.graph_time import date_time_zone, iso_seconds

MESSAGE_SELECTABLE = frozenset(
    {
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "categories",
        "receivedDateTime",
        "sentDateTime",
        "hasAttachments",
        "internetMessageId",
        "internetMessageHeaders",
        "subject",
        "body",
        "uniqueBody",
        "bodyPreview",
        "importance",
        "parentFolderId",
        "conversationId",
        "conversationIndex",
        "isDeliveryReceiptRequested",
        "isReadReceiptRequested",
        "isRead",
        "isDraft",
        "webLink",
        "inferenceClassification",
        "sender",
        "from",
        "toRecipients",
        "ccRecipients",
        "bccRecipients",
        "replyTo",
        "flag",
    }
)
"""Structural properties of `message` ($select takes these; navigation properties such as
singleValueExtendedProperties come through $expand)."""
EXTRA_ON_SELECT = frozenset({"internetMessageHeaders", "uniqueBody"})
"""Properties Graph returns only when $select names them."""
FOLDER_SELECTABLE = frozenset(
    {
        "id",
        "displayName",
        "parentFolderId",
        "childFolderCount",
        "unreadItemCount",
        "totalItemCount",
        "isHidden",
    }
)


def recipient(address: Address) -> dict[str, Any]:
    """Exchange names an unresolved recipient by its address."""
    name, addr = address
    return {"emailAddress": {"name": name or addr, "address": addr}}


def change_key(item_id: str, version: int) -> str:
    digest = hashlib.sha1(f"{item_id}/{version}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(b"\x09\x00\x00\x00\x16\x00\x00\x00" + digest[:10]).decode()


def message_resource(
    message: StoredMessage,
    mailbox: Mailbox,
    *,
    select: tuple[str, ...] | None = None,
    expand: Expand | None = None,
    body_type: str | None = None,
) -> dict[str, Any]:
    """The message as Graph shows it: every default property, or `@odata.etag`, `id` and the
    `select`ed ones; `expand` adds the extended properties it names (none: no key)."""
    key = change_key(message.id, message.version)
    kind, content = as_type(message.body_type, message.body, body_type)
    full: dict[str, Any] = {
        "@odata.etag": f'W/"{key}"',
        "id": message.id,
        "createdDateTime": iso_seconds(message.created),
        "lastModifiedDateTime": iso_seconds(message.modified),
        "changeKey": key,
        "categories": list(message.categories),
        "receivedDateTime": iso_seconds(message.received),
        "sentDateTime": iso_seconds(message.sent or message.created),
        "hasAttachments": message.has_attachments,
        "internetMessageId": message.internet_message_id,
        "subject": message.subject,
        "bodyPreview": preview(message.body_type, message.body),
        "importance": message.importance,
        "parentFolderId": mailbox.folder_ids[message.folder],
        "conversationId": message.conversation_id,
        "conversationIndex": base64.b64encode(message.conversation_index).decode(),
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": message.is_read,
        "isDraft": message.is_draft,
        "webLink": "https://outlook.office365.com/owa/?ItemID="
        + quote(message.id, safe="")
        + "&exvsurl=1&viewmodel=ReadMessageItem",
        "inferenceClassification": "focused",
        "body": {"contentType": kind, "content": content},
    }
    if message.sender is not None:
        full["sender"] = recipient(message.sender)
        full["from"] = recipient(message.sender)
    full["toRecipients"] = [recipient(a) for a in message.to]
    full["ccRecipients"] = [recipient(a) for a in message.cc]
    full["bccRecipients"] = [recipient(a) for a in message.bcc]
    full["replyTo"] = [recipient(a) for a in message.reply_to]
    full["flag"] = {"flagStatus": "notFlagged"}
    if message.meeting:  # an eventMessage: a derived type is annotated in any collection
        request = message.meeting == "meetingRequest"
        full["@odata.type"] = "#microsoft.graph.eventMessage" + ("Request" if request else "")
        full["meetingMessageType"] = message.meeting
    if select is None:
        shown = full
    else:
        extra = {
            "internetMessageHeaders": [{"name": n, "value": v} for n, v in message.headers],
            "uniqueBody": full["body"],
        }
        shown = {"@odata.etag": full["@odata.etag"], "id": message.id}
        if "@odata.type" in full:
            shown["@odata.type"] = full["@odata.type"]
        for name in select:
            if name in extra:
                shown[name] = extra[name]
            elif name in full:
                shown[name] = full[name]
    if expand is not None:
        props = [
            {"id": prop, "value": value}
            for prop, value in message.properties.items()
            if expand.ids is None or prop in expand.ids
        ]
        if props:
            shown["singleValueExtendedProperties"] = props
    return shown


def folder_resource(mailbox: Mailbox, name: str) -> dict[str, Any]:
    messages = mailbox.in_folder(name)
    parent = "msgfolderroot" if name != "msgfolderroot" else name
    return {
        "id": mailbox.folder_ids[name],
        "displayName": WELL_KNOWN[name],
        "parentFolderId": mailbox.folder_ids[parent],
        "childFolderCount": 0 if name != "msgfolderroot" else len(WELL_KNOWN) - 1,
        "unreadItemCount": sum(not m.is_read for m in messages),
        "totalItemCount": len(messages),
        "isHidden": False,
    }


def event_resource(
    event: StoredEvent, *, zone_name: str, zone: ZoneInfo, body_type: str | None = None
) -> dict[str, Any]:
    """The stored event with start and end in `zone` (named `zone_name`, as the Prefer header
    named it) and its body in the asked format."""
    shown = copy.deepcopy(event.resource)
    shown = {"@odata.etag": f'W/"{shown["changeKey"]}"', **shown}
    shown["start"] = date_time_zone(event.start, zone_name, zone, all_day=event.all_day)
    shown["end"] = date_time_zone(event.end, zone_name, zone, all_day=event.all_day)
    body = shown.get("body") or {"contentType": "html", "content": ""}
    kind, content = as_type(body.get("contentType", "html"), body.get("content", ""), body_type)
    shown["body"] = {"contentType": kind, "content": content}
    return shown


def removed(kind: str, item_id: str) -> dict[str, Any]:
    """A delta entry for an item that left the collection."""
    return {
        "@odata.type": f"#microsoft.graph.{kind}",
        "id": item_id,
        "@removed": {"reason": "deleted"},
    }
