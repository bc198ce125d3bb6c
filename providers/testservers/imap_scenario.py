"""Scenarios on a real IMAP server: `ImapScenarioMailbox` and a bulk filler for big mailboxes.

`ImapScenarioMailbox` implements `mailagent.scenario.ScenarioMailbox` on a real IMAP server
(`ImapTestServer`: a `DovecotServer` or a `CyrusServer`):
scenario mail arrives by APPEND (RFC 3501 section 6.3.11) once its date has passed, with that
date as INTERNALDATE, and the user sends, edits and deletes drafts the way IMAP mail clients do:
IMAP cannot change a message, so a client APPENDs the new one (to Sent, or to Drafts as
\\Seen \\Draft) and flags the old one \\Deleted and expunges it by UID (RFC 4315 section 2.1).
An edited draft therefore comes back under a new UID. The calendar goes wherever the caller
says (`calendar`: publish to Radicale, write an ICS file...).

`fill_maildir` writes thousands of unrelated messages as Maildir files for Dovecot to index.
"""

from __future__ import annotations

import email
import email.utils
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from mailagent.core.models import (
    AGENT_KEY_HEADER,
    CalendarEvent,
    Folder,
    Message,
    key_from_message_id,
)
from providers.emulators.gmail_mime import append_text, replace_header
from providers.mime import parse_message

if TYPE_CHECKING:
    import imapclient

    from mailagent.scenario import Scenario
    from providers.testservers.dovecot import DovecotServer

__all__ = ["ImapScenarioMailbox", "ImapTestServer", "fill_maildir"]

SEEN = rb"\Seen"
DRAFT = rb"\Draft"
DELETED = rb"\Deleted"


class ImapTestServer(Protocol):
    """What the scenario mailbox and the tests need of a test IMAP server."""

    host: str
    port: int
    password: str

    def connect(self, user: str | None = None) -> imapclient.IMAPClient:
        """A logged-in plain-text connection as `user`."""
        ...

    def restart(self) -> None:
        """Stop and start again, keeping the mail: clients see a dropped connection."""
        ...


