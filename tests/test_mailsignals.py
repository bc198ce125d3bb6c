"""What an incoming message means: the recruiter-text corpus, headers, and quoted replies."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailagent.core.mailsignals import MailKind, MailReading, read_message, strip_quoted
from mailagent.core.models import Folder, Message, Person

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TEXTS = CORPUS / "interview-text"
NEW_YORK = ZoneInfo("America/New_York")
SENT = datetime(2026, 11, 18, 10, 0, tzinfo=NEW_YORK)
"""A Wednesday morning."""

RECRUITER = Person("Dana Recruiter", "dana@acme.example")


def message(
    snippet: str = "",
    *,
    subject: str = "Your application",
    sender: Person = RECRUITER,
    headers: dict[str, str] | None = None,
) -> Message:
    return Message(
        id="m1",
        folder=Folder.INBOX,
        message_id="<m1@acme.example>",
        subject=subject,
        sender=sender,
        date=SENT,
        to=(Person("Alex Candidate", "alex@example.org"),),
        snippet=snippet,
        headers=headers or {},
    )


def corpus_text(relative: str) -> str:
    lines = (TEXTS / relative).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# source:")
    return "\n".join(lines[1:])


# --- the recruiter-text corpus ----------------------------------------------------------------

EXPECTED: dict[str, MailKind] = {
    # Every rejection template reads as one. The resume-stage one
    # (resume-sistemas) never reached an interview, but it is still a rejection.
    "rejection/allbusinesstemplates_interviewed_selected-candidate-more-closely-matches.txt": (
        MailKind.REJECTION
    ),
    "rejection/backrow_after-reference-check_not-moving-forward.txt": MailKind.REJECTION,
    "rejection/buyingessays_status-table-row.txt": MailKind.REJECTION,
    "rejection/carreersupport_pursue-another-candidate.txt": MailKind.REJECTION,
    "rejection/manatal_post-interview_resume-kept-in-database.txt": MailKind.REJECTION,
    "rejection/resume-sistemas_resume-stage_no-interview.txt": MailKind.REJECTION,
    # Offers, including a bare subject line "Job Offer - ..., Start Date April 14".
    "next-steps/mailgenly_offer-subject-line_with-start-date.txt": MailKind.OFFER,
    "next-steps/talentarmy_contract-offer_interview-date-mentioned.txt": MailKind.OFFER,
    "next-steps/writeexpress_offer_named-sample_doe-corporation.txt": MailKind.OFFER,
    # A request for references "to proceed to the next/final stage" is the process going on:
    # NEXT_ROUND, so that no follow-up nags a recruiter who is checking references.
    "next-steps/manatal_references-request_next-or-final-stage.txt": MailKind.NEXT_ROUND,
    # Interview invitations and confirmations. Reschedules are NEXT_ROUND too: they are a
    # person arranging an interview with the user, the pipeline is alive.
    "invite/fisip_spun-synonym-text_invitation.txt": MailKind.NEXT_ROUND,
    "invite/interview-email-templates_confirmation.txt": MailKind.NEXT_ROUND,
    "invite/interview-email-templates_second-interview.txt": MailKind.NEXT_ROUND,
    "invite/jobicy_second-interview_TRUNCATED.txt": MailKind.NEXT_ROUND,
    "invite/keepsquantumarmor_invitation_no-date-yet_TRUNCATED.txt": MailKind.NEXT_ROUND,
    "invite/mightyrecruiter_second-round_panel_rodriquez-group_TRUNCATED.txt": (
        MailKind.NEXT_ROUND
    ),
    "invite/reschedule_100hires_cancelled-with-three-slots.txt": MailKind.NEXT_ROUND,
    "invite/reschedule_manatal_cancel-or-reschedule.txt": MailKind.NEXT_ROUND,
    # The timeline folder, read one by one:
    # - an application acknowledgement sent to all applicants: nothing is decided yet ("will
    #   be reviewed", "if a match does not currently exist"), so it is not a rejection, and
    #   "on file for a period of one year" is file retention, not a decision date: REPLY.
    "timeline/allbusinesstemplates_all-applicants_one-year-on-file.txt": MailKind.REPLY,
    # - "still an active candidate", an update "as soon as we have one": no date, REPLY.
    "timeline/manatal_still-active-candidate_no-date.txt": MailKind.REPLY,
    # - the closing paragraph of an offer letter: OFFER wins over its "within two weeks".
    "timeline/writeexpress_offer_return-within-two-weeks.txt": MailKind.OFFER,
}

NOT_INTERVIEW = sorted(path.name for path in (TEXTS / "not-interview").glob("*.txt"))
"""Texts about interviews that are not addressed to the user's applications (help pages,
newsletters, user research, a PR pitch). They must never read as a rejection or an offer,
nor as machine mail; today all of them read as REPLY."""


def test_every_corpus_text_has_an_expected_kind() -> None:
    on_disk = {
        f"{path.parent.name}/{path.name}"
        for folder in ("rejection", "next-steps", "timeline", "invite")
        for path in (TEXTS / folder).glob("*.txt")
    }
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize(("relative", "kind"), sorted(EXPECTED.items()))
def test_corpus_text_reads_as_expected(relative: str, kind: MailKind) -> None:
    reading = read_message(message(corpus_text(relative)))
    assert reading.kind is kind
    assert reading.evidence
    assert reading.back_on is None


def test_an_offer_keeps_its_reply_deadline() -> None:
    text = corpus_text("timeline/writeexpress_offer_return-within-two-weeks.txt")
    reading = read_message(message(text))
    assert reading.kind is MailKind.OFFER
    assert reading.decision_by == datetime(2026, 12, 2, 23, 59, 59, tzinfo=NEW_YORK)
    assert 'phrase "acceptance of this offer"' in reading.evidence


def test_a_rejection_names_its_phrases() -> None:
    text = corpus_text("rejection/buyingessays_status-table-row.txt")
    reading = read_message(message(text))
    assert 'phrase "move forward with other candidates"' in reading.evidence
    assert reading.decision_by is None


@pytest.mark.parametrize("name", NOT_INTERVIEW)
def test_texts_not_about_the_users_pipeline(name: str) -> None:
    reading = read_message(message(corpus_text(f"not-interview/{name}")))
    assert reading.kind not in {
        MailKind.REJECTION,
        MailKind.OFFER,
        MailKind.BOUNCE,
        MailKind.AUTO_REPLY,
    }


# --- phrases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        ("Unfortunately, you were not selected for the role.", MailKind.REJECTION),
        ("We will not be moving forward with your application.", MailKind.REJECTION),
        ("We've decided not to proceed with your candidacy.", MailKind.REJECTION),
        ("The position has been filled.", MailKind.REJECTION),
        (
            "We regret to inform you that we have offered the role to another candidate.",
            MailKind.REJECTION,
        ),
        ("We will not be offering you the position.", MailKind.REJECTION),
        ("We're pleased to offer you the position of Analyst.", MailKind.OFFER),
        ("Attached is your offer letter; your start date would be January 4.", MailKind.OFFER),
        (
            "We'd like to schedule a final interview with the VP. What is your availability for "
            "next Tuesday?",
            MailKind.NEXT_ROUND,
        ),
        ("You made it to the next round! Can we book an onsite interview?", MailKind.NEXT_ROUND),
        (
            "We'd like to move forward with your application; could you send two references?",
            MailKind.NEXT_ROUND,
        ),
        ("Thanks for your patience, we'll make a decision by Friday.", MailKind.TIMEFRAME),
        ("Thanks so much, talk soon!", MailKind.REPLY),
        # Hedged phrases are not decisions.
        ("If we decide not to move forward, I will let you know personally.", MailKind.REPLY),
        (
            "Before we extend an offer we'd like you to meet the CEO for a final interview.",
            MailKind.NEXT_ROUND,
        ),
        # A rejection outranks the next-round words it contains.
        ("Unfortunately we will not be inviting you to the next round.", MailKind.REJECTION),
    ],
)
def test_phrases(snippet: str, kind: MailKind) -> None:
    assert read_message(message(snippet)).kind is kind


def test_a_next_round_keeps_its_time_frame() -> None:
    reading = read_message(
        message(
            "We'd like to invite you to a second interview. "
            "Please confirm your availability by Friday."
        )
    )
    assert reading.kind is MailKind.NEXT_ROUND
    assert reading.decision_by == datetime(2026, 11, 20, 23, 59, 59, tzinfo=NEW_YORK)


def test_a_timeframe_reading_says_what_it_found() -> None:
    reading = read_message(message("We're still interviewing; expect an update early next week."))
    assert reading == MailReading(
        kind=MailKind.TIMEFRAME,
        decision_by=datetime(2026, 11, 25, 23, 59, 59, tzinfo=NEW_YORK),
        back_on=None,
        evidence=('time frame "early next week" until 2026-11-25T23:59:59-05:00',),
    )


# --- quoted text ------------------------------------------------------------------------------

THANK_YOU = """Hi Dana,

