"""Company, role and interviewers of an interview, from what people really write (issue 12).

Design note. Titles are read as *segments*: "Jordan Lee <> Ramp: Technical Interview" is
split at separators ("-", "|", ":", "<>", "(", "with", "at", "for", "between"...) into
"Jordan Lee", "Ramp" and "Technical Interview". Each segment is then judged: stage words
("Technical Interview", "Rescheduled", "HM Screen") are dropped, and a segment that is the
user's name, a guest's name, a URL, a date, a meeting tool (Zoom, Teams, Meet...) or a job
title is never a company. A segment after "for" is a role; a segment after "with" or
"between" is a person or a company, never a role (it is who the user meets: "Interview with
Engineering Manager").

The company is, in this order: a title segment (preferring one that matches a guest's mail
domain), a phrase elsewhere that matches that domain ("Wayne Enterprises" for
wayneenterprises.com), a phrase such as "position at KPMG", the organizer's display name
without its recruiting word ("Acme Recruiting" gives "Acme"), an e-mail signature, and
last the capitalised domain. The role comes from a title segment that names a job, an
explicit field ("Position: ..."), or a phrase ("for the Platform Engineer role"); when none
is sure, there is no role. Job titles written next to a guest's name ("Kim Tran, Principal
Engineer") are the interviewer's, never the role.

Interviewers are the human guests, narrowed by the description: when it lists interviewers
("Interviewers: ...", "You'll meet ...", a schedule of times and names) and names at least
one guest, only the guests it names stay; a guest a sentence says "will not join" (or "I
won't be joining", said by the organizer) goes.

Pure: plain values in, plain values out. Every regex here reads untrusted text and is listed in
tests/test_regex_budget.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from mailagent.models import Person

__all__ = ["company_for", "narrow_interviewers", "role_for"]

SEPARATORS = re.compile(
    r"(?<!\s)\s+[-–—|/@x]\s+|(?<!\s)\s*[|:()\[\]<>@–—]\s*|[|:()\[\]<>@–—]\s*|"
    r"(?<!\s)\s+(?:with|w/|at|between|and|for|re|about|regarding|of|via|"
    r"mit|bei|für|avec|chez|pour|con|para|com|met|bij|voor|en|over)\s+|(?<!\s)\s+-\s*|"
    r"(?<!\s)\s*-\s+",
    re.I,
)
r"""Where a title splits into segments. "x" only between spaces ("Northwind x Hooli").
`(?<!\s)` lets a run of spaces start a separator only at its first space (linear time)."""

SEPARATOR_WORD = re.compile(
    r"^\s*(?:with|w/|at|between|and|for|re|about|regarding|of|via|"
    r"mit|bei|für|avec|chez|pour|con|para|com|met|bij|voor|en|over)\s*$",
    re.I,
)

SEPARATOR_MEANING = {
    "mit": "with",
    "avec": "with",
    "con": "with",
    "com": "with",
    "met": "with",
    "bei": "at",
    "chez": "at",
    "en": "at",
    "bij": "at",
    "für": "for",
    "pour": "for",
    "para": "for",
    "voor": "for",
    "over": "about",
}
"""What a separator word of German, French, Spanish, Portuguese or Dutch means in a title:
"Telefoninterview mit SAP" is read as "Phone interview with SAP"."""

GENDER_TAG = re.compile(r"\(\s*[mwfdhx]\s*/\s*[mwfdhx](?:\s*/\s*[mwfdhx]){0,2}\s*\)", re.I)
"""The gender tag of a job title in German, French or Dutch ads: "(m/w/d)", "(H/F)", "(m/v/x)"."""

MEETING_TOOLS = re.compile(
    r"\b(?:zoom|teams|microsoft teams|google meet|meet|hangouts?|webex|skype|bluejeans|"
    r"gotomeeting|whereby|calendly|cal video|around|tuple)\b",
    re.I,
)

STAGE_PHRASES = re.compile(
    r"\b(?:system(?:s)? design|take-?home(?: review)?|hiring manager|talent acquisition|"
    r"human resources|case study|pair programming|super ?day|on-?site|1:1|one-on-one)\b",
    re.I,
)

STAGE_WORDS = frozenset(
    [
        "interview",
        "interviews",
        "interviewing",
        "screen",
        "screening",
        "phone",
        "video",
        "virtual",
        "onsite",
        "call",
        "chat",
        "conversation",
        "meeting",
        "round",
        "final",
        "first",
        "second",
        "third",
        "fourth",
        "next",
        "1st",
        "2nd",
        "3rd",
        "4th",
        "stage",
        "loop",
        "technical",
        "tech",
        "coding",
        "culture",
        "values",
        "behavioral",
        "behavioural",
        "panel",
        "team",
        "intro",
        "introductory",
        "initial",
        "recruiter",
        "recruiting",
        "hr",
        "hm",
        "confirmation",
        "confirmed",
        "invitation",
        "invite",
        "updated",
        "rescheduled",
        "canceled",
        "cancelled",
        "scheduled",
        "new",
        "event",
        "your",
        "our",
        "the",
        "a",
        "an",
        "to",
        "in",
        "on",
        "job",
        "application",
        "candidate",
        "case",
        "review",
        "deep",
        "dive",
        "follow-up",
        "followup",
        "debrief",
        "session",
        "appointment",
        "quick",
        "catch-up",
        "sync",
        # German, French, Spanish, Portuguese, Dutch
        "vorstellungsgespräch",
        "bewerbungsgespräch",
        "kennenlerngespräch",
        "kennenlern-gespräch",
        "auswahlgespräch",
        "zweitgespräch",
        "telefoninterview",
        "videointerview",
        "gespräch",
        "einladung",
        "zum",
        "zur",
        "ein",
        "einem",
        "der",
        "persönliches",
        "erstes",
        "zweites",
        "entretien",
        "entretiens",
        "d'embauche",
        "téléphonique",
        "visio",
        "convocation",
        "rh",
        "premier",
        "deuxième",
        "second",
        "à",
        "un",
        "entrevista",
        "entrevistas",
        "de",
        "trabajo",
        "emprego",
        "telefónica",
        "telefônica",
        "técnica",
        "videollamada",
        "invitación",
        "convite",
        "primera",
        "segunda",
        "primeira",
        "sollicitatiegesprek",
        "kennismakingsgesprek",
        "vervolggesprek",
        "selectiegesprek",
        "gesprek",
        "uitnodiging",
        "eerste",
        "tweede",
        "sollicitatie",
        "vaga",
        "vacature",
        "stelle",
        "poste",
        "puesto",
        "bate-papo",
        "het",
        "een",
    ]
)
"""Words that name the kind of meeting, stripped from both ends of a title segment."""

TIME_WORDS = frozenset(
    [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "am",
        "pm",
        "gmt",
        "utc",
        "bst",
        "cet",
        "cest",
        "est",
        "edt",
        "pst",
        "pdt",
        "cst",
        "cdt",
        "mst",
        "mdt",
        "ist",
        "pt",
        "et",
        "ct",
        "mt",
        "today",
        "tomorrow",
    ]
)

ROLE_WORDS = re.compile(
    r"\b(?:engineer|engineering|developer|designer|manager|scientist|analyst|architect|lead|"
    r"director|consultant|specialist|administrator|researcher|coordinator|recruiter|writer|"
    r"intern|internship|officer|associate|assistant|accountant|advocate|representative|"
    r"executive|nurse|technician|supervisor|sre|pm|vp|head|chief|cto|ceo|coo|cfo|"
    r"barista|bookkeeper|clerk|teacher|editor|marketer|strategist|operator|agent|trainee|"
    r"graduate|fellow|cashier|driver|chef|programmer|tester|qa|devops|controller|owner)s?\b"
    r"|(?:entwickler|ingenieur|leiter|berater|referent|sachbearbeiter|buchhalter|kaufmann|"
    r"kauffrau|architekt|verkäufer|techniker|spezialist|praktikant|werkstudent|"
    r"développeu|ingénieu|chef de projet|comptable|responsable|chargée? d|directeur|"
    r"directrice|stagiaire|alternant|technicien|desarrollador|ingenier[oa]|analista|gerente|"
    r"jef[ea] de|diseñador|programador|becari[oa]|consultor|desenvolvedor|engenheir[oa]|"
    r"estagiári[oa]|coordenador|ontwikkelaar|medewerker|adviseur|beheerder|stagiair|"
    r"leider|analist|verpleegkundige|docent|gestor|manager|fachkraft|pfleger|optiker|"
    r"alternance|técnic[oa]|estágio)",
    re.I,
)
"""A word that makes a phrase a job title."""

RECRUITING_WORDS = re.compile(
    r"\b(?:recruiting|recruitment|recruiters?|talent(?: acquisition| team)?|careers?|"
    r"hiring(?: team)?|jobs|people(?: team| ops)?|hr|interview scheduling|scheduling|"
    r"university recruiting|campus recruiting|graduate recruitment|team)\b",
    re.I,
)

REQUISITION = re.compile(r"\b(?:REQ|JR|R)-?\d{3,}\b|\(\s*[A-Z]{0,3}-?\d{3,}\s*\)", re.I)

URLISH = re.compile(r"https?://|www\.|\.(?:com|io|co|us|org|net|ai|dev)\b|@", re.I)

ROLE_FIELD = re.compile(
    r"(?im)^[ \t]*(?:questions:[ \t]*)?(?:position|role|job title|job|job requisition|"
    r"vacancy|opening|stelle|poste|puesto|vaga|cargo|functie|vacature)[ \t]*[:\-–][ \t]*"
    r"(?P<role>[^\n|]{2,100})"
)

ROLE_QUESTION = re.compile(
    r"(?i)\b(?:position|role|job)\b[^\n?]{0,40}\bapplying for\?[ \t]*(?P<role>[^\n|]{2,80})"
)

_ROLE_END = (
    r"(?=[ \t]*(?:[.,;:!?\n(]|$)|[ \t]+(?:bei|im|in|an|am|mit|zu|und|chez|au|à|avec|dans|et|"
    r"en|con|y|na|no|em|da|do|com|e|bij|met|op|a|ist|est|é|es|is|einladen|kennenlernen|"
    r"sprechen|unterhalten|beworben|bewerben|vorstellen|ein)\b)"
)
"""Where a role named in another language ends: a clause end, or the word after it."""

ROLE_PHRASES: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"(?i)\b(?:for|about|regarding|re|discuss|to|in|on)[ \t]+(?:the|this|our|your)[ \t]+"
        r"(?P<role>[^.\n;:()!?]{2,80}?)[ \t]+(?:role|position|opening|vacancy|job)\b"
    ),
    re.compile(r"(?i)\bposition of[ \t]+(?P<role>[^.\n;:()!?]{2,80}?)[ \t]+(?:at|with|in)\b"),
    re.compile(
        r"(?i)\binterview(?:s)? for[ \t]+(?:the[ \t]+)?(?P<role>[^.\n;:()!?]{2,80}?)"
        r"(?:[ \t]+(?:role|position))?[ \t]+(?:at|with)[ \t]"
    ),
    re.compile(r"(?m)^[ \t]*(?P<role>[A-Z][^.\n,;:()!?]{2,60}?)[ \t]+(?:position|role|vacancy)\b"),
    # German, French, Spanish, Portuguese, Dutch: "für die Position als ...", "pour le poste
    # de ...", "para el puesto de ...", "para a vaga de ...", "voor de functie van ...".
    re.compile(
        r"(?i)\b(?:für|über|auf) die (?:Position|Stelle|Rolle) (?:als|des|der|einer?s?)[ \t]+"
        r"(?P<role>[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:pour|concernant|sur|au|du) (?:le )?poste (?:de[ \t]+|d['’])"
        r"(?P<role>[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:(?:para|sobre|por|a|de) (?:el|la)|del|al) (?:puesto|vacante|posici[óo]n|cargo) de"
        r"[ \t]+"
        r"(?P<role>[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:para|sobre|pela|na|da) (?:a |o )?(?:vaga|posi[çc][ãa]o|cargo|fun[çc][ãa]o) de"
        r"[ \t]+(?P<role>[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
    re.compile(
        r"(?i)\bvoor de (?:functie|vacature|rol|positie) (?:van|als)[ \t]+"
        r"(?P<role>[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
    re.compile(r"\b(?:vacature|Vacature)[ \t]+(?P<role>[A-Z][^.\n;:()!?,]{2,80}?)" + _ROLE_END),
)

COMPANY_PHRASES: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"\b(?:Bewerbung|Position|Stelle|candidature|poste|candidatura|puesto|vaga|"
        r"sollicitatie|functie)[^.\n]{0,80}?\b(?:bei|chez|en|na|no|bij) "
        r"(?P<company>[A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})"
    ),
    re.compile(
        r"(?im)^[ \t]*(?:company|employer|organi[sz]ation)[ \t]*:[ \t]*(?P<company>[^\n|]{2,60})"
    ),
    re.compile(
        r"\b(?:role|position|opening|vacancy|job|interview|onsite|application)"
        r"[^.\n]{0,80}?\b(?:at|with) (?P<company>[A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})"
    ),
    re.compile(
        r"\b(?:on behalf of|interview with) (?P<company>[A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})"
    ),
)

CAPITALISED = re.compile(r"[A-Z][\w&'.-]*(?:[ \t]+[A-Z][\w&'.-]*){0,4}")

CORPORATE_SUFFIXES = frozenset(
    [
        "inc",
        "corp",
        "corporation",
        "co",
        "company",
        "group",
        "labs",
        "lab",
        "systems",
        "industries",
        "health",
        "holdings",
        "partners",
        "technologies",
        "technology",
        "ground",
        "recruitment",
        "analytics",
        "logistics",
        "foods",
        "enterprises",
        "international",
        "global",
        "ltd",
        "llc",
        "gmbh",
        "ag",
        "plc",
        "sa",
        "bv",
    ]
)

SIGNATURE = re.compile(
    r"^(?:[-–—])?(?P<lead>[^\n,|]{2,60})(?:[,|][^\n,|]{2,60})*[,|][ \t]*"
    r"(?P<company>[A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})[ \t]*$"
)
"""A sign-off line "Head of People, Fernway" or "Ben Carter | Recruiter | Tricentis"."""

LIST_MARKERS = re.compile(
    r"(?i)\b(?:interviewers?|interview panel|panel(?: members)?|hiring manager|attendees|"
    r"guests)[ \t]*[:\-–]|\byou(?:'ll| will)[ \t]+(?:meet|be meeting|be speaking with|speak with|"
    r"be interviewing with)|\byour interviewers?[ \t]+(?:is|are|will be)|\bjoined by\b|"
    r"\binterview with\b|\byou will meet with\b"
    r"|\b(?:gespr[äa]chspartner(?:in)?|interlocuteurs?|entrevistador(?:es|as)?|"
    r"gesprekspartners?)\b|\b(?:vous rencontrerez|sie sprechen mit|hablar[áa]s con|"
    r"vai conversar com|je spreekt met|u spreekt met)\b"
    r"|\b(?:entretien|gespr[äa]ch|entrevista|conversa|gesprek)\b[^\n]{0,60}?"
    r"\b(?:avec|mit|con|com|met)\b"
)

SCHEDULE_LINE = re.compile(r"^[ \t]*\d{1,2}(?:[:.]\d{2})?[ \t]*(?:[ap]\.?m\.?)?\b", re.I)

LOGISTICS = re.compile(r"(?i)\b(?:greet|walk-?out|welcome|check-?in|lunch|break|tour)\b")

NOT_JOINING = re.compile(
    r"(?i)\b(?:will not|won't|wont|will not be|won't be|not)[ \t]+(?:join|joining|attend|"
    r"attending|be on the call|participate)|\bcc'?d for visibility|\bfor (?:the )?records only|"
    r"\bonly sending the invite|\bnot (?:be )?(?:on|in) the interview|\boptional on this invite"
)

EVENT_NAME = re.compile(r"(?im)^[ \t]*(?:event name|what)[ \t]*:[ \t]*(?P<title>[^\n]{2,120})")
"""The event type a booking page (Calendly, cal.com) writes into the description."""

ROLE_LEAD = re.compile(
    r"(?i)^.*\b(?:for|about|in|to|regarding|on|discuss)[ \t]+(?:the|this|our|your)[ \t]+"
)
"""Cut "application for the Fleet Coordinator" down to "Fleet Coordinator"."""

CITY_CODE = re.compile(r"^[A-Z]{2,3}$")

HONORIFICS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "herr",
        "frau",
        "madame",
        "monsieur",
        "mme",
        "mlle",
        "sr",
        "sra",
        "señor",
        "señora",
        "senhor",
        "senhora",
        "dhr",
        "mevrouw",
        "meneer",
        "mw",
    ]
)
"""A phrase that starts with one of these is a person ("Frau Klein"), never a company."""

FIRST_PERSON = re.compile(r"(?i)\b(?:I|I'm|I am|myself|me)\b")
JOINED_BY_ME = re.compile(r"(?i)\b(?:I will be|I'll be) joined by\b|\bjoining me\b")
SENTENCE_END = re.compile(r"[.!?;\n]+")
NON_WORD = re.compile(r"[^a-z0-9]+")


# --- helpers -----------------------------------------------------------------------------------


def _squash(text: str) -> str:
    """Lower-case letters and digits, accents folded ("Telefónica" is "telefonica")."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return NON_WORD.sub("", "".join(c for c in folded if not unicodedata.combining(c)))


