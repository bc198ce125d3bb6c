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
won't be joining", said by the organizer; or a note-taker) goes. A list goes on past its line
when the line ends with ":" (its items follow), with "and"/"y"/"und" (the next name follows),
or when a sentence the mail client wrapped has not ended; "myself" in a list is the organizer.

Mail clients wrap lines at about 76 characters, in the middle of a role ("the Engineering
Manager, Core\nPlatform opening"). English role phrases are read on the text with wrapped
prose joined (`_reflow`: long lines that are not list items); the phrases of other languages
end at a word after the role (`_ROLE_END`), which joining would hide, so they read the lines
as written and only the gap after their lead words ("pour le poste de\n...") may break.

Pure: plain values in, plain values out. Every regex here reads untrusted text and is listed in
tests/test_regex_budget.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from mailagent.core.models import Person

__all__ = ["company_for", "narrow_interviewers", "role_for"]

SEPARATORS = re.compile(
    r"(?<!\s)\s+[-–—|/@x·•]\s+|(?<!\s)\s*[|:()\[\]<>@–—·•]\s*|[|:()\[\]<>@–—·•]\s*|"
    r"(?<!\s)\s+(?:with|w/|at|between|and|for|re|about|regarding|via|"
    r"mit|bei|für|avec|chez|pour|con|para|com|met|bij|voor|over)\s+|(?<!\s)\s+-\s*|"
    r"(?<!\s)\s+en\s+(?=(?-i:[A-ZÀ-Þ]))|(?<!\s)\s+from\s+|(?<!\s)\s\+\s|"
    r"(?<!\s)(?<!head)(?<!vp)(?<!director)(?<!chief)(?<!president)(?<!dean)\s+of\s+|"
    r"(?<!\s)\s*-\s+",
    re.I,
)
r"""Where a title splits into segments. "x" only between spaces ("Northwind x Hooli"); "of"
not after a rank ("Head of Growth", "VP of Engineering" stay whole); "en" before a capital
only ("Entrevista en Telefónica", not "Analyste senior en cybersécurité").
`(?<!\s)` lets a run of spaces start a separator only at its first space (linear time)."""

SEPARATOR_WORD = re.compile(
    r"^\s*(?:with|w/|at|between|and|for|re|about|regarding|via|"
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
    "@": "at",
    "from": "at",
    "+": "and",
}
"""What a separator word of German, French, Spanish, Portuguese or Dutch means in a title:
"Telefoninterview mit SAP" is read as "Phone interview with SAP"."""

GENDER_TAG = re.compile(
    r"\(\s*[mwfdhx]\s*/\s*[mwfdhx](?:\s*/\s*[mwfdhx]){0,2}\s*\)|"
    r"(?<![\w/])[mwfdhx]/[mwfdhx](?:/[mwfdhx]){0,2}(?![\w/])",
    re.I,
)
"""The gender tag of a job title in German, French or Dutch ads: "(m/w/d)", "(H/F)", "H/F"."""

MEETING_TOOLS = re.compile(
    r"\b(?:zoom|teams|microsoft teams|google meet|meet|hangouts?|webex|skype|bluejeans|"
    r"gotomeeting|whereby|calendly|cal video|around|tuple)\b",
    re.I,
)

STAGE_PHRASES = re.compile(
    r"\b(?:system(?:s)? design|take-?home(?: review)?|hiring manager|talent acquisition|"
    r"human resources|case study|pair programming|super ?day|on-?site|1:1|one-on-one|"
    r"oral board|teaching demo|panel interview)\b",
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
        "itinerary",
        "schedule",
        "agenda",
        "details",
        "request",
        "reminder",
        "booking",
        "booked",
        "id",
        # German, French, Spanish, Portuguese, Dutch
        "vorstellungsgespräch",
        "bewerbungsgespräch",
        "kennenlerngespräch",
        "kennenlernen",
        "videogesprek",
        "telefoongesprek",
        "videogespräch",
        "telefongespräch",
        "videollamada",
        "videochamada",
        "conversa",
        "inicial",
        "charla",
        "kennismaking",
        "kennismaken",
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
        "entrevue",
        "entrevues",
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
    r"graduate|fellow|cashier|driver|chef|programmer|tester|qa|devops|controller|owner|"
    r"apprentice|lineworker|worker|rn|lpn|cna|caregiver|electrician|plumber|welder|mechanic|"
    r"carpenter|cook|server|bartender|housekeeper|receptionist|tutor|paralegal|attorney|lawyer|"
    r"adviser|advisor|planner|auditor|actuary|pharmacist|therapist|dentist|physician|surgeon|"
    r"counsel+or|instructor|principal)s?\b"
    r"|(?:entwickler|ingenieur|leiter|berater|referent|sachbearbeiter|buchhalter|kaufmann|"
    r"kauffrau|architekt|verkäufer|techniker|spezialist|praktikant|werkstudent|"
    r"développeu|ingénieu|chef de projet|comptable|responsable|chargée? d|directeur|contr[ôo]leu|"
    r"gestionnaire|juriste|auditeu|commerciale?|vendeu|infirmi[eè]re?|assistante?|"
    r"directrice|stagiaire|alternant|technicien|desarrollador|ingenier[oa]|analista|gerente|"
    r"jef[ea] de|diseñador|programador|becari[oa]|consultor|desenvolvedor|engenheir[oa]|"
    r"estagiári[oa]|coordenador|ontwikkelaar|medewerker|adviseur|beheerder|stagiair|"
    r"leider|analist|verpleegkundige|docent|gestor|manager|fachkraft|pfleger|optiker|"
    r"alternance|técnic[oa]|estágio|analyste|conseill|enfermeir[oa]|enfermer[oa]|"
    r"recepcionista|pflegefachkraft|elektroniker|erzieher|lehrer|verpleegkundige|"
    r"professeur|professor)",
    re.I,
)
"""A word that makes a phrase a job title."""

RECRUITING_WORDS = re.compile(
    r"\b(?:recruiting|recruitment|recruiters?|talent(?: acquisition| team)?|careers?|"
    r"hiring(?: team)?|jobs|people(?: team| ops)?|hr|interview scheduling|scheduling|"
    r"university recruiting|campus recruiting|graduate recruitment|team)\b",
    re.I,
)

REQUISITION = re.compile(
    r"\b(?:REQ|JR|R|REF|JOB)[-#]?\d{3,}[A-Z]{0,2}\b|\b(?:Req|Ref)\.?[ \t]*#?[ \t]*\d{3,}\b|"
    r"\(\s*(?:(?:req|ref|job|id)\.?[ \t]*(?:#|no\.?|id:?)?[ \t]*)?[A-Z]{0,4}[-#]?\d{3,}[A-Z]{0,2}\s*\)|"
    r"\([ \t]*(?:ref|req|job id|id)[ \t]*[:#.]?[ \t]*[\w-]{3,20}[ \t]*\)",
    re.I,
)
"""A requisition id: "R-12345", "JR0087412", "(REF4471X)", "(Req #12345)"."""

BRAND_DOMAIN = re.compile(r"[A-Z][\w-]*\.(?:com|io|ai)")
"""A company called by its domain: "Booking.com", "Monday.com"."""

TOOL_NAMES = re.compile(
    r"greenhouse|lever|ashby|workday|hirevue|icims|smartrecruiters|teamtailor|personio|"
    r"recruitee|workable|bamboohr|jobvite|goodtime|modernloop|gem|join|softgarden|"
    r"calendly|doodle|microsoft bookings|bookings|paradox|comeet|taleo|successfactors"
)
"""Tools that schedule interviews for employers: never the company itself."""

ROLE_BREAK = re.compile(r"(?<![ \t])[ \t]+[·|•][ \t]+")
"""Where a role written in a line of fields ends: "Senior Engineer · Req 1187"."""

URLISH = re.compile(r"https?://|www\.|\.(?:com|io|co|us|org|net|ai|dev)\b|@", re.I)

ROLE_FIELD = re.compile(
    r"(?im)^[ \t]*(?:questions:[ \t]*)?(?:position|role|job title|job|job requisition|"
    r"vacancy|opening|stelle|poste|puesto|vaga|cargo|functie|vacature)"
    r"(?:[ \t]+(?:you[ \t]+)?applied[ \t]+for|[ \t]+of[ \t]+the[ \t]+(?:vacancy|position|role))?"
    r"[ \t]*[:\-–][ \t]*"
    r"(?P<role>[^\n|]{2,100})"
)

ROLE_QUESTION = re.compile(
    r"(?i)\b(?:position|role|job)\b[^\n?]{0,40}\bapplying for\?[ \t]*\n?[ \t]*(?P<role>[^\n|]{2,80})"
)

_ROLE_END = (
    r"(?=[ \t]*(?:[.,;:!?\n(]|$)|[ \t]+(?:bei|im|in|an|am|mit|zu|und|chez|au|à|avec|dans|et|"
    r"en|con|y|na|no|em|da|do|com|e|bij|met|op|a|ist|est|é|es|is|einladen|kennenlernen|"
    r"sprechen|unterhalten|beworben|bewerben|vorstellen|ein|statt|stattfinden|findet|spreek|"
    r"spreekt|gaat|plaats)\b)"
)
"""Where a role named in another language ends: a clause end, or the word after it."""

_GAP = r"(?:[ \t]*\n[ \t]*|[ \t]+)"
"""Space between the words of a phrase, which a line break may take: "for the Senior Financial
Analyst\nposition", "pour le poste de\nChargée de communication"."""

_ROLE_CHARS = r"(?:\b(?:Sr|Jr|Snr|Mgr|Sen)\.|[^.\n;:()!?])"
"""A character of a role phrase: no clause end, but the period of "Sr." is part of the title."""

ROLE_PHRASES: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"(?i)\b(?:for|about|regarding|re|discuss|to|in|on|through|over)[ \t]+(?:the|this|our|your)[ \t]+"
        + r"(?P<role>"
        + _ROLE_CHARS
        + r"{2,80}?)"
        + _GAP
        + r"(?:role|position|opening|vacancy|job|opportunity)\b"
    ),
    re.compile(
        r"(?i)\bposition of[ \t]+(?P<role>" + _ROLE_CHARS + r"{2,80}?)[ \t]+(?:at|with|in)\b"
    ),
    re.compile(
        r"(?i)\b(?:interviews?|round|onsite|loop|screen)\s+for\s+(?:the\s+)?"
        + r"(?P<role>(?-i:[A-Z])"
        + _ROLE_CHARS
        + r"{2,80}?)(?=\s*\(|\s*[.!;]|\s+(?:role|position|at|with)\b)"
    ),
    re.compile(
        r"(?i)\b(?:your application|applying|applied) (?:for|to) (?:the |our )?"
        + r"(?P<role>"
        + _ROLE_CHARS
        + r"{2,80}?)(?=[ \t]+(?:role|position|opening|at|with|[—–-])[ \t]|[ \t]*[—–.!;\n])"
    ),
    re.compile(
        r"(?i)\binterview(?:s)? for[ \t]+(?:the[ \t]+)?(?P<role>[^.\n;:()!?]{2,80}?)"
        r"(?:[ \t]+(?:role|position))?[ \t]+(?:at|with)[ \t]"
    ),
)
"""English phrases that name the role, read with wrapped lines joined (`_reflow`)."""

