"""The sync runner: lock -> read -> resolve drafts -> detect -> plan -> act -> record, per account.

This is the library API a host application calls (an assistant serving many users passes its
own providers, store and composer); the CLI is a thin layer over it. Each account is its own job:
a failure is caught, logged with the account name and reported, and the others go on.

Crash points: the environment variable `MAILAGENT_CRASH_AT=<step>` makes the process exit
abruptly (os._exit) when it reaches that step, so that tests can prove a kill anywhere is
followed by a correct sync. The steps are listed in `CRASH_POINTS`.

Exactly once (docs/exactly-once.md): a draft is an intent (`planned`), then `creating` right
before the provider call, then present; an intent is settled by looking its key up in the
mailbox, and a first sync on a state adopts the agent's drafts it finds there.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailagent import statefile
from mailagent.core.compose import Composer
from mailagent.core.detect import UserIdentity, detect_all
from mailagent.core.identity import NameSource, signed_as
from mailagent.core.invitations import merge_invitations
from mailagent.core.models import (
    CalendarEvent,
    DraftContent,
    DraftKind,
    DraftObservation,
    DraftStatus,
    Interview,
    InterviewStatus,
    Message,
    body_digest,
)
from mailagent.core.planner import (
    CreateDraft,
    Note,
    Observations,
    Plan,
    PlannerState,
    Schedule,
    draft_key,
    plan,
)
from mailagent.core.policy import Policy
from mailagent.errors import AuthError, LockedError, MailAgentError
from mailagent.store import CREATING, INTENTS, PLANNED, LastSync, Store, StoredDraft
from providers.base import KnownDraft, NotWritten, Provider, Skipped, Window

log = logging.getLogger("mailagent")

CALENDAR_LOOKAHEAD = timedelta(days=60)
MESSAGE_RETENTION = timedelta(days=120)
CRASH_POINTS = (
    "after-resolve",
    "after-read",
    "after-plan",
    "after-intent",
    "after-provider-write",
    "after-complete",
    "after-record",
)


@dataclass(frozen=True)
class Account:
    """One mailbox to sync: who the user is, where their mail lives, and which rules apply."""

    name: str
    provider: Provider
    user: UserIdentity
    policy: Policy
    timezone: str


@dataclass(frozen=True, slots=True)
class Drafted:
    key: str
    kind: str
    step: int
    interview_id: str
    to: str
    subject: str
    draft_at: datetime
    due_by: datetime
    reason: str
    provider_id: str


@dataclass
class SyncResult:
    account: str
    ok: bool = True
    error: str = ""
    advice: str = ""
    drafted: list[Drafted] = field(default_factory=list)
    scheduled: list[Schedule] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    interviews: int = 0
    requests: int = 0
    dry_run: bool = False


def _crash_point(step: str) -> None:
    if os.environ.get("MAILAGENT_CRASH_AT") == step:
        os._exit(137)


@contextmanager
def state_lock(path: Path, *, wait: bool = False) -> Iterator[None]:
    """One sync at a time per state file: an overlapping run fails fast (or waits)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
    except OSError as exc:  # a read-only or full folder, a link planted at the name
        raise statefile.os_error(exc, path) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise LockedError(
                f"another mailagent sync is running on this state ({path})",
                advice="wait for it to finish; cron runs that overlap skip themselves",
            ) from exc
        yield
    finally:
        os.close(fd)


def sync_account(
    store: Store,
    account: Account,
    composer: Composer,
    now: datetime,
    *,
    dry_run: bool = False,
) -> SyncResult:
    """Sync one account; never raises for the account's own failures (see `SyncResult.ok`)."""
    result = SyncResult(account.name, dry_run=dry_run)
    try:
        _sync(store, account, composer, now, dry_run, result)
        if not dry_run and store.problem(account.name):
            store.set_problem(account.name, "", "", now)
    except AuthError as exc:
        result.ok, result.error, result.advice = False, str(exc), exc.advice
        log.error("account %s: %s", account.name, exc)
        if not dry_run:
            store.set_problem(account.name, f"needs reconnecting: {exc}", exc.advice, now)
    except MailAgentError as exc:
        result.ok, result.error, result.advice = False, str(exc), exc.advice
        log.error("account %s: %s", account.name, exc)
    except sqlite3.Error as exc:  # the state's disk filled up, or it became read-only
        problem = statefile.sqlite_error(exc, store.path)
        result.ok, result.error, result.advice = False, str(problem), problem.advice
        log.error("account %s: %s", account.name, problem)
    except Exception as exc:
        result.ok, result.error = False, f"unexpected {type(exc).__name__}: {exc}"
        log.exception("account %s: sync failed", account.name)
    if not dry_run:
        record_outcome(store, result, now)
    return result