GERMAN_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
"""How German names are written in domains: "Nürnberg" is "nuernberg" in klinikum-nuernberg.de."""


def _squashes(text: str) -> set[str]:
    """`_squash` of the text, and of its German spelling without umlauts."""
    return {_squash(text), _squash(text.lower().translate(GERMAN_SPELLING))}


def domain_label(domain: str, skip: frozenset[str] = frozenset()) -> str:
    """The name-like label of a domain: "wayneenterprises" of careers.wayneenterprises.com,
    "acme" of acme.co.uk; host labels such as "mail" or "careers" (and `skip`) are passed over."""
    ignored = {"mail", "email", "hr", "jobs", "careers"} | skip
    parts = [p for p in domain.lower().split(".") if p not in ignored]
    if len(parts) >= 3 and parts[-2] in {"co", "com", "org", "net", "ac"}:
        return parts[-3]
    if len(parts) >= 2:
        return parts[-2]
    return parts[0] if parts else domain


def _domain_label(domain: str) -> str:
    """ "wayneenterprises" for careers.wayneenterprises.com, "kestrellogistics" for a hyphen."""
    return _squash(domain_label(domain))


def _related(name: str, label: str) -> bool:
    """A name and a domain label that are the same company: one contains the other."""
    if len(label) < 3:
        return False
    return any(
        len(squashed) >= 3 and (squashed in label or label in squashed)
        for squashed in _squashes(name)
    )


