"""Interview detection: is this calendar event the user's own job interview, and with whom?

Design note. Detection is a scored list of named signals, so that every verdict can be
explained ("title says 'phone screen' (+3), Greenhouse fingerprint (+2), ..."). The rules are
data tables at the top of this module; `detect_event` only adds them up. An event becomes an
interview when its score reaches `THRESHOLD` *and* at least one signal names the interview
itself (a title word or a scheduling-tool fingerprint): external attendees and a video link
alone describe every sales call.

Look-alikes are vetoed rather than out-scored: user research, podcasts and press interviews,
interviews the user conducts (the organizer is on the user's side and the other guests are
candidates), and internal meetings (everyone else invited is on the user's own side, such as a
1:1 with a colleague), and meetings where the user, invited at their work address, comes with
a colleague to meet outsiders (a vendor's demo: nobody brings a colleague from their current
job to their own job interview). A 1:1 alone says nothing of who interviews whom, and an
invitation that names the user as the candidate is not interviewer-side wording; nor are the
weak interviewer-side words ("debrief", "interviewer training") of a letter written to the
candidate ("we'll debrief after", "shadowing for interviewer training"). An event that nothing
names an interview is explained as that first, whatever else vetoes it. Cancelled and declined
interviews are still interviews (status says so), so that drafts scheduled for them can be
cancelled with a reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from mailagent.core.facts import (
    ROLE_WORDS,
    company_for,
    domain_label,
    narrow_interviewers,
    role_for,
)
from mailagent.core.interviewer_facts import interviewer_facts
from mailagent.core.language import detect_language
from mailagent.core.models import (
    SNIPPET_LIMIT,
    Attendee,
    CalendarEvent,
    Detection,
    EventStatus,
    Folder,
    Interview,
    InterviewStatus,
    Message,
    Person,
    ResponseStatus,
    Signal,
)

THRESHOLD = 3

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "fastmail.com",
        "fastmail.fm",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "hey.com",
        "tutanota.com",
        "qq.com",
        "163.com",
        "free.fr",
        "orange.fr",
        "laposte.net",
    }
)

SCHEDULING_DOMAINS = frozenset(
    {
        "calendly.com",
        "goodtime.io",
        "greenhouse.io",
        "greenhouse-mail.io",
        "lever.co",
        "hire.lever.co",
        "ashbyhq.com",
        "myworkday.com",
        "workday.com",
        "modernloop.io",
        "gem.com",
        "prelude.co",
        "smartrecruiters.com",
        "icims.com",
        "jobvite.com",
        "resource.calendar.google.com",
        "group.calendar.google.com",
        "calendar.google.com",
        "zoom.us",
        "teams.microsoft.com",
    }
)

NON_HUMAN_LOCAL_PARTS = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|notifications?|calendar|scheduling|scheduler|"
    r"invites?|interviews?|recruiting-?coordinat\w*|talent-?notifications?|mailer-daemon|"
    r"postmaster|bounce\w*|support|info|jobs|careers|hr|hiring|recruiting|recruitment|talent|"
    r"talent-?acquisition|people|newsletters?|news|events|booking|research|"
    r"gradrecruitment|campus)(\+.*)?$"
)

ROOM_NAME = re.compile(r"\b(room|conference|conf\.? rm|board ?room|floor|bldg|building)\b", re.I)

# (name, pattern, weight, names-the-interview)
TITLE_RULES: tuple[tuple[str, re.Pattern[str], int, bool], ...] = (
    ("title: interview", re.compile(r"\binterview(s|ing)?\b", re.I), 3, True),
    (
        "title: phone screen",
        re.compile(
            r"\b(phone|video|recruiter|initial|hr|hm|tech|technical)[ -]?screen(ing)?\b", re.I
        ),
        3,
        True,
    ),
    ("title: screening call", re.compile(r"\bscreening (call|interview)\b", re.I), 3, True),
    ("title: onsite", re.compile(r"\b(on-?site|virtual on-?site|super ?day)\b", re.I), 3, True),
    (
        "title: final round",
        re.compile(r"\b(final|first|second|third|next|1st|2nd|3rd) (round|stage)\b", re.I),
        3,
        True,
    ),
    ("title: hiring manager", re.compile(r"\bhiring manager\b", re.I), 3, True),
    (
        "title: technical",
        re.compile(
            r"\b(technical|coding|system design|take-?home review|pair programming|case study|whiteboard)\b",
            re.I,
        ),
        2,
        True,
    ),
    (
        "title: recruiter call",
        re.compile(r"\b(recruiter|talent acquisition|recruiting) (call|chat|conversation)\b", re.I),
        3,
        True,
    ),
    (
        "title: a call about a job",
        re.compile(
            r"\b(call|chat|conversation|intro|meeting)\b[^\n]{0,80}?\b(role|position|job|opening|vacancy)\b",
            re.I,
        ),
        3,
        True,
    ),
    (
        "title: interview (de, fr, es, pt, nl)",
        re.compile(
            r"\b(vorstellungsgespr[äa]ch|bewerbungsgespr[äa]ch|kennenlern-?gespr[äa]ch|"
            r"auswahlgespr[äa]ch|zweitgespr[äa]ch|erstgespr[äa]ch|fachgespr[äa]ch|"
            r"telefon-?interview|video-?interview|bewerbungs-?interview|job-?interview|"
            r"entretiens?|entrevues?|entrevistas?|sollicitatie-? ?gesprek(ken)?|"
            r"kennismakingsgesprek(ken)?|"
            r"selectiegesprek|vervolggesprek|tweede gesprek)\b",
            re.I,
        ),
        3,
        True,
    ),
    (
        "title: a talk about a job (de, fr, es, pt, nl)",
        re.compile(
            r"\b(gespr[äa]ch|[ée]change|appel|charla|llamada|bate-papo|conversa|gesprek)\b"
            r"[^\n]{0,80}?\b(stelle|position|poste|puesto|vacante|vaga|functie|vacature)\b",
            re.I,
        ),
        3,
        True,
    ),
    (
        "title: a talk with HR or a recruiter",
        re.compile(
            r"\b(call|chat|bate-papo|conversa|chamada|llamada|charla|conversaci[óo]n|appel|"
            r"[ée]change|gespr[äa]ch|telefonat|gesprek)\b[ \t]+(with|com|con|avec|mit|met)[ \t]+"
            r"(o |a |el |la |le |l'|het |de |dem |der |the |our )?(hr|rh|rr\.? ?hh\.?|"
            r"recursos humanos|ressources humaines|personalabteilung|recruiter|recruiting|"
            r"recrutador(a)?|recruteur|recruteuse|reclutador(a)?|recrutamento|reclutamiento|"
            r"talent acquisition|talent team|recruitment)\b",
            re.I,
        ),
        2,
        True,
    ),
    ("title: panel", re.compile(r"\bpanel\b", re.I), 1, False),
    ("title: candidate", re.compile(r"\bcandidate\b", re.I), 1, False),
)

CALL_IN_TITLE = re.compile(
    r"\b(video-?gesprek|telefo(o)?n-?gesprek|telefonisch(e)? gesprek|video-?gespr[äa]ch|"
    r"telefon-?gespr[äa]ch|telefonat|videollamada|llamada|videochamada|chamada|"
    r"appel (vid[ée]o|t[ée]l[ée]phonique)|visio(conf[ée]rence)?|conversa( inicial)?|bate-papo|"
    r"charla|gespr[äa]ch|gesprek|[ée]change)\b",
    re.I,
)
"""A call, talk or video call in German, French, Spanish, Portuguese or Dutch: with a job title
in the same title ("Videogesprek Booking.com – Senior Software Engineer") it names an
interview."""

BOOKING_TOOLS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Calendly", re.compile(r"calendly\.com|\bcalendly\b", re.I)),
    ("Cal.com", re.compile(r"\bcal\.com\b", re.I)),
)
"""Booking pages that sales, coaching and interviews all use: a hint, not a name for one."""

FINGERPRINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Greenhouse", re.compile(r"greenhouse\.io|greenhouse-mail\.io|\bgreenhouse\b", re.I)),
    ("Lever", re.compile(r"\blever\.co\b|hire\.lever", re.I)),
    ("Ashby", re.compile(r"ashbyhq\.com|\bashby\b", re.I)),
    ("Workday", re.compile(r"myworkday(jobs)?\.com|\bworkday\b", re.I)),
    ("GoodTime", re.compile(r"goodtime\.io|\bgoodtime\b", re.I)),
    ("ModernLoop", re.compile(r"modernloop", re.I)),
    ("SmartRecruiters", re.compile(r"smartrecruiters", re.I)),
    ("iCIMS", re.compile(r"\bicims\b", re.I)),
    ("Jobvite", re.compile(r"jobvite", re.I)),
)

DESCRIPTION_INTERVIEW = re.compile(
    r"\b(your interview|interview (with|for|schedule|details|loop)|interviewers?:|"
    r"position:|role:|job title:|candidate experience|hiring team|"
    r"ihre bewerbung|gespr[äa]chspartner(in)?:?|votre candidature|vos interlocuteurs|"
    r"su candidatura|tu candidatura|entrevistador(es|as)?:|sua candidatura|"
    r"uw sollicitatie|je sollicitatie|gesprekspartners?:?)(?!\w)",
    re.I,
)

LOOKALIKES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "user research",
        re.compile(
            r"\b(user|ux|customer|usability|market) (research|interview|study|studies|test(ing)?)\b|\bresearch (study|session|participant)|\bparticipants?\b(?!\s*:)|\busability\b|\bincentive\b",
            re.I,
        ),
    ),
    (
        "podcast or press",
        re.compile(
            r"\b(podcast|episode|press|journalist|reporter|media|radio|newspaper|magazine|on air|recording session|publication|reporting on)\b",
            re.I,
        ),
    ),
    (
        "press (other languages)",
        re.compile(
            r"\b(zeitung|zeitschrift|journalist(in)?|rundfunk|fernsehen|presse|journaliste|"
            r"t[ée]l[ée]vision|periodista|peri[óo]dico|televisi[óo]n|jornal(ista)?|r[áa]dio|"
            r"reportagem|reportaje|krant|tijdschrift|omroep|artikel|article|prensa|imprensa|"
            r"redaktion|r[ée]daction|redacci[óo]n|reda[çc][ãa]o|redactie)\b|funk\b",
            re.I,
        ),
    ),
    (
        "user research (other languages)",
        re.compile(
            r"\b(entretien utilisateur|[ée]tude utilisateur|recherche utilisateur|bon cadeau|"
            r"carte cadeau|nutzer-?(interview|studie|forschung|test)|gutschein|"
            r"entrevista (de|con) usuari[oa]s?|estudio de usuari[oa]s|tarjeta regalo|vale regalo|"
            r"pesquisa (com|de) usu[áa]ri[oa]s|vale-presente|gebruikersonderzoek|"
            r"gebruikersinterview|cadeaubon)",
            re.I,
        ),
    ),
    (
        "a sales demo",
        re.compile(r"\b(book(ed|ing)? a demo|product demo|sales demo|free trial)\b", re.I),
    ),
    (
        "interview practice",
        re.compile(r"\b(mock|practice) interview|\binterview (prep|training|practice)\b", re.I),
    ),
)

INTERVIEWER_SIDE = re.compile(
    r"\b(interview kit|scorecard|feedback form|debrief|interviewer training|"
    r"(?<!for )(?<!to )candidate:|interviewing candidate|you('re| are) interviewing|hiring committee|"
    r"bewerber(in)?:|kandidat(in)?:|(?<!pour le )(?<!au )(?<!for )(?<!to )candidat(e)? ?:|candidat[oa]:|kandidaat:|"
    r"bewertungsbogen|grille d'[ée]valuation)(?!\w)",
    re.I,
)

WEAK_INTERVIEWER_SIDE = re.compile(r"debrief|interviewer training|feedback form|scorecard", re.I)
"""Interviewer-side words that a candidate's invitation uses too ("we'll debrief after")."""