def record_outcome(store: Store, result: SyncResult, now: datetime) -> None:
    """Keeps how the sync of `result.account` ended, for `status`; a state that cannot be
    written (the failure itself, maybe) only loses this record."""
    try:
        store.record_sync(result.account, LastSync(now, result.ok, result.error, result.advice))
    except sqlite3.Error as exc:
        log.error("account %s: the sync's outcome was not recorded: %s", result.account, exc)


def sync_accounts(
    store: Store,
    accounts: Sequence[Account],
    composer: Composer,
    now: datetime,
    *,
    dry_run: bool = False,
) -> list[SyncResult]:
    return [sync_account(store, a, composer, now, dry_run=dry_run) for a in accounts]


def _sync(
    store: Store,
    account: Account,
    composer: Composer,
    now: datetime,
    dry_run: bool,
    result: SyncResult,
) -> None:
    provider = account.provider
    name = account.name
    store.ensure_account(name, provider.name, account.user.primary.address, now)

    lookback = (
        account.policy.lookback.add_to(
            now, account.policy.work_calendar(ZoneInfo(account.timezone))
        )
        - now
    )
    window = Window(start=now - lookback, end=now + CALENDAR_LOOKAHEAD)
    changes = provider.read_changes(store.cursor(name), window)
    result.requests = changes.requests
    result.skipped = [*changes.skipped, *_invitation_skips(changes.messages)]
    for skip in result.skipped:
        log.warning("account %s: skipped %s: %s", name, skip.item, skip.reason)
    if not dry_run:
        # After the read (a provider may answer from what it saw) and before the cursor moves
        # past it, so that a crash in between makes the next sync see the same changes again.
        _refresh_drafts(store, account, now, result)
    _crash_point("after-resolve")
    if not dry_run:
        store.save_observations(
            name,
            cursor=changes.cursor,
            now=now,
            events=changes.events,
            events_replace=changes.events_replace,
            removed_event_ids=changes.removed_event_ids,
            messages=changes.messages,
            removed_message_ids=changes.removed_message_ids,
            forget_messages_before=now - MESSAGE_RETENTION,
            window_start=window.start,
        )
        events, messages = store.events(name), store.messages(name)
    else:
        events, messages = _overlay(
            store, name, changes.events, changes.events_replace, changes.messages
        )
    _crash_point("after-read")

    events = merge_invitations(events, messages)
    user = _signing_user(store, account, events, messages, dry_run)
    detections = detect_all(events, user, messages)
    interviews = [d.interview for d in detections if d.interview is not None]
    result.interviews = len(interviews)
    if not dry_run:
        store.save_detections(name, detections)
        if store.adoption_pending(name) and interviews:  # none known yet: nothing to look up
            found = _adopt_from_mailbox(store, account, interviews, now)
            store.set_adopted(name, rebuilt=found > 0)
    stored = store.drafts(name)
    state = PlannerState(
        drafts={d.key: d.record() for d in stored},
        scheduled=frozenset(s.key for s in store.schedules(name)),
        since=store.rebuilt_at(name),
    )
    stale = next((s for s in changes.skipped if s.stale), None)
    observed = Observations(
        user,
        interviews,
        messages,
        account.timezone,
        calendar_stale=_stale_reason(stale) if stale else "",
    )
    the_plan = plan(state, observed, account.policy, now)
    _crash_point("after-plan")
    result.scheduled = the_plan.schedules
    result.cancelled = [c.key for c in the_plan.cancels]
    if dry_run:
        result.notes = the_plan.notes
        for create in the_plan.creates:
            content = composer.compose(create.request)
            result.drafted.append(_drafted(create, content, "(dry run)"))
        return
    _act(store, account, composer, the_plan, now, result)
    store.replace_schedules(name, the_plan.schedules)
    result.notes = store.record_notes(name, the_plan.notes, now)
    for note in result.notes:
        log.info("account %s: %s: %s", name, note.interview_id, note.text)
    _crash_point("after-record")


def _signing_user(
    store: Store,
    account: Account,
    events: Sequence[CalendarEvent],
    messages: Sequence[Message],
    dry_run: bool,
) -> UserIdentity:
    """The user, with the name their drafts are signed with: the config's, else one learned
    from the mailbox (kept in the state for later syncs; see `mailagent.core.identity`)."""
    user = account.user
    remembered = store.signed_as(account.name)
    signed = signed_as(user.name, user.addresses, events, messages, remembered)
    learned = signed.source not in (NameSource.CONFIG, NameSource.NONE)
    if learned and not dry_run and signed != remembered:
        store.set_signed_as(account.name, signed)
        log.info("account %s: drafts signed %s", account.name, signed.describe())
    return replace(user, name=signed.name)


def _invitation_skips(messages: Sequence[Message]) -> list[Skipped]:
    """The calendar parts of new mail that could not be read: the message itself was."""
    return [
        Skipped(f"message {m.id}, {problem.partition(': ')[0]}", problem.partition(": ")[2])
        for m in messages
        for problem in m.invitation_problems
    ]


