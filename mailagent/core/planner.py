"""The planner: (stored state, observations, policy, now) -> the whole list of actions.

Design note. The planner is a pure function. It reads no clock and does no I/O; the runner
gives it `now`, what the store remembers (`PlannerState`) and what the providers saw
(`Observations`), and gets back a `Plan`: drafts to create now, drafts scheduled for later,
schedules cancelled, and notes for the decision log. The runner writes nothing before the plan is
complete. Each draft has a *key* (a hash of interview, person, kind and step), and the store
remembers every key the agent ever drafted; that is what makes the invariants below hold across
crashes, edits and deletions.

Invariants (checked by property-based tests in tests/test_planner_properties.py):
1. Never two drafts for one (interview, person, kind, step): a key in `state.drafts` is never
   planned again, whatever became of that draft (present, edited, sent, deleted).
2. Nothing is drafted before its `draft_at`; the draft's `due_by` is never before `draft_at`.
3. No follow-up after a real reply from the company (anything but an out-of-office, a bounce or
   a message that only states a time frame), nor after a rejection, an offer or a later round;
   and no follow-up before a decision date the company stated (plus the policy's grace).
4. At most `policy.follow_up.max` follow-ups per interview; follow-up n+1 only after the user
   sent follow-up n, and each follow-up waits its delay, and at least `min_spacing`, after the
   user's previous message to the company (the thank-you, the follow-up sent last or a later
   message), so two follow-ups are never closer than `min_spacing`. It goes to whoever last
   wrote on the company's side in the thread it answers.
5. The agent's own drafts never count as the user's messages: only messages in the Sent folder
   are the user's.
6. A draft goes only to an address `addresses.is_valid_address` accepts (one plain addr-spec);
   any other attendee or correspondent gets a note instead, on every provider.
7. A state that began after a draft's window closed takes it as settled (`PlannerState.since`):
   a note, never a draft.
8. While the calendar cannot be read as it is now, a draft in the first half of its window is
   held (`Observations.calendar_stale`).
9. A thank-you past its `due_within` is drafted only within the policy's `late_grace`, and its
   reason then says it is late; one found in Sent under its key is never drafted again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailagent.core.addresses import address_problem, is_valid_address
from mailagent.core.compose import placeholders
from mailagent.core.detect import UserIdentity
from mailagent.core.mailsignals import MailKind, MailReading, read_message
from mailagent.core.models import (
    DraftKind,
    DraftRequest,
    DraftStatus,
    Folder,
    Interview,
    InterviewStatus,
    Message,
    Person,
)
from mailagent.core.policy import Policy
from mailagent.core.workcal import WorkCalendar

STOP_KIND_NAMES: Mapping[MailKind, str] = {
    MailKind.REPLY: "reply",
    MailKind.REJECTION: "rejection",
    MailKind.OFFER: "offer",
    MailKind.NEXT_ROUND: "next_round",
}


MAX_INTERVIEWERS = 12
"""Thank-yous per interview at most: a panel is rarely larger, and an invitation to 10,000
people must not make 10,000 drafts (issue 10). The rest get a note instead."""

DECISION_MAIL_LOOKBACK = timedelta(days=30)
"""How long before an interview a stated decision date still counts (an invitation may say it)."""


def draft_key(interview_id: str, person: str, kind: DraftKind, step: int) -> str:
    """The idempotency key of a draft: opaque, stable, and free of anything private."""
    raw = f"{interview_id}|{person.lower()}|{kind.value}|{step}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class DraftRecord:
    """What the store remembers of a draft the agent made."""

    key: str
    interview_id: str
    kind: DraftKind
    step: int
    recipient: str
    created_at: datetime
    status: DraftStatus = DraftStatus.PRESENT


@dataclass(frozen=True, slots=True)
class PlannerState:
    drafts: Mapping[str, DraftRecord] = field(default_factory=dict)
    scheduled: frozenset[str] = frozenset()
    """Keys the previous plan scheduled and did not draft yet."""
    since: datetime | None = None
    """When this state began, if it was rebuilt from a mailbox the agent had drafted in before
    (a lost or replaced state file; None for a first install). A draft whose window closed before then
    is taken as settled: the user may have sent or deleted it, and nothing in the mailbox
    says which (issue 10, point 3). A first install drafts what is still due, late or not."""


@dataclass(frozen=True, slots=True)
class Observations:
    user: UserIdentity
    interviews: Sequence[Interview]
    messages: Sequence[Message]
    timezone: str
    calendar_stale: str = ""
    """Why the calendar could not be read as it is now (empty: it was). The interviews are
    then the stored ones and may be out of date (cancelled, moved since), so a draft in the
    first half of its window waits for a sync that reads the calendar; later in its window it
    is drafted from the stored events, since a draft the user can discard is better than a
    thank-you that comes too late (issue 10, point 5)."""


@dataclass(frozen=True, slots=True)
class CreateDraft:
    request: DraftRequest
    draft_at: datetime
    due_by: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Schedule:
    key: str
    interview_id: str
    kind: DraftKind
    step: int
    recipient: str
    draft_at: datetime
    due_by: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Cancel:
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Note:
    """A decision worth remembering for `explain` (topic is the de-duplication key)."""

    interview_id: str
    topic: str
    text: str
    about: str = ""
    """The interview it is about, as people know it (`interview_label`): a note printed
    alone, in a log line or a sync's output, must say which interview it concerns."""