TO_THE_CANDIDATE = re.compile(
    r"\b(your interview (is|has been) (confirmed|scheduled)|(good|best of) luck|here's what to "
    r"expect|you('ll| will) (meet|be meeting|be speaking|teach|present|deliver)|would like to "
    r"meet you|your (application|candidacy)|congratulations on moving forward|thank(s| you) "
    r"for applying|please bring|is confirmed)\b",
    re.I,
)
"""Words written to the candidate: with them, a weak interviewer-side word is not the user's
side."""

DESCRIPTION_NAMES_INTERVIEW = re.compile(
    r"\b(interview (for|with|regarding|about) |your interview\b|invite you to (an? )?interview\b|"
    r"(phone|video) (screen|interview)\b)"
    r"|\b(for|about|regarding|discuss|to|in|through|over|on)\s(the|this|our)\s[^.;:()]{2,60}?\s"
    r"(role|position|opening|vacancy|opportunity)\b|\bscreening call\b"
    r"|\b(which role|what role|which position)\b[^\n?]{0,30}\bapplying for\b"
    r"|\bopen [^.\n]{0,20}roles?\b[^.\n]{0,20}\b(fit|match)\b"
    r"|\b(vorstellungsgespr[äa]ch|bewerbungsgespr[äa]ch|f[üu]r die (position|stelle) als|"
    r"entretien d'embauche|pour le poste d[e']|para el puesto de|para a vaga de|"
    r"sobre a vaga de|voor de functie (van|als)|sollicitatiegesprek|processo seletivo|"
    r"proceso de selecci[óo]n|b[úu]squeda de [a-zà-ÿ]+|auswahlverfahren|bewerbungsprozess|"
    r"processus de recrutement|sollicitatieprocedure|selectieprocedure|"
    r"(in )?de (rol|functie) van|zur stelle|f[üu]r die stelle|sur le poste|pour le poste|"
    r"para el puesto|para a vaga|la posici[óo]n de)",
    re.I,
)
"""Words in the description that name the meeting a job interview."""

