"""What `mailagent status` shows: per account, each interview as a person knows it (title,
company, role, when, upcoming or past or rejected), the drafts made for it and what became of
them, what is overdue, and how the last sync went.

`gather` reads one account from the store (shell); `to_json` and `render` are plain
functions of what it read and `now`. Times are shown in the account's time zone (its
`timezone` in the config), and the text is wrapped to fit a terminal of 80 columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailagent import serialize
from mailagent.config import AccountConfig
from mailagent.core.compose import clean_text
from mailagent.core.identity import SignedAs, as_kept
from mailagent.core.models import Interview, InterviewStatus, Message
from mailagent.core.planner import Observations, Schedule, rejections, unfilled_in_sent
from mailagent.store import INTENTS, LastSync, Store, StoredDraft
from mailagent.textlines import WIDTH, fit
from mailagent.wiring import user_identity

"""Columns the text fits in: the classic terminal, and what `status` is tested at."""

WAITING = (*INTENTS, "present", "edited")
"""Draft statuses that mean the draft is (or is about to be) in Drafts, waiting for the user."""

DRAFT_STATES = {
    "planned": "being written",
    "creating": "being written",
    "present": "in Drafts",
    "edited": "in Drafts, edited by you",
    "sent": "sent",
    "deleted": "deleted by you",
}


@dataclass(frozen=True)
class AccountView:
    """One account as the store knows it."""

    name: str
    address: str
    timezone: str
    interviews: Sequence[Interview]
    drafts: Sequence[StoredDraft]
    schedules: Sequence[Schedule]
    problem: tuple[str, str] | None
    last_sync: LastSync | None
    synced_before: bool
    """Whether the state has a cursor for the account (a sync read it, maybe before the
    outcome of syncs was kept)."""
    rejected: dict[str, Message]
    unfilled: dict[str, tuple[str, ...]]
    """Drafts the user sent with a spot still to fill, by key (`planner.unfilled_in_sent`)."""
    signed: SignedAs | None = None
    """The name the drafts are signed with; None when no sync has learned it yet."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def gather(store: Store, account: AccountConfig) -> AccountView:
    name = account.name
    interviews = store.interviews(name)
    messages = store.messages(name)
    observed = Observations(user_identity(account), interviews, messages, account.timezone)
    drafts = store.drafts(name)
    return AccountView(
        name=name,
        address=account.address,
        timezone=account.timezone,
        interviews=interviews,
        drafts=drafts,
        schedules=store.schedules(name),
        problem=store.problem(name),
        last_sync=store.last_sync(name),
        synced_before=store.cursor(name) is not None,
        rejected=rejections(observed),
        unfilled=unfilled_in_sent({d.key: d.record() for d in drafts}, messages),
        signed=_signed(store, account),
    )


def _signed(store: Store, account: AccountConfig) -> SignedAs | None:
    signed = as_kept(account.user_name, store.signed_as(account.name))
    if not signed.name and store.cursor(account.name) is None:
        return None  # nothing synced yet: nothing learned, and nothing to say
    return signed


def interview_state(view: AccountView, interview: Interview, now: datetime) -> str:
    """cancelled, declined (by the user), rejected (by the company), past, now or upcoming."""
    if interview.status is InterviewStatus.CANCELLED:
        return "cancelled"
    if interview.status is InterviewStatus.DECLINED:
        return "declined"
    if interview.id in view.rejected:
        return "rejected"
    if interview.end <= now:
        return "past"
    return "now" if interview.start <= now else "upcoming"


def draft_overdue(draft: StoredDraft, now: datetime) -> bool:
    """Waiting for the user (in Drafts, not sent) past the time it was due by."""
    return draft.status in WAITING and draft.due_by < now


def schedule_overdue(schedule: Schedule, now: datetime) -> bool:
    """Due to be drafted and not yet written: no sync ran since its time came."""
    return schedule.draft_at <= now


# -- JSON ----------------------------------------------------------------------------------------


def to_json(view: AccountView, now: datetime) -> dict[str, Any]:
    zone = view.zone

    def at(moment: datetime) -> str:
        return moment.astimezone(zone).isoformat()

    last = view.last_sync
    return {
        "account": view.name,
        "address": view.address,
        "timezone": view.timezone,
        "as_of": at(now),
        "problem": view.problem[0] if view.problem else "",
        "advice": view.problem[1] if view.problem else "",
        "signed_as": view.signed.to_json() if view.signed else None,
        "last_sync": None
        if last is None
        else {"at": at(last.at), "ok": last.ok, "error": last.error, "advice": last.advice},
        "interviews": [
            {
                "id": i.id,
                "title": i.title,
                "start": at(i.start),
                "end": at(i.end),
                "company": i.company,
                "role": i.role,
                "round": i.round_label,
                "status": i.status.value,
                "state": interview_state(view, i, now),
                "rejected_at": at(view.rejected[i.id].date) if i.id in view.rejected else None,
                "interviewers": [p.address for p in i.interviewers],
            }
            for i in view.interviews
        ],
        "drafts": [
            {
                "key": d.key,
                "interview": d.interview_id,
                "kind": d.kind.value,
                "step": d.step,
                "to": d.recipient,
                "status": d.status,
                "subject": d.subject,
                "due_by": at(d.due_by),
                "overdue": draft_overdue(d, now),
                "unfilled": list(view.unfilled.get(d.key, ())),
            }
            for d in view.drafts
        ],
        "scheduled": [
            dict(
                serialize.to_plain(
                    {
                        "key": s.key,
                        "interview": s.interview_id,
                        "kind": s.kind,
                        "step": s.step,
                        "to": s.recipient,
                        "reason": s.reason,
                    }
                ),
                draft_at=at(s.draft_at),
                due_by=at(s.due_by),
                overdue=schedule_overdue(s, now),
            )
            for s in view.schedules
        ],
    }


