"""The state store: one SQLite file (WAL, versioned schema, 0600) per installation.

It remembers, per account: the provider cursor, the events and messages observed, the
detections, every draft the agent made (by idempotency key), the current schedule, and a
decision log for `explain`. Crash safety rests on two rules:

- A draft is recorded in two committed steps before the provider is asked to write it: an
  *intent* (status `planned`), then, right before the call, `creating` ("the write may have
  happened"); it is completed afterwards. At the start of a sync the provider is asked for the
  key of each (the key is in the draft's Message-ID or Graph property): one found is completed;
  a `planned` one not found is forgotten and planned again (the call never started); a
  `creating` one not found is settled as deleted by the user, never written again. So a kill,
  a lost answer or a dropped connection anywhere yields neither a duplicate nor a loss, and a
  draft the user deleted stays deleted. See docs/exactly-once.md.
- Observations and the cursor that produced them are committed in one transaction, so a kill
  never leaves a cursor pointing past data that was not stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mailagent import serialize, statefile
from mailagent.core.identity import NameSource, SignedAs
from mailagent.core.models import (
    CalendarEvent,
    Detection,
    DraftKind,
    DraftStatus,
    Interview,
    Message,
)
from mailagent.core.planner import DraftRecord, Note, Schedule
from mailagent.errors import StateError
from mailagent.statefile import open_state

MIGRATIONS: tuple[str, ...] = (
    # 1: initial schema
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY, provider TEXT NOT NULL, address TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE cursors (
        account TEXT PRIMARY KEY REFERENCES accounts(name), cursor TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE events (
        account TEXT NOT NULL, id TEXT NOT NULL, start TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (account, id)
    );
    CREATE TABLE messages (
        account TEXT NOT NULL, id TEXT NOT NULL, folder TEXT NOT NULL, date TEXT NOT NULL,
        data TEXT NOT NULL, PRIMARY KEY (account, id)
    );
    CREATE INDEX messages_by_date ON messages (account, date);
    CREATE TABLE detections (
        account TEXT NOT NULL, event_id TEXT NOT NULL, interview_id TEXT,
        verdict TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (account, event_id)
    );
    CREATE TABLE drafts (
        account TEXT NOT NULL, key TEXT NOT NULL, interview_id TEXT NOT NULL,
        kind TEXT NOT NULL, step INTEGER NOT NULL, recipient TEXT NOT NULL,
        status TEXT NOT NULL, provider_id TEXT, digest TEXT, subject TEXT,
        draft_at TEXT NOT NULL, due_by TEXT NOT NULL, reason TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (account, key)
    );
    CREATE TABLE schedules (
        account TEXT NOT NULL, key TEXT NOT NULL, interview_id TEXT NOT NULL,
        kind TEXT NOT NULL, step INTEGER NOT NULL, recipient TEXT NOT NULL,
        draft_at TEXT NOT NULL, due_by TEXT NOT NULL, reason TEXT NOT NULL,
        PRIMARY KEY (account, key)
    );
    CREATE TABLE decisions (
        account TEXT NOT NULL, interview_id TEXT NOT NULL, topic TEXT NOT NULL,
        text TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (account, interview_id, topic)
    );
    """,
    # 2: an account's standing problem (a revoked grant) until a sync succeeds again
    """
    ALTER TABLE accounts ADD COLUMN problem TEXT NOT NULL DEFAULT '';
    ALTER TABLE accounts ADD COLUMN problem_advice TEXT NOT NULL DEFAULT '';
    ALTER TABLE accounts ADD COLUMN problem_at TEXT NOT NULL DEFAULT ''
    """,
    # 3: whether the agent's drafts were looked for in the mailbox since this state began
    # ('' not yet; 'none' nothing found, or a state from before this column; else when the
    # state was rebuilt from drafts found there)
    """
    ALTER TABLE accounts ADD COLUMN rebuilt_at TEXT NOT NULL DEFAULT 'none'
    """,
    # 4: how each account's last sync ended, for `status` (no reference to accounts: a sync
    # can fail before the account is known to the state, e.g. a provider not connected)
    """
    CREATE TABLE last_syncs (
        account TEXT PRIMARY KEY, at TEXT NOT NULL, ok INTEGER NOT NULL,
        error TEXT NOT NULL, advice TEXT NOT NULL
    )
    """,
    # 5: the name the drafts are signed with, learned from the mailbox when the config has
    # none, and where it came from (see mailagent/core/identity.py): kept, so that a later sync
    # whose window no longer holds the evidence signs the same way
    """
    ALTER TABLE accounts ADD COLUMN signed_as TEXT NOT NULL DEFAULT '';
    ALTER TABLE accounts ADD COLUMN signed_as_source TEXT NOT NULL DEFAULT ''
    """,
)