TITLE_LOOKALIKES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "advice or training about interviews",
        re.compile(
            r"\b(webinar|workshop|newsletter|masterclass|tip of the week|tips?:)|"
            r"\binterview(ing)? (tips|skills|mistakes|advice)\b|what not to do\b",
            re.I,
        ),
    ),
    (
        "preparation",
        re.compile(r"\bprep(are|aring)?\b[^\n]{0,40}\binterview|\binterview prep\b", re.I),
    ),
    ("not a job interview", re.compile(r"\b(informational|info|exit|stay) interview\b", re.I)),
    (
        "a screening that is not a job's",
        re.compile(
            r"\b(film|movie|documentary|health|medical|cancer|eye|hearing) screening|screening committee\b",
            re.I,
        ),
    ),
    (
        "a game or a talk",
        re.compile(
            r"\b(tournament|chess|league|match|quiz|hackathon|keynote|meetup|summit)\b|\btalk:",
            re.I,
        ),
    ),
    ("a reference check", re.compile(r"\breference (call|check)\b", re.I)),
    (
        "admissions or a visa",
        re.compile(
            r"\b(admissions?|applicant interview|admisi[óo]n|admiss[ãa]o|toelatingsgesprek|"
            r"zulassungsgespr[äa]ch|visa (interview|appointment)|h-1b|consulate|embassy|"
            r"naturali[sz]ation|citizenship interview|uscis|green card|"
            r"consulado|embajada|ambassade|konsulat|botschaft)\b",
            re.I,
        ),
    ),
    (
        "preparation (other languages)",
        re.compile(
            r"\b(atelier|simulation d'entretien|pr[ée]parer (ses|vos|votre|son) entretien|"
            r"vorbereitung|bewerbungstraining|preparar (tu|la|su) entrevista|simulaci[óo]n de "
            r"entrevista|preparar para (a )?entrevista|simula[çc][ãa]o de entrevista|"
            r"sollicitatietraining|voorbereiding|oefengesprek|proefsollicitatie|werkcoach)\b",
            re.I,
        ),
    ),
    (
        "onboarding after an offer",
        re.compile(
            r"\b(i-?9|onboarding|orientation|background check|drug (test|screen)|new hire|"
            r"first day|badge photo|benefits enrollment)\b",
            re.I,
        ),
    ),
    (
        "a review with the user's own manager",
        re.compile(
            r"\b(mitarbeitergespr[äa]ch|jahres(end)?gespr[äa]ch|feedbackgespr[äa]ch|"
            r"personalgespr[äa]ch|entwicklungsgespr[äa]ch|zielvereinbarungsgespr[äa]ch|"
            r"beurteilungsgespr[äa]ch|austrittsgespr[äa]ch|"
            r"entretien (annuel|professionnel|individuel|d'[ée]valuation|de fin d'ann[ée]e|"
            r"pr[ée]alable|de sortie|de d[ée]part)|[ée]valuation annuelle|"
            r"evaluaci[óo]n (del? )?desempe[ñn]o|entrevista (de salida|anual|de desligamento)|"
            r"avalia[çc][ãa]o de desempenho|functioneringsgesprek|beoordelingsgesprek|"
            r"jaargesprek|exitgesprek|ontwikkelgesprek|voortgangsgesprek)\b",
            re.I,
        ),
    ),
    (
        "maintenance, not a meeting",
        re.compile(
            r"\bentretien (de la |du |des |de l')?(chaudi[èe]re|voiture|v[ée]hicule|jardin|"
            r"climatisation|locaux|piscine|courant|m[ée]nager)",
            re.I,
        ),
    ),
    ("an offer", re.compile(r"\b(offer of employment|job offer|offer letter)\b", re.I)),
)
"""Title words of meetings that are about interviews, or use their words, but are not one."""

