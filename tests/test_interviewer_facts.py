"""What an invitation says about each interviewer, and that it survives the store (issue 12, 3).

The corpus cases (tests/test_interview_corpus.py) cover schedules, interviewer lists and
signatures as ATS tools write them; these cover the rest of `mailagent.core.interviewer_facts` and
the JSON the store keeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mailagent import serialize
from mailagent.core.interviewer_facts import interviewer_facts, kind_for
from mailagent.core.models import Interview, InterviewerFacts, InterviewerKind, Person

KIM = Person("Kim Tran (Technical Recruiter)", "kim.tran@umbrella.example")
START = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def test_a_title_in_the_attendees_display_name_is_read() -> None:
    (facts,) = interviewer_facts([KIM], "Looking forward to it.")

    assert (facts.title, facts.kind, facts.source) == (
        "Technical Recruiter",
        InterviewerKind.RECRUITER,
        "the attendee's name",
    )


def test_nothing_said_gives_no_facts_and_a_first_name_alone_says_nothing() -> None:
    people = [Person("Priya Raman", "priya@acme.example"), Person("Marco Rossi", "m@acme.example")]

    assert interviewer_facts(people, "Interviewers: Priya, Marco.", "Onsite") == ()


def test_the_side_comes_from_the_title_then_a_technical_topic() -> None:
    assert kind_for("Senior Talent Partner") is InterviewerKind.RECRUITER
    assert kind_for("Director of Engineering") is InterviewerKind.HIRING_MANAGER
    assert kind_for("Product Manager") is InterviewerKind.UNKNOWN  # manages a product
    assert kind_for("Staff Engineer") is InterviewerKind.ENGINEER
    assert kind_for("", "system design") is InterviewerKind.ENGINEER
    assert kind_for("", "product vision") is InterviewerKind.UNKNOWN


def interview(**changes: object) -> Interview:
    base = Interview(
        id="iv-1",
        event_id="ev-1",
        title="Onsite",
        start=START,
        end=START,
        company="Northwind",
        company_domains=("northwind.example",),
        role="",
        interviewers=(Person("Ana Costa", "ana@northwind.example"),),
    )
    loaded: Interview = serialize.from_plain({**serialize.to_plain(base), **changes}, Interview)
    return loaded


def test_an_interview_stored_before_facts_existed_still_loads() -> None:
    old = serialize.to_plain(interview())
    del old["interviewer_facts"]

    loaded = serialize.loads(json.dumps(old), Interview)

    assert loaded.interviewer_facts == ()
    assert loaded.facts_for("ana@northwind.example") == InterviewerFacts("ana@northwind.example")


def test_facts_round_trip_through_the_stored_json() -> None:
    facts = InterviewerFacts(
        "ana@northwind.example",
        "Engineering Manager",
        "team and roadmap",
        "11:00",
        InterviewerKind.HIRING_MANAGER,
        "the invitation's schedule",
    )
    stored = interview(interviewer_facts=[serialize.to_plain(facts)])

    loaded = serialize.loads(serialize.dumps(stored), Interview)

    assert loaded.facts_for("Ana@Northwind.example") == facts


def test_the_side_is_read_in_german_french_spanish_portuguese_and_dutch() -> None:
    assert kind_for("Personalreferentin") is InterviewerKind.RECRUITER
    assert kind_for("Chargée de recrutement") is InterviewerKind.RECRUITER
    assert kind_for("Reclutadora") is InterviewerKind.RECRUITER
    assert kind_for("Recrutadora") is InterviewerKind.RECRUITER
    assert kind_for("Teamleiterin Backend") is InterviewerKind.HIRING_MANAGER
    assert kind_for("Directrice produit") is InterviewerKind.HIRING_MANAGER
    assert kind_for("Jefa de ingeniería") is InterviewerKind.HIRING_MANAGER
    assert kind_for("Gerente de Engenharia") is InterviewerKind.HIRING_MANAGER
    assert kind_for("Teamleider Data") is InterviewerKind.HIRING_MANAGER
    assert kind_for("Softwareentwickler") is InterviewerKind.ENGINEER
    assert kind_for("Développeuse senior") is InterviewerKind.ENGINEER
    assert kind_for("Desarrollador backend") is InterviewerKind.ENGINEER
    assert kind_for("Engenheira de dados") is InterviewerKind.ENGINEER
    assert kind_for("Ontwikkelaar") is InterviewerKind.ENGINEER
    assert kind_for("", "Live-Coding und Architektur") is InterviewerKind.ENGINEER


def test_a_one_person_round_is_placed_by_its_title_in_other_languages() -> None:
    one = [Person("Ana Costa", "ana@northwind.example")]
    for title, kind in [
        ("Telefoninterview mit HR – Zalando", InterviewerKind.RECRUITER),
        ("Entretien RH – Doctolib", InterviewerKind.RECRUITER),
        ("Bate-papo com o RH – iFood", InterviewerKind.RECRUITER),
        ("Entretien technique – Doctolib", InterviewerKind.ENGINEER),
        ("Entrevista técnica – Cabify", InterviewerKind.ENGINEER),
        ("Fachgespräch – Bosch", InterviewerKind.ENGINEER),
        ("Gespräch mit der Führungskraft – Otto", InterviewerKind.HIRING_MANAGER),
        ("Entretien avec le manager – Alan", InterviewerKind.HIRING_MANAGER),
    ]:
        (facts,) = interviewer_facts(one, "", title)
        assert facts.kind is kind, title


def test_a_side_label_in_another_language_places_the_people_it_names() -> None:
    people = [Person("Ana Costa", "ana@n.example"), Person("Jan Vos", "jan@n.example")]
    description = "Recruteuse : Ana Costa\nManager : Jan Vos"

    kinds = {f.address: f.kind for f in interviewer_facts(people, description)}

    assert kinds == {
        "ana@n.example": InterviewerKind.RECRUITER,
        "jan@n.example": InterviewerKind.HIRING_MANAGER,
    }