Action = CreateDraft | Schedule | Cancel | Note


@dataclass(frozen=True, slots=True)
class Plan:
    actions: tuple[Action, ...]

    @property
    def creates(self) -> list[CreateDraft]:
        return [a for a in self.actions if isinstance(a, CreateDraft)]

    @property
    def schedules(self) -> list[Schedule]:
        return [a for a in self.actions if isinstance(a, Schedule)]

    @property
    def cancels(self) -> list[Cancel]:
        return [a for a in self.actions if isinstance(a, Cancel)]

    @property
    def notes(self) -> list[Note]:
        return [a for a in self.actions if isinstance(a, Note)]


@dataclass(frozen=True, slots=True)
class _Mail:
    """A message with its reading, computed once per plan."""

    message: Message
    reading: MailReading


def plan(state: PlannerState, observed: Observations, policy: Policy, now: datetime) -> Plan:
    state = _with_aliases(state, observed.interviews)
    calendar = policy.work_calendar(ZoneInfo(observed.timezone))
    sent, inbox = _relevant_mail(observed)
    user = observed.user
    actions: list[Action] = []
    interviews = sorted(observed.interviews, key=lambda i: (i.start, i.id))
    rejection_replied_companies: set[tuple[str, ...]] = set()
    for interview in interviews:
        if interview.status is not InterviewStatus.SCHEDULED:
            actions.append(
                Note(interview.id, "status", f"interview {interview.status.value}: no drafts")
            )
            continue
        context = _InterviewContext(interview, interviews, sent, inbox, user, observed.timezone)
        actions.extend(_thank_you(context, state, policy, calendar, now))
        actions.extend(
            _rejection_reply(context, state, policy, calendar, now, rejection_replied_companies)
        )
        actions.extend(_follow_up(context, state, policy, calendar, now))
    actions.extend(_unfilled_notes(state, observed))
    if state.since is not None:
        actions = [_settled_before(a, state.since, observed.timezone) for a in actions]
    if observed.calendar_stale:
        actions = [_held(a, observed.calendar_stale, now) for a in actions]
    labels = {i.id: interview_label(i) for i in interviews}
    actions = [
        Note(a.interview_id, a.topic, a.text, labels.get(a.interview_id, ""))
        if isinstance(a, Note)
        else a
        for a in actions
    ]
    planned = {a.key for a in actions if isinstance(a, Schedule)} | {
        a.request.key for a in actions if isinstance(a, CreateDraft)
    }
    for key in sorted(state.scheduled - planned):
        if key not in state.drafts:
            actions.append(
                Cancel(key, "no longer due: the interview or the mail it depended on changed")
            )
    return Plan(tuple(actions))


def unfilled_in_sent(
    drafts: Mapping[str, DraftRecord], messages: Sequence[Message]
) -> dict[str, tuple[str, ...]]:
    """The agent's drafts that the user sent with a spot still to fill in them (a template's
    "[Mention ...]", see `compose.placeholders`), by key, with those spots."""
    found: dict[str, tuple[str, ...]] = {}
    for message in messages:
        key = message.agent_key
        if message.folder is Folder.SENT and key in drafts:
            spots = placeholders(message.snippet)
            if spots:
                found[key] = spots
    return found