THREAD_WORDS = re.compile(r"interview|screen|call|chat", re.I)
TOKEN = re.compile(r"[a-z0-9]{3,}")
TITLE_LIMIT = 1_000
"""Characters of an event title the patterns read (a real title is under 200; the
description is already cut to SNIPPET_LIMIT by the providers)."""

ROUND_PATTERNS = re.compile(
    r"\b(phone screen|recruiter (?:call|screen)|hiring manager|technical(?: interview| screen)?|"
    r"system design|onsite|on-site|final round|panel|coding|take-?home review|"
    r"(?:first|second|third|final) round)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class UserIdentity:
    """Who the user is: every address they use, and the domains that are their own side."""

    address: str
    name: str = ""
    aliases: frozenset[str] = frozenset()

    @property
    def addresses(self) -> frozenset[str]:
        return self.aliases | {self.address.lower()}

    @property
    def primary(self) -> Person:
        return Person(self.name, self.address.lower())

    @property
    def own_domains(self) -> frozenset[str]:
        """Domains of the user's employer: the user's non-public mail domains."""
        return frozenset(a.rpartition("@")[2] for a in self.addresses) - PUBLIC_MAIL_DOMAINS

    def is_user(self, address: str) -> bool:
        return address.lower() in self.addresses


def interview_id_for(event_id: str) -> str:
    return "iv-" + hashlib.sha256(event_id.encode()).hexdigest()[:10]


def is_scheduling_domain(domain: str) -> bool:
    """The domain of a scheduling tool (Calendly, Greenhouse...) or a subdomain of one."""
    return any(domain == d or domain.endswith("." + d) for d in SCHEDULING_DOMAINS)


def is_human_address(address: str) -> bool:
    local, _, domain = address.lower().rpartition("@")
    if not local or not domain:
        return False
    if NON_HUMAN_LOCAL_PARTS.match(local):
        return False
    return not is_scheduling_domain(domain)


def detect_event(
    event: CalendarEvent,
    user: UserIdentity,
    messages: Sequence[Message] = (),
) -> Detection:
    """Score one event and, when it is the user's interview, describe it.

    `messages` are the user's mail around the event; they are used only when the event has no
    attendees, to find the people of the thread that set the interview up.
    """
    signals: list[Signal] = []
    names_interview = False
    title = event.title[:TITLE_LIMIT]
    description = event.description[:SNIPPET_LIMIT]
    for name, pattern, weight, is_naming in TITLE_RULES:
        match = pattern.search(title)
        if match:
            signals.append(Signal(name, f'"{match.group(0)}" in the title', weight))
            names_interview = names_interview or is_naming
    call = CALL_IN_TITLE.search(title)
    if call and not names_interview and (job := ROLE_WORDS.search(title)):
        signals.append(
            Signal("title: a call about a job", f'"{call.group(0)}" and "{job.group(0)}"', 3)
        )
        names_interview = True
    names_interview = _tool_and_description_signals(event, description, signals) or names_interview

    others = [
        a
        for a in event.attendees
        if not user.is_user(a.address) and not a.resource and not ROOM_NAME.search(a.name or "")
    ]
    external = [a for a in others if a.address.rpartition("@")[2] not in user.own_domains]
    if external:
        signals.append(Signal("external attendees", f"{len(external)} from outside your domain", 1))
    if event.conference_urls:
        signals.append(Signal("video link", event.conference_urls[0].split("?")[0], 1))

    signals.extend(_lookalike_signals(title, description))
    interviewer_side = _user_is_interviewer(event, user) or _user_screens_candidates(
        event, user, external
    )
    if interviewer_side:
        signals.append(Signal("you are the interviewer", interviewer_side, -10))
    elif internal := _internal_only(event, user, others):
        signals.append(Signal("internal meeting", internal, -10))
    elif colleague := _colleague_attends(event, user, others, external):
        signals.append(Signal("your company's meeting", colleague, -10))
    if event.all_day:
        signals.append(Signal("all-day", "an all-day entry is a reminder, not a meeting", -10))
    if event.recurring and names_interview:
        signals.append(Signal("recurring", "a repeating series (interviews happen once)", -2))

    score = sum(s.weight for s in signals)
    is_interview = names_interview and score >= THRESHOLD
    if not is_interview:
        return Detection(
            event, None, score, tuple(signals), _rejection_verdict(signals, score, names_interview)
        )

    interviewers = _interviewers(event, user, messages)
    company_domains = _company_domains(event, interviewers, user)
    company = _company_name(event, company_domains, user, interviewers)
    language = detect_language(title, description, company_domains)
    interview = Interview(
        id=interview_id_for(event.id),
        event_id=event.id,
        title=event.title,
        start=event.start,
        end=event.end,
        company=company,
        company_domains=company_domains,
        role=_role(event, company, user, interviewers),
        interviewers=tuple(interviewers),
        interviewer_facts=interviewer_facts(interviewers, description, title),
        status=_status(event, user),
        round_label=_round_label(title),
        signals=tuple(signals),
        aliases=tuple(interview_id_for(alias) for alias in event.aliases),
        language=language.code,
        language_reason=language.reason,
    )
    verdict = f"interview (score {score})"
    if interview.status is not InterviewStatus.SCHEDULED:
        verdict += f", {interview.status.value}: no drafts"
    elif not interviewers:
        verdict += ", but no interviewer address was found: no thank-you can be addressed"
    return Detection(event, interview, score, tuple(signals), verdict)


def _tool_and_description_signals(
    event: CalendarEvent, description: str, signals: list[Signal]
) -> bool:
    """Append what tools and the description say; True when they name an interview."""
    names_interview = False
    haystack = " ".join((description, event.location[:TITLE_LIMIT], *event.conference_urls))
    if event.organizer:
        haystack += " " + event.organizer.address
    for name, pattern in FINGERPRINTS:
        if pattern.search(haystack):
            signals.append(Signal("scheduling tool", f"{name} fingerprint", 2))
            names_interview = True
            break
    for name, pattern in BOOKING_TOOLS:
        if pattern.search(haystack):
            signals.append(Signal("booking page", f"{name} (also used for sales calls)", 1))
            break
    described = DESCRIPTION_INTERVIEW.search(description)
    if described:
        signals.append(Signal("description", f'"{described.group(0)}" in the description', 1))
    named = DESCRIPTION_NAMES_INTERVIEW.search(description)
    if named and not names_interview and not any(s.name.startswith("title:") for s in signals):
        signals.append(Signal("description names it", f'"{named.group(0)}"', 2))
        names_interview = True
    return names_interview


def _lookalike_signals(title: str, description: str) -> list[Signal]:
    found: list[Signal] = []
    text = f"{title}\n{description}"
    for name, pattern in LOOKALIKES:
        match = pattern.search(text)
        if match:
            found.append(Signal("look-alike", f'{name}: "{match.group(0)}"', -10))
    for name, pattern in TITLE_LOOKALIKES:
        match = pattern.search(title)
        if match:
            found.append(Signal("look-alike", f'{name}: "{match.group(0)}" in the title', -10))
    return found


def detect_all(
    events: Iterable[CalendarEvent], user: UserIdentity, messages: Sequence[Message] = ()
) -> list[Detection]:
    return [detect_event(e, user, messages) for e in events]


def _rejection_verdict(signals: Sequence[Signal], score: int, names_interview: bool) -> str:
    if not names_interview:  # the first reason: a veto alone would say more than is known
        return "not an interview: nothing names it one (no title word or scheduling tool)"
    vetoes = [s for s in signals if s.weight <= -10]
    if vetoes:
        return f"not an interview of yours: {vetoes[0].name} ({vetoes[0].detail})"
    return f"not an interview: score {score} is below {THRESHOLD}"


def _user_is_interviewer(event: CalendarEvent, user: UserIdentity) -> str:
    """Why the user is on the interviewing side of this event, or "" when nothing says so.

    Interviewer-side wording counts unless it names the user as the candidate ("Candidate:
    Alex Kim" in the invitation a recruiter sent Alex). A meeting organized from the user's
    side whose outside guests are all on personal addresses is an interview of candidates
    when a colleague takes part or organized it; the user alone with one such guest is a
    1:1, which says nothing of who interviews whom."""
    text = f"{event.title[:TITLE_LIMIT]}\n{event.description}"
    to_candidate = TO_THE_CANDIDATE.search(text) is not None
    for match in INTERVIEWER_SIDE.finditer(text):
        if match.group(0).endswith(":") and _names_user(text[match.end() :], user):
            continue
        if to_candidate and WEAK_INTERVIEWER_SIDE.fullmatch(match.group(0)):
            continue  # "give me a call and we'll debrief", "shadowing for interviewer training"
        return f'"{match.group(0)}" is interviewer-side wording'
    organizer = event.organizer.address if event.organizer else ""
    organizer_domain = organizer.rpartition("@")[2]
    ours = user.is_user(organizer) or (organizer_domain in user.own_domains)
    if not ours or not organizer:
        return ""
    outsiders = [
        a
        for a in event.attendees
        if not user.is_user(a.address)
        and not a.resource
        and a.address.rpartition("@")[2] not in user.own_domains
    ]
    colleagues = [
        a
        for a in event.attendees
        if not user.is_user(a.address) and a.address.rpartition("@")[2] in user.own_domains
    ]
    if (
        outsiders
        and all(a.address.rpartition("@")[2] in PUBLIC_MAIL_DOMAINS for a in outsiders)
        and (colleagues or not user.is_user(organizer))
    ):
        return (
            "organized from your side and the outside guests are on personal addresses (candidates)"
        )
    return ""


def _names_user(text: str, user: UserIdentity) -> bool:
    """Whether the line `text` starts with names the user (by name or address)."""
    line = text.strip().split("\n", 1)[0].strip().lower()
    names = {a.lower() for a in user.addresses}
    if user.name:
        names.add(" ".join(user.name.lower().split()))
    return any(line.startswith(n) for n in names if n)


def _colleague_attends(
    event: CalendarEvent,
    user: UserIdentity,
    others: Sequence[Attendee],
    external: Sequence[Attendee],
) -> str:
    """Why a colleague of the user's own employer takes part with outside guests, or "": the
    user, invited at their work address, is there for their company (a vendor's demo, a
    partner's call); nobody brings a colleague from their current job to their own job
    interview. Only when the user is invited at that work address: an address of theirs the
    config does not list is never taken for a colleague of theirs."""
    at_work = any(
        user.is_user(a.address) and a.address.rpartition("@")[2] in user.own_domains
        for a in event.attendees
    )
    if not external or not at_work:
        return ""
    colleague = next((a for a in others if a.address.rpartition("@")[2] in user.own_domains), None)
    if colleague is None:
        return ""
    who = f"{colleague.name} <{colleague.address}>" if colleague.name else colleague.address
    return f"{who}, from your side, attends with outside guests"


def _internal_only(event: CalendarEvent, user: UserIdentity, others: Sequence[Attendee]) -> str:
    """Why everyone else invited is on the user's own side (their employer), or "": such a
    meeting is no interview with another company, whatever its title says."""
    if not others or not user.own_domains:
        return ""
    invited = [a.address for a in others]
    if event.organizer and not user.is_user(event.organizer.address):
        invited.append(event.organizer.address)
    if any(address.rpartition("@")[2] not in user.own_domains for address in invited):
        return ""
    if len(others) == 1:
        other = others[0]
        who = f"{other.name} <{other.address}>" if other.name else other.address
        return f"a 1:1 with {who}, on your own side"
    return f"everyone invited is on your own side ({len(others)} colleagues)"


def _user_screens_candidates(
    event: CalendarEvent, user: UserIdentity, external: Sequence[Attendee]
) -> str:
    """The user organized it from a work address, for guests on personal addresses only.

    People look for a job from their own address, not their employer's; an entry the user
    sends from work to someone on Gmail is a candidate being screened.
    """
    organizer = event.organizer.address.lower() if event.organizer else ""
    domain = organizer.rpartition("@")[2]
    if not organizer or not user.is_user(organizer) or domain in PUBLIC_MAIL_DOMAINS:
        return ""
    if external and all(a.address.rpartition("@")[2] in PUBLIC_MAIL_DOMAINS for a in external):
        return "you organized it from your work address for guests on personal addresses"
    return ""


def _status(event: CalendarEvent, user: UserIdentity) -> InterviewStatus:
    if event.status is EventStatus.CANCELLED:
        return InterviewStatus.CANCELLED
    for attendee in event.attendees:
        if user.is_user(attendee.address) and attendee.response is ResponseStatus.DECLINED:
            return InterviewStatus.DECLINED
    return InterviewStatus.SCHEDULED


def _interviewers(
    event: CalendarEvent, user: UserIdentity, messages: Sequence[Message]
) -> list[Person]:
    seen: set[str] = set()
    people: list[Person] = []
    for attendee in event.attendees:
        address = attendee.address.lower()
        if (
            address in seen
            or user.is_user(address)
            or attendee.resource
            or ROOM_NAME.search(attendee.name or "")
            or attendee.response is ResponseStatus.DECLINED
            or not is_human_address(address)
            or address.rpartition("@")[2] in user.own_domains
        ):
            continue
        seen.add(address)
        people.append(Person(_clean_name(attendee.name), address))
    if people:
        return narrow_interviewers(people, event.organizer, event.description[:SNIPPET_LIMIT])
    return _thread_people(event, user, messages)


def _thread_people(
    event: CalendarEvent, user: UserIdentity, messages: Sequence[Message]
) -> list[Person]:
    """People of the mail thread that set the interview up, for events without attendees."""
    tokens = significant_tokens(event.title[:TITLE_LIMIT])
    urls = {u.split("?")[0] for u in event.conference_urls}
    earliest = event.start - timedelta(days=45)
    found: dict[str, Person] = {}
    for message in sorted(messages, key=lambda m: m.date):
        if message.folder is not Folder.INBOX or not (earliest <= message.date <= event.start):
            continue
        sender = message.sender
        if user.is_user(sender.address) or not is_human_address(sender.address):
            continue
        text = f"{message.subject[:TITLE_LIMIT]}\n{message.snippet[:SNIPPET_LIMIT]}"
        mentions_url = any(u and u in text for u in urls)
        overlap = tokens & significant_tokens(message.subject[:TITLE_LIMIT])
        if mentions_url or (overlap and THREAD_WORDS.search(text)):
            found.setdefault(sender.address, Person(_clean_name(sender.name), sender.address))
    return list(found.values())


STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "with",
        "for",
        "at",
        "of",
        "to",
        "on",
        "in",
        "interview",
        "phone",
        "screen",
        "call",
        "chat",
        "video",
        "round",
        "final",
        "onsite",
        "technical",
        "meeting",
        "re",
        "fwd",
        "fw",
        "invitation",
        "updated",
    ]
)