def _person_names(people: Sequence[Person]) -> set[str]:
    """Lower-case names to recognise people by: full names, "First Last" of "Last, First"."""
    names: set[str] = set()
    for person in people:
        for full in _name_forms(person):
            names.add(full.lower())
    return names


def _name_forms(person: Person) -> list[str]:
    name = " ".join(person.name.replace('"', " ").split())
    if "@" in name:
        name = ""
    forms: list[str] = []
    if name:
        forms.append(name)
        last, comma, first = name.partition(",")
        if comma and first.strip():
            forms.append(f"{first.strip()} {last.strip()}")
    else:
        local = person.address.partition("@")[0]
        words = [w for w in re.split(r"[._-]+", local) if w.isalpha() and len(w) > 1]
        if words:
            forms.append(" ".join(words))
    return forms


def name_forms(person: Person) -> list[str]:
    """The ways a description may write `person`'s full name ("Emily Harris" for "Harris,
    Emily"; "kim tran" from kim.tran@ when there is no display name)."""
    return _name_forms(person)


def _first_names(person: Person) -> list[str]:
    out = []
    for form in _name_forms(person):
        words = [
            w
            for w in form.split()
            if w.rstrip(".").lower() not in {"dr", "mr", "mrs", "ms", "prof"}
        ]
        if words and len(words[0]) > 1:
            out.append(words[0])
    return out