ROLE_LINE_PHRASES: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?m)^[ \t]*(?P<role>[A-Z][^.\n,;:()!?]{2,60}?)[ \t]+(?:position|role|vacancy)\b"),
    # German, French, Spanish, Portuguese, Dutch: "für die Position als ...", "pour le poste
    # de ...", "para el puesto de ...", "para a vaga de ...", "voor de functie van ...".
    re.compile(
        r"(?i)\b(?:(?:für|über|auf) die|zur) (?:Position|Stelle|Rolle)(?: (?:als|des|der|einer?s?))?"
        + _GAP
        + r"[„\"“]?(?P<role>[^.\n;:()!?,„“”\"]{2,80}?)[“”\"]?"
        + _ROLE_END
    ),
    re.compile(
        r"(?i)\bBewerbung als[ \t]+(?P<role>[^.\n;:()!?,]{2,80}?)[ \t]*(?:\([mwdfx/ ]+\))?"
        + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:pour|concernant|sur|au|du) (?:le )?poste (?:de"
        + _GAP
        + r"|d['’])"
        + r"(?P<role>[^.\n;:()!?,]{2,80}?)"
        + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:(?:para|sobre|por|a|de) (?:el|la)|del|al) (?:puesto|vacante|posici[óo]n|cargo) de"
        + _GAP
        + r"(?P<role>[^.\n;:()!?,]{2,80}?)"
        + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:para|sobre|pela|na|da|à|referente à)"
        + _GAP
        + r"(?:[ao]"
        + _GAP
        + r")?(?:vaga|posi[çc][ãa]o|cargo|"
        r"fun[çc][ãa]o) de"
        r"[ \t]+(?P<role>[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
    re.compile(
        r"(?i)\bvoor de (?:functie|vacature|rol|positie)(?:[ \t]+(?:van|als))?"
        + _GAP
        + r"(?P<role>[^.\n;:()!?,]{2,80}?)"
        + _ROLE_END
    ),
    re.compile(r"\b(?:vacature|Vacature)[ \t]+(?P<role>[A-Z][^.\n;:()!?,]{2,80}?)" + _ROLE_END),
    re.compile(
        r"(?i)\b(?:in|voor) de (?:functie|vacature|rol|positie)(?:[ \t]+(?:van|als))?"
        + _GAP
        + r"(?P<role>[^.\n;:()!?,]{2,80}?)"
        + _ROLE_END
    ),
    re.compile(
        r"(?i)\b(?:da|na|para a) vaga(?: de)?"
        + _GAP
        + r"(?P<role>(?-i:[A-ZÀ-Þ])[^.\n;:()!?,]{2,80}?)"
        + _ROLE_END
    ),
    re.compile(
        r"(?i)\bb[úu]squeda de" + _GAP + r"(?P<role>(?-i:[A-ZÀ-Þ])[^.\n;:()!?,]{2,80}?)" + _ROLE_END
    ),
)
"""Phrases read line by line: a line that starts with the role, and the phrases of other
languages, whose role ends at the line's end or at a word (`_ROLE_END`) that a joined line
would hide ("... Product Owner Bezorging\nspreek je met ...")."""

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