def significant_tokens(text: str) -> set[str]:
    return {t for t in TOKEN.findall(text.lower()) if t not in STOPWORDS}


def _clean_name(name: str) -> str:
    name = " ".join(name.replace('"', " ").split())
    return "" if "@" in name else name


def _company_domains(
    event: CalendarEvent, interviewers: Sequence[Person], user: UserIdentity
) -> tuple[str, ...]:
    domains: list[str] = []
    candidates = [p.address for p in interviewers]
    if event.organizer:
        candidates.append(event.organizer.address)
    candidates.extend(a.address for a in event.attendees)
    for address in candidates:
        domain = address.rpartition("@")[2].lower()
        if (
            domain
            and domain not in domains
            and domain not in PUBLIC_MAIL_DOMAINS
            and domain not in user.own_domains
            and not user.is_user(address)
            and not is_scheduling_domain(domain)
        ):
            domains.append(domain)
    return tuple(domains)


def _company_name(
    event: CalendarEvent,
    domains: Sequence[str],
    user: UserIdentity,
    interviewers: Sequence[Person] = (),
) -> str:
    """What people call the company (`mailagent.core.facts`), else the capitalised domain."""
    people = [
        *interviewers,
        *(
            a.person
            for a in event.attendees
            if not user.is_user(a.address) and is_human_address(a.address)
        ),
    ]
    name = company_for(
        event.title[:TITLE_LIMIT],
        event.description[:SNIPPET_LIMIT],
        event.location[:TITLE_LIMIT],
        event.organizer,
        people,
        domains,
        user.primary,
        organizer_is_human=event.organizer is not None
        and is_human_address(event.organizer.address),
    )
    if name:
        return name
    if domains:
        return company_from_domain(domains[0])
    return ""


def company_from_domain(domain: str) -> str:
    return domain_label(domain, skip=frozenset({"corp"})).replace("-", " ").title()


def _role(
    event: CalendarEvent, company: str, user: UserIdentity, interviewers: Sequence[Person] = ()
) -> str:
    """The job the interview is for (`mailagent.core.facts`), or "" when unsure."""
    people = [*interviewers, *(a.person for a in event.attendees if not user.is_user(a.address))]
    return role_for(
        event.title[:TITLE_LIMIT], event.description[:SNIPPET_LIMIT], company, people, user.primary
    )


def _round_label(title: str) -> str:
    match = ROUND_PATTERNS.search(title)
    return match.group(0).lower() if match else ""