def _strip_stage(words: list[str], *, keep_digits: bool = False) -> list[str]:
    def noise(word: str) -> bool:
        bare = word.strip(".,!?'\"").lower()
        return (
            not bare
            or bare in STAGE_WORDS
            or bare in TIME_WORDS
            or (not keep_digits and any(c.isdigit() for c in bare))
        )

    while words and noise(words[0]):
        words = words[1:]
    while words and noise(words[-1]):
        words = words[:-1]
    return words


def _segments(title: str) -> list[tuple[str, str]]:
    """(segment, the separator word before it) for each piece of a title."""
    out: list[tuple[str, str]] = []
    previous = ""
    position = 0
    title = GENDER_TAG.sub(" ", title)
    for match in SEPARATORS.finditer(title):
        out.append((title[position : match.start()], previous))
        previous = match.group(0).strip().lower()
        previous = SEPARATOR_MEANING.get(previous, previous)
        position = match.end()
    out.append((title[position:], previous))
    pieces = [(text.strip(" \t-–—"), before) for text, before in out]
    return [(text, before) for text, before in pieces if text]


def _clean_segment(text: str, *, keep_digits: bool = False) -> str:
    text = STAGE_PHRASES.sub(" ", REQUISITION.sub(" ", text))
    words = _strip_stage(text.split(), keep_digits=keep_digits)
    if not keep_digits:
        while len(words) > 1 and CITY_CODE.match(words[-1]):
            words = words[:-1]  # "Anthropic SF"
    return " ".join(words).strip(" ,.;:'\"")