# -- text ----------------------------------------------------------------------------------------


@dataclass
class Page:
    """Lines being written for one account: wrapped, printable, times in its zone."""

    zone: ZoneInfo
    width: int
    lines: list[str]

    def say(self, text: str, indent: int = 0) -> None:
        self.lines.extend(fit(clean_text(text, limit=2000), indent, width=self.width))

    def when(self, moment: datetime) -> str:
        return f"{moment.astimezone(self.zone):%a %Y-%m-%d %H:%M}"


def render(view: AccountView, now: datetime, width: int = WIDTH) -> list[str]:
    """The account as lines of at most `width` characters (untrusted text made printable)."""
    page = Page(view.zone, width, [])
    say, when = page.say, page.when
    say(f"{view.name} <{view.address}>: as of {when(now)}, times in {view.timezone}")
    last = view.last_sync
    if last is None and not view.synced_before:
        say("nothing synced yet: run `mailagent sync` first", 2)
    elif last is None:
        say("last sync: its outcome was not kept (an older mailagent ran it)", 2)
    elif last.ok:
        say(f"last sync {when(last.at)} succeeded", 2)
    else:
        say(f"last sync {when(last.at)} failed: {last.error}", 2)
        if last.advice:
            say(f"fix: {last.advice}", 4)
    if view.signed is not None:
        say(f"drafts signed {view.signed.describe()}", 2)
    if view.problem:
        say(f"needs you: {view.problem[0]}", 2)
        if view.problem[1]:
            say(f"fix: {view.problem[1]}", 4)
    if not view.interviews and view.synced_before:
        say("no interviews found in the calendar", 2)
    due_unwritten = False
    known = {i.id for i in view.interviews}
    for interview in view.interviews:
        page.lines.append("")
        due_unwritten |= _render_interview(page, view, interview, now)
    orphans = [d for d in view.drafts if d.interview_id not in known]
    if orphans:
        page.lines.append("")
        say("drafts of interviews no longer in the calendar")
        for draft in orphans:
            _render_draft(page, view, draft, now)
    if due_unwritten:
        page.lines.append("")
        say("A draft marked OVERDUE and not yet drafted is due: run `mailagent sync`.")
    return page.lines


def _render_interview(page: Page, view: AccountView, interview: Interview, now: datetime) -> bool:
    """Says one interview and its drafts; returns whether a draft is due and not written."""
    say, when = page.say, page.when
    state = interview_state(view, interview, now)
    if state == "rejected":
        state += f" {view.rejected[interview.id].date.astimezone(view.zone):%a %Y-%m-%d}"
    say(f"{interview.title or '(untitled)'} [{state}]")
    say(f"{interview.company or 'company unknown'}, {interview.role or 'role unknown'}", 2)
    end = interview.end.astimezone(view.zone)
    say(f"{when(interview.start)}-{end:%H:%M} ({interview.id})", 2)
    people = ", ".join(
        f"{p.name} <{p.address}>" if p.name else p.address for p in interview.interviewers
    )
    say(f"with {people or 'no interviewer known'}", 2)
    for draft in (d for d in view.drafts if d.interview_id == interview.id):
        _render_draft(page, view, draft, now)
    due_unwritten = False
    for schedule in (s for s in view.schedules if s.interview_id == interview.id):
        what = _what(schedule.kind.value, schedule.step, schedule.recipient)
        if schedule_overdue(schedule, now):
            due_unwritten = True
            say(f"{what}: not yet drafted, OVERDUE", 2)
            say(f"due to be drafted {when(schedule.draft_at)}: run `mailagent sync`", 6)
        else:
            say(f"{what}: scheduled", 2)
            say(f"to be drafted {when(schedule.draft_at)}, send by {when(schedule.due_by)}", 6)
    return due_unwritten


def _render_draft(page: Page, view: AccountView, draft: StoredDraft, now: datetime) -> None:
    say, when = page.say, page.when
    what = _what(draft.kind.value, draft.step, draft.recipient)
    state = DRAFT_STATES.get(draft.status, draft.status)
    if draft_overdue(draft, now):
        say(f"{what}: {state}, OVERDUE", 2)
        say(f"send by {when(draft.due_by)} has passed: send it or delete it", 6)
    elif draft.status in WAITING:
        say(f"{what}: {state}", 2)
        say(f"send by {when(draft.due_by)}", 6)
    else:
        say(f"{what}: {state}", 2)
    spots = view.unfilled.get(draft.key, ())
    if spots:
        say(f"WARNING: it went out with a spot still to fill: {spots[0]}", 6)


def _what(kind: str, step: int, recipient: str) -> str:
    label = kind.replace("_", "-") + (f" {step}" if step else "")
    return f"{label} to {recipient}"
