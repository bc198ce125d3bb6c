"""The Graph emulator's mailbox in memory, with no I/O and no locking (`GraphEmulator` holds one
lock around every call into it): folders with Exchange-style ids and well-known names, the
messages in them, conversation threading by Message-ID, and one change log per folder.

Every change (a message arrives, is updated, leaves) appends (sequence, message id) to its
folder's log; a delta round reads the log after its watermark. Moving a message gives it a new
id in its new folder, as Outlook does without immutable ids, so in the old folder it is gone
(removed) and in the new one it is new (created). Ids are URL-safe base64 of 28 bytes, like
Exchange's "AAMkAD...AAA=", and carry a per-mailbox salt so that a foreign id is "malformed"."""

from __future__ import annotations

import base64
import binascii
import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from providers.emulators.graph_errors import malformed_id
from providers.emulators.graph_mime import Address

WELL_KNOWN: dict[str, str] = {
    "msgfolderroot": "Top of Information Store",
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "archive": "Archive",
    "outbox": "Outbox",
}
"""Well-known folder names (https://learn.microsoft.com/graph/api/resources/mailfolder) and
display names."""

MESSAGE_KIND = b"\x46\x00"
EVENT_KIND = b"\x0d\x00"
FOLDER_KIND = b"\x2e\x00"
_ID_HEAD = b"\x00\x03\x24\x00"
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def mailbox_salt(user_address: str) -> bytes:
    return hashlib.sha256(user_address.lower().encode()).digest()[:12]


def item_id(salt: bytes, kind: bytes, key: bytes) -> str:
    """An Exchange-looking id: URL-safe base64 of head, salt, kind, an 8-byte key, 2 zeros."""
    data = _ID_HEAD + salt + kind + key[:8].rjust(8, b"\0") + b"\0\0"
    return base64.urlsafe_b64encode(data).decode()


def event_id_for(user_address: str, key: str) -> str:
    """The event id a mailbox gives the event with `key` (an iCalendar UID, say): the same key
    always gives the same id."""
    digest = hashlib.sha256(key.encode()).digest()
    return item_id(mailbox_salt(user_address), EVENT_KIND, digest)


def id_kind(salt: bytes, text: str) -> bytes | None:
    """The kind bytes of an id this mailbox made; None when it is not one."""
    try:
        data = base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError):
        return None
    if len(data) != 28 or not data.startswith(_ID_HEAD + salt):
        return None
    return data[16:18]


@dataclass(slots=True)
class StoredMessage:
    id: str
    folder: str
    subject: str
    body_type: str
    body: str
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    received: datetime
    sent: datetime | None
    created: datetime
    modified: datetime
    is_read: bool
    is_draft: bool
    internet_message_id: str
    headers: tuple[tuple[str, str], ...]
    conversation_id: str
    conversation_index: bytes
    properties: dict[str, str] = field(default_factory=dict)
    """Single-value extended properties: canonical id -> value."""
    importance: str = "normal"
    has_attachments: bool = False
    mime: bytes = b""
    """The message as delivered (what `$value` gives); empty for one made through the API."""
    meeting: str = ""
    """`meetingMessageType` of an eventMessage (meetingRequest, meetingCancelled), or ""."""
    categories: list[str] = field(default_factory=list)
    version: int = 0
    entered: int = 0
    """The change sequence at which it entered its folder (changeType=created)."""