# --- company -----------------------------------------------------------------------------------


def _bad_company(name: str, user: Person, people: set[str]) -> bool:
    lowered = name.lower()
    return (
        not name
        or len(name) > 60
        or URLISH.search(name) is not None
        or MEETING_TOOLS.fullmatch(lowered) is not None
        or MEETING_TOOLS.match(lowered) is not None
        or ROLE_WORDS.search(name) is not None
        or (bool(user.name) and user.name.lower() in lowered)
        or lowered in people
        or any(lowered == p.split()[0] for p in people if p)
        or lowered.split()[0].rstrip(".") in HONORIFICS
        or RECRUITING_WORDS.fullmatch(name) is not None
        or STAGE_PHRASES.fullmatch(name) is not None
    )


def _title_companies(title: str, user: Person, people: set[str]) -> list[str]:
    lowercase_title = title == title.lower()
    found = []
    for text, before in _segments(title):
        if before == "for":
            continue  # "Interview for Barista": a role, not a company
        name = _clean_segment(text)
        if not name:
            continue
        if not (name[0].isupper() or name[1:2].isupper()):  # "iFood", "eBay"
            if not lowercase_title:
                continue
            name = name.title()
        if not _bad_company(name, user, people):
            found.append(name)
    return found


def _domain_phrase(texts: Sequence[str], label: str) -> str:
    """A capitalised phrase that spells the domain label: "Wayne Enterprises", "KPMG"."""
    for text in texts:
        for match in CAPITALISED.finditer(text):
            words = match.group(0).split()
            for start in range(len(words)):
                for end in range(len(words), start, -1):
                    phrase = " ".join(words[start:end]).strip(".,'")
                    if label in _squashes(phrase):
                        return phrase
                    rest = words[start + 1 : end]
                    if (
                        rest
                        and _squash(words[start]) == label
                        and all(w.lower().strip(".,") in CORPORATE_SUFFIXES for w in rest)
                    ):
                        return phrase
    return ""