Thank you so much for the final round interview yesterday. I'm excited about the next round
and would be thrilled to receive an offer. Please let me know your availability for a call.

Best,
Alex"""


def test_a_short_reply_quoting_the_users_thank_you_is_a_reply() -> None:
    snippet = (
        "Thanks Alex, we'll be in touch.\n\n"
        "On Wed, Nov 18, 2026 at 9:12 AM Alex Candidate <alex@example.org>\nwrote:\n\n"
        + "\n".join(f"> {line}" for line in THANK_YOU.splitlines())
    )
    reading = read_message(message(snippet, subject="Re: Thank you - final round interview"))
    assert reading.kind is MailKind.REPLY


def test_a_reply_with_a_time_frame_quoting_the_thank_you_is_a_timeframe() -> None:
    snippet = (
        "Hi Alex, thanks! The team meets Monday; we'll get back to you by the end of next "
        "week.\n\n________________________________\nFrom: Alex Candidate <alex@example.org>\n"
        "Sent: Wednesday, November 18, 2026 9:12 AM\nTo: Dana Recruiter\nSubject: Thank you\n\n"
        + THANK_YOU
    )
    reading = read_message(message(snippet, subject="RE: Thank you - next round"))
    assert reading.kind is MailKind.TIMEFRAME
    assert reading.decision_by == datetime(2026, 11, 27, 23, 59, 59, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Sounds good.\n\nOn Tue, 17 Nov 2026, Alex <a@b.c> wrote:\n> see you", "Sounds good."),
        (
            "Sounds good.\nOn Tue, Nov 17, 2026 at 9:00 AM Alex Candidate <\na@b.c> wrote:\nhi",
            "Sounds good.",
        ),
        ("Merci !\n\nLe mar. 17 nov. 2026 à 09:00, Alex <a@b.c> a écrit :\n> bonjour", "Merci !"),
        ("Danke.\n\nAm 17.11.2026 um 09:00 schrieb Alex <a@b.c>:\n> hallo", "Danke."),
        ("OK\n\n-----Original Message-----\nFrom: Alex\nSent: today\nhello", "OK"),
        ("OK\n\nFrom: Alex <a@b.c>\nSent: Tuesday, November 17, 2026\nTo: Dana\nhello", "OK"),
        ("OK\n\nFrom: Alex <a@b.c>\nDate: Tuesday, November 17, 2026\nhello", "OK"),
        ("OK\n___________\nFrom: Alex <a@b.c>\nSent: Tuesday\nhello", "OK"),
        ("OK From: Alex <a@b.c> Sent: Tuesday, November 17 To: Dana Subject: hi", "OK"),
        ("> your point\nagreed\n> another\nyes", "agreed\nyes"),
        # Attribution-like text without a date or an address is the sender's own.
        ("On Friday, as I wrote: we decide soon.", "On Friday, as I wrote: we decide soon."),
        # Forwarded mail is what the sender chose to send.
        (
            "See below.\n---------- Forwarded message ---------\nFrom: HM\nDate: Mon\nWe pass.",
            "See below.\n---------- Forwarded message ---------",
        ),
        ("", ""),
    ],
)
def test_strip_quoted(text: str, own: str) -> None:
    assert strip_quoted(text) == own


# --- headers ----------------------------------------------------------------------------------


def test_auto_submitted_auto_replied_is_always_an_auto_reply() -> None:
    reading = read_message(
        message(
            "Thanks for your email. I will respond soon.",
            subject="Re: Thank you",
            headers={"auto-submitted": "auto-replied"},
        )
    )
    assert reading.kind is MailKind.AUTO_REPLY
    assert "header auto-submitted: auto-replied" in reading.evidence
    assert reading.decision_by is None


def test_exchange_automatic_reply_has_a_return_date() -> None:
    reading = read_message(
        message(
            "I am out of the office until Monday, November 30th with limited access to email. "
            "For urgent matters contact recruiting@acme.example.",
            subject="Automatic reply: Thank you - final round interview",
            headers={
                "auto-submitted": "auto-generated",
                "x-ms-exchange-generated-message-source": "Mailbox Rules Agent",
                "x-auto-response-suppress": "All",
            },
        )
    )
    assert reading.kind is MailKind.AUTO_REPLY
    assert reading.back_on == datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
    assert 'subject "Automatic reply: Thank you - final round interview"' in reading.evidence


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Out of Office: Re: Thank you", {}),
        ("Auto: Thank you", {}),
        ("Abwesenheitsnotiz: Danke", {}),
        ("Réponse automatique : Merci", {}),
        ("Thank you", {"x-autoreply": "yes"}),
        ("Thank you", {"precedence": "auto_reply"}),
    ],
)
def test_auto_reply_markers(subject: str, headers: dict[str, str]) -> None:
    reading = read_message(message("I'll be back on Monday.", subject=subject, headers=headers))
    assert reading.kind is MailKind.AUTO_REPLY
    assert reading.back_on == datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK)


def test_an_ats_rejection_with_auto_generated_is_a_rejection() -> None:
    reading = read_message(
        message(
            "Hi Alex, thank you for your interest in Acme. Unfortunately, we have decided to "
            "move forward with other candidates. This is an automated message, please do not "
            "reply.",
            subject="Your application to Acme",
            sender=Person("Acme Recruiting", "no-reply@greenhouse.example"),
            headers={"auto-submitted": "auto-generated", "precedence": "bulk"},
        )
    )
    assert reading.kind is MailKind.REJECTION


def test_an_ats_invitation_with_auto_generated_is_a_next_round() -> None:
    reading = read_message(
        message(
            "This is an automated message. We'd like to invite you to a technical interview; "
            "please pick a time slot.",
            sender=Person("Acme Recruiting", "no-reply@ats.example"),
            headers={"auto-submitted": "auto-generated"},
        )
    )
    assert reading.kind is MailKind.NEXT_ROUND


def test_an_ats_acknowledgement_with_auto_generated_is_an_auto_reply() -> None:
    reading = read_message(
        message(
            "We have received your application and will review it shortly.",
            sender=Person("Acme Careers", "no-reply@ats.example"),
            headers={"auto-submitted": "auto-generated"},
        )
    )
    assert reading.kind is MailKind.AUTO_REPLY
    assert reading.back_on is None


def test_out_of_office_wording_without_headers_needs_a_return_date() -> None:
    with_date = read_message(message("I'm currently out of office, back on 12/03."))
    assert with_date.kind is MailKind.AUTO_REPLY
    assert with_date.back_on == datetime(2026, 12, 3, 9, 0, tzinfo=NEW_YORK)
    without = read_message(message("I'm out of the office today, but thanks for the note!"))
    assert without.kind is MailKind.REPLY


def test_bounce_by_content_type() -> None:
    reading = read_message(
        message(
            "Your message could not be delivered.",
            subject="Delivery Status Notification (Failure)",
            headers={"content-type": 'multipart/report; report-type="delivery-status"; b="x"'},
        )
    )
    assert reading.kind is MailKind.BOUNCE


def test_bounce_by_failed_recipients() -> None:
    reading = read_message(
        message("whatever", subject="Hello", headers={"x-failed-recipients": "dana@acme.example"})
    )
    assert reading == MailReading(MailKind.BOUNCE, None, None, ("header x-failed-recipients",))


@pytest.mark.parametrize(
    "subject",
    [
        "Undeliverable: Thank you",
        "Mail delivery failed: returning message to sender",
        "Returned mail: see transcript for details",
        "Delivery Status Notification (Failure)",
    ],
)
def test_bounce_by_mailer_daemon(subject: str) -> None:
    reading = read_message(
        message(
            "",
            subject=subject,
            sender=Person("Mail Delivery Subsystem", "mailer-daemon@googlemail.com"),
        )
    )
    assert reading.kind is MailKind.BOUNCE


def test_a_person_writing_about_delivery_is_not_a_bounce() -> None:
    reading = read_message(message("Your courier delivery failed, sorry.", subject="Hello"))
    assert reading.kind is MailKind.REPLY


def test_the_corpus_bounce_message() -> None:
    raw = (CORPUS / "eml" / "spam--bounce_multipart-report_delivery-status.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, address = parseaddr(str(parsed["from"]))
    reading = read_message(
        message(
            "Your message has encountered delivery problems",
            subject=str(parsed["subject"]),
            sender=Person(name, address.lower()),
            headers={key.lower(): str(value) for key, value in parsed.items()},
        )
    )
    assert reading.kind is MailKind.BOUNCE
    assert any(reason.startswith("header content-type") for reason in reading.evidence)
    assert "sender postmaster@netpar.com.br" in reading.evidence


# --- properties -------------------------------------------------------------------------------

HEADER_NAMES = [
    "auto-submitted",
    "x-autoreply",
    "precedence",
    "content-type",
    "x-failed-recipients",
    "x-ms-exchange-generated-message-source",
]


@settings(max_examples=200, deadline=None)
@given(
    snippet=st.text(max_size=600),
    subject=st.text(max_size=80),
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=40), max_size=3),
)
def test_any_message_reads_without_raising(
    snippet: str, subject: str, headers: dict[str, str]
) -> None:
    reading = read_message(message(snippet, subject=subject, headers=headers))
    assert reading.evidence
    if reading.back_on is not None:
        assert reading.kind is MailKind.AUTO_REPLY
    if reading.decision_by is not None:
        assert reading.kind in {MailKind.OFFER, MailKind.NEXT_ROUND, MailKind.TIMEFRAME}
        assert reading.decision_by >= SENT


@settings(max_examples=100, deadline=None)
@given(own=st.text(max_size=200), quoted=st.text(max_size=400))
def test_quoted_lines_never_survive(own: str, quoted: str) -> None:
    text = own + "\n" + "\n".join("> " + line for line in quoted.split("\n"))
    kept = strip_quoted(text).split("\n")
    assert all(not line.lstrip(" \t").startswith(">") for line in kept)


# --- replies in German, French, Spanish, Portuguese and Dutch (issue 12, point 4) -------------


@pytest.mark.parametrize(
    "snippet",
    [
        # German
        "Sehr geehrter Herr Weber, leider müssen wir Ihnen mitteilen, dass wir uns für einen "
        "anderen Kandidaten entschieden haben.",
        "Hallo Jonas, nach sorgfältiger Prüfung haben wir uns leider für eine andere "
        "Bewerberin entschieden.",
        "Leider können wir Ihre Bewerbung nicht weiter berücksichtigen.",
        "Wir bedauern, Ihnen mitteilen zu müssen, dass die Stelle bereits besetzt ist.",
        # French
        "Bonjour Camille, nous sommes au regret de vous informer que votre candidature n'a pas "
        "été retenue.",
        "Malheureusement, nous avons décidé de poursuivre avec un autre candidat.",
        "Nous ne pouvons malheureusement pas donner une suite favorable à votre candidature.",
        # Spanish
        "Hola Lucía, lamentablemente hemos decidido continuar con otros candidatos.",
        "Lamentamos informarle que su candidatura no ha sido seleccionada.",
        "Sentimos comunicarte que hemos seleccionado a otra persona para el puesto.",
        # Portuguese
        "Olá Beatriz, infelizmente decidimos seguir com outros candidatos.",
        "Agradecemos o seu interesse, mas infelizmente o seu perfil não foi selecionado.",
        "Lamentamos informar que a vaga já foi preenchida.",
        # Dutch
        "Beste Sanne, helaas moeten wij u laten weten dat wij hebben gekozen voor een andere "
        "kandidaat.",
        "Helaas hebben we besloten om niet verder te gaan met uw sollicitatie.",
        "Wij hebben besloten u niet uit te nodigen voor een tweede gesprek.",
    ],
)
def test_rejections_in_other_languages(snippet: str) -> None:
    reading = read_message(message(snippet, subject="Ihre Bewerbung"))

    assert reading.kind is MailKind.REJECTION, reading.evidence


@pytest.mark.parametrize(
    ("snippet", "until"),
    [
        ("Wir melden uns innerhalb von zwei Wochen bei Ihnen.", (2026, 12, 2)),
        ("Sie hören in den nächsten drei Tagen von uns.", (2026, 11, 21)),
        ("Wir melden uns bis Freitag bei Ihnen.", (2026, 11, 20)),
        ("Nous reviendrons vers vous d'ici deux semaines.", (2026, 12, 2)),
        ("Vous aurez une réponse dans les 10 jours.", (2026, 11, 28)),
        ("Nous vous répondrons d'ici vendredi.", (2026, 11, 20)),
        ("Te daremos una respuesta en las próximas dos semanas.", (2026, 12, 2)),
        ("Le contactaremos en un plazo de cinco días hábiles.", (2026, 11, 25)),
        ("Le escribiremos antes del viernes.", (2026, 11, 20)),
        ("Daremos um retorno nas próximas duas semanas.", (2026, 12, 2)),
        ("Entraremos em contato em até 3 dias úteis.", (2026, 11, 23)),
        ("Wij laten binnen twee weken iets van ons horen.", (2026, 12, 2)),
        ("U hoort in de komende drie dagen van ons.", (2026, 11, 21)),
        ("We laten het u uiterlijk vrijdag weten.", (2026, 11, 20)),
    ],
)
def test_time_frames_in_other_languages(snippet: str, until: tuple[int, int, int]) -> None:
    reading = read_message(message(snippet, subject="Re: Danke"))

    assert reading.kind is MailKind.TIMEFRAME, reading.evidence
    assert reading.decision_by == datetime(*until, 23, 59, 59, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("subject", "snippet", "back"),
    [
        ("Abwesenheitsnotiz: Danke", "Ich bin bis einschließlich Freitag nicht im Büro.", None),
        ("Danke", "Ich bin abwesend und ab dem 3. Dezember wieder im Büro.", (2026, 12, 3)),
        ("Absent du bureau : Merci", "Je suis en congés.", None),
        ("Merci", "Je suis absente du bureau, de retour le lundi 7 décembre.", (2026, 12, 7)),
        ("Fuera de la oficina: Gracias", "Estoy de vacaciones.", None),
        ("Gracias", "Estoy fuera de la oficina hasta el 3 de diciembre.", (2026, 12, 3)),
        ("Fora do escritório: Obrigado", "Estou de férias.", None),
        ("Obrigado", "Estou fora do escritório até 3 de dezembro.", (2026, 12, 3)),
        ("Afwezigheidsmelding: Bedankt", "Ik ben afwezig.", None),
        ("Bedankt", "Ik ben afwezig tot en met 2 december.", (2026, 12, 3)),
    ],
)
def test_out_of_office_in_other_languages(
    subject: str, snippet: str, back: tuple[int, int, int] | None
) -> None:
    reading = read_message(message(snippet, subject=subject))

    assert reading.kind is MailKind.AUTO_REPLY, reading.evidence
    if back is not None:
        assert reading.back_on == datetime(*back, 9, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "snippet",
    [
        "Wenn wir uns leider für andere Kandidaten entscheiden, melden wir uns ebenfalls.",
        "Vielen Dank! Wir melden uns bald.",
        "Merci beaucoup, à bientôt !",
        "Gracias por su mensaje, le escribiremos pronto.",
    ],
)
def test_hedged_or_plain_replies_in_other_languages_are_replies(snippet: str) -> None:
    assert read_message(message(snippet, subject="Re: Danke")).kind is MailKind.REPLY


@pytest.mark.parametrize(
    "snippet",
    [
        "Wir freuen uns, Ihnen die Stelle als Backend-Entwickler anbieten zu können.",
        "Anbei erhalten Sie unser Vertragsangebot.",
        "Nous avons le plaisir de vous proposer le poste de chef de projet.",
        "Vous trouverez ci-joint votre promesse d'embauche.",
        "Nos complace ofrecerte el puesto de Product Manager.",
        "Te adjuntamos la carta oferta.",
        "Temos o prazer de oferecer a você a vaga de Analista de Dados.",
        "Segue em anexo a carta proposta.",
        "We willen je graag een aanbod doen voor de functie Data Engineer.",
        "In de bijlage vind je ons contractvoorstel.",
    ],
)
def test_offers_in_other_languages(snippet: str) -> None:
    reading = read_message(message(snippet, subject="Ihre Bewerbung"))

    assert reading.kind is MailKind.OFFER, reading.evidence


@pytest.mark.parametrize(
    "snippet",
    [
        "Gerne möchten wir Sie zu einem zweiten Gespräch einladen.",
        "Wir möchten mit Ihnen in die nächste Runde gehen. Wann haben Sie Zeit?",
        "Nous souhaitons vous inviter à un deuxième entretien. Quelles sont vos disponibilités ?",
        "Nous aimerions passer à la prochaine étape avec vous.",
        "Nos gustaría invitarte a una segunda entrevista.",
        "Queremos avanzar contigo a la siguiente fase del proceso.",
        "Gostaríamos de convidar você para a próxima etapa do processo.",
        "Queremos agendar uma segunda entrevista com você.",
        "We nodigen je graag uit voor een tweede gesprek.",
        "We willen graag met je door naar de volgende ronde.",
    ],
)
def test_next_rounds_in_other_languages(snippet: str) -> None:
    reading = read_message(message(snippet, subject="Re: Danke"))

    assert reading.kind is MailKind.NEXT_ROUND, reading.evidence


@pytest.mark.parametrize(
    "snippet",
    [
        "Sobald wir uns entschieden haben, schicken wir Ihnen gegebenenfalls ein Vertragsangebot.",
        "Si nous décidons de vous proposer le poste, nous vous appellerons.",
        "Vielen Dank für Ihr Interesse an unseren Stellenangeboten.",
        "Consultez nos offres d'emploi sur notre site.",
    ],
)
def test_hedged_offers_and_job_ads_in_other_languages_are_not_offers(snippet: str) -> None:
    assert read_message(message(snippet, subject="Re: Danke")).kind is not MailKind.OFFER


@pytest.mark.parametrize(
    "snippet",
    [
        "Wir melden uns innerhalb von zwei Wochen zum nächsten Schritt.",
        "Nous reviendrons vers vous d'ici deux semaines pour la prochaine étape.",
        "Te daremos una respuesta sobre la próxima fase en las próximas dos semanas.",
        "Daremos um retorno sobre a próxima etapa nas próximas duas semanas.",
        "Wij laten binnen twee weken iets van ons horen over de volgende stap.",
    ],
)
def test_a_time_frame_that_mentions_the_next_step_is_a_time_frame(snippet: str) -> None:
    assert read_message(message(snippet, subject="Re: Danke")).kind is MailKind.TIMEFRAME