def _unfilled_notes(state: PlannerState, observed: Observations) -> list[Note]:
    notes = []
    for key, spots in unfilled_in_sent(state.drafts, observed.messages).items():
        record = state.drafts[key]
        what = record.kind.value.replace("_", "-") + (f" {record.step}" if record.step else "")
        spot = spots[0] if len(spots[0]) <= 60 else spots[0][:56] + "...]"
        notes.append(
            Note(
                record.interview_id,
                f"unfilled:{key}",
                f"you sent the {what} to {record.recipient} with a spot still to fill: "
                f'"{spot}"' + (f" and {len(spots) - 1} more" if len(spots) > 1 else ""),
            )
        )
    return notes


def interview_label(interview: Interview) -> str:
    """How a person knows an interview: its title, and the company when the title does not
    name it ("Phone screen at Globex", "Umbrella hiring manager interview")."""
    title = " ".join(interview.title.split()) or "(untitled)"
    company = interview.company
    if company and company.casefold() not in title.casefold():
        return f"{title} at {company}"
    return title


def _settled_before(action: Action, since: datetime, timezone: str) -> Action:
    """A draft due before the state began becomes a note (see `PlannerState.since`)."""
    if not isinstance(action, CreateDraft) or action.due_by >= since:
        return action
    request = action.request
    return Note(
        request.interview.id,
        f"settled:{request.key}",
        f"{request.kind.value.replace('_', '-')} to {_who(request.to)} not drafted: it was due "
        f"by {_local(action.due_by, timezone)}, before this state began "
        f"({_local(since, timezone)}, rebuilt from your mailbox); you may have sent or "
        "deleted it already",
    )


def _held(action: Action, why: str, now: datetime) -> Action:
    """A draft due now waits for a good calendar read while less than half its window has
    passed (see `Observations.calendar_stale`)."""
    if not isinstance(action, CreateDraft):
        return action
    if now >= action.draft_at + (action.due_by - action.draft_at) / 2:
        return action
    request = action.request
    return Note(
        request.interview.id,
        f"held:{request.key}",
        f"{request.kind.value.replace('_', '-')} to {_who(request.to)} held: the calendar "
        f"could not be read as it is now ({why}); drafted at the next sync that reads it, "
        f"or from the stored events once half its window has passed",
    )


def _with_aliases(state: PlannerState, interviews: Sequence[Interview]) -> PlannerState:
    """`state` where a draft recorded under an interview's former id (`Interview.aliases`) is
    also found under the key the interview's id gives it now, so it is never planned again."""
    renamed = {alias: i.id for i in interviews for alias in i.aliases if alias != i.id}
    if not renamed:
        return state
    drafts = dict(state.drafts)
    for record in state.drafts.values():
        interview_id = renamed.get(record.interview_id)
        if interview_id is None:
            continue
        person = record.recipient if record.kind is DraftKind.THANK_YOU else ""
        drafts.setdefault(draft_key(interview_id, person, record.kind, record.step), record)
    return replace(state, drafts=drafts)


def _relevant_mail(observed: Observations) -> tuple[list[Message], list[_Mail]]:
    """The user's sent mail to any interview's company, and inbox mail from such a company or
    answering such sent mail, read once. Everything else in the mailbox cannot affect a plan, so
    it is neither classified nor scanned again for every interview."""
    domains = {d for i in observed.interviews for d in i.company_domains}
    people = {p.address for i in observed.interviews for p in i.interviewers}

    def company_side(address: str) -> bool:
        address = address.lower()
        return address in people or address.rpartition("@")[2] in domains

    sent = sorted(
        (
            m
            for m in observed.messages
            if m.folder is Folder.SENT and any(company_side(p.address) for p in m.recipients)
        ),
        key=lambda m: m.date,
    )
    sent_ids = {m.message_id for m in sent}
    inbox = [
        _Mail(m, read_message(m))
        for m in sorted(observed.messages, key=lambda m: m.date)
        if m.folder is Folder.INBOX
        and (company_side(m.sender.address) or bool(sent_ids & {m.in_reply_to, *m.references}))
    ]
    return sent, inbox


