"""The Gmail v1 method handlers of the emulator (getProfile, messages.list and get, threads.get,
history.list, drafts.create, get, list, update and delete), in `GMAIL_HANDLERS` by discovery
method id: each checks its request as Gmail does, reads or changes the mailbox, and returns the
JSON answer; a draft joins a thread only where Gmail would let it (`add_draft_message`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from providers.emulators.gmail_mailbox import StoredMessage
from providers.emulators.gmail_mime import read_facts
from providers.emulators.gmail_resources import (
    attachment_body,
    history_resource,
    message_brief,
    message_resource,
)
from providers.emulators.google_base64 import b64decode_any, b64url
from providers.emulators.google_call import Call, Handler, Reply
from providers.emulators.google_errors import ApiError, bad_request, not_found

if TYPE_CHECKING:
    from providers.emulators.google_backend import Backend


def _page_token(offset: int) -> str:
    return b64url(f"p{offset}".encode()).rstrip("=")


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = b64decode_any(token).decode()
        if text.startswith("p") and text[1:].isdigit():
            return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise bad_request("Invalid pageToken", "invalidArgument")


def _check_user(call: Call) -> None:
    user = call.path.get("userId", "me")
    if user != "me" and user.lower() != call.backend.user_address:
        raise ApiError(
            403, f"Delegation denied for {user}", "forbidden", status="PERMISSION_DENIED"
        )


def _format(call: Call, allowed: tuple[str, ...]) -> str:
    value = (call.one("format") or "full").lower()
    if value not in allowed:
        raise bad_request(f"Invalid value '{value}' for parameter format")
    return value


def _message(call: Call, message_id: str) -> StoredMessage:
    if not message_id or any(c not in "0123456789abcdef" for c in message_id.lower()):
        raise bad_request("Invalid id value", "invalidArgument")
    message = call.mailbox.messages.get(message_id.lower())
    if message is None:
        raise not_found()
    return message


def get_profile(call: Call) -> Reply:
    _check_user(call)
    box = call.mailbox
    return Reply(
        200,
        {
            "emailAddress": call.backend.user_address,
            "messagesTotal": len(box.messages),
            "threadsTotal": len(box.threads),
            "historyId": str(box.history_id),
        },
    )


def _listing(call: Call, ids: list[str], key: str, render: Callable[[str], Any]) -> Reply:
    size = call.integer("maxResults", 100, 500)
    offset = _page_offset(call.one("pageToken"))
    page = ids[offset : offset + size]
    body: dict[str, Any] = {}
    if page:
        body[key] = [render(i) for i in page]
    if offset + size < len(ids):
        body["nextPageToken"] = _page_token(offset + size)
    body["resultSizeEstimate"] = len(ids)
    return Reply(200, body)


def messages_list(call: Call) -> Reply:
    _check_user(call)
    ids = call.mailbox.search(
        call.one("q"),
        call.many("labelIds"),
        bool(call.boolean("includeSpamTrash")),
        call.context(),
    )
    box = call.mailbox
    return _listing(call, ids, "messages", lambda i: message_brief(box.messages[i]))


def messages_get(call: Call) -> Reply:
    _check_user(call)
    message = _message(call, call.path["id"])
    fmt = _format(call, ("minimal", "full", "raw", "metadata"))
    return Reply(200, message_resource(message, fmt, call.many("metadataHeaders")))


def attachments_get(call: Call) -> Reply:
    _check_user(call)
    message = _message(call, call.path["messageId"])
    body = attachment_body(message, call.path["id"])
    if body is None:
        raise not_found()
    return Reply(200, body)


def threads_get(call: Call) -> Reply:
    _check_user(call)
    thread_id = call.path["id"].lower()
    fmt = _format(call, ("minimal", "full", "metadata"))
    messages = call.mailbox.thread_messages(thread_id)
    if not messages:
        _message(call, thread_id)  # 400 for a malformed id, else 404
        raise not_found()
    headers = call.many("metadataHeaders")
    return Reply(
        200,
        {
            "id": thread_id,
            "historyId": str(max(m.history_id for m in messages)),
            "messages": [message_resource(m, fmt, headers) for m in messages],
        },
    )


_HISTORY_TYPES = {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}


def history_list(call: Call) -> Reply:
    _check_user(call)
    box = call.mailbox
    start_text = call.one("startHistoryId")
    if not start_text:
        raise bad_request("Missing required parameter: startHistoryId", "invalidArgument")
    if not start_text.isdigit():
        raise bad_request(f"Invalid startHistoryId: {start_text}", "invalidArgument")
    start = int(start_text)
    if start < box.history_floor:
        raise not_found()
    types = set(call.many("historyTypes"))
    if types - _HISTORY_TYPES:
        raise bad_request(f"Invalid value for historyTypes: {sorted(types - _HISTORY_TYPES)[0]}")
    label = call.one("labelId")
    size = call.integer("maxResults", 100, 500)
    after = max(start, _page_offset(call.one("pageToken")))
    records: list[dict[str, Any]] = []
    more = False
    for record in box.history_since(after):
        if types and record.kind not in types:
            continue
        if label and label not in record.labels and label not in record.changed:
            continue
        if len(records) == size:
            more = True
            break
        records.append(history_resource(record))
    body: dict[str, Any] = {}
    if records:
        body["history"] = records
    if more:
        body["nextPageToken"] = _page_token(int(records[-1]["id"]))
    body["historyId"] = str(box.history_id)
    return Reply(200, body)


def _draft_message(call: Call) -> tuple[bytes, str | None]:
    body = call.json_body()
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("raw"), str):
        raise bad_request("Missing draft message", "invalidArgument")
    try:
        raw = b64decode_any(message["raw"])
    except ValueError:
        raise bad_request(
            "Invalid value at 'draft.message.raw' (TYPE_BYTES), Base64 decoding failed",
            "invalidArgument",
        ) from None
    if not raw.strip():
        raise bad_request("Missing draft message", "invalidArgument")
    thread = message.get("threadId")
    return raw, str(thread) if thread else None


def add_draft_message(backend: Backend, raw: bytes, thread_id: str | None) -> StoredMessage:
    """A draft joins `thread_id` only if that thread exists, the draft's In-Reply-To/References
    name one of its messages and the subject matches; otherwise it silently gets a new thread,
    as Gmail does (see the Message.threadId field in the discovery document)."""
    facts = read_facts(raw)
    box = backend.mailbox
    joined = None
    if thread_id and thread_id in box.threads:
        joined = box.find_thread(facts.subject, facts.refs, within=thread_id)
    stamp = facts.date or backend.now
    return box.add(
        raw,
        ["DRAFT"],
        int(stamp.timestamp() * 1000),
        facts=facts,
        thread_id=joined,
        auto_thread=False,
    )


def _draft_reply(draft_id: str, message: StoredMessage) -> dict[str, Any]:
    return {"id": draft_id, "message": message_brief(message, labels=True)}


def drafts_create(call: Call) -> Reply:
    _check_user(call)
    raw, thread_id = _draft_message(call)
    message = add_draft_message(call.backend, raw, thread_id)
    draft_id = call.mailbox.new_draft_id()
    call.mailbox.set_draft(draft_id, message.id)
    return Reply(200, _draft_reply(draft_id, message))


def _draft(call: Call) -> tuple[str, StoredMessage]:
    draft_id = call.path["id"]
    message_id = call.mailbox.drafts.get(draft_id)
    if message_id is None:
        raise not_found()
    return draft_id, call.mailbox.messages[message_id]


def drafts_get(call: Call) -> Reply:
    _check_user(call)
    draft_id, message = _draft(call)
    fmt = _format(call, ("minimal", "full", "raw", "metadata"))
    return Reply(200, {"id": draft_id, "message": message_resource(message, fmt)})


def drafts_list(call: Call) -> Reply:
    _check_user(call)
    box = call.mailbox
    ids = [
        i
        for i in box.search(
            call.one("q"), ["DRAFT"], bool(call.boolean("includeSpamTrash")), call.context()
        )
        if i in box.draft_by_message
    ]
    return _listing(
        call,
        ids,
        "drafts",
        lambda i: {"id": box.draft_by_message[i], "message": message_brief(box.messages[i])},
    )


def drafts_update(call: Call) -> Reply:
    _check_user(call)
    draft_id, old = _draft(call)
    raw, thread_id = _draft_message(call)
    message = add_draft_message(call.backend, raw, thread_id)
    call.mailbox.set_draft(draft_id, message.id)
    call.mailbox.delete(old.id)
    return Reply(200, _draft_reply(draft_id, message))


def drafts_delete(call: Call) -> Reply:
    _check_user(call)
    draft_id, message = _draft(call)
    call.mailbox.set_draft(draft_id, None)
    call.mailbox.delete(message.id)
    return Reply(204)


GMAIL_HANDLERS: dict[str, Handler] = {
    "gmail.users.getProfile": get_profile,
    "gmail.users.messages.list": messages_list,
    "gmail.users.messages.get": messages_get,
    "gmail.users.messages.attachments.get": attachments_get,
    "gmail.users.threads.get": threads_get,
    "gmail.users.history.list": history_list,
    "gmail.users.drafts.create": drafts_create,
    "gmail.users.drafts.get": drafts_get,
    "gmail.users.drafts.list": drafts_list,
    "gmail.users.drafts.update": drafts_update,
    "gmail.users.drafts.delete": drafts_delete,
}