def _signature_company(description: str, organizer: Person | None) -> str:
    lines = [line for line in description.splitlines() if line.strip()]
    if lines:
        tail = re.split(r"\s[-–—]\s", lines[-1])[-1]
        lines = [*lines, tail]
    for line in reversed(lines[-4:]):
        match = SIGNATURE.match(line.strip())
        if not match:
            continue
        lead = match["lead"].strip()
        names = {f.lower() for f in (_first_names(organizer) if organizer else [])}
        if ROLE_WORDS.search(lead) or (lead.split() and lead.split()[0].lower() in names):
            return match["company"].strip()
    return ""


def company_for(
    title: str,
    description: str,
    location: str,
    organizer: Person | None,
    people: Sequence[Person],
    domains: Sequence[str],
    user: Person,
    *,
    organizer_is_human: bool = True,
) -> str:
    """What people call the company of this interview, or "" when nothing says.

    The display name of a machine organizer ("Plaid <no-reply@ashbyhq.com>") is not a
    person's, so it may be the company.
    """
    guests = _person_names(people)
    names = guests | (_person_names([organizer]) if organizer and organizer_is_human else set())
    labels = [_domain_label(d) for d in domains]
    candidates = _title_companies(title, user, names)
    for label in labels:
        for name in candidates:
            if _related(name, label):
                return name
    texts = [description, location, organizer.name if organizer else ""]
    for label in labels:
        phrase = _domain_phrase(texts, label)
        if phrase and not _bad_company(phrase, user, guests):
            return phrase
    if candidates:
        return candidates[-1]
    for pattern in COMPANY_PHRASES:
        for match in pattern.finditer(description):
            name = _clean_segment(match["company"])
            if (
                name
                and not _bad_company(name, user, names)
                and name.lower() not in {"our company", "us"}
            ):
                return name
    if organizer and RECRUITING_WORDS.search(organizer.name):
        name = " ".join(RECRUITING_WORDS.sub(" ", organizer.name).split())
        if name and not _bad_company(name, user, guests):
            return name
    signed = _signature_company(description, organizer)
    if signed and not _bad_company(signed, user, names):
        return signed
    return ""