@dataclass(frozen=True, slots=True)
class _InterviewContext:
    interview: Interview
    all_interviews: Sequence[Interview]
    sent: Sequence[Message]
    """The user's mail to some interview's company, oldest first."""
    inbox: Sequence[_Mail]
    """Mail from some interview's company or answering the user, oldest first."""
    user: UserIdentity
    timezone: str

    def is_company(self, address: str) -> bool:
        address = address.lower()
        domain = address.rpartition("@")[2]
        return domain in self.interview.company_domains or any(
            p.address == address for p in self.interview.interviewers
        )

    def user_messages_to_company(self, since: datetime) -> list[Message]:
        """The user's sent mail to the company since `since`, oldest first."""
        return [
            m
            for m in self.sent
            if m.date >= since and any(self.is_company(p.address) for p in m.recipients)
        ]

    def company_mail(self, since: datetime) -> list[_Mail]:
        """Inbox mail from the company, or answering the user's mail to the company."""
        ours = {m.message_id for m in self.user_messages_to_company(since - DECISION_MAIL_LOOKBACK)}
        return [
            m
            for m in self.inbox
            if m.message.date >= since
            and not self.user.is_user(m.message.sender.address)
            and (
                self.is_company(m.message.sender.address)
                or bool(ours & {m.message.in_reply_to, *m.message.references})
            )
        ]

    def later_round(self) -> Interview | None:
        domains = set(self.interview.company_domains)
        for other in self.all_interviews:
            if (
                other.id != self.interview.id
                and other.status is InterviewStatus.SCHEDULED
                and other.start >= self.interview.end
                and domains & set(other.company_domains)
            ):
                return other
        return None


def _thank_you(
    ctx: _InterviewContext,
    state: PlannerState,
    policy: Policy,
    calendar: WorkCalendar,
    now: datetime,
) -> list[Action]:
    rule = policy.thank_you
    interview = ctx.interview
    if not rule.enabled:
        return []
    people = (
        list(interview.interviewers) if rule.per_interviewer else list(interview.interviewers[:1])
    )
    if not people:
        return [
            Note(interview.id, "thank_you", "no interviewer address known: no thank-you drafted")
        ]
    actions: list[Action] = []
    if len(people) > MAX_INTERVIEWERS:
        actions.append(_too_many_interviewers(interview, people))
        people = people[:MAX_INTERVIEWERS]
    draft_at = rule.draft_after.add_to(interview.end, calendar)
    deadline = rule.due_within.add_to(interview.end, calendar)
    late_until = max(deadline, rule.late_grace.add_to(interview.end, calendar))
    due_by = calendar.last_working_moment_at_or_before(deadline, not_before=draft_at).astimezone(
        calendar.tz
    )  # shown in the user's zone
    sent = ctx.user_messages_to_company(interview.start)
    for person in people:
        key = draft_key(interview.id, person.address, DraftKind.THANK_YOU, 0)
        if key in state.drafts:
            continue
        if unusable := _unusable_recipient(interview, "thank-you", person):
            actions.append(unusable)
            continue
        own = next((m for m in sent if m.agent_key == key), None)
        if own is not None:  # a state that lost its record; never a second thank-you
            actions.append(
                Note(
                    interview.id,
                    f"thanked:{person.address}",
                    f"thank-you to {_who(person)} already sent on "
                    f"{_local(own.date, ctx.timezone)}: no other",
                )
            )
            continue
        thanked = next(
            (m for m in sent if any(p.address == person.address for p in m.recipients)), None
        )
        if thanked and rule.skip_if_already_thanked:
            actions.append(
                Note(
                    interview.id,
                    f"thanked:{person.address}",
                    f"{_who(person)} already thanked by you on {_local(thanked.date, ctx.timezone)} "
                    f'("{thanked.subject}"): no draft',
                )
            )
            continue
        late = ""
        if now > deadline:
            if now > late_until:  # the text stays the same from sync to sync: logged once
                actions.append(
                    Note(
                        interview.id,
                        f"late:{person.address}",
                        f"thank-you to {_who(person)} not drafted: the interview ended "
                        f"{_local(interview.end, ctx.timezone)}; thank-you notes are due within "
                        f"{rule.due_within}, and a late one is drafted only up to "
                        f"{rule.late_grace} after the interview (thank_you.late_grace), until "
                        f"{_local(late_until, ctx.timezone)}",
                    )
                )
                continue
            late = (
                f"late: the interview ended {_hours_between(interview.end, now)} h ago; "
                f"thank-you notes are due within {rule.due_within}; "
            )
        reason = late + (
            f"thank-you to {_who(person)}: drafted {rule.draft_after} after the interview ended "
            f"({_local(interview.end, ctx.timezone)}), due within {rule.due_within}"
        )
        actions.append(
            _draft_or_schedule(
                DraftRequest(
                    key,
                    DraftKind.THANK_YOU,
                    0,
                    interview,
                    person,
                    ctx.user.primary,
                    ctx.timezone,
                    language=policy.draft_language(interview.language),
                ),
                draft_at,
                due_by,
                reason,
                now,
                policy,
                calendar,
            )
        )
    return actions