CAPITALISED = re.compile(
    r"[A-Z][\w&'.-]*(?:[ \t]+(?:(?:da|de|do|dos|das|di|du|des|del|la|von|van|der|den|of|the|y|e)"
    r"[ \t]+)?[A-Z][\w&'.-]*){0,4}"
)
"""A capitalised phrase, with the small words of names ("Hospital da Luz", "Bank of Ireland")."""

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
        "bank",
        "energy",
        "clinic",
        "hospital",
        "insurance",
        "capital",
        "robotics",
        "software",
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
    r"vai conversar com|je spreekt met|u spreekt met|vas a (?:charlar|hablar|conversar) con|"
    r"charlar[áa]s con|vai falar com|estar[ãa]o presentes|estar[áa] presente|"
    r"estar[áa]n presentes|seront pr[ée]sents|wer ruft an|who will call|all set to meet|"
    r"who you(?:'ll| will) meet|"
    r"werden dabei sein|sind dabei|zijn aanwezig|"
    r"commissie bestaat uit|selectiecommissie)\b"
    r"|\b(?:entretien|gespr[äa]ch|entrevista|conversa|gesprek|interview)\b(?:[^\n.!?]|\.(?=\S)){0,60}?"
    r"\b(?:avec|mit|con|com|met|with)\b"
)