PLANNED = "planned"
"""Draft status of an intent recorded before the provider was asked: nothing was written."""
CREATING = "creating"
"""Draft status once the provider is being asked: the draft may exist though no answer came.
Rows written by earlier versions with this status were also recorded right before the call."""
INTENTS = (PLANNED, CREATING)


@dataclass(frozen=True, slots=True)
class StoredDraft:
    account: str
    key: str
    interview_id: str
    kind: DraftKind
    step: int
    recipient: str
    status: str
    provider_id: str
    digest: str
    subject: str
    draft_at: datetime
    due_by: datetime
    reason: str
    created_at: datetime

    def record(self) -> DraftRecord:
        status = DraftStatus.PRESENT if self.status in INTENTS else DraftStatus(self.status)
        return DraftRecord(
            self.key,
            self.interview_id,
            self.kind,
            self.step,
            self.recipient,
            self.created_at,
            status,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    interview_id: str
    topic: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LastSync:
    """How an account's last (not dry-run) sync ended."""

    at: datetime
    ok: bool
    error: str = ""
    advice: str = ""


class Store:
    def __init__(self, path: Path | str, *, copy: bool = False) -> None:
        """Open (or make) the state; a file that is not mailagent's state, a damaged one, a
        link, or a folder that cannot be written raises `StateError` (see `statefile`).

        With `copy` (a dry run), work on a copy of the state in memory, empty if there is no
        state yet: nothing is written to the file, and it is not created."""
        self.path = Path(path)
        if str(path) == ":memory:" or copy:
            self._db = (
                statefile.read_copy(self.path)
                if copy
                else sqlite3.connect(":memory:", isolation_level=None)
            )
            self._db.execute("PRAGMA foreign_keys=ON")
        else:
            self._db = open_state(self.path)
        try:
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise statefile.sqlite_error(exc, self.path) from exc

    def close(self) -> None:
        self._db.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StateError(
                f"{self.path}: schema version {version} is newer than this mailagent knows "
                f"({len(MIGRATIONS)})",
                advice="upgrade mailagent",
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # accounts and cursors

    def ensure_account(self, name: str, provider: str, address: str, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO accounts (name, provider, address, created_at, rebuilt_at) "
                "VALUES (?, ?, ?, ?, '') "
                "ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, address = excluded.address",
                (name, provider, address, now.isoformat()),
            )

    def set_problem(self, account: str, problem: str, advice: str, now: datetime) -> None:
        """Marks the account as needing the user (empty `problem`: it is fine again)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE accounts SET problem = ?, problem_advice = ?, problem_at = ? WHERE name = ?",
                (problem, advice, now.isoformat() if problem else "", account),
            )

    def problem(self, account: str) -> tuple[str, str] | None:
        row = self._db.execute(
            "SELECT problem, problem_advice FROM accounts WHERE name = ?", (account,)
        ).fetchone()
        return (str(row[0]), str(row[1])) if row and row[0] else None

    def record_sync(self, account: str, outcome: LastSync) -> None:
        """Remembers how the account's sync ended (only the last one is kept)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO last_syncs (account, at, ok, error, advice) "
                "VALUES (?, ?, ?, ?, ?)",
                (account, outcome.at.isoformat(), outcome.ok, outcome.error, outcome.advice),
            )

    def last_sync(self, account: str) -> LastSync | None:
        """How the account's last sync ended; None when no sync ran since this was kept."""
        row = self._db.execute(
            "SELECT at, ok, error, advice FROM last_syncs WHERE account = ?", (account,)
        ).fetchone()
        if row is None:
            return None
        return LastSync(datetime.fromisoformat(row[0]), bool(row[1]), str(row[2]), str(row[3]))

    def set_signed_as(self, account: str, signed: SignedAs) -> None:
        """Keeps the name learned from the mailbox (not one from the config: that one is
        read from the config each time)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE accounts SET signed_as = ?, signed_as_source = ? WHERE name = ?",
                (signed.name, signed.source.value, account),
            )

    def signed_as(self, account: str) -> SignedAs | None:
        """The name an earlier sync learned from the mailbox; None before any did."""
        row = self._db.execute(
            "SELECT signed_as, signed_as_source FROM accounts WHERE name = ?", (account,)
        ).fetchone()
        if not row or not row[1]:
            return None
        try:
            source = NameSource(row[1])
        except ValueError:  # not a source this mailagent knows: learned again
            return None
        return SignedAs(str(row[0]), source)

    def adoption_pending(self, account: str) -> bool:
        """Whether the agent's drafts have yet to be looked for in the mailbox (a new or lost
        state file): until a sync has done it, whatever the sync that began was killed at."""
        row = self._db.execute(
            "SELECT rebuilt_at FROM accounts WHERE name = ?", (account,)
        ).fetchone()
        return bool(row) and row[0] == ""

    def set_adopted(self, account: str, rebuilt: bool) -> None:
        """The look-up is done; `rebuilt` when it found drafts the agent made before this
        state began (the state then counts as rebuilt from the moment it began)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE accounts SET rebuilt_at = CASE WHEN ? THEN created_at ELSE 'none' END "
                "WHERE name = ?",
                (rebuilt, account),
            )

    def rebuilt_at(self, account: str) -> datetime | None:
        """When this state began, if it was rebuilt from a mailbox the agent had drafted in
        before (its drafts found there by key); None for a state that began with the account."""
        row = self._db.execute(
            "SELECT rebuilt_at FROM accounts WHERE name = ?", (account,)
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] not in ("", "none") else None

    def accounts(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM accounts ORDER BY name")]

    def cursor(self, account: str) -> str | None:
        row = self._db.execute(
            "SELECT cursor FROM cursors WHERE account = ?", (account,)
        ).fetchone()
        return str(row[0]) if row else None

    # observations

    @staticmethod
    def _stale_event_ids(
        db: sqlite3.Connection,
        account: str,
        replacing: bool,
        replaced_from: datetime | None,
        forget_before: datetime | None,
    ) -> list[str]:
        """The ids of the account's stored events that go, in one pass: with `replacing`,
        those starting at or after `replaced_from` (all when it is None); and those starting
        before `forget_before`. Starts are compared as moments: they carry their own offsets."""
        found = []
        for event_id, start in db.execute(
            "SELECT id, start FROM events WHERE account = ?", (account,)
        ):
            moment = datetime.fromisoformat(start)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            replaced = replacing and (replaced_from is None or moment >= replaced_from)
            if replaced or (forget_before is not None and moment < forget_before):
                found.append(str(event_id))
        return found

    def save_observations(
        self,
        account: str,
        *,
        cursor: str,
        now: datetime,
        events: Sequence[CalendarEvent],
        events_replace: bool,
        removed_event_ids: Iterable[str],
        messages: Sequence[Message],
        removed_message_ids: Iterable[str],
        forget_messages_before: datetime | None = None,
        window_start: datetime | None = None,
    ) -> None:
        """Store what a read saw. With `events_replace`, `events` replace the stored events
        that start at or after `window_start` (all of them when it is None): an event before
        the window was not read again, not removed, and an interview whose follow-ups come
        after the policy's lookback must not be forgotten. Such events go with
        `forget_messages_before`, as the mail of their age does."""
        with self.transaction() as db:
            if events_replace or forget_messages_before is not None:
                db.executemany(
                    "DELETE FROM events WHERE account = ? AND id = ?",
                    [
                        (account, i)
                        for i in self._stale_event_ids(
                            db, account, events_replace, window_start, forget_messages_before
                        )
                    ],
                )
            db.executemany(
                "DELETE FROM events WHERE account = ? AND id = ?",
                [(account, i) for i in removed_event_ids],
            )
            db.executemany(
                "INSERT OR REPLACE INTO events (account, id, start, data) VALUES (?, ?, ?, ?)",
                [(account, e.id, e.start.isoformat(), serialize.dumps(e)) for e in events],
            )
            db.executemany(
                "DELETE FROM messages WHERE account = ? AND id = ?",
                [(account, i) for i in removed_message_ids],
            )
            db.executemany(
                "INSERT OR REPLACE INTO messages (account, id, folder, date, data) VALUES (?, ?, ?, ?, ?)",
                [
                    (account, m.id, m.folder.value, _utc(m.date), serialize.dumps(m))
                    for m in messages
                ],
            )
            if forget_messages_before is not None:
                db.execute(
                    "DELETE FROM messages WHERE account = ? AND date < ?",
                    (account, _utc(forget_messages_before)),
                )
            db.execute(
                "INSERT INTO cursors (account, cursor, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (account) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                (account, cursor, now.isoformat()),
            )

    def events(self, account: str) -> list[CalendarEvent]:
        rows = self._db.execute(
            "SELECT data FROM events WHERE account = ? ORDER BY start, id", (account,)
        )
        return [serialize.loads(r[0], CalendarEvent) for r in rows]

    def messages(self, account: str) -> list[Message]:
        rows = self._db.execute(
            "SELECT data FROM messages WHERE account = ? ORDER BY date, id", (account,)
        )
        return [serialize.loads(r[0], Message) for r in rows]

    def message_count(self, account: str) -> int:
        return int(
            self._db.execute(
                "SELECT count(*) FROM messages WHERE account = ?", (account,)
            ).fetchone()[0]
        )

    # detections

    def save_detections(self, account: str, detections: Sequence[Detection]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM detections WHERE account = ?", (account,))
            db.executemany(
                "INSERT INTO detections (account, event_id, interview_id, verdict, data) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        account,
                        d.event.id,
                        d.interview.id if d.interview else None,
                        d.verdict,
                        serialize.dumps(d),
                    )
                    for d in detections
                ],
            )

    def detections(self, account: str) -> list[Detection]:
        rows = self._db.execute("SELECT data FROM detections WHERE account = ?", (account,))
        found = [serialize.loads(r[0], Detection) for r in rows]
        return sorted(found, key=lambda d: (d.event.start, d.event.id))

    def interviews(self, account: str) -> list[Interview]:
        return [d.interview for d in self.detections(account) if d.interview is not None]

    # drafts

    def record_intent(
        self,
        account: str,
        key: str,
        interview_id: str,
        kind: DraftKind,
        step: int,
        recipient: str,
        draft_at: datetime,
        due_by: datetime,
        reason: str,
        subject: str,
        digest: str,
        now: datetime,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO drafts (account, key, interview_id, kind, step, recipient, status, provider_id, "
                "digest, subject, draft_at, due_by, reason, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account,
                    key,
                    interview_id,
                    kind.value,
                    step,
                    recipient,
                    PLANNED,
                    digest,
                    subject,
                    draft_at.isoformat(),
                    due_by.isoformat(),
                    reason,
                    now.isoformat(),
                    now.isoformat(),
                ),
            )
            db.execute("DELETE FROM schedules WHERE account = ? AND key = ?", (account, key))

    def mark_writing(self, account: str, key: str, now: datetime) -> None:
        """Committed right before the provider call: from here on the draft may exist."""
        with self.transaction() as db:
            db.execute(
                "UPDATE drafts SET status = ?, updated_at = ? WHERE account = ? AND key = ? "
                "AND status = ?",
                (CREATING, now.isoformat(), account, key, PLANNED),
            )

    def complete_draft(
        self,
        account: str,
        key: str,
        provider_id: str,
        now: datetime,
        status: DraftStatus = DraftStatus.PRESENT,
    ) -> None:
        """The draft exists (`status` present), or was found already edited or sent."""
        with self.transaction() as db:
            db.execute(
                "UPDATE drafts SET status = ?, provider_id = ?, updated_at = ? WHERE account = ? AND key = ?",
                (status.value, provider_id, now.isoformat(), account, key),
            )

    def set_draft_status(self, account: str, key: str, status: DraftStatus, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE drafts SET status = ?, updated_at = ? WHERE account = ? AND key = ?",
                (status.value, now.isoformat(), account, key),
            )

    def forget_intent(self, account: str, key: str) -> None:
        with self.transaction() as db:
            db.execute(
                "DELETE FROM drafts WHERE account = ? AND key = ? AND status IN (?, ?)",
                (account, key, *INTENTS),
            )

    def drafts(self, account: str) -> list[StoredDraft]:
        rows = self._db.execute(
            "SELECT account, key, interview_id, kind, step, recipient, status, provider_id, digest, subject, "
            "draft_at, due_by, reason, created_at FROM drafts WHERE account = ? ORDER BY draft_at, key",
            (account,),
        )
        return [
            StoredDraft(
                r[0],
                r[1],
                r[2],
                DraftKind(r[3]),
                int(r[4]),
                r[5],
                r[6],
                r[7] or "",
                r[8] or "",
                r[9] or "",
                datetime.fromisoformat(r[10]),
                datetime.fromisoformat(r[11]),
                r[12],
                datetime.fromisoformat(r[13]),
            )
            for r in rows
        ]

    # schedules and decisions

    def replace_schedules(self, account: str, schedules: Sequence[Schedule]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM schedules WHERE account = ?", (account,))
            db.executemany(
                "INSERT INTO schedules (account, key, interview_id, kind, step, recipient, draft_at, due_by, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        account,
                        s.key,
                        s.interview_id,
                        s.kind.value,
                        s.step,
                        s.recipient,
                        s.draft_at.isoformat(),
                        s.due_by.isoformat(),
                        s.reason,
                    )
                    for s in schedules
                ],
            )

    def schedules(self, account: str) -> list[Schedule]:
        rows = self._db.execute(
            "SELECT key, interview_id, kind, step, recipient, draft_at, due_by, reason FROM schedules "
            "WHERE account = ? ORDER BY draft_at, key",
            (account,),
        )
        return [
            Schedule(
                r[0],
                r[1],
                DraftKind(r[2]),
                int(r[3]),
                r[4],
                datetime.fromisoformat(r[5]),
                datetime.fromisoformat(r[6]),
                r[7],
            )
            for r in rows
        ]

    def record_notes(self, account: str, notes: Sequence[Note], now: datetime) -> list[Note]:
        """Store decision-log notes; return those that are new or changed (worth logging)."""
        changed: list[Note] = []
        with self.transaction() as db:
            for note in notes:
                row = db.execute(
                    "SELECT text FROM decisions WHERE account = ? AND interview_id = ? AND topic = ?",
                    (account, note.interview_id, note.topic),
                ).fetchone()
                if row and row[0] == note.text:
                    continue
                changed.append(note)
                db.execute(
                    "INSERT OR REPLACE INTO decisions (account, interview_id, topic, text, at) VALUES (?, ?, ?, ?, ?)",
                    (account, note.interview_id, note.topic, note.text, now.isoformat()),
                )
        return changed

    def decisions(self, account: str, interview_id: str) -> list[Decision]:
        rows = self._db.execute(
            "SELECT interview_id, topic, text, at FROM decisions WHERE account = ? AND interview_id = ? ORDER BY at, topic",
            (account, interview_id),
        )
        return [Decision(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in rows]


def _utc(moment: datetime) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).isoformat()


def dump_json(value: object) -> str:
    return json.dumps(value, sort_keys=True)
