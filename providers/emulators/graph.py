"""A local emulator of the Microsoft Graph v1.0 mail and calendar subset, and its command.

`GraphEmulator` serves the HTTP API on 127.0.0.1 under /v1.0 (see `graph_routes.ROUTES` and
the `$batch` endpoint) and offers an in-process API for tests and scenarios: deliver mail, act
as the user in Outlook (send, edit or delete a draft), publish calendar events, expire bearer
tokens and delta tokens, inject faults, and read the counters.

Known departures from Graph: an unknown path answers 404 (Graph says 400 "Resource not found
for the segment"); MIME bodies (text/plain base64) for create and createReply are refused;
series are not expanded (events are single instances or what the caller puts); only the query
options and filters a mail and calendar sync needs are served, anything else is a 400.

    python -m providers.emulators.graph --scenario fixtures/demo/scenario.yaml --port 8089
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from providers.emulators.faults import check_fault
from providers.emulators.graph_backend import Backend, Stats
from providers.emulators.graph_calendar import Calendar
from providers.emulators.graph_faults import FAULT_KINDS, Fault
from providers.emulators.graph_http_server import GraphHTTPServer
from providers.emulators.graph_mime import meeting_message_type, parse_mail
from providers.emulators.graph_query import Expand
from providers.emulators.graph_resources import message_resource
from providers.emulators.graph_store import WELL_KNOWN, Mailbox, StoredMessage, event_id_for
from providers.emulators.loopback import LoopbackEmulator

__all__ = ["GraphEmulator", "main"]


class GraphEmulator(LoopbackEmulator[Backend]):
    """Graph v1.0 mail + calendar on 127.0.0.1, for one user. Use it as a context manager."""

    server_class = GraphHTTPServer
    thread_prefix = "graph-emulator"

    def __init__(
        self,
        *,
        user_address: str,
        user_name: str = "",
        latency: float = 0.0,
        port: int = 0,
        static_token: str = "emulator-graph-token",  # noqa: S107 (a fake, for tests)
    ) -> None:
        backend = Backend(user_address, user_name, static_token=static_token)
        super().__init__(backend, latency=latency, port=port)

    # -- addresses, credentials and settings (lifecycle, port, now, latency, lock: the base) --

    @property
    def base_url(self) -> str:
        """ "http://127.0.0.1:PORT/v1.0", the client's BASE."""
        return f"http://127.0.0.1:{self._port}/v1.0"

    @property
    def user_address(self) -> str:
        return self._backend.mailbox.user[1]

    @property
    def user_name(self) -> str:
        return self._backend.mailbox.user[0]

    @property
    def static_token(self) -> str:
        return self._backend.static_token

    @property
    def batch_response_order(self) -> Literal["request", "reversed"]:
        """Graph may answer $batch parts in any order; "reversed" makes tests notice."""
        return self._backend.batch_order

    @batch_response_order.setter
    def batch_response_order(self, order: Literal["request", "reversed"]) -> None:
        self._backend.batch_order = order

    @property
    def concurrency_limit(self) -> int:
        return self._backend.concurrency_limit

    @concurrency_limit.setter
    def concurrency_limit(self, limit: int) -> None:
        self._backend.concurrency_limit = limit

    @property
    def delta_expiry_status(self) -> Literal[410, 400, 404]:
        """How a lost delta token is answered: 410 Gone + Location (the documented way), or
        400/404 syncStateNotFound (also seen from Exchange)."""
        return self._backend.deltas.expired_status

    @delta_expiry_status.setter
    def delta_expiry_status(self, status: Literal[410, 400, 404]) -> None:
        self._backend.deltas.expired_status = status

    # -- low-level state (hold `lock` while touching it) --

    @property
    def mailbox(self) -> Mailbox:
        return self._backend.mailbox

    @property
    def calendar(self) -> Calendar:
        return self._backend.calendar

    # -- tokens, faults and counters --

    def issue_token(self) -> str:
        """A new valid bearer token (as if MSAL had fetched one)."""
        return self._backend.issue_token()

    def expire_tokens(self) -> None:
        """Every token issued so far, and the static token, answer 401 from now on."""
        self._backend.expire_tokens()

    def expire_delta_tokens(self) -> None:
        """Every $skiptoken and $deltatoken issued so far is lost (410 Gone, or as set)."""
        with self.lock:
            self._backend.deltas.expire()

    def inject(
        self,
        kind: str,
        *,
        path_contains: str | None = None,
        operation: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Fail the next `times` requests aimed at (a substring of the path and query under
        /v1.0, and/or an operation key such as "messages.delta"; neither: any) with `kind`:
        "429", "503" (both with Retry-After, default 1 s), "500", "401", or "drop" / "drop-after"
        (close the connection before / after serving; they drop a whole $batch)."""
        check_fault(kind, times, FAULT_KINDS)
        with self.lock:
            self._backend.faults.append(Fault(kind, path_contains, operation, times, retry_after))

    def clear_faults(self) -> None:
        """Forget every fault not met yet (a test's or the chaos campaign's next round)."""
        with self.lock:
            self._backend.faults.clear()

    def faults_pending(self) -> list[Fault]:
        with self.lock:
            return list(self._backend.faults)

    @property
    def stats(self) -> Stats:
        """A snapshot of the counters."""
        with self.lock:
            current = self._backend.stats
            return replace(
                current, calls=Counter(current.calls), batch_sizes=list(current.batch_sizes)
            )

    def reset_stats(self) -> None:
        with self.lock:
            self._backend.stats = Stats()

    # -- the mailbox, as mail arrives and as the user acts in Outlook --

    def _folder(self, folder: str) -> str:
        if folder not in WELL_KNOWN or folder == "msgfolderroot":
            raise ValueError(f"unknown folder {folder!r}; one of {', '.join(WELL_KNOWN)}")
        return folder

    def _stored(self, message_id: str, folder: str | None = None) -> StoredMessage:
        found = self.mailbox.messages.get(message_id)
        if found is None or (folder is not None and found.folder != folder):
            raise KeyError(f"no message {message_id}" + (f" in {folder}" if folder else ""))
        return found

    def add_message(self, raw: bytes, folder: str, *, received: datetime | None = None) -> str:
        """Deliver a raw RFC 5322 message to `folder` ("inbox", "sentitems", "drafts"...),
        threaded into the conversation of a message it refers to; returns its id.
        receivedDateTime is `received`, else its Date, else `now`."""
        mail = parse_mail(raw)
        with self.lock:
            box = self.mailbox
            when = received or mail.date or self.now
            refs = (*mail.in_reply_to, *reversed(mail.references))
            draft = box.new_draft(when, self._folder(folder))
            draft.conversation_id, draft.conversation_index = box.conversation_of(refs) or (
                draft.conversation_id,
                draft.conversation_index,
            )
            message = replace(
                draft,
                subject=mail.subject,
                body_type=mail.body_type,
                body=mail.body,
                sender=mail.sender,
                to=list(mail.to),
                cc=list(mail.cc),
                bcc=list(mail.bcc),
                reply_to=list(mail.reply_to),
                sent=mail.date or when,
                is_read=folder != "inbox",
                is_draft=folder == "drafts",
                internet_message_id=mail.message_id or draft.internet_message_id,
                headers=mail.headers,
                has_attachments=mail.has_attachments,
                mime=raw,
                meeting=meeting_message_type(raw),
            )
            return box.insert(message).id

    def delete_message(self, message_id: str) -> None:
        """Gone for good (not to Deleted Items): delta reports it removed."""
        with self.lock:
            self.mailbox.remove(self._stored(message_id))

    def move_message(self, message_id: str, folder: str) -> str:
        """Move to another folder; returns the message's new id there."""
        with self.lock:
            moved = self.mailbox.move(self._stored(message_id), self._folder(folder), self.now)
            return moved.id

    def set_read(self, message_id: str, read: bool = True) -> None:
        with self.lock:
            message = self._stored(message_id)
            message.is_read = read
            self.mailbox.touch(message, self.now)

    def message(self, message_id: str) -> dict[str, Any]:
        """The message as GET would show it, with its extended properties and headers."""
        with self.lock:
            return self._resource(self._stored(message_id))

    def _resource(self, message: StoredMessage) -> dict[str, Any]:
        shown = message_resource(message, self.mailbox, expand=Expand(None))
        shown["internetMessageHeaders"] = [{"name": n, "value": v} for n, v in message.headers]
        return shown

    def folder_messages(self, folder: str) -> list[str]:
        """Ids of the messages in `folder`, newest first."""
        with self.lock:
            found = self.mailbox.in_folder(self._folder(folder))
            found.sort(key=lambda m: (m.received, m.id), reverse=True)
            return [m.id for m in found]

    def user_send_draft(self, draft_id: str, at: datetime) -> str:
        """The user presses Send in Outlook: the draft leaves Drafts and the sent message, with
        a new id, the same body, recipients, extended properties, Message-ID and conversation,
        lands in Sent Items dated `at`. Returns its id."""
        with self.lock:
            draft = self._stored(draft_id, "drafts")
            self.mailbox.remove(draft)
            sent = replace(
                draft,
                id=self.mailbox.new_message_id(),
                folder="sentitems",
                sender=draft.sender or self.mailbox.user,
                received=at,
                sent=at,
                created=at,
                modified=at,
                is_draft=False,
                is_read=True,
                version=0,
                properties=dict(draft.properties),
            )
            return self.mailbox.insert(sent).id

    def user_edit_draft(self, draft_id: str, text: str) -> None:
        """The user types `text` at the end of the draft and Outlook saves it (same id)."""
        with self.lock:
            draft = self._stored(draft_id, "drafts")
            if draft.body_type == "html":
                head, found, tail = draft.body.rpartition("</body>")
                addition = f"<div>{text}</div>\r\n"
                draft.body = head + addition + found + tail if found else draft.body + addition
            else:
                draft.body = draft.body.rstrip("\r\n") + "\r\n\r\n" + text + "\r\n"
            self.mailbox.touch(draft, self.now)

    def user_delete_draft(self, draft_id: str) -> str:
        """The user deletes the draft: it moves to Deleted Items; returns its id there."""
        with self.lock:
            return self.mailbox.move(self._stored(draft_id, "drafts"), "deleteditems", self.now).id

    def drafts(self) -> list[dict[str, Any]]:
        """The drafts as Graph shows them (with extended properties and headers), oldest
        first."""
        with self.lock:
            found = self.mailbox.in_folder("drafts")
            found.sort(key=lambda m: (m.created, m.entered))
            return [self._resource(m) for m in found]

    # -- the calendar --

    def event_id(self, key: str) -> str:
        """A valid event id of this mailbox for `key` (the same key gives the same id)."""
        return event_id_for(self.user_address, key)

    def put_event(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace an event resource by id (Exchange's own fields and Graph's
        defaults are filled in) and record the change for delta. Returns the stored resource."""
        with self.lock:
            return self.calendar.put(resource, self.now)

    def delete_event(self, event_id: str) -> None:
        with self.lock:
            self.calendar.delete(event_id)

    def events(self) -> list[dict[str, Any]]:
        """The stored event resources (UTC), by start time."""
        with self.lock:
            ordered = sorted(self.calendar.events.values(), key=lambda e: e.start)
            return [copy.deepcopy(e.resource) for e in ordered]


def main(argv: list[str] | None = None) -> int:
    """Serve a scenario's mailbox and calendar until Ctrl-C (see `graph_standalone`)."""
    from providers.emulators.graph_standalone import run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
