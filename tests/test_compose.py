"""What the composer writes: greetings, paragraphs, threading, overrides and hostile input."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailagent.core.compose import (
    SUBJECT_LIMIT,
    TemplateComposer,
    clean_text,
    greeting_name,
    placeholders,
    reply_subject,
    thread_references,
)
from mailagent.core.models import (
    DraftKind,
    DraftRequest,
    Folder,
    Interview,
    InterviewerFacts,
    InterviewerKind,
    Message,
    Person,
)
from mailagent.errors import ConfigError

PRIYA = Person("Dr. Priya Raman", "priya.raman@acme.example")
USER = Person("Sam Lee", "sam@home.example")

# 01:00 UTC on Wednesday is still Tuesday evening in New York.
START = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
END = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def make_interview(
    *, role: str = "Senior Data Engineer", company: str = "Acme", title: str = "Interview"
) -> Interview:
    return Interview(
        id="iv-1",
        event_id="ev-1",
        title=title,
        start=START,
        end=END,
        company=company,
        company_domains=("acme.example",),
        role=role,
        interviewers=(PRIYA,),
    )


def sent_message(subject: str = "Senior Data Engineer – next steps") -> Message:
    return Message(
        id="m-1",
        folder=Folder.SENT,
        message_id="<m1@home.example>",
        subject=subject,
        sender=USER,
        date=END,
        to=(PRIYA,),
        references=("<r0@acme.example>", "<r1@acme.example>"),
        thread_id="thread-7",
    )


def make_request(
    kind: DraftKind = DraftKind.THANK_YOU,
    *,
    step: int = 1,
    interview: Interview | None = None,
    to: Person = PRIYA,
    user: Person = USER,
    reply_to: Message | None = None,
) -> DraftRequest:
    return DraftRequest(
        key="key-1",
        kind=kind,
        step=step,
        interview=interview or make_interview(),
        to=to,
        user=user,
        timezone="America/New_York",
        reply_to=reply_to,
    )


def middle_paragraphs(body: str) -> list[str]:
    """Blank-line-separated blocks between the greeting and the sign-off."""
    blocks = [b for b in body.strip().split("\n\n") if b.strip()]
    assert blocks[-1].startswith("Best regards,\n")
    return blocks[1:-1]


# --- thank-you ---------------------------------------------------------------------------


def test_thank_you_greets_by_first_name_and_names_role_company_and_day() -> None:
    draft = TemplateComposer().compose(make_request())

    assert draft.to == (PRIYA,)
    assert draft.subject == "Thank you – Senior Data Engineer interview at Acme"
    assert draft.body.startswith("Hi Priya,\n\n")
    assert "Senior Data Engineer role at Acme" in draft.body
    assert "Tuesday, November 17" in draft.body
    assert draft.body.rstrip().endswith("Best regards,\nSam Lee")
    assert (draft.in_reply_to, draft.references, draft.thread_id) == ("", (), "")


def test_thank_you_has_both_marked_spots_in_three_or_four_paragraphs() -> None:
    body = TemplateComposer().compose(make_request()).body

    assert "[Mention something specific from your conversation:" in body
    assert "[Optional: add a point you did not get to make" in body
    assert 3 <= len(middle_paragraphs(body)) <= 4


def test_thank_you_without_role_or_names_still_reads_well() -> None:
    request = make_request(
        interview=make_interview(role="", company=""),
        to=Person("", "someone@acme.example"),
        user=Person("", "sam@home.example"),
    )
    draft = TemplateComposer().compose(request)

    assert draft.subject == "Thank you for our conversation"
    assert draft.body.startswith("Hello,\n\n")
    assert "about the role." in draft.body
    # never signed with an address (issue 12, point 2): the sign-off stands alone
    assert draft.body.rstrip().endswith("from you.\n\nBest regards,")
    assert "sam" not in draft.body


def test_every_template_signs_with_the_name_or_with_none_never_an_address() -> None:
    for kind in DraftKind:
        for user, last in ((Person("Sam Reyes", "sam@home.example"), "Sam Reyes"),
                           (Person("", "sam@home.example"), "Best regards,"),
                           (Person("sam@home.example", "sam@home.example"), "Best regards,")):  # fmt: skip
            body = TemplateComposer().compose(make_request(kind=kind, user=user)).body
            assert body.rstrip().splitlines()[-1] == last, (kind, user)
            assert "sam@" not in body


def test_thank_you_subject_with_company_but_no_role() -> None:
    draft = TemplateComposer().compose(make_request(interview=make_interview(role="")))
    assert draft.subject == "Thank you – interview at Acme"
    assert "about the role at Acme." in draft.body


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dr. Priya Raman", "Priya"),
        ("Priya Raman", "Priya"),
        ("Prof Priya Raman", "Priya"),
        ("Ms. priya raman", "priya"),
        ("Raman, Priya", "Priya"),
        ("Raman, Dr. Priya", "Priya"),
        ("Priya Raman, PhD", "Priya"),
        ("Dr. Raman", "Dr. Raman"),
        ("P. Raman", "P. Raman"),
        ('"Priya Raman"', "Priya"),
        ("priya@acme.example", ""),
        ("", ""),
        ("Dr.", ""),
    ],
)
def test_greeting_name_skips_honorifics(name: str, expected: str) -> None:
    assert greeting_name(Person(name, "x@acme.example")) == expected


# --- follow-up and rejection reply -----------------------------------------------------------


def test_follow_up_replies_in_the_thread_of_the_users_message() -> None:
    message = sent_message()
    draft = TemplateComposer().compose(make_request(DraftKind.FOLLOW_UP, reply_to=message))

    assert draft.subject == "Re: Senior Data Engineer – next steps"
    assert draft.in_reply_to == message.message_id
    assert draft.references == (*message.references, message.message_id)
    assert draft.thread_id == message.thread_id
    assert draft.body.startswith("Hi Priya,\n\n")
    assert "Senior Data Engineer role at Acme" in draft.body
    assert "Tuesday, November 17" in draft.body


def test_second_follow_up_is_worded_differently() -> None:
    composer = TemplateComposer()
    first = composer.compose(make_request(DraftKind.FOLLOW_UP, step=1, reply_to=sent_message()))
    second = composer.compose(make_request(DraftKind.FOLLOW_UP, step=2, reply_to=sent_message()))

    assert first.body != second.body
    assert "one more time" in second.body
    assert first.subject == second.subject


def test_follow_up_without_a_message_to_answer_gets_a_fresh_subject() -> None:
    draft = TemplateComposer().compose(make_request(DraftKind.FOLLOW_UP))
    assert draft.subject == "Following up – Senior Data Engineer interview"
    assert (draft.in_reply_to, draft.references, draft.thread_id) == ("", (), "")


def test_rejection_reply_thanks_asks_for_feedback_and_keeps_in_touch() -> None:
    message = replace(sent_message("RE: Your application"), folder=Folder.INBOX, sender=PRIYA)
    draft = TemplateComposer().compose(make_request(DraftKind.REJECTION_REPLY, reply_to=message))

    assert draft.subject == "RE: Your application"
    assert draft.in_reply_to == message.message_id
    assert draft.references == thread_references(message)
    assert draft.thread_id == "thread-7"
    assert "Thank you for letting me know" in draft.body
    assert "feedback" in draft.body
    assert "stay in touch" in draft.body


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Interview", "Re: Interview"),
        ("Re: Interview", "Re: Interview"),
        ("RE: Interview", "RE: Interview"),
        ("AW: Interview", "AW: Interview"),
        ("Sv: Intervju", "Sv: Intervju"),
        ("VS: Haastattelu", "VS: Haastattelu"),
        ("Réf. : Entretien", "Réf. : Entretien"),
        ("Re[2]: Interview", "Re[2]: Interview"),
        ("Fwd: Interview", "Re: Fwd: Interview"),
        ("Regarding your interview", "Re: Regarding your interview"),
        ("Line one\r\nBcc: evil@example.com", "Re: Line one Bcc: evil@example.com"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_reply_subject_is_bounded() -> None:
    assert len(reply_subject("x" * 1000)) <= SUBJECT_LIMIT


def test_thread_references_dedupes_and_keeps_the_newest_twenty() -> None:
    refs = tuple(f"<r{i}@x>" for i in range(30))
    message = replace(sent_message(), references=(*refs, "<r29@x>"), message_id="<r5@x>")
    result = thread_references(message)

    assert len(result) == 20
    assert len(set(result)) == 20
    assert result[-1] == "<r29@x>"
    assert thread_references(replace(sent_message(), references=())) == ("<m1@home.example>",)


# --- user templates ------------------------------------------------------------------------


def test_user_folder_overrides_one_template_and_the_rest_come_from_the_package(
    tmp_path: Path,
) -> None:
    (tmp_path / "thank_you.txt.j2").write_text(
        "Subject: Thanks, {{ first_name }}!\n\nDear {{ first_name }}, thanks for {{ role }}.\n\n"
        "{{ user_first_name }}\n",
        encoding="utf-8",
    )
    composer = TemplateComposer(tmp_path)

    thank_you = composer.compose(make_request())
    assert thank_you.subject == "Thanks, Priya!"
    assert thank_you.body == "Dear Priya, thanks for Senior Data Engineer.\n\nSam\n"

    follow_up = composer.compose(make_request(DraftKind.FOLLOW_UP, reply_to=sent_message()))
    assert (
        follow_up.body
        == TemplateComposer()
        .compose(make_request(DraftKind.FOLLOW_UP, reply_to=sent_message()))
        .body
    )


def test_user_template_without_subject_line_gets_the_default_subject(tmp_path: Path) -> None:
    (tmp_path / "follow_up.txt.j2").write_text("Just checking in.\n", encoding="utf-8")
    draft = TemplateComposer(tmp_path).compose(
        make_request(DraftKind.FOLLOW_UP, reply_to=sent_message())
    )
    assert draft.subject == "Re: Senior Data Engineer – next steps"
    assert draft.body == "Just checking in.\n"


def test_user_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "thank_you.txt.j2"
    path.write_text("Subject: Hi\n\nHello {{ first_name }},\n{% if %}\n", encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        TemplateComposer(tmp_path).compose(make_request())
    assert str(path) in str(info.value)
    assert "line 4" in str(info.value)


def test_user_template_with_unknown_variable_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "thank_you.txt.j2"
    path.write_text("Hello,\n\n{{ frist_name }}\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="frist_name") as info:
        TemplateComposer(tmp_path).compose(make_request())
    assert str(path) in str(info.value)
    assert "line 3" in str(info.value)


def test_sandbox_refuses_reaching_into_python(tmp_path: Path) -> None:
    (tmp_path / "thank_you.txt.j2").write_text(
        "{{ role.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError):
        TemplateComposer(tmp_path).compose(make_request())


def test_missing_template_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        TemplateComposer(tmp_path / "nope")


def test_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        TemplateComposer().compose(replace(make_request(), timezone="Mars/Olympus"))


# --- hostile input ----------------------------------------------------------------------------


def test_template_syntax_in_values_is_data_not_code(tmp_path: Path) -> None:
    (tmp_path / "thank_you.txt.j2").write_text(
        "Hello {{ interviewer.name }},\n\n{{ company }}\n", encoding="utf-8"
    )
    include = "{% include '/etc/passwd' %}"
    request = make_request(
        interview=make_interview(role="{{ 7*7 }}", company="{{ 7*7 }}"),
        to=Person(include, "x@acme.example"),
    )

    shipped = TemplateComposer().compose(request)
    assert "the {{ 7*7 }} role at {{ 7*7 }}" in shipped.body
    assert shipped.subject == "Thank you – {{ 7*7 }} interview at {{ 7*7 }}"
    assert "49" not in shipped.body + shipped.subject

    user = TemplateComposer(tmp_path).compose(request)
    assert user.body == f"Hello {include},\n\n{{{{ 7*7 }}}}\n"
    assert "root:" not in user.body


def test_html_user_template_escapes_markup_in_names(tmp_path: Path) -> None:
    (tmp_path / "thank_you.html.j2").write_text(
        "Subject: Thanks – {{ company }}\n\n<p>Hi {{ first_name }} ({{ company }}),</p>\n",
        encoding="utf-8",
    )
    request = make_request(
        interview=make_interview(company="A&B <Corp>"),
        to=Person("<script>alert(1)</script> Raman", "x@acme.example"),
    )
    rendered = TemplateComposer(tmp_path).render("thank_you.html.j2", request)

    assert "<script>" not in rendered.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.body
    assert "A&amp;B &lt;Corp&gt;" in rendered.body
    assert rendered.subject == "Thanks – A&B <Corp>"  # a header is plain text


def test_e_filter_escapes_in_a_plain_text_template(tmp_path: Path) -> None:
    (tmp_path / "thank_you.txt.j2").write_text(
        "{{ company }} / {{ company|e }}\n", encoding="utf-8"
    )
    request = make_request(interview=make_interview(company="<b>Acme</b>"))
    body = TemplateComposer(tmp_path).compose(request).body
    assert body == "<b>Acme</b> / &lt;b&gt;Acme&lt;/b&gt;\n"


def test_line_breaks_in_values_cannot_start_paragraphs_or_headers() -> None:
    request = make_request(
        interview=make_interview(
            role="Engineer\r\n\r\nBcc: evil@example.com", company="Acme\n\nSubject: x\u2028y"
        ),
        to=Person("Priya\nBcc: evil@example.com", "x@acme.example"),
    )
    draft = TemplateComposer().compose(request)

    assert "\r" not in draft.body + draft.subject
    assert not re.search(r"^(Bcc|Subject):", draft.body, re.MULTILINE)
    assert "the Engineer Bcc: evil@example.com role at Acme Subject: x y" in draft.body
    assert 3 <= len(middle_paragraphs(draft.body)) <= 4


def test_clean_text_strips_controls_and_bidi_and_collapses_white_space() -> None:
    assert clean_text("  a\tb\r\n\x0bc\x00d\x1b[31m\u202eevil\u2029e  ") == "a b cd[31mevil e"
    assert clean_text("x" * 500, limit=10) == "x" * 9 + "…"


def _is_single_clean_line(text: str) -> bool:
    # Format characters (Cf: soft hyphen, zero-width joiner in emoji) are allowed, except the
    # bidi controls; control, surrogate and line/paragraph separator characters are not.
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    return all(
        unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") and c not in bidi
        for c in text
    ) and text == " ".join(text.split())


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(max_size=60),
    role=st.text(max_size=60),
    company=st.text(max_size=60),
    subject=st.text(max_size=300),
)
def test_any_values_stay_on_one_line(name: str, role: str, company: str, subject: str) -> None:
    composer = TemplateComposer()
    interview = make_interview(role=role, company=company, title=name)
    to = Person(name, "x@acme.example")
    message = sent_message(subject)
    drafts = [
        composer.compose(make_request(interview=interview, to=to)),
        composer.compose(make_request(DraftKind.FOLLOW_UP, interview=interview, to=to)),
        composer.compose(
            make_request(DraftKind.FOLLOW_UP, step=2, interview=interview, to=to, reply_to=message)
        ),
        composer.compose(
            make_request(DraftKind.REJECTION_REPLY, interview=interview, to=to, reply_to=message)
        ),
    ]
    for draft in drafts:
        assert _is_single_clean_line(draft.subject)
        assert 0 < len(draft.subject) <= SUBJECT_LIMIT
        # Only the template's own lines may start a line: nothing from a value does.
        assert not re.search(r"^\s*Bcc:", draft.body, re.MULTILINE | re.IGNORECASE)
        assert draft.body.rstrip().endswith("Best regards,\nSam Lee")
        for line in draft.body.splitlines():
            assert all(unicodedata.category(c) != "Cc" for c in line)
        blocks = [b for b in draft.body.strip().split("\n\n") if b.strip()]
        assert 4 <= len(blocks) <= 6
        for value in (clean_text(role), clean_text(company)):
            assert "\n" not in value
            if value:
                assert value in draft.body


# --- one personal note per interviewer (issue 12, point 3) -------------------------------------

BEA = Person("Bea Kim", "bea.kim@northwind.example")
ANA = Person("Ana Costa", "ana.costa@northwind.example")
RAJ = Person("Raj Iyer", "raj.iyer@northwind.example")
PANEL_TOPICS = {BEA: "system design", ANA: "team and roadmap", RAJ: "product sense"}


def panel_interview() -> Interview:
    """The panel issue 12 quotes: "11:00 Ana Costa - Engineering Manager: team and roadmap"."""
    return replace(
        make_interview(role="Staff Software Engineer", company="Northwind"),
        interviewers=(BEA, ANA, RAJ),
        interviewer_facts=(
            InterviewerFacts(
                BEA.address, "Staff Engineer", "system design", "10:00", InterviewerKind.ENGINEER
            ),
            InterviewerFacts(
                ANA.address,
                "Engineering Manager",
                "team and roadmap",
                "11:00",
                InterviewerKind.HIRING_MANAGER,
            ),
            InterviewerFacts(RAJ.address, "Product Manager", "product sense", "11:45"),
        ),
    )


def without_greeting(body: str) -> str:
    return body.split("\n", 1)[1]


def test_a_panel_gets_notes_that_differ_beyond_the_greeting_each_about_its_own_topic() -> None:
    interview = panel_interview()
    bodies = {
        person: TemplateComposer().compose(make_request(interview=interview, to=person)).body
        for person in (BEA, ANA, RAJ)
    }

    assert len({without_greeting(b) for b in bodies.values()}) == 3
    for person, body in bodies.items():
        assert body.startswith(f"Hi {person.first_name},")
        assert PANEL_TOPICS[person] in body
        others = [t for p, t in PANEL_TOPICS.items() if p is not person]
        assert not any(topic in body for topic in others), body
        assert "[Mention something specific" in body
        assert "[Optional: add a point you did not get to make" in body
        assert 3 <= len(middle_paragraphs(body)) <= 4
        assert body.rstrip().endswith("Best regards,\nSam Lee")
    assert "you walking me through the team and roadmap" in bodies[ANA]
    # the panel's notes say what each part was: not the same "conversation" three times
    assert "at 11:00 on Tuesday, November 17" in bodies[ANA]


def one_on_one(kind: InterviewerKind, title: str = "") -> str:
    interview = replace(
        make_interview(), interviewer_facts=(InterviewerFacts(PRIYA.address, title, kind=kind),)
    )
    return TemplateComposer().compose(make_request(interview=interview)).body


def test_recruiter_hiring_manager_and_engineer_notes_are_worded_for_each() -> None:
    recruiter = one_on_one(InterviewerKind.RECRUITER)
    manager = one_on_one(InterviewerKind.HIRING_MANAGER)
    engineer = one_on_one(InterviewerKind.ENGINEER)

    assert "explaining the process and the next steps" in recruiter
    assert "the team's priorities" in manager
    assert "the technical discussion" in engineer
    assert len({recruiter, manager, engineer}) == 3
    for body in (recruiter, manager, engineer):
        assert "[Mention something specific" in body
        assert "[Optional: add a point" in body
        assert 3 <= len(middle_paragraphs(body)) <= 4
        # nothing is claimed that the invitation did not say: no topic, no title
        assert "session" not in body
        assert "perspective as" not in body


def test_an_interviewer_nothing_is_known_about_gets_the_general_note() -> None:
    interview = panel_interview()
    stranger = Person("Lee Park", "lee.park@northwind.example")
    interview = replace(interview, interviewers=(*interview.interviewers, stranger))
    general = TemplateComposer().compose(make_request(interview=interview, to=stranger)).body
    alone = TemplateComposer().compose(make_request(to=stranger)).body

    assert "I enjoyed our conversation and learning more about the team." in general
    assert "[Mention something specific from your conversation:" in general
    for word in ("process", "priorities", "technical", "system design", "roadmap", "10:00"):
        assert word not in general
    assert 3 <= len(middle_paragraphs(general)) <= 4
    assert one_on_one(InterviewerKind.UNKNOWN) == alone.replace("Hi Lee,", "Hi Priya,")


def test_an_interviewer_known_only_by_title_is_thanked_for_that_perspective() -> None:
    body = one_on_one(InterviewerKind.UNKNOWN, title="Senior Buyer")

    assert "I appreciated hearing your perspective as Senior Buyer." in body


def test_a_strangers_title_or_topic_cannot_break_the_marked_spots() -> None:
    interview = replace(
        make_interview(),
        interviewer_facts=(
            InterviewerFacts(PRIYA.address, "Lead]\n\nSubject: x", "[Coding] {{ 7*7 }}"),
        ),
    )
    body = TemplateComposer().compose(make_request(interview=interview)).body

    assert "49" not in body
    assert "\nSubject:" not in body
    assert all(spot.startswith(("[Mention", "[Optional")) for spot in placeholders(body))