def _too_many_interviewers(interview: Interview, people: Sequence[Person]) -> Note:
    rest = people[MAX_INTERVIEWERS:]
    shown = ", ".join(p.address for p in rest[:3]) + (", ..." if len(rest) > 3 else "")
    return Note(
        interview.id,
        "too_many_interviewers",
        f"{len(people)} interviewers: thank-yous drafted for the first {MAX_INTERVIEWERS} only, "
        f"not for the {len(rest)} others ({shown})",
    )


def _rejection(ctx: _InterviewContext) -> _Mail | None:
    """The company's rejection after this interview, unless it came after a later round
    began (it is that round's)."""
    rejection = next(
        (m for m in ctx.company_mail(ctx.interview.start) if m.reading.kind is MailKind.REJECTION),
        None,
    )
    if rejection is None:
        return None
    later = ctx.later_round()
    if later is not None and later.start <= rejection.message.date:
        return None
    return rejection


def rejections(observed: Observations) -> dict[str, Message]:
    """The interviews the company turned the user down after, by id, with the rejection
    (the mail the planner answers with a rejection reply); for `status`."""
    sent, inbox = _relevant_mail(observed)
    found: dict[str, Message] = {}
    for interview in observed.interviews:
        if interview.status is not InterviewStatus.SCHEDULED:
            continue
        ctx = _InterviewContext(
            interview, observed.interviews, sent, inbox, observed.user, observed.timezone
        )
        rejection = _rejection(ctx)
        if rejection is not None:
            found[interview.id] = rejection.message
    return found


def _rejection_reply(
    ctx: _InterviewContext,
    state: PlannerState,
    policy: Policy,
    calendar: WorkCalendar,
    now: datetime,
    replied_companies: set[tuple[str, ...]],
) -> list[Action]:
    interview = ctx.interview
    rejection = _rejection(ctx)
    if rejection is None:
        return []
    company = tuple(sorted(interview.company_domains))
    if company in replied_companies:
        return []
    replied_companies.add(company)
    rule = policy.rejection_reply
    note = Note(
        interview.id,
        "rejection",
        f"rejection received {_local(rejection.message.date, ctx.timezone)}: "
        f"{'; '.join(rejection.reading.evidence) or 'classified as a rejection'}",
    )
    if not rule.enabled:
        return [note]
    sender = rejection.message.sender
    key = draft_key(interview.id, "", DraftKind.REJECTION_REPLY, 0)
    if key in state.drafts:
        return [note]
    if unusable := _unusable_recipient(interview, "rejection reply", sender):
        return [note, unusable]
    answered = [
        m
        for m in ctx.user_messages_to_company(rejection.message.date)
        if m.date > rejection.message.date
    ]
    if answered:
        return [
            note,
            Note(interview.id, "rejection_reply", "you already answered the rejection: no draft"),
        ]
    draft_at = rule.draft_after.add_to(rejection.message.date, calendar)
    reason = f"gracious reply to the rejection from {_who(sender)}, asking for feedback"
    request = DraftRequest(
        key,
        DraftKind.REJECTION_REPLY,
        0,
        interview,
        sender,
        ctx.user.primary,
        ctx.timezone,
        reply_to=rejection.message,
        language=policy.draft_language(interview.language),
    )
    due_by = calendar.add_business_days(draft_at, 1)
    return [note, _draft_or_schedule(request, draft_at, due_by, reason, now, policy, calendar)]