def _stale_reason(skip: Skipped) -> str:
    """'feed.ics: is empty, yet it had events' from a skipped calendar read."""
    return f"{skip.item.rstrip('/').rpartition('/')[2]}: {skip.reason.partition(';')[0]}"


def _act(
    store: Store,
    account: Account,
    composer: Composer,
    the_plan: Plan,
    now: datetime,
    result: SyncResult,
) -> None:
    composed: list[tuple[CreateDraft, DraftContent]] = []
    for create in the_plan.creates:
        try:
            composed.append((create, composer.compose(create.request)))
        except MailAgentError as exc:
            log.error(
                "account %s: draft %s not composed: %s", account.name, create.request.key, exc
            )
            result.ok, result.error = False, str(exc)
    if not composed:
        return
    there = _already_in_mailbox(account, [create for create, _ in composed])
    for create, content in composed:
        _write(store, account, create, content, there.get(create.request.key), now, result)


def _already_in_mailbox(
    account: Account, creates: Sequence[CreateDraft]
) -> dict[str, DraftObservation]:
    """The planned drafts that are in the mailbox already, found by their keys: made by this
    agent before its state file was lost or replaced, or by another machine syncing the same
    mailbox. One look-up for the whole plan (drafts are rare)."""
    wanted = [KnownDraft(c.request.key, "", c.request.to.address) for c in creates]
    return {
        o.key: o
        for o in account.provider.find_drafts(wanted)
        if o.status is not DraftStatus.DELETED and not o.discarded
    }


def _write(
    store: Store,
    account: Account,
    create: CreateDraft,
    content: DraftContent,
    found: DraftObservation | None,
    now: datetime,
    result: SyncResult,
) -> None:
    """Intent (planned), then `creating` right before the provider call, then present.

    Only a failure that proves nothing was written (invalid content, `NotWritten`) forgets
    the intent; after any other the draft may exist, and a later sync settles it by its key."""
    name, request = account.name, create.request
    digest = body_digest(content.body)
    store.record_intent(
        name,
        request.key,
        request.interview.id,
        request.kind,
        request.step,
        request.to.address,
        create.draft_at,
        create.due_by,
        create.reason,
        content.subject,
        digest,
        now,
    )
    _crash_point("after-intent")
    if found is not None:
        status = _observed_status(found, digest)
        store.complete_draft(name, request.key, found.provider_id, now, status)
        log.info(
            "account %s: draft %s is in the mailbox already (%s): adopted, not written again",
            name,
            request.key,
            status.value,
        )
        return
    store.mark_writing(name, request.key, now)
    try:
        provider_id = account.provider.create_draft(content, request.key)
    except ValueError as exc:
        log.error("account %s: draft %s skipped: %s", name, request.key, exc)
        store.forget_intent(name, request.key)
        return
    except NotWritten as exc:
        store.forget_intent(name, request.key)
        raise exc.error from exc
    except Exception:
        log.warning(
            "account %s: draft %s: the write may have happened; the next sync looks it up",
            name,
            request.key,
        )
        raise
    _crash_point("after-provider-write")
    store.complete_draft(name, request.key, provider_id, now)
    _crash_point("after-complete")
    result.drafted.append(_drafted(create, content, provider_id))
    log.info(
        "account %s: drafted %s to %s (%s)",
        name,
        request.kind.value,
        request.to.address,
        create.reason,
    )


def _adopt_from_mailbox(
    store: Store, account: Account, interviews: Sequence[Interview], now: datetime
) -> int:
    """A first sync on this state (a new or lost state file, a restored backup of another
    account, a second machine): the agent's drafts already in the mailbox, found by their
    keys in Drafts and Sent, become its records, so that none is written again. Returns how
    many were found: any means the state was rebuilt where the agent had drafted before, and
    then a key found nowhere whose window has closed is settled (`PlannerState.since`)."""
    name = account.name
    known = {d.key for d in store.drafts(name)}
    candidates: dict[str, tuple[Interview, DraftKind, int, str]] = {}
    for interview in interviews:
        if interview.status is not InterviewStatus.SCHEDULED:
            continue
        for person in interview.interviewers:
            key = draft_key(interview.id, person.address, DraftKind.THANK_YOU, 0)
            candidates[key] = (interview, DraftKind.THANK_YOU, 0, person.address)
        for step in range(1, account.policy.follow_up.max + 1):
            key = draft_key(interview.id, "", DraftKind.FOLLOW_UP, step)
            candidates[key] = (interview, DraftKind.FOLLOW_UP, step, "")
        key = draft_key(interview.id, "", DraftKind.REJECTION_REPLY, 0)
        candidates[key] = (interview, DraftKind.REJECTION_REPLY, 0, "")
    wanted = [KnownDraft(k, "", c[3]) for k, c in candidates.items() if k not in known]
    if not wanted:
        return 0
    found = 0
    for observation in account.provider.find_drafts(wanted):
        if observation.status is DraftStatus.DELETED or observation.key not in candidates:
            continue
        interview, kind, step, recipient = candidates[observation.key]
        store.record_intent(
            name,
            observation.key,
            interview.id,
            kind,
            step,
            recipient,
            now,
            now,
            "found in the mailbox by its key when this state was rebuilt",
            "",
            observation.body_digest,
            now,
        )
        store.complete_draft(
            name, observation.key, observation.provider_id, now, observation.status
        )
        log.info(
            "account %s: draft %s found in the mailbox (%s): adopted",
            name,
            observation.key,
            observation.status.value,
        )
        found += 1
    return found