# --- role --------------------------------------------------------------------------------------


def _clean_role(text: str, company: str) -> str:
    role = ROLE_LEAD.sub("", REQUISITION.sub(" ", text))
    role = " ".join(role.split()).strip(" .,;:-–—'\"")
    if company:
        for prefix in (company + " ", company.lower() + " "):
            if role.startswith(prefix):
                role = role[len(prefix) :]
        role = re.sub(rf"\s+(?:at|with)\s+{re.escape(company)}.*$", "", role)
    role = re.sub(r"\s+(?:at|with)\s+(?:our|the)\s+company.*$", "", role, flags=re.I)
    role = re.sub(r"\s+(?:at|with)\s+[A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*){0,3}$", "", role)
    words = role.split()
    while words and words[-1].lower() in {
        "role",
        "position",
        "opening",
        "vacancy",
        "job",
        "interview",
    }:
        words.pop()
    while words and words[0].lower() in {
        "the",
        "a",
        "an",
        "our",
        "your",
        "this",
        "new",
        "open",
        "contract",
        "full-time",
        "part-time",
    }:
        words = words[1:]
    return " ".join(words).strip(" .,;:-–—")


def _interviewer_titles(description: str, people: Sequence[Person]) -> set[str]:
    """Job titles written right after a guest's name: "Kim Tran, Principal Engineer"."""
    titles: set[str] = set()
    for person in people:
        for form in _name_forms(person):
            for match in re.finditer(re.escape(form), description, re.I):
                tail = description[match.end() : match.end() + 80]
                part = re.match(r"\s*(?:[,(\-–—]|is our|our)\s*(?P<t>[^,;)\n:]{2,60})", tail)
                if part:
                    titles.add(part["t"].strip(" .").lower())
    return titles