class Mailbox:
    def __init__(self, user_address: str, user_name: str) -> None:
        self.user: Address = (user_name, user_address)
        self.salt = mailbox_salt(user_address)
        self.folder_ids = {
            name: self._id(FOLDER_KIND, index) for index, name in enumerate(WELL_KNOWN, 1)
        }
        self._folder_names = {folder_id: name for name, folder_id in self.folder_ids.items()}
        self.messages: dict[str, StoredMessage] = {}
        self.folders: dict[str, dict[str, None]] = {name: {} for name in WELL_KNOWN}
        self.seq = 0
        self.logs: dict[str, list[tuple[int, str]]] = {name: [] for name in WELL_KNOWN}
        self._conversations: dict[str, tuple[str, bytes]] = {}
        """lower-cased Message-ID -> (conversationId, conversationIndex) of its message."""
        self._next = 1
        self.server = "SA1PR12MB" + str(int.from_bytes(self.salt[:2], "big") % 9000 + 1000)

    def _id(self, kind: bytes, number: int) -> str:
        return item_id(self.salt, kind, number.to_bytes(8, "big"))

    # -- names and ids --

    def folder(self, ref: str) -> str:
        """The well-known name of a folder given by name (any case) or id; 400 otherwise."""
        name = ref.lower()
        if name in WELL_KNOWN:
            return name
        found = self._folder_names.get(ref)
        if found is None:
            raise malformed_id()
        return found

    def new_message_id(self) -> str:
        self._next += 1
        return self._id(MESSAGE_KIND, self._next)

    def new_internet_id(self) -> str:
        """ "<SA1PR12MB1234...@SA1PR12MB1234.namprd12.prod.outlook.com>", as Exchange Online
        names the messages it creates."""
        self._next += 1
        digest = hashlib.sha1(self.salt + self._next.to_bytes(8, "big"), usedforsecurity=False)
        return f"<{self.server}{digest.hexdigest()[:28].upper()}@{self.server}.namprd12.prod.outlook.com>"

    def new_conversation(self, now: datetime) -> tuple[str, bytes]:
        """A conversationId and the 22-byte conversationIndex that starts a thread."""
        self._next += 1
        key = self._next.to_bytes(8, "big")
        ticks = int((now - _FILETIME_EPOCH).total_seconds() * 10_000_000)
        guid = hashlib.md5(self.salt + key, usedforsecurity=False).digest()
        conversation = base64.urlsafe_b64encode(b"\x00\x04\x24\x00" + self.salt + guid).decode()
        return conversation, b"\x01" + ticks.to_bytes(8, "big")[:5] + guid

    def new_draft(self, now: datetime, folder: str = "drafts") -> StoredMessage:
        """A new empty draft as Exchange creates one (not stored until `insert`): its own
        conversation, an Exchange Message-ID, every date `now`, no sender until it is sent."""
        conversation, index = self.new_conversation(now)
        return StoredMessage(
            id=self.new_message_id(),
            folder=folder,
            subject="",
            body_type="text",
            body="",
            sender=None,
            to=[],
            cc=[],
            bcc=[],
            reply_to=[],
            received=now,
            sent=now,
            created=now,
            modified=now,
            is_read=True,
            is_draft=True,
            internet_message_id=self.new_internet_id(),
            headers=(),
            conversation_id=conversation,
            conversation_index=index,
        )

    def conversation_of(self, refs: tuple[str, ...]) -> tuple[str, bytes] | None:
        """The conversation of the newest message that `refs` (Message-IDs) name."""
        for ref in refs:
            found = self._conversations.get(ref.lower())
            if found is not None:
                return found
        return None

    def reply_conversation(self, parent: StoredMessage) -> tuple[str, bytes]:
        """A reply's conversation: the parent's id, its index plus a 5-byte child block."""
        return parent.conversation_id, parent.conversation_index + self.salt[:5]

    # -- changes --

    def _log(self, folder: str, message_id: str) -> None:
        self.seq += 1
        self.logs[folder].append((self.seq, message_id))

    def insert(self, message: StoredMessage) -> StoredMessage:
        self._log(message.folder, message.id)
        message.entered = self.seq
        self.messages[message.id] = message
        self.folders[message.folder][message.id] = None
        if message.internet_message_id:
            self._conversations[message.internet_message_id.lower()] = (
                message.conversation_id,
                message.conversation_index,
            )
        return message

    def touch(self, message: StoredMessage, now: datetime) -> None:
        """Record an update: new changeKey, lastModifiedDateTime = `now`."""
        message.version += 1
        message.modified = now
        self._log(message.folder, message.id)

    def remove(self, message: StoredMessage) -> None:
        """Gone for good (a delete in Deleted Items, or the old copy of a moved message)."""
        self.messages.pop(message.id, None)
        self.folders[message.folder].pop(message.id, None)
        self._log(message.folder, message.id)

    def move(self, message: StoredMessage, folder: str, now: datetime) -> StoredMessage:
        """The message in `folder` under a new id; the old id is gone."""
        self.remove(message)
        moved = replace(
            message,
            id=self.new_message_id(),
            folder=folder,
            modified=now,
            version=message.version + 1,
            properties=dict(message.properties),
        )
        return self.insert(moved)

    def changes_since(self, folder: str, since: int, until: int) -> list[str]:
        """Ids changed in `folder` after sequence `since` up to `until`, each once, in the
        order of their last change."""
        log = self.logs[folder]
        start = bisect_right(log, since, key=lambda entry: entry[0])
        stop = bisect_right(log, until, key=lambda entry: entry[0])
        last: dict[str, None] = {}
        for _, message_id in log[start:stop]:
            last.pop(message_id, None)
            last[message_id] = None
        return list(last)

    def in_folder(self, folder: str) -> list[StoredMessage]:
        return [self.messages[i] for i in self.folders[folder]]

    def get(self, message_id: str) -> StoredMessage | None:
        found = self.messages.get(message_id)
        if found is None and id_kind(self.salt, message_id) is None:
            raise malformed_id()
        return found