def _observed_status(observation: DraftObservation, digest: str) -> DraftStatus:
    """PRESENT becomes EDITED when the text differs from what the agent wrote."""
    status = observation.status
    if (
        status is DraftStatus.PRESENT
        and observation.body_digest
        and digest
        and observation.body_digest != digest
    ):
        return DraftStatus.EDITED
    return status


def _drafted(create: CreateDraft, content: DraftContent, provider_id: str) -> Drafted:
    request = create.request
    return Drafted(
        request.key,
        request.kind.value,
        request.step,
        request.interview.id,
        request.to.address,
        content.subject,
        create.draft_at,
        create.due_by,
        create.reason,
        provider_id,
    )


def _refresh_drafts(store: Store, account: Account, now: datetime, result: SyncResult) -> None:
    """Learn what became of the agent's drafts, and settle intents left by a crash, a lost
    answer or a dropped connection (see `Store`): by key, since no provider id was recorded."""
    name = account.name
    open_drafts = [d for d in store.drafts(name) if d.status in (*INTENTS, "present", "edited")]
    if not open_drafts:
        return
    known = [
        KnownDraft(d.key, "" if d.status in INTENTS else d.provider_id, d.recipient, d.created_at)
        for d in open_drafts
    ]
    seen: dict[str, DraftObservation] = {o.key: o for o in account.provider.find_drafts(known)}
    for draft in open_drafts:
        observation = seen.get(draft.key)
        if draft.status in INTENTS:
            _settle_intent(store, name, draft, observation, now, result)
            continue
        if observation is None:
            continue
        status = _observed_status(observation, draft.digest)
        if status.value != draft.status and not (
            draft.status == "edited" and status is DraftStatus.PRESENT
        ):
            store.set_draft_status(name, draft.key, status, now)
            log.info("account %s: draft %s is now %s", name, draft.key, status.value)


def _settle_intent(
    store: Store,
    name: str,
    draft: StoredDraft,
    observation: DraftObservation | None,
    now: datetime,
    result: SyncResult,
) -> None:
    found = (
        observation is not None
        and observation.status is not DraftStatus.DELETED
        and not observation.discarded
    )
    if found and observation is not None:
        status = _observed_status(observation, draft.digest)
        store.complete_draft(name, draft.key, observation.provider_id, now, status)
        log.info("account %s: draft %s was written by an earlier sync; kept", name, draft.key)
        if draft.status == CREATING:
            result.drafted.append(_stored_drafted(draft, observation.provider_id))
    elif draft.status == PLANNED or (observation is not None and observation.discarded):
        store.forget_intent(name, draft.key)  # never written: planned again
    else:
        # The write may have happened, and no draft carries the key: the user deleted it.
        # Writing it again would bring back what they threw away (issue 10, point 2).
        store.set_draft_status(name, draft.key, DraftStatus.DELETED, now)
        log.info(
            "account %s: draft %s (written, its answer lost) is not in the mailbox: "
            "taken as deleted by you, not written again",
            name,
            draft.key,
        )


def _stored_drafted(draft: StoredDraft, provider_id: str) -> Drafted:
    return Drafted(
        draft.key,
        draft.kind.value,
        draft.step,
        draft.interview_id,
        draft.recipient,
        draft.subject,
        draft.draft_at,
        draft.due_by,
        draft.reason,
        provider_id,
    )


def _overlay(
    store: Store,
    name: str,
    events: Sequence[CalendarEvent],
    replace: bool,
    messages: Sequence[Message],
) -> tuple[list[CalendarEvent], list[Message]]:
    """Stored observations with a read's changes laid over them, without writing (dry run)."""
    stored_events = {} if replace else {e.id: e for e in store.events(name)}
    stored_events.update({e.id: e for e in events})
    stored_messages = {m.id: m for m in store.messages(name)}
    stored_messages.update({m.id: m for m in messages})
    return list(stored_events.values()), sorted(stored_messages.values(), key=lambda m: m.date)
