"""Writing messages through the Graph emulator: `apply_fields` checks the JSON of a create,
an update or a createReply `message` against the writable properties of `message` and applies
it (recipients, body, subject, extended properties, custom x- headers...), refusing what Graph
refuses: unknown properties, malformed values, and changes to the body, subject or recipients
of a message that is not a draft (https://learn.microsoft.com/graph/api/message-update)."""

from __future__ import annotations

from typing import Any

from providers.emulators.graph_errors import GraphError, bad_request
from providers.emulators.graph_mime import Address, wrap_html
from providers.emulators.graph_query import prop_id
from providers.emulators.graph_store import StoredMessage

_RECIPIENT_LISTS = {
    "toRecipients": "to",
    "ccRecipients": "cc",
    "bccRecipients": "bcc",
    "replyTo": "reply_to",
}
DRAFT_ONLY = frozenset(
    {"subject", "body", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "from"}
    | {"sender", "internetMessageHeaders"}
)
WRITABLE = DRAFT_ONLY | frozenset(
    {
        "importance",
        "isRead",
        "categories",
        "singleValueExtendedProperties",
        "flag",
        "inferenceClassification",
        "isDeliveryReceiptRequested",
        "isReadReceiptRequested",
    }
)
READ_ONLY = frozenset(
    {
        "@odata.type",
        "@odata.etag",
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "receivedDateTime",
        "sentDateTime",
        "hasAttachments",
        "internetMessageId",
        "bodyPreview",
        "parentFolderId",
        "conversationId",
        "conversationIndex",
        "isDraft",
        "webLink",
        "uniqueBody",
    }
)
"""Properties a request may carry but cannot set: Graph ignores them."""


def _invalid(message: str) -> GraphError:
    return bad_request(message, "RequestBodyRead")


def _recipient(value: Any) -> Address:
    address = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(address, dict) or not isinstance(address.get("address"), str):
        raise _invalid('A recipient must be {"emailAddress": {"address": ...}}.')
    name = address.get("name") or ""
    if not isinstance(name, str):
        raise _invalid("emailAddress.name must be a string.")
    text = address["address"].strip()
    if "@" not in text:
        raise GraphError(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid., Recipient is not resolved.",
        )
    return (name, text)


def recipients(value: Any, name: str) -> list[Address]:
    if not isinstance(value, list):
        raise _invalid(f"'{name}' must be an array of recipients.")
    return [_recipient(v) for v in value]


def body_of(value: Any) -> tuple[str, str]:
    """(contentType, content) of an itemBody; HTML is stored as Exchange stores it."""
    if not isinstance(value, dict):
        raise _invalid("'body' must be an itemBody object.")
    kind = str(value.get("contentType", "text")).lower()
    content = value.get("content", "")
    if kind not in {"text", "html"} or not isinstance(content, str):
        raise _invalid("'body' needs contentType text or html and string content.")
    if kind == "html" and "<html" not in content.lower():
        content = wrap_html(content)
    return kind, content


def properties_of(value: Any) -> dict[str, str]:
    if not isinstance(value, list):
        raise _invalid("'singleValueExtendedProperties' must be an array.")
    found: dict[str, str] = {}
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise _invalid("An extended property needs an 'id'.")
        if not isinstance(item.get("value"), str):
            raise _invalid("An extended property needs a string 'value'.")
        found[prop_id(item["id"])] = item["value"]
    return found


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    """internetMessageHeaders on create: custom x- headers only (message resource)."""
    if not isinstance(value, list):
        raise _invalid("'internetMessageHeaders' must be an array.")
    found = []
    for item in value:
        if not isinstance(item, dict):
            raise _invalid("An internet message header is {name, value}.")
        name, text = item.get("name"), item.get("value")
        if not isinstance(name, str) or not isinstance(text, str):
            raise _invalid("An internet message header is {name, value}.")
        if not name.lower().startswith("x-"):
            raise GraphError(
                400,
                "InvalidInternetMessageHeader",
                f"The internet message header name '{name}' should start with 'x-' or 'X-'.",
            )
        found.append((name, text))
    return tuple(found)


def apply_fields(message: StoredMessage, fields: dict[str, Any], *, creating: bool) -> None:
    """Set `fields` on `message`; 400 for unknown or malformed properties and for draft-only
    properties of a message that is not a draft."""
    for name in fields:
        if name in READ_ONLY:
            continue
        if name not in WRITABLE:
            raise _invalid(
                f"The property '{name}' does not exist on type 'Microsoft.OutlookServices."
                "Message'. Make sure to only use property names that are defined by the type "
                "or mark the type as open type."
            )
        if name in DRAFT_ONLY and not message.is_draft:
            raise GraphError(
                400,
                "ErrorInvalidPropertyUpdateSentMessage",
                "Update operation is not supported for this property on a sent message.",
            )
        if name == "internetMessageHeaders" and not creating:
            raise bad_request(
                "internetMessageHeaders can only be set when the message is created.",
                "ErrorInvalidProperty",
            )
    updates: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _RECIPIENT_LISTS:
            updates[_RECIPIENT_LISTS[name]] = recipients(value, name)
        elif name == "subject":
            if not isinstance(value, str):
                raise _invalid("'subject' must be a string.")
            updates["subject"] = value
        elif name == "body":
            updates["body_type"], updates["body"] = body_of(value)
        elif name in {"from", "sender"}:
            updates["sender"] = _recipient(value)
        elif name == "importance":
            if str(value).lower() not in {"low", "normal", "high"}:
                raise _invalid(f"Invalid importance '{value}'.")
            updates["importance"] = str(value).lower()
        elif name == "isRead":
            if not isinstance(value, bool):
                raise _invalid("'isRead' must be a boolean.")
            updates["is_read"] = value
        elif name == "categories":
            if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                raise _invalid("'categories' must be an array of strings.")
            updates["categories"] = list(value)
        elif name == "singleValueExtendedProperties":
            updates["properties"] = {**message.properties, **properties_of(value)}
        elif name == "internetMessageHeaders":
            updates["headers"] = message.headers + _headers(value)
    # Only once every value is known good: a refused update changes nothing.
    for attribute, value in updates.items():
        setattr(message, attribute, value)