def _follow_up(  # noqa: PLR0915 - one rule per paragraph, top to bottom
    ctx: _InterviewContext,
    state: PlannerState,
    policy: Policy,
    calendar: WorkCalendar,
    now: datetime,
) -> list[Action]:
    rule = policy.follow_up
    interview = ctx.interview
    if not rule.enabled or rule.max == 0:
        return []
    topic = "follow_up"
    later = ctx.later_round()
    if later is not None:
        return [
            Note(
                interview.id,
                topic,
                f"follow-ups stopped: a later round is on the calendar ({later.title})",
            )
        ]
    decision_by: datetime | None = None
    back_on: datetime | None = None
    decision_phrase = ""
    for mail in ctx.company_mail(interview.start - DECISION_MAIL_LOOKBACK):
        kind = mail.reading.kind
        after_interview = mail.message.date >= interview.start
        if after_interview and STOP_KIND_NAMES.get(kind) in rule.stop_on:
            return [
                Note(
                    interview.id,
                    topic,
                    f"follow-ups stopped: {kind.value.replace('_', ' ')} from {_who(mail.message.sender)} on "
                    f"{_local(mail.message.date, ctx.timezone)}",
                )
            ]
        if mail.reading.decision_by and (
            decision_by is None or mail.reading.decision_by > decision_by
        ):
            decision_by = mail.reading.decision_by
            decision_phrase = f"{_who(mail.message.sender)} said they would decide by {_local(decision_by, ctx.timezone)}"
        if kind is MailKind.AUTO_REPLY and mail.reading.back_on and after_interview:
            back_on = max(back_on or mail.reading.back_on, mail.reading.back_on)

    sent = ctx.user_messages_to_company(interview.start)
    if not sent:
        if now < interview.end:
            return []
        return [
            Note(
                interview.id,
                topic,
                "no follow-up: you have not written to the company since the interview",
            )
        ]
    follow_up_keys = {
        draft_key(interview.id, "", DraftKind.FOLLOW_UP, n): n for n in range(1, rule.max + 1)
    }
    follow_up_keys.update(
        {r.key: r.step for k, r in state.drafts.items() if k in follow_up_keys and r.key != k}
    )  # drafts recorded under a former interview id carry their former key
    reply_to = _thread_to_follow(sent, ctx)
    previous_sent_at: datetime | None = None
    for step in range(1, rule.max + 1):
        key = draft_key(interview.id, "", DraftKind.FOLLOW_UP, step)
        record = state.drafts.get(key)
        if record is not None:
            if record.status is DraftStatus.DELETED:
                return [
                    Note(interview.id, topic, f"follow-ups stopped: you deleted follow-up {step}")
                ]
            if record.status is not DraftStatus.SENT:
                return [
                    Note(
                        interview.id,
                        topic,
                        f"waiting for you to send follow-up {step} "
                        f"(to {record.recipient}) before the next",
                    )
                ]
            sent_copy = next((m for m in sent if m.agent_key in (key, record.key)), None)
            previous_sent_at = sent_copy.date if sent_copy else record.created_at
            continue
        last_at, last_what = _previous_message(sent, follow_up_keys, step, previous_sent_at)
        last = f"{last_what} ({_local(last_at, ctx.timezone)})"
        delay = rule.delay_for_step(step)
        draft_at = delay.add_to(last_at, calendar)
        reasons = [f"{delay} after {last}"]
        spaced = rule.min_spacing.add_to(last_at, calendar)
        if spaced > draft_at:
            draft_at = spaced
            reasons = [f"{rule.min_spacing} after {last}, the policy's min_spacing"]
        if rule.respect_decision_date and decision_by is not None:
            after_decision = calendar.next_working_moment(
                rule.after_decision_date.add_to(calendar.next_working_moment(decision_by), calendar)
            )
            if after_decision > draft_at:
                draft_at = after_decision
                reasons = [f"{decision_phrase}; waiting {rule.after_decision_date} past it"]
        if rule.snooze_on_auto_reply and back_on is not None and back_on > draft_at:
            draft_at = back_on
            reasons = [f"an out-of-office said they are back on {_local(back_on, ctx.timezone)}"]
        due_by = calendar.add_business_days(draft_at, 1)
        usable = [p for p in reply_to.to if is_valid_address(p.address)]
        recipient = _last_company_writer(reply_to, ctx) or next(
            (p for p in usable if ctx.is_company(p.address)), usable[0] if usable else None
        )
        if recipient is None:
            unusable = [_unusable_recipient(interview, "follow-up", p) for p in reply_to.to[:1]]
            return [n for n in unusable if n is not None]
        request = DraftRequest(
            key,
            DraftKind.FOLLOW_UP,
            step,
            interview,
            recipient,
            ctx.user.primary,
            ctx.timezone,
            reply_to=reply_to,
            language=policy.draft_language(interview.language),
        )
        reason = (
            f"follow-up {step} of {rule.max} to {_who(recipient)}, in your thread: "
            + "; ".join(reasons)
        )
        action = _draft_or_schedule(request, draft_at, due_by, reason, now, policy, calendar)
        when = _local(action.draft_at, ctx.timezone)
        return [
            Note(
                interview.id,
                topic,
                f"follow-up {step} to {_who(recipient)} planned for {when}: " + "; ".join(reasons),
            ),
            action,
        ]
    return []