def _title_role(title: str, company: str, user: Person, people: set[str]) -> str:
    for text, before in _segments(title):
        if before in {"with", "w/", "between", "and"}:
            continue  # who the user meets: "Interview with Engineering Manager"
        cleaned = _clean_segment(text, keep_digits=True)
        role = _clean_role(cleaned, company)
        if not role or URLISH.search(role) or role.lower() in people:
            continue
        if user.name and user.name.lower() in role.lower():
            continue
        if company and role.lower() == company.lower():
            continue
        if ROLE_WORDS.search(role) or before == "for":
            if MEETING_TOOLS.fullmatch(role.lower()):
                continue
            return role
    return ""


def role_for(
    title: str, description: str, company: str, people: Sequence[Person], user: Person
) -> str:
    """The job the interview is for, or "" when nothing says so surely."""
    names = _person_names(people)
    banned = _interviewer_titles(description, people)
    candidates = [_title_role(title, company, user, names)]
    candidates.extend(
        _title_role(m["title"], company, user, names) for m in EVENT_NAME.finditer(description)
    )
    for pattern in (ROLE_FIELD, ROLE_QUESTION):
        match = pattern.search(description)
        if match:
            candidates.append(_clean_role(match["role"], company))
    for pattern in ROLE_PHRASES:
        for match in pattern.finditer(description):
            candidates.append(_clean_role(match["role"], company))
    for role in candidates:
        if not role or len(role) > 80 or URLISH.search(role):
            continue
        if role.lower() in banned or role.lower() in names:
            continue
        if user.name and user.name.lower() in role.lower():
            continue
        if MEETING_TOOLS.fullmatch(role.lower()) or len(role.split()) > 8:
            continue
        return role
    return ""


# --- interviewers ------------------------------------------------------------------------------


def _mentions(text: str, person: Person) -> bool:
    lowered = text.lower()
    for form in _name_forms(person):
        if re.search(rf"\b{re.escape(form.lower())}\b", lowered):
            return True
    for first in _first_names(person):
        if re.search(rf"\b{re.escape(first.lower())}\b", lowered):
            return True
    return False


def narrow_interviewers(
    people: Sequence[Person], organizer: Person | None, description: str
) -> list[Person]:
    """The guests who interview, by what the description says (see the module note)."""
    sentences = [s for s in SENTENCE_END.split(description) if s.strip()]
    absent: set[str] = set()
    for sentence in sentences:
        if not NOT_JOINING.search(sentence):
            continue
        named = [p for p in people if _mentions(sentence, p)]
        absent.update(p.address for p in named)
        if not named and organizer and FIRST_PERSON.search(sentence):
            absent.add(organizer.address)
    listed: set[str] = set()
    for line in description.splitlines():
        if SCHEDULE_LINE.match(line) and not LOGISTICS.search(line):
            listed.update(p.address for p in people if _mentions(line, p))
    for line in description.splitlines():
        marker = LIST_MARKERS.search(line)
        if marker:
            rest = line[marker.start() :]
            listed.update(p.address for p in people if _mentions(rest, p))
            if organizer and JOINED_BY_ME.search(line):
                listed.add(organizer.address)
    kept = [p for p in people if p.address not in absent]
    if listed & {p.address for p in kept}:
        kept = [p for p in kept if p.address in listed]
    return kept or list(people)
