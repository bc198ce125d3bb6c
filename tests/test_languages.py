"""Interviews in German, French, Spanish, Portuguese and Dutch (issue 12, point 4).

Detection of the language from title and description, drafts written in it (no English left,
the spots to fill still found), and the policy that forces one language.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailagent.core.compose import TemplateComposer, placeholders
from mailagent.core.detect import UserIdentity, detect_event
from mailagent.core.interviewer_facts import interviewer_facts
from mailagent.core.language import detect_language
from mailagent.core.models import (
    Attendee,
    CalendarEvent,
    DraftKind,
    DraftRequest,
    Folder,
    Interview,
    InterviewerFacts,
    InterviewerKind,
    Message,
    Person,
)
from mailagent.core.policy import check_policy_file, load_policy
from mailagent.demo import write_config
from mailagent.errors import PolicyError
from mailagent.explanation import _language_line
from mailagent.scenario import MaildirMailbox, load_scenario

from .conftest import SCENARIOS, cli_sync, run_cli

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # a Tuesday
USER = Person("Jordan Lee", "jordan.lee@proton.example")
ANNA = Person("Anna Schmidt", "anna.schmidt@example.com")

# --- detection of the language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "description", "code", "evidence"),
    [
        ("Vorstellungsgespräch – Siemens", "", "de", "Vorstellungsgespräch"),
        ("Bewerbungsgespräch Softwareentwickler", "", "de", "Bewerbungsgespräch"),
        ("Entretien d'embauche - Decathlon", "", "fr", "Entretien"),
        ("Entretien", "", "fr", "Entretien"),
        ("Entrevista - Telefónica", "Hola Ana, gracias por su interés en el puesto", "es", ""),
        ("Entrevista de emprego - Nubank", "Olá! A vaga de desenvolvedor com você", "pt", ""),
        ("Entrevista", "", "es", "Entrevista"),
        ("Sollicitatiegesprek Bol.com", "", "nl", "Sollicitatiegesprek"),
        ("Kennismakingsgesprek Coolblue", "", "nl", "Kennismakingsgesprek"),
        (
            "Interview - Acme",
            "Hallo Jordan, wir freuen uns auf das Gespräch mit Ihnen.",
            "de",
            "German words",
        ),
        ("Interview with Stripe", "Thanks for taking the time to interview with us.", "en", ""),
        ("Technical interview", "", "en", ""),
        ("Interview", "Join at https://acme.com/da/com/em", "en", ""),
    ],
)
def test_the_language_of_an_interview(
    title: str, description: str, code: str, evidence: str
) -> None:
    guess = detect_language(title, description)

    assert guess.code == code
    assert evidence in guess.reason


def test_the_language_is_stored_on_the_interview_and_explained() -> None:
    event = CalendarEvent(
        id="e1",
        uid="e1@x",
        title="Vorstellungsgespräch – Siemens",
        start=START,
        end=START + timedelta(hours=1),
        organizer=ANNA,
        attendees=(Attendee(ANNA.name, ANNA.address), Attendee(USER.name, USER.address)),
    )
    interview = detect_event(event, UserIdentity(USER.address, USER.name)).interview

    assert interview is not None
    assert interview.language == "de"
    assert _language_line(interview) == 'written in German: the title says "Vorstellungsgespräch"'


# --- drafts in each language --------------------------------------------------------------------

ENGLISH_WORDS = re.compile(
    r"\b(the|and|you|your|thank|thanks|interview|role|hi|hello|best|regards|please|with|"
    r"for|to|of|my|our|looking|forward|hope|would|follow(?:ing)?|feedback|opportunity|"
    r"conversation|sincerely|dear|hear|from|let|know)\b",
    re.I,
)
"""Common English words a translated draft must not contain ("Team" and "Position" are German
too, "team" Dutch: they are not listed)."""
NATIVE = {
    "de": {"feedback"},
    "fr": {"conversation"},
    "es": set(),
    "pt": {"for"},  # "se for possível"
    "nl": {"of", "feedback"},  # "of" is "or"
}
"""Words of the list above that are also words of the language."""

ROLES = {
    "de": ("Softwareentwicklerin", "Siemens"),
    "fr": ("Ingénieure logiciel", "Decathlon"),
    "es": ("Desarrolladora", "Telefónica"),
    "pt": ("Desenvolvedora", "Nubank"),
    "nl": ("Ontwikkelaar", "Coolblue"),
}
GREETINGS = {
    "de": "Guten Tag Anna Schmidt,\n\n",
    "fr": "Bonjour Anna,\n\n",
    "es": "Hola, Anna:\n\n",
    "pt": "Olá, Anna,\n\n",
    "nl": "Beste Anna,\n\n",
}
SIGN_OFFS = {
    "de": "Mit freundlichen Grüßen\nJordan Lee",
    "fr": "Bien cordialement,\nJordan Lee",
    "es": "Un cordial saludo,\nJordan Lee",
    "pt": "Atenciosamente,\nJordan Lee",
    "nl": "Met vriendelijke groet,\nJordan Lee",
}
DATES = {
    "de": "am 10. März",
    "fr": "mardi 10 mars",
    "es": "martes 10 de marzo",
    "pt": "10 de março",
    "nl": "dinsdag 10 maart",
}


def _interview(language: str, role: str = "", company: str = "") -> Interview:
    return Interview(
        id="iv-1",
        event_id="e1",
        title="Gespräch",
        start=START,
        end=START + timedelta(hours=1),
        company=company,
        company_domains=("example.com",),
        role=role,
        interviewers=(ANNA,),
        language=language,
    )


def _reply() -> Message:
    return Message(
        id="m1",
        folder=Folder.SENT,
        message_id="<m1@home.example>",
        subject="Danke",
        sender=USER,
        date=START + timedelta(hours=3),
        to=(ANNA,),
    )


def _request(kind: DraftKind, language: str, step: int = 1, **known: str) -> DraftRequest:
    return DraftRequest(
        "k",
        kind,
        step,
        _interview(language, **known),
        ANNA,
        USER,
        "Europe/Berlin",
        reply_to=None if kind is DraftKind.THANK_YOU else _reply(),
        language=language,
    )


KINDS = [
    (DraftKind.THANK_YOU, 1),
    (DraftKind.FOLLOW_UP, 1),
    (DraftKind.FOLLOW_UP, 2),
    (DraftKind.REJECTION_REPLY, 1),
]


@pytest.mark.parametrize("language", sorted(ROLES))
@pytest.mark.parametrize(("kind", "step"), KINDS, ids=str)
@pytest.mark.parametrize("known", ["both", "none"])
def test_drafts_in_the_interviews_language_have_no_english_left(
    language: str, kind: DraftKind, step: int, known: str
) -> None:
    role, company = ROLES[language] if known == "both" else ("", "")
    request = _request(kind, language, step, role=role, company=company)
    draft = TemplateComposer().compose(request)
    text = f"{draft.subject}\n{draft.body}".replace(USER.name, "").replace("Danke", "")
    english = [w for w in ENGLISH_WORDS.findall(text) if w.lower() not in NATIVE[language]]

    assert english == []
    assert draft.body.startswith(GREETINGS[language])
    after_greeting = draft.body[len(GREETINGS[language])]
    assert after_greeting.islower() if language == "de" else after_greeting.isupper()
    assert draft.body.rstrip().endswith(SIGN_OFFS[language])
    if kind is not DraftKind.REJECTION_REPLY:
        assert DATES[language] in draft.body
    if known == "both":
        assert role in draft.body
        assert company in draft.body
    assert "  " not in draft.body


@pytest.mark.parametrize("language", sorted(ROLES))
def test_a_thank_you_keeps_its_spots_to_fill_in_its_language(language: str) -> None:
    draft = TemplateComposer().compose(_request(DraftKind.THANK_YOU, language))

    spots = placeholders(draft.body)
    assert len(spots) == 2
    for spot in spots:
        assert [w for w in ENGLISH_WORDS.findall(spot) if w.lower() not in NATIVE[language]] == []


# --- one personal note per interviewer, in each language (issue 12, point 3) --------------------

TOPICS = {
    "de": "Team und Roadmap",
    "fr": "équipe et feuille de route",
    "es": "equipo y hoja de ruta",
    "pt": "equipe e roadmap",
    "nl": "team en roadmap",
}
"""A topic as an invitation in that language writes it (the note quotes it, never translates)."""
TITLES = {
    "de": "Teamleiterin",
    "fr": "Responsable d'équipe",
    "es": "Jefa de equipo",
    "pt": "Gerente de equipe",
    "nl": "Teamleider",
}
KNOWN = {
    "a topic": ("topic", "", InterviewerKind.UNKNOWN),
    "a manager's topic": ("topic", "title", InterviewerKind.HIRING_MANAGER),
    "a recruiter's topic": ("topic", "", InterviewerKind.RECRUITER),
    "an engineer's topic": ("topic", "", InterviewerKind.ENGINEER),
    "an activity": ("Coding", "", InterviewerKind.ENGINEER),
    "a title only": ("", "title", InterviewerKind.UNKNOWN),
    "a recruiter": ("", "", InterviewerKind.RECRUITER),
    "a hiring manager": ("", "", InterviewerKind.HIRING_MANAGER),
    "an engineer": ("", "", InterviewerKind.ENGINEER),
    "nothing known": ("", "", InterviewerKind.UNKNOWN),
}
OTHER = Person("Tom Berg", "tom.berg@example.com")


def _panel_note(language: str, known: str) -> str:
    """The thank-you to Anna on a panel of two, with what `KNOWN[known]` says about her."""
    topic, title, kind = KNOWN[known]
    facts = InterviewerFacts(
        ANNA.address,
        TITLES[language] if title else "",
        TOPICS[language] if topic == "topic" else topic,
        "11:00" if topic or title or kind is not InterviewerKind.UNKNOWN else "",
        kind,
    )
    interview = replace(
        _interview(language, *ROLES[language]),
        interviewers=(ANNA, OTHER),
        interviewer_facts=(facts,),
    )
    request = DraftRequest(
        "k", DraftKind.THANK_YOU, 1, interview, ANNA, USER, "Europe/Berlin", language=language
    )
    return TemplateComposer().compose(request).body


@pytest.mark.parametrize("language", sorted(ROLES))
@pytest.mark.parametrize("known", sorted(KNOWN))
def test_a_panels_personal_notes_have_no_english_left(language: str, known: str) -> None:
    body = _panel_note(language, known)
    topic, title, kind = KNOWN[known]
    english = [
        w
        for w in ENGLISH_WORDS.findall(body.replace(USER.name, ""))
        if w.lower() not in NATIVE[language]
    ]

    assert english == []
    assert body.startswith(GREETINGS[language])
    assert body.rstrip().endswith(SIGN_OFFS[language])
    assert DATES[language] in body
    spots = placeholders(body)
    assert len(spots) == 2
    assert [w for s in spots for w in ENGLISH_WORDS.findall(s) if w not in NATIVE[language]] == []
    blocks = [b for b in body.strip().split("\n\n") if b.strip()]
    assert 3 <= len(blocks) - 2 <= 4
    assert "  " not in body
    if topic == "topic":
        assert TOPICS[language] in body
    elif topic:
        assert topic.lower() in body.lower()
    if title and not topic:
        assert TITLES[language] in body
    if topic or title or kind is not InterviewerKind.UNKNOWN:
        assert "11:00" in body
    else:  # nothing known: the general note, the same as for a one-to-one
        alone = TemplateComposer().compose(
            _request(
                DraftKind.THANK_YOU, language, role=ROLES[language][0], company=ROLES[language][1]
            )
        )
        assert body == alone.body


def test_the_notes_for_each_side_differ_in_every_language() -> None:
    for language in ROLES:
        notes = {known: _panel_note(language, known) for known in KNOWN}
        assert len(set(notes.values())) == len(KNOWN), language


SCHEDULES = {
    "de": (
        "Vorstellungsgespräch – Siemens",
        "Ablauf:\n"
        "10:00 Anna Schmidt – Senior Engineer: Systemdesign\n"
        "11:00 Jonas Weber – Engineering Manager: Team und Roadmap\n"
        "11:45 Lena Vogel – Talent Partner: Rahmenbedingungen und Zeitplan\n",
        ("Systemdesign", "Team und Roadmap", "Rahmenbedingungen und Zeitplan"),
    ),
    "fr": (
        "Entretien – Decathlon",
        "Programme :\n"
        "10:00 Anna Schmidt – Senior Engineer : conception système\n"
        "11:00 Jonas Weber – Engineering Manager : équipe et feuille de route\n"
        "11:45 Lena Vogel – Talent Partner : conditions et calendrier\n",
        ("conception système", "équipe et feuille de route", "conditions et calendrier"),
    ),
}
PANEL = (
    ANNA,
    Person("Jonas Weber", "jonas.weber@example.com"),
    Person("Lena Vogel", "lena.vogel@example.com"),
)


@pytest.mark.parametrize("language", sorted(SCHEDULES))
def test_a_panel_with_a_schedule_gets_notes_that_differ_each_about_its_own_topic(
    language: str,
) -> None:
    title, description, topics = SCHEDULES[language]
    interview = replace(
        _interview(language, *ROLES[language]),
        title=title,
        interviewers=PANEL,
        interviewer_facts=interviewer_facts(PANEL, description, title),
    )
    bodies = [
        TemplateComposer()
        .compose(
            DraftRequest(
                "k",
                DraftKind.THANK_YOU,
                1,
                interview,
                person,
                USER,
                "Europe/Berlin",
                language=language,
            )
        )
        .body
        for person in PANEL
    ]

    assert len({body.split("\n", 1)[1] for body in bodies}) == 3
    for body, topic, slot in zip(bodies, topics, ("10:00", "11:00", "11:45"), strict=True):
        assert topic in body
        assert not any(other in body for other in topics if other != topic), body
        assert slot in body
        assert len(placeholders(body)) == 2
    # each note's own paragraphs differ, not just the sentence that names the topic
    seconds = {body.split("\n\n")[2] for body in bodies}
    assert len(seconds) == 3


def test_placeholders_starting_with_a_non_ascii_capital_are_found() -> None:
    body = "Bonjour,\n\n[Élément précis de votre échange.]\n[Ärger über etwas anderes]\n[élément]"

    assert placeholders(body) == (
        "[Élément précis de votre échange.]",
        "[Ärger über etwas anderes]",
    )


def test_french_elides_de_before_a_vowel() -> None:
    draft = TemplateComposer().compose(
        _request(DraftKind.THANK_YOU, "fr", role="Ingénieure logiciel", company="Decathlon")
    )

    assert "le poste d'Ingénieure logiciel chez Decathlon" in draft.body
    assert draft.subject == "Merci pour notre entretien – Ingénieure logiciel chez Decathlon"


def test_portuguese_names_the_company_without_guessing_its_gender() -> None:
    """ "o Nubank" but "a Vale": "a empresa Nubank" is right for both."""
    request = _request(DraftKind.REJECTION_REPLY, "pt", role="Desenvolvedora", company="Nubank")
    body = TemplateComposer().compose(request).body

    assert "a vaga de Desenvolvedora na empresa Nubank" in body
    assert "conhecer melhor a empresa Nubank" in body
    assert " na Nubank" not in body


def test_german_greets_last_first_names_in_order() -> None:
    request = _request(DraftKind.THANK_YOU, "de")
    schmidt = Person("Schmidt, Anna", ANNA.address)
    draft = TemplateComposer().compose(
        DraftRequest("k", request.kind, 1, request.interview, schmidt, USER, "UTC", language="de")
    )

    assert draft.body.startswith("Guten Tag Anna Schmidt,\n\n")


def test_a_user_template_folder_may_override_one_language(tmp_path: Path) -> None:
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "thank_you.txt.j2").write_text("Subject: Danke\n\nHallo {{ first_name }}\n")

    draft = TemplateComposer(tmp_path).compose(_request(DraftKind.THANK_YOU, "de"))
    french = TemplateComposer(tmp_path).compose(_request(DraftKind.THANK_YOU, "fr"))

    assert (draft.subject, draft.body) == ("Danke", "Hallo Anna\n")
    assert french.body.startswith("Bonjour Anna,")


# --- the policy forces one language ------------------------------------------------------------


def test_the_standard_policy_writes_in_each_interviews_language() -> None:
    policy = load_policy("standard")

    assert policy.language == "auto"
    assert policy.draft_language("de") == "de"


@pytest.mark.parametrize(("written", "code"), [("en", "en"), ("de", "de"), ("German", "de")])
def test_a_policy_forces_one_language(tmp_path: Path, written: str, code: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(f"language: {written}\n")

    policy = check_policy_file(path)

    assert policy.language == code
    assert policy.draft_language("fr") == code


def test_an_unknown_language_is_refused_with_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nlanguage: dee\n")

    with pytest.raises(PolicyError) as raised:
        check_policy_file(path)

    message = str(raised.value)
    assert f"{path}:2: language:" in message
    assert "did you mean" in message.lower()
    assert "de" in message
    assert "auto" in message
    assert "nl (Dutch)" in message


# --- through the CLI ----------------------------------------------------------------------------

GERMAN_SCENARIO = SCENARIOS / "german-interview-and-time-frame.yaml"


def _first_thank_you(tmp_path: Path, policy: str | None = None) -> tuple[Path, str]:
    scenario = load_scenario(GERMAN_SCENARIO)
    config = write_config(scenario, tmp_path, policy)
    mailbox = MaildirMailbox(tmp_path)
    moment = scenario.sync_times()[0]
    assert moment == datetime(2026, 11, 2, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    mailbox.materialize(scenario, moment)
    cli_sync(config)(moment)
    (draft,) = mailbox.drafts()
    return config, draft.subject


def test_explain_says_which_language_the_interview_is_written_in(tmp_path: Path) -> None:
    config, subject = _first_thank_you(tmp_path)

    explained = run_cli("--config", str(config), "explain", "Siemens").stdout
    assert 'written in German: the title says "Vorstellungsgespräch"' in explained
    assert subject == "Vielen Dank für das Gespräch – Softwareentwickler bei Siemens"


def test_a_policy_that_forces_english_writes_the_german_interviews_drafts_in_english(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "english.yaml"
    policy.write_text("name: english\nlanguage: en\n")

    _, subject = _first_thank_you(tmp_path, str(policy))

    assert subject == "Thank you – Softwareentwickler interview at Siemens"


def test_explain_says_the_policy_forced_the_language(tmp_path: Path) -> None:
    policy = tmp_path / "english.yaml"
    policy.write_text("name: english\nlanguage: en\n")
    config, _ = _first_thank_you(tmp_path, str(policy))

    explained = " ".join(run_cli("--config", str(config), "explain", "Siemens").stdout.split())

    assert "written in English: the policy says language: en" in explained
    assert 'the invitation reads as German: the title says "Vorstellungsgespräch"' in explained
