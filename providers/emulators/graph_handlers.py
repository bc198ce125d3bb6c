"""The message and mail-folder operations of the Graph emulator: create a draft, create a reply
draft, get, update, delete and list messages, get a folder. Each handler runs under the state
lock and answers as Outlook does (https://learn.microsoft.com/graph/api/user-post-messages,
.../message-createreply, .../message-get, .../message-update, .../message-delete,
.../mailfolder-list-messages); delta queries live in `graph_delta`."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from typing import Any
from urllib.parse import urlencode

from providers.emulators.google_call import Reply
from providers.emulators.graph_call import Call, Handler
from providers.emulators.graph_errors import GraphError, bad_request, item_not_found
from providers.emulators.graph_mime import Address, wrap_html
from providers.emulators.graph_query import (
    ReceivedSince,
    TaggedWith,
    parse_expand,
    parse_filter,
    parse_positive,
    parse_select,
)
from providers.emulators.graph_resources import (
    FOLDER_SELECTABLE,
    MESSAGE_SELECTABLE,
    folder_resource,
    message_resource,
)
from providers.emulators.graph_store import StoredMessage
from providers.emulators.graph_writes import apply_fields, body_of

DEFAULT_TOP = 10
MAX_TOP = 1000
_REPLY_PREFIX = re.compile(r"^\s*re\s*:\s*", re.IGNORECASE)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)
_MSG_ID = re.compile(r"<[^<>\s]+>")


def _message(call: Call) -> StoredMessage:
    found = call.backend.mailbox.get(call.path["id"])
    if found is None:
        raise item_not_found()
    if "folder" in call.path and call.backend.mailbox.folder(call.path["folder"]) != found.folder:
        raise item_not_found()
    return found


def _entity(call: Call, message: StoredMessage, status: int = 200) -> Reply:
    shown = message_resource(
        message,
        call.backend.mailbox,
        select=parse_select(call.option("$select"), MESSAGE_SELECTABLE, "Message"),
        expand=parse_expand(call.option("$expand")),
        body_type=call.body_type(),
    )
    context = call.users_context("messages/$entity")
    return call.reply(status, {"@odata.context": context, **shown})


def create_message(call: Call) -> Reply:
    backend = call.backend
    fields = call.json_body()
    folder = backend.mailbox.folder(call.path.get("folder", "drafts"))
    draft = backend.mailbox.new_draft(backend.now, folder)
    apply_fields(draft, fields, creating=True)
    backend.mailbox.insert(draft)
    return _entity(call, draft, 201)


def _who(address: Address) -> str:
    name, addr = address
    return html.escape(f"{name} <{addr}>" if name else addr)


def _quote(original: StoredMessage) -> str:
    """The header block and quoted body Outlook puts under a reply."""
    sent = (original.sent or original.received).strftime("%A, %B %d, %Y %I:%M %p")
    lines = [
        f"<b>From:</b> {_who(original.sender)}<br>" if original.sender else "",
        f"<b>Sent:</b> {sent}<br>",
        f"<b>To:</b> {'; '.join(_who(a) for a in original.to)}<br>",
        f"<b>Subject:</b> {html.escape(original.subject)}",
    ]
    if original.body_type == "html":
        inner = _BODY.search(original.body)
        quoted = inner.group(1).strip() if inner else original.body
    else:
        quoted = html.escape(original.body.replace("\r\n", "\n")).replace("\n", "<br>\r\n")
    return (
        '<div id="appendonsend"></div>\r\n<hr style="display:inline-block;width:98%" '
        'tabindex="-1">\r\n<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
        'style="font-size:11pt" color="#000000">'
        + "\r\n".join(line for line in lines if line)
        + "</font>\r\n<div>&nbsp;</div>\r\n</div>\r\n<div>"
        + quoted
        + "</div>"
    )


def _header(message: StoredMessage, name: str) -> str:
    return next((v for n, v in message.headers if n.lower() == name), "")


def create_reply(call: Call) -> Reply:
    """A reply draft in Drafts: same conversation, "RE: " subject, addressed to the sender (its
    Reply-To if any), or to the original's recipients when the user sent the original; the
    original stays as it was (isRead included)."""
    backend = call.backend
    mailbox = backend.mailbox
    original = _message(call)
    request = call.json_body(optional=True)
    unknown = set(request) - {"comment", "message"}
    if unknown:
        raise bad_request(f"Invalid parameter '{sorted(unknown)[0]}' for createReply.")
    comment = request.get("comment")
    fields = request.get("message") or {}
    if not isinstance(fields, dict) or (comment is not None and not isinstance(comment, str)):
        raise bad_request("'comment' must be a string and 'message' a message object.")
    if comment is not None and "body" in fields:
        raise bad_request(
            "Only one of the comment and message.body properties can be specified.",
            "ErrorInvalidRequest",
        )
    draft = mailbox.new_draft(backend.now)
    draft.conversation_id, draft.conversation_index = mailbox.reply_conversation(original)
    draft.sender = mailbox.user
    user = mailbox.user[1].lower()
    if original.sender is not None and original.sender[1].lower() == user:
        draft.to = list(original.to)
    else:
        draft.to = list(original.reply_to) or ([original.sender] if original.sender else [])
    draft.subject = "RE: " + _REPLY_PREFIX.sub("", original.subject, count=1)
    if original.internet_message_id:
        references = [*_MSG_ID.findall(_header(original, "references"))]
        references.append(original.internet_message_id)
        draft.headers = (
            ("In-Reply-To", original.internet_message_id),
            ("References", " ".join(dict.fromkeys(references))),
        )
    lead = html.escape(comment or "").replace("\n", "<br>\r\n")
    if "body" in fields:
        kind, content = body_of(fields["body"])
        inner = _BODY.search(content) if kind == "html" else None
        text = html.escape(content.replace("\r\n", "\n")).replace("\n", "<br>\r\n")
        lead = inner.group(1).strip() if inner else text
        fields = {k: v for k, v in fields.items() if k != "body"}
    draft.body_type = "html"
    draft.body = wrap_html(f"<div>{lead}</div>\r\n<br>\r\n" + _quote(original))
    apply_fields(draft, fields, creating=True)
    mailbox.insert(draft)
    return _entity(call, draft, 201)


def get_message(call: Call) -> Reply:
    return _entity(call, _message(call))


def message_value(call: Call) -> Reply:
    """`GET /me/messages/{id}/$value`: the message's MIME content
    (https://learn.microsoft.com/graph/outlook-get-mime-message). The emulator keeps what was
    delivered; a message made through the API is rendered from its fields."""
    message = _message(call)
    return Reply(200, raw=message.mime or _rendered(message))


def _rendered(message: StoredMessage) -> bytes:
    mime = EmailMessage(policy=SMTP)
    if message.sender is not None:
        mime["From"] = _mailbox(message.sender)
    if message.to:
        mime["To"] = ", ".join(_mailbox(a) for a in message.to)
    mime["Subject"] = message.subject
    if message.internet_message_id:
        mime["Message-ID"] = message.internet_message_id
    mime.set_content(message.body, subtype="html" if message.body_type == "html" else "plain")
    return bytes(mime)


def _mailbox(address: Address) -> str:
    return formataddr(address)


def update_message(call: Call) -> Reply:
    message = _message(call)
    apply_fields(message, call.json_body(), creating=False)
    call.backend.mailbox.touch(message, call.backend.now)
    return _entity(call, message)


def delete_message(call: Call) -> Reply:
    """To Deleted Items under a new id; from Deleted Items, gone."""
    backend = call.backend
    message = _message(call)
    if message.folder == "deleteditems":
        backend.mailbox.remove(message)
    else:
        backend.mailbox.move(message, "deleteditems", backend.now)
    return Reply(204)


def list_messages(call: Call) -> Reply:
    backend = call.backend
    mailbox = backend.mailbox
    folder = mailbox.folder(call.path["folder"]) if "folder" in call.path else None
    found = mailbox.in_folder(folder) if folder else list(mailbox.messages.values())
    wanted = parse_filter(call.option("$filter"), tagged=True)
    if isinstance(wanted, ReceivedSince):
        found = [m for m in found if wanted.admits(m.received)]
    elif isinstance(wanted, TaggedWith):
        found = [m for m in found if wanted.admits(m.properties)]
    order = " ".join((call.option("$orderby") or "receivedDateTime desc").split()).lower()
    if order not in {"receiveddatetime desc", "receiveddatetime asc", "receiveddatetime"}:
        raise bad_request("Only $orderby=receivedDateTime [asc|desc] is supported here.")
    found.sort(key=lambda m: (m.received, m.id), reverse=order.endswith("desc"))
    top = parse_positive(call.option("$top"), "$top", maximum=MAX_TOP) or DEFAULT_TOP
    skip = parse_positive(call.option("$skip"), "$skip", maximum=10**9) or 0
    select = parse_select(call.option("$select"), MESSAGE_SELECTABLE, "Message")
    expand = parse_expand(call.option("$expand"))
    body_type = call.body_type()
    page = found[skip : skip + top]
    where = f"mailFolders('{call.path['folder']}')/messages" if folder else "messages"
    body: dict[str, Any] = {"@odata.context": call.users_context(where)}
    body["value"] = [
        message_resource(m, mailbox, select=select, expand=expand, body_type=body_type)
        for m in page
    ]
    if skip + top < len(found):
        query = {k: v for k, v in call.query.items() if k != "$skip"}
        query["$skip"] = str(skip + top)
        path = f"me/mailFolders/{call.path['folder']}/messages" if folder else "me/messages"
        body["@odata.nextLink"] = f"{call.origin}/v1.0/{path}?{urlencode(query, safe='$')}"
    return call.reply(200, body)


def get_folder(call: Call) -> Reply:
    mailbox = call.backend.mailbox
    name = mailbox.folder(call.path["folder"])
    shown = folder_resource(mailbox, name)
    select = parse_select(call.option("$select"), FOLDER_SELECTABLE, "MailFolder")
    if select is not None:
        shown = {k: v for k, v in shown.items() if k == "id" or k in select}
    return call.reply(200, {"@odata.context": call.users_context("mailFolders/$entity"), **shown})


def _refuse_mime(call: Call) -> None:
    if call.headers.get("content-type", "").lower().startswith("text/plain"):
        raise GraphError(
            400,
            "ErrorMimeContentInvalidBase64String",
            "MIME content is not supported by this emulator; send JSON.",
        )


def _json_only(handler: Handler) -> Handler:
    def wrapped(call: Call) -> Reply:
        _refuse_mime(call)
        return handler(call)

    return wrapped


MESSAGE_HANDLERS: dict[str, Handler] = {
    "messages.create": _json_only(create_message),
    "messages.createReply": _json_only(create_reply),
    "messages.get": get_message,
    "messages.value": message_value,
    "messages.patch": update_message,
    "messages.delete": delete_message,
    "messages.list": list_messages,
    "mailFolders.get": get_folder,
}