def _previous_message(
    sent: Sequence[Message],
    follow_up_keys: Mapping[str, int],
    step: int,
    previous_sent_at: datetime | None,
) -> tuple[datetime, str]:
    """When the user last wrote to the company, and what that was: the thank-you, a sent
    follow-up or any later message, whichever is latest. Follow-up `step` counts its wait from
    there. `previous_sent_at` is when follow-up `step - 1` was sent (when it was drafted, if
    its sent copy is out of sight)."""
    latest = sent[-1]
    if previous_sent_at is not None and previous_sent_at > latest.date:
        return previous_sent_at, f"your follow-up {step - 1}"
    number = follow_up_keys.get(latest.agent_key) if latest.agent_key else None
    return latest.date, f"your follow-up {number}" if number else "your last message"


def _last_company_writer(thread: Message, ctx: _InterviewContext) -> Person | None:
    """Who last wrote on the company's side in `thread` (the user's message a follow-up
    answers): a recruiter who answered the thank-you, say. Out-of-office replies and bounces
    are not people writing; None when nobody on the company's side wrote in it."""
    ids = {thread.message_id, thread.in_reply_to, *thread.references} - {""}
    writers = [
        m.message.sender
        for m in ctx.company_mail(ctx.interview.start - DECISION_MAIL_LOOKBACK)
        if m.reading.kind not in (MailKind.AUTO_REPLY, MailKind.BOUNCE)
        and ctx.is_company(m.message.sender.address)
        and is_valid_address(m.message.sender.address)
        and (
            m.message.message_id in ids
            or bool(ids & {m.message.in_reply_to, *m.message.references})
            or (bool(thread.thread_id) and m.message.thread_id == thread.thread_id)
        )
    ]
    return writers[-1] if writers else None


def _thread_to_follow(sent: Sequence[Message], ctx: _InterviewContext) -> Message:
    """The user's latest message to the company; among several sent together (one note per
    panellist), the one to the person who last wrote back, else the first interviewer."""
    latest = sent[-1].date
    candidates = [m for m in sent if latest - m.date <= timedelta(hours=1)]
    humans = [
        m.message.sender.address
        for m in ctx.company_mail(ctx.interview.start)
        if m.reading.kind not in (MailKind.AUTO_REPLY, MailKind.BOUNCE)
    ]
    order = [*reversed(humans), *(p.address for p in ctx.interview.interviewers)]
    for address in order:
        for message in reversed(candidates):
            if any(p.address == address for p in message.to):
                return message
    return sent[-1]


def _draft_or_schedule(
    request: DraftRequest,
    draft_at: datetime,
    due_by: datetime,
    reason: str,
    now: datetime,
    policy: Policy,
    calendar: WorkCalendar,
) -> CreateDraft | Schedule:
    if policy.draft_in_working_hours:
        held = calendar.next_working_moment(draft_at)
        if held != draft_at:
            reason += "; held until working hours"
        draft_at = held
    due_by = max(due_by, draft_at)
    if draft_at <= now:
        return CreateDraft(request, draft_at, due_by, reason)
    return Schedule(
        request.key,
        request.interview.id,
        request.kind,
        request.step,
        request.to.address,
        draft_at,
        due_by,
        reason,
    )


def _unusable_recipient(interview: Interview, what: str, person: Person) -> Note | None:
    """A note instead of a draft when `person`'s address is not one a draft may go to
    (an attendee "a@x.com, b@y.com", a header with a line break in it): `addresses`, the one
    check for every provider. The address is quoted with repr, so no line break reaches a log."""
    problem = address_problem(person.address)
    if not problem:
        return None
    return Note(
        interview.id,
        f"unusable:{what}:{person.address[:80]!r}",
        f"no {what} drafted to {person.address[:80]!r}: {problem}",
    )


def _hours_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 3600)


def _who(person: Person) -> str:
    return f"{person.name} <{person.address}>" if person.name else person.address


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M")