@dataclass
class ImapScenarioMailbox:
    """Scenario mailbox for the IMAP provider: one connection per call, logged out after it.
    `delivered` holds the ids of the scenario messages already APPENDed."""

    server: ImapTestServer
    user: str
    calendar: Callable[[Sequence[CalendarEvent]], None] | None = None
    inbox: str = "INBOX"
    sent: str = "Sent"
    drafts_folder: str = "Drafts"
    delivered: set[str] = field(default_factory=set)

    def materialize(self, scenario: Scenario, moment: datetime) -> None:
        with self.server.connect(self.user) as client:
            for spec in scenario.spec.messages:
                date = scenario.local(spec.date)
                if spec.id in self.delivered or date > moment:
                    continue
                raw = scenario.render_message(spec)
                if spec.folder == "inbox":
                    client.append(self.inbox, raw, msg_time=date)
                else:
                    client.append(self.sent, raw, flags=(SEEN,), msg_time=date)
                self.delivered.add(spec.id)
        if self.calendar is not None:
            self.calendar(scenario.events_at(moment))

    def send_draft(self, key: str, moment: datetime) -> None:
        """What a mail client does on send: the message goes out re-dated, a copy is APPENDed
        to Sent as \\Seen, and the draft is removed."""
        with self.server.connect(self.user) as client:
            uid, raw = self._draft(client, key)
            raw = replace_header(raw, "Date", email.utils.format_datetime(moment))
            client.append(self.sent, raw, flags=(SEEN,), msg_time=moment)
            _expunge(client, uid)

    def edit_draft(self, key: str, text: str) -> None:
        """The user types `text` at the end of the body and the client saves the draft."""
        with self.server.connect(self.user) as client:
            uid, raw = self._draft(client, key)
            client.append(self.drafts_folder, append_text(raw, text), flags=(SEEN, DRAFT))
            _expunge(client, uid)

    def delete_draft(self, key: str) -> None:
        with self.server.connect(self.user) as client:
            uid, _ = self._draft(client, key)
            _expunge(client, uid)

    def drafts(self) -> list[Message]:
        with self.server.connect(self.user) as client:
            client.select_folder(self.drafts_folder, readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"]) if uids else {}
        return [
            parse_message(
                item[b"BODY[]"],
                folder=Folder.DRAFTS,
                id=str(uid),
                fallback_date=item[b"INTERNALDATE"],
            )
            for uid, item in sorted(fetched.items())
        ]

    def _draft(self, client: imapclient.IMAPClient, key: str) -> tuple[int, bytes]:
        """Select Drafts (read-write) and find the draft carrying `key` (RFC 3501 section
        6.4.4, SEARCH HEADER); LookupError when there is none."""
        client.select_folder(self.drafts_folder)
        uids = client.search(
            [
                "OR",
                "HEADER",
                "Message-ID",
                f"<mailagent.{key}.",
                "HEADER",
                AGENT_KEY_HEADER,
                key,
                "NOT",
                "DELETED",
            ]
        )
        fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
        for uid, item in sorted(fetched.items(), reverse=True):  # SEARCH matches substrings
            raw: bytes = item[b"BODY[]"]
            headers = email.message_from_bytes(raw)
            if (
                str(headers.get(AGENT_KEY_HEADER, "")).strip() == key
                or key_from_message_id(str(headers.get("Message-ID", ""))) == key
            ):
                return uid, raw
        raise LookupError(f"no draft with key {key}")


def _expunge(client: imapclient.IMAPClient, uid: int) -> None:
    """Flag the selected folder's `uid` \\Deleted and expunge only it (UID EXPUNGE)."""
    client.add_flags([uid], [DELETED], silent=True)
    client.uid_expunge([uid])


# --- filler --------------------------------------------------------------------------------------

_SENDERS = (
    ("The Morning Brief", "newsletter@morningbrief.news"),
    ("GitHub", "notifications@github.com"),
    ("Jira", "jira@tracker.atlassian.net"),
    ("Bank of Nowhere", "alerts@bankofnowhere.com"),
    ("Parcel Tracking", "updates@parcel-tracking.net"),
    ("Chris Park", "chris.park@friendsmail.net"),
)
_COLLEAGUES = (("Kim Lee", "kim.lee"), ("Ari Cohen", "ari.cohen"), ("Noor Haddad", "noor"))
_SUBJECTS = ("Weekly digest", "Your order has shipped", "Build failed on main", "Lunch Friday?")
_WORDS = ("update", "report", "team", "weekend", "coffee", "budget", "photos", "release", "notes")


def fill_maildir(
    server: DovecotServer,
    user: str,
    count: int,
    *,
    seed: int = 0,
    sent_share: float = 0.15,
    now: datetime | None = None,
    days: int = 90,
) -> None:
    """Add `count` unrelated messages (newsletters, notifications, friends in INBOX, about 30%
    unread; `sent_share` of them in Sent, from `user` to colleagues) dated at random over the
    `days` before `now`. They are written straight into the folders' cur/ with Dovecot's own
    file names and the date as mtime (Dovecot's INTERNALDATE for Maildir), then indexed by
    `doveadm force-resync`: 100,000 take about 5 s (APPEND: about 160 s)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    end = now or datetime.now(UTC)
    with server.connect(user) as client:  # Dovecot creates the Maildir and the folders
        for folder in ("INBOX", "Sent"):
            client.select_folder(folder)
    inbox, sent_dir = server.maildir(user) / "cur", server.maildir(user) / ".Sent" / "cur"
    domain = user.partition("@")[2] or "example.com"
    for index in range(count):
        sent = rng.random() < sent_share
        when = end - timedelta(seconds=rng.randrange(days * 86400))
        if sent:
            name, local = rng.choice(_COLLEAGUES)
            sender, recipient, flags = user, f"{name} <{local}@{domain}>", "S"
        else:
            name, address = rng.choice(_SENDERS)
            sender, recipient = f"{name} <{address}>", user
            flags = "" if rng.random() < 0.3 else "S"
        data = (
            f"From: {sender}\nTo: {recipient}\nSubject: {rng.choice(_SUBJECTS)} #{index}\n"
            f"Date: {email.utils.format_datetime(when)}\nMessage-ID: <fill.{seed}.{index}@{domain}>\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{' '.join(rng.choices(_WORDS, k=12))}\n"
        ).encode()
        stamp = int(when.timestamp())
        # Dovecot's file name: S= size, W= size with CRLF line ends (it need not stat or read
        # the file for RFC822.SIZE), then the Maildir info ":2," and the flags (S = \Seen).
        size, crlf_size = len(data), len(data) + data.count(b"\n")
        name = f"{stamp}.M{index}P{os.getpid()}.fill{seed},S={size},W={crlf_size}:2,{flags}"
        path = (sent_dir if sent else inbox) / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        server.chown_mail(path)
        os.utime(path, (stamp, stamp))
    server.doveadm("force-resync", "-u", user, "*")
