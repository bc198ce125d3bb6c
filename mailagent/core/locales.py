"""What a draft says outside its template, in each language: dates, role phrases, subjects.

The templates of a language live in ``mailagent/templates/<code>/`` (English at the top level);
they write the sentences, this module only the pieces the composer fills in for them. Each
phrase is written for the place its template puts it, and avoids what the language would
contract or inflect by the company's gender:

- German: ``role_phrase`` is "die Position als Data Engineer bei Acme" (accusative, after
  "über" or "für"); dates "10. März" ("am 10. März": with the weekday, "am Dienstag, 10. März"
  would need a closing comma wherever a template puts it).
- French: "le poste de Data Engineer chez Acme" ("d'" before a vowel), never after "de" or
  "à" (which would contract to "du"/"au"); dates "mardi 10 mars".
- Spanish: "el puesto de Data Engineer en Acme", never after "de" ("del"); dates
  "martes 10 de marzo".
- Portuguese: "a vaga de Data Engineer na empresa Acme" (a company's own name takes "o" or
  "a" as people say it, "o Nubank", "a Vale": "a empresa" is right for every one), never after
  "de" or "a"; dates "10 de março".
- Dutch: "de functie van Data Engineer bij Acme"; dates "dinsdag 10 maart".

Pure data and string functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["LOCALES", "Locale", "locale_for"]


@dataclass(frozen=True, slots=True)
class Locale:
    code: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    date_format: str
    """`str.format` pattern with {weekday}, {day} and {month}."""
    role_with_company: str
    role_only: str
    company_only: str
    no_role: str
    thank_you_subject: tuple[str, str, str, str]
    """Subjects for (role and company, role, company, neither)."""
    follow_up_subject: tuple[str, str]
    """A fresh follow-up's subject (with a role, without)."""

    def day(self, day: date) -> str:
        return self.date_format.format(
            weekday=self.weekdays[day.weekday()], day=day.day, month=self.months[day.month - 1]
        )

    def role_phrase(self, role: str, company: str) -> str:
        if role and company:
            pattern = self.role_with_company
        elif role:
            pattern = self.role_only
        elif company:
            pattern = self.company_only
        else:
            pattern = self.no_role
        return _elide(pattern.format(role=role, company=company))

    def thank_you(self, role: str, company: str) -> str:
        both, role_only, company_only, neither = self.thank_you_subject
        if role and company:
            return both.format(role=role, company=company)
        if role:
            return role_only.format(role=role)
        if company:
            return company_only.format(company=company)
        return neither

    def follow_up(self, role: str) -> str:
        with_role, without = self.follow_up_subject
        return with_role.format(role=role) if role else without


_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜ")
_ELIDABLE = "de\u2060"
"""Written in a pattern where French "de" elides before a vowel ("le poste d'Ingénieur")."""


def _elide(text: str) -> str:
    while _ELIDABLE in text:
        before, _, after = text.partition(_ELIDABLE)
        text = before + ("d'" if after[:1] in _VOWELS else "de ") + after
    return text


LOCALES: dict[str, Locale] = {
    "en": Locale(
        code="en",
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        date_format="{weekday}, {month} {day}",
        role_with_company="the {role} role at {company}",
        role_only="the {role} role",
        company_only="the role at {company}",
        no_role="the role",
        thank_you_subject=(
            "Thank you – {role} interview at {company}",
            "Thank you – {role} interview",
            "Thank you – interview at {company}",
            "Thank you for our conversation",
        ),
        follow_up_subject=("Following up – {role} interview", "Following up on my interview"),
    ),
    "de": Locale(
        code="de",
        weekdays=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        months=(
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ),
        date_format="{day}. {month}",
        role_with_company="die Position als {role} bei {company}",
        role_only="die Position als {role}",
        company_only="die Position bei {company}",
        no_role="die Position",
        thank_you_subject=(
            "Vielen Dank für das Gespräch – {role} bei {company}",
            "Vielen Dank für das Gespräch – {role}",
            "Vielen Dank für das Gespräch – {company}",
            "Vielen Dank für das Gespräch",
        ),
        follow_up_subject=(
            "Nachfrage zu meiner Bewerbung – {role}",
            "Nachfrage zu meiner Bewerbung",
        ),
    ),
    "fr": Locale(
        code="fr",
        weekdays=("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
        months=(
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ),
        date_format="{weekday} {day} {month}",
        role_with_company="le poste de\u2060{role} chez {company}",
        role_only="le poste de\u2060{role}",
        company_only="le poste chez {company}",
        no_role="le poste",
        thank_you_subject=(
            "Merci pour notre entretien – {role} chez {company}",
            "Merci pour notre entretien – {role}",
            "Merci pour notre entretien – {company}",
            "Merci pour notre échange",
        ),
        follow_up_subject=("Suivi de ma candidature – {role}", "Suivi de ma candidature"),
    ),
    "es": Locale(
        code="es",
        weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        months=(
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ),
        date_format="{weekday} {day} de {month}",
        role_with_company="el puesto de {role} en {company}",
        role_only="el puesto de {role}",
        company_only="el puesto en {company}",
        no_role="el puesto",
        thank_you_subject=(
            "Gracias por la entrevista – {role} en {company}",
            "Gracias por la entrevista – {role}",
            "Gracias por la entrevista – {company}",
            "Gracias por la conversación",
        ),
        follow_up_subject=(
            "Seguimiento de mi candidatura – {role}",
            "Seguimiento de mi candidatura",
        ),
    ),
    "pt": Locale(
        code="pt",
        weekdays=(
            "segunda-feira",
            "terça-feira",
            "quarta-feira",
            "quinta-feira",
            "sexta-feira",
            "sábado",
            "domingo",
        ),
        months=(
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ),
        date_format="{day} de {month}",
        role_with_company="a vaga de {role} na empresa {company}",
        role_only="a vaga de {role}",
        company_only="a vaga na empresa {company}",
        no_role="a vaga",
        thank_you_subject=(
            "Agradecimento pela entrevista – {role}, {company}",
            "Agradecimento pela entrevista – {role}",
            "Agradecimento pela entrevista – {company}",
            "Agradecimento pela conversa",
        ),
        follow_up_subject=(
            "Acompanhamento do processo seletivo – {role}",
            "Acompanhamento do processo seletivo",
        ),
    ),
    "nl": Locale(
        code="nl",
        weekdays=("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
        months=(
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ),
        date_format="{weekday} {day} {month}",
        role_with_company="de functie van {role} bij {company}",
        role_only="de functie van {role}",
        company_only="de functie bij {company}",
        no_role="de functie",
        thank_you_subject=(
            "Bedankt voor het gesprek – {role} bij {company}",
            "Bedankt voor het gesprek – {role}",
            "Bedankt voor het gesprek – {company}",
            "Bedankt voor het gesprek",
        ),
        follow_up_subject=("Vervolg op mijn sollicitatie – {role}", "Vervolg op mijn sollicitatie"),
    ),
}


def locale_for(code: str) -> Locale:
    """The locale of a language code; English for a code without one."""
    return LOCALES.get(code, LOCALES["en"])