LIST_START = re.compile(r"[ \t]*(?:[-•*]|\d)")

FIELD_LINE = re.compile(r"[ \t]*[^\W\d_][\w ()/'-]{0,30}:[ \t]")
"""A line that is a field of a form: "Role: Data Engineer", "Interviewers: ..."."""

RUNS_ON = re.compile(
    r"(?i)(?:[,&]|\b(?:and|und|et|y|e|en|or|oder|ou|o|with|mit|avec|con|com|met))$|^[-•*][ \t]"
)
"""The end of a line whose list goes on in the next one ("... y", "Ana Costa,"), or a list
item ("- Ana Costa"), after which the next item may follow."""

SCHEDULE_LINE = re.compile(r"^[ \t]*\d{1,2}(?:[:.h]\d{2})?[ \t]*(?:[ap]\.?m\.?)?\b", re.I)
"""A line that starts with a time: "11:00", "1:00 PM", "14h00"."""

SENTENCE_DONE = re.compile(r"[.!?](?:[ \t\n]|$)")

LOGISTICS = re.compile(r"(?i)\b(?:greet|walk-?out|welcome|check-?in|lunch|break|tour)\b")

JOINED_SESSION = re.compile(
    r"(?i)\binterview|\b(?:lunch|breakfast|coffee|dinner)[ \t]*[+&][ \t]*(?!logistics\b)\w"
)
"""A schedule line that pairs a meal with a session: "Lunch + Cross-functional - Yuki" (not
"Welcome & logistics")."""

