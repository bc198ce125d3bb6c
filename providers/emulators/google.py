"""A local emulator of the Gmail v1 and Google Calendar v3 APIs, and its standalone command.

`GoogleEmulator` serves the HTTP API on 127.0.0.1 (see `google_routes.ROUTES`) and offers an
in-process API for tests and scenarios: deliver mail, act as the user in the Gmail UI, publish
calendar events, expire tokens and cursors, inject faults, and read the call counters.

    python -m providers.emulators.google --scenario fixtures/demo/scenario.yaml --port 8088
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mailagent.scenario import Scenario

from providers.emulators.calendar_store import Calendar
from providers.emulators.faults import check_fault
from providers.emulators.gmail_mailbox import Mailbox, StoredMessage
from providers.emulators.gmail_mime import append_text, read_facts, replace_header
from providers.emulators.google_backend import Backend, Stats
from providers.emulators.google_faults import FAULT_KINDS, Fault
from providers.emulators.google_http_server import EmulatorHTTPServer
from providers.emulators.loopback import LoopbackEmulator
from providers.emulators.standalone import serve_scenario

__all__ = ["GoogleEmulator", "main"]


class GoogleEmulator(LoopbackEmulator[Backend]):
    """Gmail v1 + Calendar v3 on 127.0.0.1, for one user. Use it as a context manager."""

    server_class = EmulatorHTTPServer
    thread_prefix = "google-emulator"

    def __init__(
        self,
        *,
        user_address: str,
        latency: float = 0.0,
        port: int = 0,
        time_zone: str = "UTC",
        refresh_token: str = "emulator-refresh-token",  # noqa: S107 (a fake, for tests)
        static_token: str = "emulator-token",  # noqa: S107 (a fake, for tests)
    ) -> None:
        backend = Backend(user_address, refresh_token=refresh_token, static_token=static_token)
        super().__init__(backend, latency=latency, port=port)
        self._backend.calendar.time_zone = time_zone
        self.send_rewrites_headers = False
        """When true, sending a draft gives it a new Message-ID and drops its X- headers, as
        the Gmail web client may; when false the message goes out as drafted (the API's way)."""

    # -- addresses and credentials (lifecycle, port, now, latency, lock: the base) --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def calendar_endpoint(self) -> str:
        return self.base_url + "/calendar/v3/"

    @property
    def gmail_batch_uri(self) -> str:
        return self.base_url + "/batch/gmail/v1"

    @property
    def calendar_batch_uri(self) -> str:
        return self.base_url + "/batch/calendar/v3"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    @property
    def user_address(self) -> str:
        return self._backend.user_address

    @property
    def refresh_token(self) -> str:
        return self._backend.refresh_token

    @property
    def static_token(self) -> str:
        return self._backend.static_token

    # -- settings --

    @property
    def time_zone(self) -> str:
        return self._backend.calendar.time_zone

    @time_zone.setter
    def time_zone(self, name: str) -> None:
        with self._backend.lock:
            self._backend.calendar.time_zone = name

    @property
    def batch_response_order(self) -> Literal["request", "reversed"]:
        """Google may answer batch parts in any order; "reversed" makes tests notice."""
        return self._backend.batch_order

    @batch_response_order.setter
    def batch_response_order(self, order: Literal["request", "reversed"]) -> None:
        self._backend.batch_order = order

    # -- low-level state (hold `lock` while touching it) --

    @property
    def mailbox(self) -> Mailbox:
        return self._backend.mailbox

    @property
    def calendar(self) -> Calendar:
        return self._backend.calendar

    # -- auth --

    def expire_tokens(self) -> None:
        """Every access token issued so far, and the static token, stop working (401)."""
        with self.lock:
            self._backend.issued.clear()
            self._backend.static_valid = False

    def token_info(self, token: str) -> dict[str, Any] | None:
        """What Google's tokeninfo endpoint says of a live access token (the user's address
        and the granted scopes), or None for one it does not know: an IMAP test server's
        token check asks this."""
        with self.lock:
            scope = self._backend.issued.get(token)
        if scope is None:
            return None
        return {"active": True, "email": self.user_address, "scope": scope}

    def revoke(self) -> None:
        """The user revoked access: tokens die and the refresh token gets invalid_grant."""
        with self.lock:
            self.expire_tokens()
            self._backend.revoked = True

    # -- cursors --

    def expire_history(self) -> None:
        with self.lock:
            self.mailbox.expire_history()

    def expire_sync_tokens(self) -> None:
        with self.lock:
            self.calendar.expire_tokens()

    # -- faults and counting --

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
        direct_only: bool = False,
    ) -> None:
        """Fail the next `times` calls of `method` (a discovery id; None: any) with `kind`:
        "429", "403-rate", "403-user-rate", "500", "503", or "drop" (close the connection
        without answering; it drops a whole batch). httplib2 itself retries a dropped
        connection once, so a client sees a drop only from the second one in a row.
        `direct_only`: only calls made on their own, never the parts of a batch."""
        check_fault(kind, times, FAULT_KINDS)
        with self.lock:
            self._backend.faults.append(Fault(kind, method, times, retry_after, direct_only))

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
                current, calls=Counter(current.calls), quota_units=Counter(current.quota_units)
            )

    def reset_stats(self) -> None:
        with self.lock:
            self._backend.stats = Stats()

    # -- the mailbox, as mail arrives and as the user acts in the Gmail UI --

    def add_message(
        self, raw: bytes, labels: Sequence[str], *, internal_date: datetime | None = None
    ) -> str:
        """Deliver a message (threaded like received mail); returns its id. internalDate comes
        from `internal_date`, else the Date header when it parses, else `now`."""
        facts = read_facts(raw)
        with self.lock:
            stamp = internal_date or facts.date or self.now
            stored = self.mailbox.add(raw, labels, int(stamp.timestamp() * 1000), facts=facts)
            return stored.id

    def delete_message(self, message_id: str) -> None:
        with self.lock:
            draft = self.mailbox.draft_by_message.get(message_id)
            if draft is not None:
                self.mailbox.set_draft(draft, None)
            self.mailbox.delete(message_id)

    def modify_labels(
        self, message_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> None:
        with self.lock:
            self.mailbox.modify(message_id, add, remove)

    def _draft_message(self, draft_id: str) -> StoredMessage:
        message_id = self.mailbox.drafts.get(draft_id)
        if message_id is None:
            raise KeyError(f"no draft {draft_id}")
        return self.mailbox.messages[message_id]

    def user_send_draft(self, draft_id: str, at: datetime) -> str:
        """The user presses Send: the draft and its message go; a SENT message with the same
        headers (Date rewritten to `at`) joins the same thread. Returns the sent message id."""
        with self.lock:
            draft = self._draft_message(draft_id)
            raw = replace_header(draft.raw, "Date", format_datetime(at))
            if self.send_rewrites_headers:
                raw = replace_header(raw, "X-Mailagent-Key", None)
                raw = replace_header(raw, "Message-ID", f"<{uuid.uuid4().hex}@mail.gmail.com>")
            self.mailbox.set_draft(draft_id, None)
            self.mailbox.delete(draft.id)
            sent = self.mailbox.add(
                raw, ["SENT"], int(at.timestamp() * 1000), thread_id=draft.thread_id
            )
            return sent.id

    def user_edit_draft(self, draft_id: str, text: str) -> str:
        """The user types `text` at the end of the draft and Gmail saves it: same draft id, a new
        message id (the old message is deleted), same thread, Date and internalDate set to
        `now`. Returns the new message id."""
        with self.lock:
            draft = self._draft_message(draft_id)
            raw = replace_header(append_text(draft.raw, text), "Date", format_datetime(self.now))
            new = self.mailbox.add(
                raw, ["DRAFT"], int(self.now.timestamp() * 1000), thread_id=draft.thread_id
            )
            self.mailbox.set_draft(draft_id, new.id)
            self.mailbox.delete(draft.id)
            return new.id

    def user_delete_draft(self, draft_id: str) -> None:
        with self.lock:
            draft = self._draft_message(draft_id)
            self.mailbox.set_draft(draft_id, None)
            self.mailbox.delete(draft.id)

    def drafts(self) -> list[tuple[str, bytes]]:
        """(draft id, raw message) for each draft, oldest first."""
        with self.lock:
            box = self.mailbox
            found = [(d, box.messages[m]) for d, m in box.drafts.items()]
            found.sort(key=lambda item: item[1].key)
            return [(d, m.raw) for d, m in found]

    def messages_with_label(self, label: str) -> list[str]:
        """Ids of the messages carrying `label`, newest first."""
        with self.lock:
            box = self.mailbox
            return [box.by_key(d.key).id for d in box.ordered() if label in d.labels]

    def raw_message(self, message_id: str) -> bytes:
        with self.lock:
            return self.mailbox.messages[message_id].raw

    def thread_id(self, message_id: str) -> str:
        with self.lock:
            return self.mailbox.messages[message_id].thread_id

    def labels(self, message_id: str) -> set[str]:
        with self.lock:
            return set(self.mailbox.messages[message_id].labels)

    # -- the calendar --

    def put_event(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace an event by id (kind, etag, created, updated, iCalUID and sequence
        are filled in) and mark it changed for sync tokens. Returns the stored resource."""
        with self.lock:
            return self.calendar.put(resource, self.now)

    def delete_event(self, event_id: str) -> None:
        """Delete an event (or one instance of a series, by its instance id)."""
        with self.lock:
            self.calendar.delete(event_id, self.now)

    def events(self) -> list[dict[str, Any]]:
        """The live stored events (series masters unexpanded, exceptions included)."""
        with self.lock:
            return self.calendar.live()


# --- standalone ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Serve a scenario's mailbox and calendar until Ctrl-C."""
    from providers.emulators.google_scenario import GoogleScenarioMailbox

    def build(scenario: Scenario, latency: float, port: int) -> GoogleEmulator:
        return GoogleEmulator(
            user_address=scenario.spec.user.address,
            latency=latency,
            port=port,
            time_zone=scenario.spec.user.timezone,
        )

    return serve_scenario(
        argv,
        prog="python -m providers.emulators.google",
        description="Serve a scenario as a local Gmail v1 + Calendar v3 API.",
        build=build,
        mailbox=GoogleScenarioMailbox,
        banner=_banner,
        write_config=_write_config,
    )


def _banner(emulator: GoogleEmulator, scenario: Scenario, moment: datetime) -> str:
    return (
        f"Gmail + Calendar emulator for {emulator.user_address} as of {moment.isoformat()}\n"
        f"  base URL       {emulator.base_url}\n"
        f"  calendar       {emulator.calendar_endpoint}\n"
        f"  gmail batch    {emulator.gmail_batch_uri}\n"
        f"  token URI      {emulator.token_uri}\n"
        f"  static token   {emulator.static_token}\n"
        f"  refresh token  {emulator.refresh_token}\n\n"
        "mailagent.toml:\n\n"
        "[[accounts]]\n"
        f"name = {json.dumps(scenario.spec.name)}\n"
        'provider = "gmail"\n'
        f"address = {json.dumps(emulator.user_address)}\n"
        f"user_name = {json.dumps(scenario.spec.user.name)}\n"
        f"timezone = {json.dumps(scenario.spec.user.timezone)}\n"
        f"google_endpoint = {json.dumps(emulator.base_url)}\n\n"
    )


def _write_config(directory: Path, scenario: Scenario, emulator: GoogleEmulator) -> Path:
    from mailagent.tokens import FileTokenStore

    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "mailagent.toml"
    user = scenario.spec.user
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\n'
        f"name = {json.dumps(scenario.spec.name)}\n"
        'provider = "gmail"\n'
        f"address = {json.dumps(user.address)}\n"
        f"user_name = {json.dumps(user.name)}\n"
        f"policy = {json.dumps(scenario.spec.policy)}\n"
        f"timezone = {json.dumps(user.timezone)}\n"
        f"google_endpoint = {json.dumps(emulator.base_url)}\n",
        encoding="utf-8",
    )
    FileTokenStore(directory / "tokens").save(
        scenario.spec.name,
        {
            "refresh_token": emulator.refresh_token,
            "token_uri": emulator.token_uri,
            "client_id": "emulator",
            "client_secret": "emulator",
            "scopes": [],
        },
    )
    return config


if __name__ == "__main__":
    raise SystemExit(main())
