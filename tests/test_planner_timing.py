"""The planner's timing rules through `plan` itself (issue 11, points 17 and 18):

- each follow-up waits its delay after the user's previous message in the thread (a sent
  follow-up or the thank-you, whichever is latest), never less than `min_spacing`, on business
  days where the policy counts them, and goes to whoever last wrote on the company's side;
- a thank-you first seen after its window is still drafted, marked late, within
  `thank_you.late_grace`; beyond it, a note says why not.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailagent.core.detect import UserIdentity
from mailagent.core.models import (
    AGENT_KEY_HEADER,
    DraftKind,
    DraftStatus,
    Folder,
    Interview,
    Message,
    Person,
)
from mailagent.core.planner import (
    DraftRecord,
    Observations,
    Plan,
    PlannerState,
    draft_key,
    plan,
)
from mailagent.core.policy import Policy, check_policy_file, load_policy

NEW_YORK = ZoneInfo("America/New_York")
USER = UserIdentity("alex@example.com", "Alex Kim")
ANN = Person("Ann Interviewer", "ann@acme.com")
ROB = Person("Rob Recruiter", "rob@acme.com")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def interview(start: str, hours: int = 1, people: tuple[Person, ...] = (ANN,)) -> Interview:
    begin = at(start)
    return Interview(
        id="iv-acme",
        event_id="ev-acme",
        title="Acme onsite",
        start=begin,
        end=begin + timedelta(hours=hours),
        company="Acme",
        company_domains=("acme.com",),
        role="Data Engineer",
        interviewers=people,
    )


def sent(
    ident: str, to: Person, date: str, *, key: str = "", replying: Message | None = None
) -> Message:
    return Message(
        id=ident,
        folder=Folder.SENT,
        message_id=f"<{ident}@example.com>",
        subject="Re: Thank you" if replying else "Thank you",
        sender=USER.primary,
        date=at(date),
        to=(to,),
        in_reply_to=replying.message_id if replying else "",
        references=(*replying.references, replying.message_id) if replying else (),
        headers={AGENT_KEY_HEADER: key} if key else {},
    )


def received(ident: str, sender: Person, date: str, body: str, replying: Message) -> Message:
    return Message(
        id=ident,
        folder=Folder.INBOX,
        message_id=f"<{ident}@acme.com>",
        subject="Re: Thank you",
        sender=sender,
        date=at(date),
        to=(USER.primary,),
        in_reply_to=replying.message_id,
        references=(*replying.references, replying.message_id),
        snippet=body,
    )


def planned(
    iv: Interview,
    messages: list[Message],
    policy: Policy,
    now: str,
    drafts: dict[str, DraftRecord] | None = None,
    since: datetime | None = None,
) -> Plan:
    state = PlannerState(drafts=drafts or {}, since=since)
    return plan(state, Observations(USER, [iv], messages, "America/New_York"), policy, at(now))


def follow_up_record(iv: Interview, step: int, to: Person, created: str) -> DraftRecord:
    key = draft_key(iv.id, "", DraftKind.FOLLOW_UP, step)
    return DraftRecord(
        key, iv.id, DraftKind.FOLLOW_UP, step, to.address, at(created), DraftStatus.SENT
    )


def write(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return check_policy_file(path)


# -- point 17: follow-up spacing and recipient --------------------------------------------------


def _recruiter_gave_a_date() -> tuple[Interview, Message, Message]:
    """Mon 2 Nov: interview with Ann; thanked at 14:00; Rob (a recruiter) answers in that
    thread on Thu 5 Nov that they will decide by Thursday 19 November."""
    iv = interview("2026-11-02 10:00")
    thanks = sent("thanks", ANN, "2026-11-02 14:00")
    rob = received(
        "rob-date",
        ROB,
        "2026-11-05 09:00",
        "Hi Alex, thanks for your note. We will get back to you by Thursday, November 19.",
        thanks,
    )
    return iv, thanks, rob


def test_follow_up_1_goes_to_the_recruiter_who_gave_the_decision_date() -> None:
    iv, thanks, rob = _recruiter_gave_a_date()
    result = planned(iv, [thanks, rob], load_policy("standard"), "2026-11-23 12:00")
    (create,) = result.creates
    assert create.request.step == 1
    assert create.request.to == ROB
    assert create.request.reply_to == thanks  # still in the user's thread
    assert create.draft_at == at("2026-11-23 09:00")  # one business day of grace
    assert "Rob Recruiter <rob@acme.com>" in create.reason


def test_follow_up_2_waits_its_delay_after_follow_up_1_not_after_the_thank_you() -> None:
    """The bug: follow-up 2 fell 14 days after the thank-you, so only `min_spacing` (5 days)
    after follow-up 1, which the decision date had moved: in Thanksgiving week."""
    iv, thanks, rob = _recruiter_gave_a_date()
    policy = load_policy("standard")
    key = draft_key(iv.id, "", DraftKind.FOLLOW_UP, 1)
    first = sent("fu1", ROB, "2026-11-23 13:00", key=key, replying=thanks)
    drafts = {key: follow_up_record(iv, 1, ROB, "2026-11-23 09:00")}
    messages = [thanks, rob, first]

    early = planned(iv, messages, policy, "2026-11-28 14:00", drafts)
    assert early.creates == []
    (scheduled,) = early.schedules
    assert scheduled.step == 2
    assert scheduled.draft_at == at("2026-12-07 13:00")  # 14d after follow-up 1 was sent
    assert "14d after your follow-up 1" in scheduled.reason

    due = planned(iv, messages, policy, "2026-12-07 13:00", drafts)
    (create,) = due.creates
    assert create.request.step == 2
    assert create.request.to == ROB
    assert create.request.reply_to == first


def test_follow_ups_are_never_closer_than_min_spacing(tmp_path: Path) -> None:
    policy = write(tmp_path, "follow_up: {after: [1d], max: 2, min_spacing: 4d}\n")
    iv = interview("2026-11-02 10:00")
    thanks = sent("thanks", ANN, "2026-11-02 14:00")
    (first,) = planned(iv, [thanks], policy, "2026-11-03 15:00").schedules
    assert first.draft_at == at("2026-11-06 14:00")  # 4d after the thank-you, not 1d
    assert "min_spacing" in first.reason

    key = draft_key(iv.id, "", DraftKind.FOLLOW_UP, 1)
    copy = sent("fu1", ANN, "2026-11-06 16:00", key=key, replying=thanks)
    drafts = {key: follow_up_record(iv, 1, ANN, "2026-11-06 14:00")}
    (second,) = planned(iv, [thanks, copy], policy, "2026-11-07 15:00", drafts).schedules
    assert second.draft_at == at("2026-11-10 16:00")


def test_business_day_delays_skip_the_holiday_week() -> None:
    """business-days: follow-up 2 is 10 business days after follow-up 1 was sent, Thanksgiving
    (Thu 26 Nov) not counted."""
    iv = interview("2026-10-26 10:00")
    thanks = sent("thanks", ANN, "2026-10-26 14:00")
    key = draft_key(iv.id, "", DraftKind.FOLLOW_UP, 1)
    first = sent("fu1", ANN, "2026-11-18 10:00", key=key, replying=thanks)
    drafts = {key: follow_up_record(iv, 1, ANN, "2026-11-18 09:00")}
    result = planned(iv, [thanks, first], load_policy("business-days"), "2026-11-20 12:00", drafts)
    (scheduled,) = result.schedules
    assert scheduled.draft_at == at("2026-12-03 10:00")


def test_a_later_message_of_the_user_moves_the_next_follow_up() -> None:
    iv = interview("2026-11-02 10:00")
    thanks = sent("thanks", ANN, "2026-11-02 14:00")
    question = sent("question", ANN, "2026-11-06 11:00")
    (scheduled,) = planned(
        iv, [thanks, question], load_policy("standard"), "2026-11-07 09:00"
    ).schedules
    assert scheduled.draft_at == at("2026-11-13 11:00")


def test_an_out_of_office_is_not_the_person_who_last_wrote() -> None:
    iv, thanks, rob = _recruiter_gave_a_date()
    away = replace(
        received("ann-ooo", ANN, "2026-11-06 09:00", "I am out of the office.", thanks),
        headers={"auto-submitted": "auto-replied"},
    )
    result = planned(iv, [thanks, rob, away], load_policy("standard"), "2026-11-23 12:00")
    (create,) = result.creates
    assert create.request.to == ROB


# -- point 18: a late thank-you ------------------------------------------------------------------


def test_a_first_sync_within_the_late_grace_drafts_the_thank_you_marked_late() -> None:
    iv = interview("2026-11-02 10:00")  # ends 11:00
    result = planned(iv, [], load_policy("standard"), "2026-11-04 13:00")  # 50 h later
    (create,) = result.creates
    assert create.request.kind is DraftKind.THANK_YOU
    assert create.request.to == ANN
    assert create.reason.startswith(
        "late: the interview ended 50 h ago; thank-you notes are due within 24h"
    )
    assert create.due_by < at("2026-11-04 13:00")  # it was due then, and is late now


def test_beyond_the_late_grace_no_thank_you_and_the_note_says_why() -> None:
    iv = interview("2026-11-02 10:00")
    result = planned(iv, [], load_policy("standard"), "2026-11-05 13:00")  # 74 h later
    assert result.creates == []
    (note,) = [n for n in result.notes if n.topic == f"late:{ANN.address}"]
    assert note.text == (
        "thank-you to Ann Interviewer <ann@acme.com> not drafted: the interview ended "
        "Mon 2026-11-02 11:00; thank-you notes are due within 24h, and a late one is drafted "
        "only up to 72h after the interview (thank_you.late_grace), until Thu 2026-11-05 11:00"
    )


def test_the_late_grace_comes_from_the_policy(tmp_path: Path) -> None:
    policy = write(tmp_path, "thank_you: {late_grace: 36h}\n")
    iv = interview("2026-11-02 10:00")
    assert planned(iv, [], policy, "2026-11-03 22:00").creates  # 35 h
    assert planned(iv, [], policy, "2026-11-04 00:00").creates == []  # 37 h


def test_a_rebuilt_state_does_not_recreate_a_late_thank_you() -> None:
    """The state began after the window closed: the user may have deleted that draft."""
    iv = interview("2026-11-02 10:00")
    result = planned(
        iv, [], load_policy("standard"), "2026-11-04 13:00", since=at("2026-11-04 12:00")
    )
    assert result.creates == []
    assert any(n.topic.startswith("settled:") for n in result.notes)


def test_a_deleted_thank_you_is_not_drafted_again_late() -> None:
    iv = interview("2026-11-02 10:00")
    key = draft_key(iv.id, ANN.address, DraftKind.THANK_YOU, 0)
    record = DraftRecord(
        key, iv.id, DraftKind.THANK_YOU, 0, ANN.address, at("2026-11-02 11:30"), DraftStatus.DELETED
    )
    result = planned(iv, [], load_policy("standard"), "2026-11-04 13:00", {key: record})
    assert result.creates == []


def test_a_sent_thank_you_never_gets_another(tmp_path: Path) -> None:
    """Even where the policy drafts for people already written to, the agent's own thank-you in
    Sent (its key in the Message-ID) is never drafted again, on time or late."""
    policy = write(tmp_path, "thank_you: {skip_if_already_thanked: false}\n")
    iv = interview("2026-11-02 10:00")
    key = draft_key(iv.id, ANN.address, DraftKind.THANK_YOU, 0)
    copy = sent("ty", ANN, "2026-11-02 12:00", key=key)
    for now in ("2026-11-02 13:00", "2026-11-04 13:00"):
        result = planned(iv, [copy], policy, now)
        assert [c for c in result.creates if c.request.kind is DraftKind.THANK_YOU] == []