NOT_JOINING = re.compile(
    r"(?i)\b(?:will not|won't|wont|will not be|won't be|not)[ \t]+(?:join|joining|attend|"
    r"attending|be on the call|participate|stay|be staying|ask (?:any )?questions)|"
    r"\bcc'?d for visibility|\bfor (?:the )?records only|"
    r"\bonly sending the invite|\bnot (?:be )?(?:on|in) the interview|\boptional on this invite"
    r"|\b(?:note-?taker|minute-?taker|notulist|protokollant(?:in)?|protokollf[üu]hrer(?:in)?)\b"
    # German, French, Spanish, Portuguese, Dutch
    r"|\bto monitor\b|\bas (?:an )?observer\b|\bto observe\b"
    r"|\bnimmt nicht teil|\bnicht dabei sein|\bist nicht dabei|\bstellt keine fragen"
    r"|\bne (?:participera|participerai|serai|sera) pas|\bne posera pas"
    r"|\bno (?:participar[áa]|estar[áa]|estar[ée]) presente|\bno participar[ée]"
    r"|\bno voy a (?:estar|participar)"
    r"|\bn[ãa]o (?:participar[áa]|estar[áa]|vou participar|estarei)"
    r"|\bneemt (?:niet|geen) deel|\bis niet aanwezig|\bstelt geen vragen|\bschuift niet aan"
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
MYSELF = re.compile(
    r"(?i)\b(?:myself|moi-m[êe]me|ich selbst|yo mism[oa]|eu mesm[oa]|mijzelf|ikzelf)\b"
)
"""The organizer naming themselves in the list of interviewers ("- moi-même, Chargée de
recrutement")."""
SENTENCE_END = re.compile(r"[.!?;\n]+")
NON_WORD = re.compile(r"[^a-z0-9]+")


# --- helpers -----------------------------------------------------------------------------------


UNDECOMPOSED = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae"})
"""Letters Unicode does not decompose into a base letter and an accent."""


def _squash(text: str) -> str:
    """Lower-case letters and digits, accents folded ("Telefónica" is "telefonica"; a
    dotless i is an i)."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(UNDECOMPOSED))
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
            not any(c.isalnum() for c in bare)
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
        or (URLISH.search(name) is not None and BRAND_DOMAIN.fullmatch(name) is None)
        or MEETING_TOOLS.fullmatch(lowered) is not None
        or MEETING_TOOLS.match(lowered) is not None
        or ROLE_WORDS.search(name) is not None
        or (bool(user.name) and _squash(user.name) in _squash(name))
        or TOOL_NAMES.fullmatch(lowered) is not None
        or lowered in people
        or any(lowered == p.split()[0] for p in people if p)
        or lowered.split()[0].rstrip(".") in HONORIFICS
        or RECRUITING_WORDS.fullmatch(name) is not None
        or STAGE_PHRASES.fullmatch(name) is not None
    )


def _title_companies(title: str, user: Person, people: set[str]) -> list[str]:
    """The title segments that may name the company, a segment after "at" or "@" last and one
    in parentheses and a lone first name after "with" first (the last is the one taken when no
    domain decides): in "Interview @ Etsy w/ Lauren" the company is where the interview is, and
    "Lauren" is whom it is with; in "Affirm recruiter call (Kayla)" the aside names a person,
    and in "Phone screen w/ Sarah (Shopify)" the company."""
    lowercase_title = title == title.lower()
    first_names: list[str] = []
    aside: list[str] = []
    found: list[str] = []
    placed: list[str] = []
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
            if before in {"at", "@"}:
                placed.append(name)
            elif before in {"with", "w/"} and len(name.split()) == 1:
                first_names.append(name)  # "Phone screen w/ Sarah (Shopify)"
            else:
                (aside if before in {"(", "["} else found).append(name)
    return first_names + aside + found + placed


def _domain_phrase(texts: Sequence[str], label: str) -> str:
    """A capitalised phrase that spells the domain label ("Wayne Enterprises", "KPMG") or has
    it for initials ("Kaiser Permanente" for kp.org)."""
    for text in texts:
        for match in CAPITALISED.finditer(text):
            words = match.group(0).split()
            for start in range(len(words)):
                for end in range(len(words), start, -1):
                    phrase = " ".join(words[start:end]).strip(".,'")
                    if label in _squashes(phrase):
                        if (
                            start >= 2
                            and words[start - 1] == "of"
                            and words[start - 2][0].isupper()
                        ):
                            return " ".join(words[start - 2 : end]).strip(".,'")  # "City of Arden"
                        return phrase
                    initials = "".join(w[0] for w in words[start:end]).lower()
                    if end - start >= 2 and initials == label:
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
    text = ROLE_BREAK.split(GENDER_TAG.sub(" ", text), maxsplit=1)[0]
    role = ROLE_LEAD.sub("", REQUISITION.sub(" ", text))
    role = " ".join(w for w in role.split() if w in "-–—&/+" or any(c.isalnum() for c in w))
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


def _interviewer_titles(description: str, people: Sequence[Person]) -> dict[str, list[Person]]:
    """Job titles written right after a guest's name ("Kim Tran, Principal Engineer"), and
    whose they are."""
    titles: dict[str, list[Person]] = {}
    for person in people:
        for form in _name_forms(person):
            for match in re.finditer(re.escape(form), description, re.I):
                tail = description[match.end() : match.end() + 80]
                part = re.match(r"\s*(?:[,(\-–—]|is our|our)\s*(?P<t>[^,;)\n:]{2,60})", tail)
                if part:
                    titles.setdefault(part["t"].strip(" .").lower(), []).append(person)
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
        if role == role.lower() and title != title.lower() and before not in {"for", "about"}:
            continue  # "Entretien RH + manager": a word, not a job title
        if ROLE_WORDS.search(role) or before == "for":
            if MEETING_TOOLS.fullmatch(role.lower()):
                continue
            return role
    return ""


def _lines_of(text: str, match: re.Match[str]) -> str:
    """The whole lines a match lies on."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    return text[start : end if end >= 0 else len(text)]


def role_for(
    title: str, description: str, company: str, people: Sequence[Person], user: Person
) -> str:
    """The job the interview is for, or "" when nothing says so surely."""
    names = _person_names(people)
    banned = _interviewer_titles(description, people)
    # (role, the text it was read from)
    candidates = [(_title_role(title, company, user, names), title)]
    candidates.extend(
        (_title_role(m["title"], company, user, names), m.group(0))
        for m in EVENT_NAME.finditer(description)
    )
    for pattern in (ROLE_FIELD, ROLE_QUESTION):
        match = pattern.search(description)
        if match:
            candidates.append((_clean_role(match["role"], company), _lines_of(description, match)))
    prose = _reflow(description)
    for patterns, text in ((ROLE_PHRASES, prose), (ROLE_LINE_PHRASES, description)):
        for pattern in patterns:
            for match in pattern.finditer(text):
                candidates.append((_clean_role(match["role"], company), _lines_of(text, match)))
    found = [role for role, source in candidates if _may_be_role(role, source, banned, names, user)]
    if not found:
        return ""
    first = found[0]
    # "Registered Nurse II" in the title, "Registered Nurse II - Medical ICU" in the text
    fuller = [
        r
        for r in found[1:]
        if len(r) > len(first) and r.lower().startswith(first.lower()) and r[len(first)] in " ,.-–—"
    ]
    return fuller[0] if fuller else first


QUESTION_WORDS = frozenset(["which", "what", "whose", "any", "each", "every", "this", "that"])

DANGLING = frozenset(
    [
        "of",
        "for",
        "and",
        "or",
        "the",
        "a",
        "an",
        "to",
        "in",
        "at",
        "with",
        "de",
        "du",
        "des",
        "en",
        "der",
        "die",
        "das",
        "den",
        "und",
        "van",
        "voor",
        "het",
        "la",
        "le",
        "el",
        "los",
        "las",
        "y",
        "e",
        "et",
        "da",
        "do",
        "dos",
        "na",
        "no",
        "com",
        "para",
    ]
)
"""Words a job title does not end with: a role that ends with one was cut short."""


def _may_be_role(
    role: str, source: str, banned: dict[str, list[Person]], names: set[str], user: Person
) -> bool:
    """Whether `role`, read from `source`, may be the job the interview is for."""
    if not role or len(role) > 80 or URLISH.search(role):
        return False
        # An interviewer's own title is not the role ("Interviewers: Kim Tran, Principal
        # Engineer") when it is read next to their name; "your interview for the Senior Analyst
        # position" stands although a peer on the panel is a Senior Analyst too.
    if any(_mentions(source, p) for p in banned.get(role.lower(), [])):
        return False
    if role.lower() in names or (user.name and user.name.lower() in role.lower()):
        return False
    if role.split(maxsplit=1)[0].lower() in QUESTION_WORDS:
        return False  # "Which role are you applying for?"
    if role.rsplit(maxsplit=1)[-1].lower() in DANGLING:
        return False  # a fragment cut at a line end: "Head of"
    return not (MEETING_TOOLS.fullmatch(role.lower()) or len(role.split()) > 8)


def _reflow(text: str) -> str:
    """`text` with the line breaks of wrapped prose turned into spaces, so that a phrase the
    mail client wrapped ("the Engineering Manager, Core\nPlatform opening") reads whole. A
    short line, a line that ends a sentence or with ":", a list item and the line after one,
    and a field ("Role: ...") keep their break."""
    lines = text.split("\n")
    out = lines[:1]
    for line in lines[1:]:
        previous = out[-1].rstrip()
        if (
            len(previous.strip()) >= 40
            and not previous.endswith(":")
            and line.strip()
            and not LIST_START.match(line)
            and not LIST_START.match(previous)
            and not previous.endswith((".", "!", "?"))
            and not FIELD_LINE.match(line)
        ):
            out[-1] = previous + " " + line.strip()
        else:
            out.append(line)
    return "\n".join(out)


# --- interviewers ------------------------------------------------------------------------------


def logistics_only(line: str) -> bool:
    """A schedule line of greeting, lunch, a break or a tour, with no interview in it: the
    buddy who takes the candidate to lunch is not an interviewer."""
    return LOGISTICS.search(line) is not None and JOINED_SESSION.search(line) is None


def _mentions(text: str, person: Person) -> bool:
    lowered = text.lower()
    for form in _name_forms(person):
        if re.search(rf"\b{re.escape(form.lower())}\b", lowered):
            return True
    for first in _first_names(person):
        if re.search(rf"\b{re.escape(first.lower())}\b", lowered):
            return True
    return False


def _run_on(start: str, following: Sequence[str], *, prose: bool = False, width: int = 0) -> str:
    """`start` and the lines that carry on its list: "Interviewers:" goes on with its "- Ana"
    lines up to a blank line; "... será con Javier Ruiz (Tech Lead) y" with the next line
    ("Marta López ..."); a sentence (`prose`: "You'll meet ...") wrapped by the mail client up
    to its end. A list ends at a blank line or at the first line after its "- " items. At most
    seven lines are read. `width`: the length of the whole line that `start`
    ends (a wrapped line is a long one)."""
    text = start
    listing = start.rstrip().endswith(":")
    items = 0
    for line in following[:7]:
        if listing and not line.strip() and not items:
            continue  # a blank line between "... with:" and its items
        last = text.rstrip().rsplit("\n", 1)[-1]
        long_line = max(len(last.strip()), width if "\n" not in text else 0) >= 40
        wrapped = prose and long_line and not SENTENCE_DONE.search(text)
        if not line.strip() or not (listing or wrapped or RUNS_ON.search(last)):
            break
        if listing and items and LIST_START.match(last) and not LIST_START.match(line):
            break  # the text after "- Ana ...", "- Bo ..." is no longer the list
        items += 1
        text += "\n" + line
    return text


def _marker_at(
    lines: Sequence[str], number: int
) -> tuple[re.Match[str] | None, str, Sequence[str]]:
    """The list marker that starts on line `number`, the text it was found in and the lines
    after that text. A marker may run on into the next line of a wrapped sentence ("... das
    technische Interview\n(60 Min.) mit Jannik ..."): then the text is both lines."""
    line = lines[number]
    marker = LIST_MARKERS.search(line)
    if marker or number + 1 >= len(lines) or SENTENCE_DONE.search(line[-2:] + " "):
        return marker, line, lines[number + 1 :]
    joined = f"{line} {lines[number + 1].strip()}"
    marker = LIST_MARKERS.search(joined)
    if marker is None or marker.start() >= len(line):
        return None, line, lines[number + 1 :]
    return marker, joined, lines[number + 2 :]


def narrow_interviewers(
    people: Sequence[Person], organizer: Person | None, description: str
) -> list[Person]:
    """The guests who interview, by what the description says (see the module note)."""
    sentences = [s for s in SENTENCE_END.split(_reflow(description)) if s.strip()]
    absent: set[str] = set()
    for sentence in sentences:
        if not NOT_JOINING.search(sentence):
            continue
        named = [p for p in people if _mentions(sentence, p)]
        absent.update(p.address for p in named)
        if not named and organizer and FIRST_PERSON.search(sentence):
            absent.add(organizer.address)
    listed: set[str] = set()
    lines = description.splitlines()
    for number, line in enumerate(lines):
        if SCHEDULE_LINE.match(line) and not logistics_only(line):
            session = _run_on(line, lines[number + 1 :])
            listed.update(p.address for p in people if _mentions(session, p))
    for number in range(len(lines)):
        marker, text, following = _marker_at(lines, number)
        if marker:
            field = marker.group(0).rstrip().endswith((":", "-", "–"))
            rest = _run_on(text[marker.start() :], following, prose=not field, width=len(text))
            listed.update(p.address for p in people if _mentions(rest, p))
            if organizer and (JOINED_BY_ME.search(text) or MYSELF.search(rest)):
                listed.add(organizer.address)
    kept = [p for p in people if p.address not in absent]
    if listed & {p.address for p in kept}:
        kept = [p for p in kept if p.address in listed]
    return kept or list(people)
