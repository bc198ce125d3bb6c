"""The language an interview is written in, from its title and description (issue 12, point 4).

Design note. Word lists, not a model: an interview invitation is short and full of names, and
what decides its language is a handful of words everybody writes ("Vorstellungsgespräch",
"Entretien", "wir freuen uns", "nous vous", "para el puesto"). Each language has

- *title words*: what people call a job interview in that language. One in the title decides,
  since the title is what the user and the company both read first;
- *common words*: function words and invitation vocabulary that no other of these languages
  writes the same way ("und", "nous", "usted", "você", "graag"). A description with at least
  `MIN_WORDS` distinct common words of one language, more than of English and of any other,
  is in that language: so a short English title ("Interview - Acme") above a German
  description is German.

Anything else is English, the default. Spanish and Portuguese share "entrevista": the common
words decide between them, and Spanish wins a tie. The result names its evidence so that
`explain` can say "written in German: the title says Vorstellungsgespräch".

Pure: two strings in, a `LanguageGuess` out; every regex is listed in tests/test_regex_budget.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "LanguageGuess", "detect_language"]

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "nl": "Dutch",
}
LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_NAMES)
"""The languages drafts are written in; "en" is the default."""

TEXT_LIMIT = 4_000
"""Characters of a title or description read (the providers cut descriptions to 4,000)."""

MIN_WORDS = 3
"""Distinct common words a description needs for its language to count."""

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
"""A word of letters (any script), with an inner apostrophe ("d'embauche")."""

TITLE_WORDS: dict[str, tuple[str, ...]] = {
    "de": (
        "vorstellungsgespräch",
        "bewerbungsgespräch",
        "kennenlerngespräch",
        "telefoninterview",
        "videointerview",
        "zweitgespräch",
        "fachgespräch",
        "mitarbeitergespräch",
        "jahresgespräch",
        "gespräch",
        "einladung",
        "erstgespräch",
        "kennenlernen",
        "telefonisches",
    ),
    "fr": ("entretien", "d'embauche", "téléphonique", "recrutement", "candidature", "entrevue"),
    "es": ("entrevista", "trabajo", "puesto", "reunión", "videollamada", "llamada", "charla"),
    "pt": ("entrevista", "emprego", "vaga", "conversa", "chamada", "reunião", "papo"),
    "nl": (
        "sollicitatiegesprek",
        "kennismakingsgesprek",
        "functioneringsgesprek",
        "beoordelingsgesprek",
        "gesprek",
        "vervolggesprek",
        "uitnodiging",
        "videogesprek",
        "selectiegesprek",
        "telefoongesprek",
        "kennismaking",
    ),
}
"""Words of a title that say its language, the interview words first (they are the evidence
shown). "entrevista" is both Spanish and Portuguese."""

COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "you",
            "your",
            "with",
            "for",
            "will",
            "we",
            "our",
            "please",
            "thank",
            "thanks",
            "interview",
            "meeting",
            "role",
            "position",
            "looking",
            "forward",
            "join",
            "call",
            "team",
            "would",
            "like",
            "are",
            "this",
        ]
    ),
    "de": frozenset(
        [
            "und",
            "mit",
            "für",
            "wir",
            "uns",
            "ihnen",
            "ihr",
            "ihre",
            "sie",
            "der",
            "die",
            "das",
            "den",
            "dem",
            "des",
            "ist",
            "auf",
            "bei",
            "zum",
            "zur",
            "eine",
            "einen",
            "einem",
            "einer",
            "gespräch",
            "termin",
            "bitte",
            "freuen",
            "grüße",
            "grüßen",
            "stelle",
            "liebe",
            "hallo",
            "herzliche",
            "vielen",
            "dank",
            "viele",
            "gerne",
            "wie",
            "sich",
            "nicht",
            "auch",
            "über",
            "sind",
            "werden",
            "wird",
            "unser",
            "unsere",
            "unserem",
            "unseren",
            "position",
            "als",
            "kennenzulernen",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "des",
            "du",
            "et",
            "avec",
            "pour",
            "nous",
            "vous",
            "votre",
            "vos",
            "est",
            "au",
            "aux",
            "entretien",
            "poste",
            "merci",
            "bonjour",
            "cordialement",
            "sera",
            "rencontre",
            "candidature",
            "chez",
            "une",
            "dans",
            "sur",
            "êtes",
            "serons",
            "notre",
            "nos",
            "équipe",
            "plaisir",
            "rencontrer",
            "d'embauche",
            "lien",
            "à",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "los",
            "las",
            "del",
            "con",
            "para",
            "usted",
            "su",
            "sus",
            "nuestro",
            "nuestra",
            "nuestros",
            "puesto",
            "gracias",
            "saludos",
            "estimado",
            "estimada",
            "hola",
            "reunión",
            "muchas",
            "también",
            "equipo",
            "llamada",
            "videollamada",
            "vacante",
            "entrevista",
            "encantados",
            "más",
            "esta",
            "contarte",
            "búsqueda",
            "abrazo",
            "será",
            "una",
            "está",
            "nos",
        ]
    ),
    "pt": frozenset(
        [
            "os",
            "da",
            "dos",
            "com",
            "você",
            "sua",
            "seu",
            "nossa",
            "nosso",
            "vaga",
            "obrigado",
            "obrigada",
            "olá",
            "atenciosamente",
            "não",
            "equipe",
            "equipa",
            "conversa",
            "chamada",
            "em",
            "uma",
            "entrevista",
            "será",
            "está",
            "vamos",
            "conhecer",
            "gostaríamos",
            "reunião",
        ]
    ),
    "nl": frozenset(
        [
            "het",
            "een",
            "met",
            "voor",
            "wij",
            "u",
            "uw",
            "jij",
            "graag",
            "gesprek",
            "sollicitatiegesprek",
            "functie",
            "vacature",
            "groet",
            "groeten",
            "beste",
            "hartelijk",
            "bedankt",
            "dank",
            "tot",
            "zien",
            "over",
            "van",
            "bij",
            "op",
            "is",
            "zijn",
            "ons",
            "onze",
            "kennismaken",
        ]
    ),
}
"""Function words and invitation words of each language. A word two languages share counts for
both ("entrevista"); a word shared with English ("is", "over") is kept only where the other
words of its list make the count."""

PORTUGUESE_LETTERS = "ãõêôç"
SPANISH_LETTERS = "ñ¿¡"
PORTUGUESE_TLDS = frozenset({"br", "pt", "ao", "mz"})
SPANISH_TLDS = frozenset({"es", "mx", "ar", "cl", "pe", "uy", "ve", "ec", "bo", "py"})

TIE_ORDER: tuple[str, ...] = ("de", "fr", "es", "nl", "pt", "en")
"""Who wins a tie of title or common words (Spanish before Portuguese: more speakers)."""


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str
    """One of `LANGUAGES`."""
    reason: str
    """Why, for `explain`: 'the title says "Vorstellungsgespräch"'; "" for the default."""

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES[self.code]


ENGLISH = LanguageGuess("en", "")


def _words(text: str) -> list[str]:
    """Lower-case words, without addresses and links ("acme.com" is no Portuguese "com")."""
    kept = []
    for token in text[:TEXT_LIMIT].split():
        bare = token.strip(".,;:!?()[]<>\"'")
        if "@" in bare or "://" in bare or "." in bare or "/" in bare:
            continue
        kept.append(bare)
    return [w.replace("’", "'").lower() for w in WORD.findall(" ".join(kept))]


def _ranked(scores: dict[str, int]) -> list[str]:
    return sorted(
        (code for code, score in scores.items() if score > 0),
        key=lambda code: (-scores[code], TIE_ORDER.index(code)),
    )


def _iberian_hint(text: str, domains: Sequence[str]) -> dict[str, int]:
    """Spelling and country domains that tell Portuguese from Spanish ("entrevista" is both)."""
    hint = {"es": 0, "pt": 0}
    hint["pt"] += sum(text.count(c) for c in PORTUGUESE_LETTERS)
    hint["es"] += sum(text.count(c) for c in SPANISH_LETTERS)
    for domain in domains:
        tld = domain.lower().rpartition(".")[2]
        if tld in PORTUGUESE_TLDS:
            hint["pt"] += 3
        elif tld in SPANISH_TLDS:
            hint["es"] += 3
    return hint


def detect_language(
    title: str, description: str = "", domains: Sequence[str] = ()
) -> LanguageGuess:
    """The language of an interview (see the module note); English when nothing says.

    `domains` are the company's mail domains: a .br or .pt domain tips "Entrevista" to
    Portuguese, an .es or .mx one to Spanish, when the words do not."""
    title_words = _words(title)
    text_words = set(_words(description)) | set(title_words)
    common = {code: len(text_words & words) for code, words in COMMON_WORDS.items()}
    strong: dict[str, str] = {}
    counts: dict[str, int] = {}
    for code, words in TITLE_WORDS.items():
        found = [w for w in words if w in title_words]
        if found:
            strong[code] = found[0]
            counts[code] = len(found)
    if strong:
        hint = _iberian_hint(f"{title}\n{description[:TEXT_LIMIT]}".lower(), domains)
        ranked = sorted(
            strong,
            key=lambda code: (
                -counts[code],
                -common[code],
                -hint.get(code, 0),
                TIE_ORDER.index(code),
            ),
        )
        code = ranked[0]
        shown = next((w for w in title.split() if w.lower().strip(",.:;-()") == strong[code]), "")
        return LanguageGuess(code, f'the title says "{shown or strong[code]}"')
    ranked = _ranked({c: n for c, n in common.items() if c != "en"})
    if ranked:
        code = ranked[0]
        if common[code] >= MIN_WORDS and common[code] > common["en"]:
            found = sorted(text_words & COMMON_WORDS[code])[:3]
            quoted = ", ".join(f'"{w}"' for w in found)
            return LanguageGuess(
                code,
                f"the description has {common[code]} {LANGUAGE_NAMES[code]} words ({quoted}...)",
            )
    return ENGLISH
