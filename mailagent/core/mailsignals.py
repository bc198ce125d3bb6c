"""What an incoming message means for the user's application: bounce, auto-reply, rejection...

Design notes:

- Pure: a `Message` in, a `MailReading` out. The reading is explained: `evidence` names every
  header, subject or phrase that decided it, so a user can see why a follow-up stopped.
- Only the sender's own words count. Replies quote the user's thank-you, which is full of
  "next round" and "offer"; `strip_quoted` cuts the quoted part off, and a subject that starts
  with a reply prefix ("Re:", "AW:") is the user's own subject, so it is left out of the phrase
  rules (it still counts for the auto-reply and bounce rules, which look at machine subjects).
- Precedence, first that applies wins: BOUNCE, AUTO_REPLY, REJECTION, OFFER, NEXT_ROUND,
  TIMEFRAME, REPLY. The phrase rules are data tables (`_REJECTION`, `_OFFER`, `_NEXT_ROUND`),
  read top to bottom like h11's state tables.
- Hedged phrases do not count: "if we decide not to move forward", "before we extend an offer".
- Applicant-tracking systems send real rejections and invitations from no-reply addresses with
  `Auto-Submitted: auto-generated`. So only `auto-replied` (RFC 3834 section 5) and the explicit
  vacation markers make a message an auto-reply on their own; `auto-generated` and Exchange's
  Mailbox Rules Agent header need out-of-office or acknowledgement wording too, and never win
  over a rejection, offer or next round.
- The phrase tables read English, and German, French, Spanish, Portuguese and Dutch for
  rejections ("leider müssen wir Ihnen mitteilen", "nous sommes au regret", "lamentablemente
  ... otros candidatos", "infelizmente ... outros candidatos", "helaas ... gekozen voor") and
  out-of-office notices (issue 12, point 4), offers ("Vertragsangebot", "promesse
  d'embauche", "carta oferta", "carta proposta", "contractvoorstel") and next rounds ("zweites
  Gespräch", "deuxième entretien", "segunda entrevista", "próxima etapa", "tweede gesprek").
- `decision_by` is the time frame the message states (`mailagent.core.timeframe`), kept for OFFER,
  NEXT_ROUND and TIMEFRAME. A rejection, bounce or auto-reply has no decision pending.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mailagent.core.models import Message
from mailagent.core.timeframe import find_return_date, find_time_frame

__all__ = ["MailKind", "MailReading", "read_message", "strip_quoted"]


class MailKind(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    REJECTION = "rejection"
    OFFER = "offer"
    NEXT_ROUND = "next_round"
    TIMEFRAME = "timeframe"
    REPLY = "reply"


@dataclass(frozen=True, slots=True)
class MailReading:
    kind: MailKind
    decision_by: datetime | None
    """A stated decision date or time frame, resolved (aware)."""
    back_on: datetime | None
    """The out-of-office return date (aware); AUTO_REPLY only."""
    evidence: tuple[str, ...]
    """Short human-readable reasons, e.g. 'phrase "move forward with other candidates"'."""


# --- quoted text ------------------------------------------------------------------------------

_ATTRIBUTION_LINES = (
    # Gmail, Apple Mail, Thunderbird: "On Wed, Nov 18, 2026 at 9:12 AM Alex <a@b.c> wrote:",
    # often wrapped onto a second line. Localised forms of the same attribution follow.
    r"(?<!\S)On\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\swrote:",
    r"(?<!\S)Le\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\sa\s+écrit\s?:",
    r"(?<!\S)Am\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\sschrieb[^\n:]{0,120}:",
    r"(?<!\S)El\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\sescribió\s?:",
    r"(?<!\S)Il\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\sha\s+scritto\s?:",
    r"(?<!\S)Op\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\sschreef[^\n:]{0,120}:",
    r"(?<!\S)Em\s[^\n]{1,200}?(?:\n[^\n]{0,200}?)?\sescreveu\s?:",
)
_ATTRIBUTION = re.compile("|".join(_ATTRIBUTION_LINES))
_ATTRIBUTION_SENDER = re.compile(r"\d|@")
"""An attribution line counts only if it holds a digit or an address (a date or a sender), so
that "On Friday, as I wrote: ..." in a sender's own text is kept."""

_QUOTE_STARTS = re.compile(
    "|".join(
        (
            # Outlook and Exchange.
            r"^[ \t]*-{2,}\s*(?:Original\s+Message|Ursprüngliche\s+Nachricht"
            r"|Message\s+d'origine|Mensaje\s+original|Messaggio\s+originale"
            r"|Oorspronkelijk\s+bericht|Mensagem\s+original)\s*-{2,}",
            # An Outlook header block: "From:" then "Sent:" (or "Date:") within a few lines.
            r"^[ \t]*\*?(?:From|De|Von|Da|Van|Från|Fra|Od)\s?:\*?[^\n]*\n(?:[^\n]*\n){0,3}?"
            r"[ \t]*\*?(?:Sent|Date|Envoyé|Gesendet|Datum|Inviato|Data|Enviado|Fecha"
            r"|Verzonden|Skickat|Sendt|Wysłano)\s?:",
            # The same block flattened onto one line, as some providers' snippets are.
            r"(?<!\S)From:\s[^\n]{1,200}?\s(?:Sent|Date):\s[^\n]{1,200}?\s(?:To|Subject):",
        )
    ),
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*(?:\n|$)", re.MULTILINE)
_TRAILING_RULE = re.compile(r"[ \t]*+(?:(?:_{5,}+|-{5,}+)[ \t]*+)?")
"""A line that is blank or a rule ("_____", "-----"): what a reply leaves above the quote.
Used per line with `fullmatch`: as one pattern over all the trailing lines it backtracked
exponentially on blank lines before a last word."""

TEXT_LIMIT = 20_000
"""Characters of a subject or body these rules read (snippets hold 4,000)."""


_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Everything `str.splitlines` breaks on, so that a quoted line cannot hide behind one."""


def strip_quoted(text: str) -> str:
    """The sender's own text: quoted lines ('>') and everything after a reply attribution
    ("On ... wrote:", "-----Original Message-----", an Outlook From/Sent block, "Le ... a
    écrit :"...) removed. Forwarded messages are kept: the sender chose to send them."""
    text = _LINE_BREAKS.sub("\n", text[:TEXT_LIMIT].replace("\r\n", "\n"))
    cut = len(text)
    for found in _ATTRIBUTION.finditer(text):
        if _ATTRIBUTION_SENDER.search(found.group(0)):
            cut = min(cut, found.start())
            break
    starts = _QUOTE_STARTS.search(text)
    if starts is not None:
        cut = min(cut, starts.start())
    lines = _QUOTED_LINE.sub("", text[:cut]).split("\n")
    while lines and _TRAILING_RULE.fullmatch(lines[-1]):
        lines.pop()
    return "\n".join(lines).strip()


# --- phrase tables ----------------------------------------------------------------------------


def _table(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


_CANDIDATES = r"(?:candidate|applicant|individual|person|profile)s?"
_OTHERS = r"(?:an?other|other|a\s+different|different|the\s+other|alternative|an\s+alternative)"

_REJECTION = _table(
    rf"\bmov(?:e|ing)\s+(?:forward|ahead)\s+with\s+{_OTHERS}\s+(?:\w+\s+)?{_CANDIDATES}",
    r"(?:\bnot|n't|\bunable\s+to|\bdecided\s+against)(?:\s+be)?(?:\s+to)?\s+mov(?:e|ing)\s+"
    r"(?:forward|ahead)",
    rf"\b(?:pursue|pursuing|chosen|chose|selected|select|hired|hire|gone\s+with|go\s+with"
    rf"|going\s+with|went\s+with|proceed\s+with|proceeding\s+with)\s+{_OTHERS}\s+"
    rf"(?:\w+\s+){{0,2}}?{_CANDIDATES}",
    r"\b(?:offered|given)\s+the\s+(?:position|role|job)\s+to\s+(?:another|a\s+different|someone)",
    r"\bdecided\s+not\s+to\s+(?:proceed|continue|progress|advance|pursue|move\s+ahead)",
    r"(?:\bnot|n't|\bunable\s+to)(?:\s+be)?(?:\s+to)?\s+(?:proceed(?:ing)?|progress(?:ing)?"
    r"|advanc(?:e|ing)|continu(?:e|ing)|tak(?:e|ing))\s+(?:further\s+)?(?:with\s+)?your\s+"
    r"(?:application|candidacy|candidature)",
    r"\bunfortunately\b[^.!?]{0,150}?\bnot\b[^.!?]{0,60}?\b(?:selected|successful|chosen"
    r"|shortlisted|short-listed)\b",
    r"\b(?:you|your\s+application|your\s+candidacy)\s+(?:was|were|has|have)\s+not\s+(?:been\s+)?"
    r"(?:selected|successful|shortlisted|chosen)",
    r"\b(?:been|was|were)\s+unsuccessful\b|\bunsuccessful\s+on\s+this\s+occasion",
    r"\b(?:position|role|vacancy|job|opening|post)\s+(?:has|have|had)\s+(?:now\s+|already\s+)?"
    r"been\s+filled",
    r"\bwe\s+(?:have|'ve)\s+(?:now\s+|already\s+)?filled\s+the\s+(?:position|role|vacancy)",
    r"\bmore\s+closely\s+(?:match(?:es|ed)?|align(?:s|ed)?|fit(?:s)?|meet(?:s)?)",
    rf"\b{_CANDIDATES}\s+(?:who|whose|that)\b[^.!?]{{0,80}}?\b(?:better|more\s+directly)\s+"
    r"(?:match|fit|suit|align|meet)",
    r"\bregret\s+to\s+(?:inform|advise|tell|let\s+you\s+know|say)",
    r"(?:\bnot|n't|\bunable\s+to|\bcannot|\bcan't)(?:\s+be)?(?:\s+able\s+to)?\s+offer(?:ing)?\s+"
    r"you\s+(?:the\s+|a\s+|this\s+|an\s+)?(?:position|role|job|employment|offer|opportunity"
    r"|place)\b",
    r"\bno\s+longer\s+(?:in|under|being)\s+consideration|\bno\s+longer\s+being\s+considered"
    r"|\bno\s+longer\s+considering\s+your",
    r"\b(?:decided\s+to\s+)?go(?:ing)?\s+(?:in\s+)?a\s+different\s+direction",
    r"(?:\bnot|n't)\s+(?:be\s+)?(?:invit(?:e|ing)|schedul(?:e|ing))\s+you\s+(?:back|to|for)",
    r"(?:\bnot|n't)\s+(?:the|a)\s+(?:right\s+|best\s+|good\s+|strong\s+)?(?:fit|match)\s+for\b",
    # German
    r"\bleider\b[^.!?]{0,150}?(?:\bmitteilen\b|\babsagen\b|\bnicht\s+(?:weiter\s+)?"
    r"(?:ber[üu]cksichtigen|ber[üu]cksichtigt|ausgew[äa]hlt|in\s+betracht|weiterverfolgen)"
    r"|\bf[üu]r\s+(?:(?:einen|eine|einer)\s+)?andere[nr]?\s+(?:Kandidat|Bewerber)"
    r"|\bkeine\s+positive)",
    r"\b(?:wir\s+)?bedauern\b[^.!?]{0,60}?\bmitteilen\b",
    r"\bf[üu]r\s+(?:(?:einen|eine)\s+)?andere[nr]?\s+(?:Kandidat|Bewerber)\w*\s+entschieden",
    r"\b(?:Stelle|Position)\s+(?:wurde\s+|ist\s+)?(?:bereits\s+|inzwischen\s+)?"
    r"(?:anderweitig\s+)?besetzt",
    # French
    r"\bnous\s+sommes\s+au\s+regret\b|\bau\s+regret\s+de\s+vous\s+(?:informer|annoncer)",
    r"\b(?:candidature|profil)\s+n'a\s+pas\s+été\s+(?:retenue?|sélectionnée?)",
    r"\b(?:poursuivre|continuer|avancer)\s+avec\s+(?:un\s+autre|une\s+autre|d'autres)\s+"
    r"(?:candidat|profil)",
    r"\bne\s+(?:pouvons|pourrons)\s+(?:malheureusement\s+)?pas\s+donner\s+(?:une\s+)?suite"
    r"\s+favorable",
    # Spanish
    r"\blamentablemente\b[^.!?]{0,150}?\b(?:otr[oa]s?\s+(?:candidat|persona|perfil)"
    r"|no\s+(?:ha\s+sido|has\s+sido|fue)\s+seleccionad)",
    r"\b(?:lamentamos|sentimos)\s+(?:informarle|informarte|comunicarle|comunicarte|decirle"
    r"|decirte)",
    r"\b(?:candidatura|perfil|solicitud)\s+no\s+ha\s+sido\s+(?:seleccionad|elegid)",
    r"\b(?:continuar|seguir|avanzar)\s+con\s+otr[oa]s\s+(?:candidat|perfil)",
    r"\bhemos\s+(?:seleccionado|elegido)\s+a\s+otr[oa]s?\b",
    # Portuguese
    r"\binfelizmente\b[^.!?]{0,150}?\b(?:outr[oa]s?\s+(?:candidat|perfil|perfis)"
    r"|não\s+foi\s+(?:selecionad|aprovad))",
    r"\b(?:seguir|prosseguir|continuar|avançar)\s+com\s+outr[oa]s\s+(?:candidat|perfil|perfis)",
    r"\b(?:perfil|candidatura)\s+não\s+foi\s+(?:selecionad|aprovad|escolhid)",
    r"\blamentamos\s+informar",
    r"\bvaga\s+(?:já\s+)?foi\s+preenchida",
    # Dutch
    r"\bhelaas\b[^.!?]{0,150}?\b(?:andere\s+kandidaat|gekozen\s+voor|niet\s+(?:verder|door"
    r"|uit\s+te\s+nodigen|geselecteerd)|afwijzen|afgewezen)",
    r"\bgekozen\s+voor\s+een\s+andere\s+kandida",
    r"\bbesloten\s+(?:om\s+)?(?:u\s+|je\s+|jou\s+)?niet\s+(?:verder\s+te\s+gaan|uit\s+te"
    r"\s+nodigen|door\s+te\s+laten)",
)
_KEEP_ON_FILE = re.compile(
    r"\b(?:keep|retain|hold|maintain)\s+your\s+(?:resume|résumé|cv|application|details"
    r"|information|profile)(?:/\w+)?\s+(?:on\s+file|in\s+our\s+(?:database|system|records"
    r"|talent\s+(?:pool|community))|for\s+future)",
    re.IGNORECASE,
)
_SAD_CONTEXT = re.compile(
    rf"\bunfortunately\b|\bregret|\b{_OTHERS}\s+{_CANDIDATES}\b", re.IGNORECASE
)
""""We will keep your resume on file" alone is what every acknowledgement says; it is a
rejection only next to bad news."""

_OFFER = _table(
    r"\b(?:pleased|delighted|happy|thrilled|excited|glad)\s+to\s+(?:offer|extend)\b",
    r"\b(?:like|love|want)\s+to\s+offer\s+you\b",
    r"\boffer\s+you\s+(?:the|a|this)\s+(?:\w+\s+){0,3}?(?:position|role|job|post)\b",
    r"\boffer\s+of\s+employment\b",
    r"\b(?:job|employment|formal|written|verbal|official|contract|position)\s+offer\b",
    r"\boffer\s+letter\b",
    r"\bextend(?:ing)?\s+(?:to\s+you\s+|you\s+)?(?:an?|our|the|this)\s+(?:formal\s+"
    r"|official\s+|verbal\s+|written\s+)?offer\b",
    r"\b(?:accept(?:ance)?|accepting)\s+(?:of\s+)?(?:this|our|the)\s+offer\b",
    # German
    r"\bfreuen\s+uns\b[^.!?]{0,80}?\b(?:anbieten|anzubieten)\b",
    r"\b(?:Vertragsangebot|Jobangebot|Arbeitsvertragsangebot|Angebot\s+für\s+einen"
    r"\s+Arbeitsvertrag)\b",
    # French
    r"\b(?:promesse|proposition)\s+d['’]embauche\b",
    r"\b(?:plaisir|heureux|heureuse|ravis?|ravies?)\b[^.!?]{0,60}?\bvous\s+(?:proposer|offrir)"
    r"\s+(?:le|ce)\s+poste\b",
    r"\bvous\s+faire\s+une\s+(?:offre|proposition\s+d['’]embauche)\b",
    # Spanish
    r"\b(?:complace|alegra|gusta|encanta|placer)\b[^.!?]{0,40}?\bofrecer(?:le|te)\b",
    r"\bcarta\s+(?:de\s+)?oferta\b|\boferta\s+(?:formal|laboral\s+formal)\b",
    r"\bhacer(?:le|te)\s+una\s+oferta\b",
    # Portuguese
    r"\bcarta[\s-]proposta\b|\bproposta\s+(?:de\s+emprego|formal|de\s+contrata[çc][ãa]o)\b",
    r"\b(?:prazer|felizes|feliz|contentes)\b[^.!?]{0,40}?\boferecer\b",
    r"\bfazer\s+uma\s+proposta\b",
    # Dutch
    r"\b(?:aanbod|contractvoorstel)\s+(?:te\s+)?(?:doen|sturen)\b|\bcontractvoorstel\b"
    r"|\barbeidsvoorwaardenvoorstel\b",
)
_START_DATE = re.compile(r"\bstart(?:ing)?\s+date\b", re.IGNORECASE)
_OFFER_WORD = re.compile(r"\boffer\b", re.IGNORECASE)

_NEXT_ROUND = _table(
    r"\bnext\s+round\b",
    r"\b(?:second|third|fourth|final|last|follow[\s-]?up|on-?site|in-person|in\s+person"
    r"|technical|panel|next|further|additional|another)\s+(?:round\s+(?:of\s+)?)?interview\b(?!s)",
    r"\b(?:invite|invitation|ask)\s+(?:you\s+)?(?:back\s+)?(?:to|for)\s+(?:a|an|the|your)?\s*"
    r"[^.!?]{0,40}?\b(?:interview|round|stage|onsite|on-site|conversation|meeting|call|chat"
    r"|assessment|visit)\b",
    r"\binvite\s+you\s+back\b",
    r"\b(?:proceed|move|advance|progress)\s+(?:you\s+)?(?:forward\s+)?(?:to|into|with)\s+the\s+"
    r"[^.!?]{0,20}?\b(?:next|following|final|second)\b[^.!?]{0,20}?\b(?:stage|round|step)\b",
    r"\b(?:following|next)\s+stage\b",
    r"\bmove\s+forward\s+with\s+(?:you|your\s+(?:application|candidacy))\b",
    r"\b(?:schedule|set\s+up|arrange|book|line\s+up)\s+(?:a|an|the|your)\s+(?:\w+\s+){0,2}?"
    r"interview\b",
    r"\b(?:schedule|set\s+up|arrange|book)\s+(?:a|an|the)\s+(?:second|follow[\s-]?up|final"
    r"|next|further)\s+(?:call|meeting|conversation|chat)\b",
    r"\bre-?schedul(?:e|ing)\s+(?:your|the|our)\s+(?:\w+\s+)?(?:interview|call|meeting)\b",
    r"\bconfirm(?:s|ed|ing)?\s+your\s+(?:\w+\s+)?(?:interview|availability|attendance)\b",
    r"\b(?:your\s+)?availability\s+(?:for|to|on|this\s+week|next\s+week)\b",
    r"\blet\s+(?:me|us)\s+know\s+your\s+availability\b",
    r"\bwhen\s+(?:are\s+you|you(?:'re|\s+are|\s+would\s+be))\s+(?:free|available)\b",
    r"\b(?:provide|send|share|forward|list)\b[^.!?]{0,40}?\breferences\b",
    r"\breference\s+checks?\b",
    # German
    r"\b(?:zweite[nms]?|weitere[nms]?|n[äa]chste[nms]?|abschlie[ßs]ende[nms]?)\s+"
    r"(?:Gespr[äa]ch|Runde|Interview)\b|\bZweitgespr[äa]ch\b",
    r"\bzu\s+einem\s+(?:\w+\s+)?Gespr[äa]ch\s+(?:\w+\s+)?einladen",
    # French
    r"\b(?:deuxi[èe]me|second|nouvel|prochain|dernier)\s+(?:entretien|tour)\b",
    r"\bpasser\s+[àa]\s+la\s+prochaine\s+[ée]tape\s+avec\s+vous\b|\bvos\s+disponibilit[ée]s\b",
    r"\bvous\s+inviter\s+[àa]\s+un\s+(?:\w+\s+)?entretien\b",
    # Spanish
    r"\bsegunda\s+entrevista\b|\b(?:siguiente|pr[óo]xima)\s+ronda\b",
    r"\bavanzar\s+(?:contigo|con\s+usted)\b|\b(?:pasar|avanzar)\s+a\s+la\s+(?:siguiente|pr[óo]xima)"
    r"\s+(?:fase|etapa)\b",
    r"\b(?:invitarte|invitarle)\s+a\s+una\s+(?:\w+\s+)?entrevista\b",
    r"\b(?:tu|su)\s+disponibilidad\b",
    # Portuguese
    r"\b(?:segunda|nova)\s+entrevista\b",
    r"\b(?:convidar|avan[çc]ar)\b[^.!?]{0,30}?\bpr[óo]xima\s+(?:etapa|fase)\b",
    r"\b(?:convidar|convidá-lo|convidá-la)\b[^.!?]{0,30}?\bentrevista\b",
    r"\bsua\s+disponibilidade\b",
    # Dutch
    r"\b(?:tweede|volgend|vervolg)\s*gesprek\b|\bvolgende\s+ronde\b",
    r"\buitnodigen\s+voor\s+een\s+(?:\w+\s+)?gesprek\b",
    r"\b(?:je|uw)\s+beschikbaarheid\b",
)
_NEXT_STEPS = re.compile(
    r"\bnext\s+steps?\s+in\s+(?:the|our)\s+(?:\w+\s+)?process\b", re.IGNORECASE
)
_SCHEDULING = re.compile(
    r"\b(?:schedul\w*|availab\w*|calendar|time\s+slots?|book\w*|arrange\w*|invite\w*)\b",
    re.IGNORECASE,
)

_HEDGE = re.compile(
    r"\b(?:if|whether|in\s+case|unless|should\s+(?:we|you)|before|once|prior\s+to|potential"
    r"|potentially|possible|possibly|might|may|could|hope\s+to|eventual(?:ly)?"
    r"|wenn|falls|sobald|bevor|gegebenenfalls|eventuell|si|avant|lorsque|[ée]ventuellement"
    r"|antes|cuando|caso|quando|assim\s+que|voordat|zodra|indien|mocht|eventueel)\b",
    re.IGNORECASE,
)
_REJECTION_HEDGE = re.compile(
    r"\b(?:if|whether|in\s+case|unless|even\s+if|wenn|falls|sollten|si|au\s+cas\s+où"
    r"|en\s+caso|caso|indien|mocht)\b",
    re.IGNORECASE,
)
_NO_HEDGE = re.compile(r"(?!)")
"""Out-of-office wording is never conditional in a way that matters."""
_NEXT_ROUND_HEDGE = re.compile(
    r"\b(?:if|whether|in\s+case|unless|should\s+(?:we|you))\b", re.IGNORECASE
)

# --- auto-replies and bounces -----------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:automatic|auto)[\s-]?(?:reply|response)|autoreply|autorespond\w*|auto\s*:"
    r"|out\s+of\s+(?:the\s+)?office|ooo\b|abwesenheitsnotiz|automatische\s+antwort"
    r"|r[ée]ponse\s+automatique|absent(?:e)?\s*:|respuesta\s+autom[áa]tica"
    r"|risposta\s+automatica|automatisch\s+antwoord|fuera\s+de\s+la\s+oficina"
    r"|fora\s+do\s+escrit[óo]rio|resposta\s+autom[áa]tica|frånvaro|fravær"
    r"|absente?\s+du\s+bureau|afwezigheidsmelding|afwezig\s*:|abwesend\s*:|ausente\s*:)",
    re.IGNORECASE,
)
_OUT_OF_OFFICE = _table(
    r"\b(?:i\s+am|i'm|i\s+will\s+be|i'll\s+be)\s+(?:currently\s+|now\s+)?(?:out\s+of\s+(?:the\s+)?"
    r"office|ooo|away|on\s+(?:vacation|holiday|annual\s+leave|leave|pto|parental\s+leave"
    r"|maternity\s+leave|paternity\s+leave|sabbatical|a\s+business\s+trip)|travel+ing"
    r"|off\s+work|out)\b",
    r"\bout\s+of\s+(?:the\s+)?office\b",
    r"\blimited\s+(?:access\s+to|availability\s+(?:on|via))\s+(?:my\s+)?e-?mail",
    r"\b(?:away|absent)\s+from\s+(?:the\s+office|my\s+desk|work)\b",
    r"\bcurrently\s+away\b",
    r"\bje\s+suis\s+absente?\b|\babsente?\s+du\s+bureau\b|\ben\s+cong[ée]s?\b",
    r"\bnicht\s+im\s+b[üu]ro\b|\babwesend\b|\b(?:im|in)\s+urlaub\b",
    r"\b(?:estoy|estar[ée])\s+(?:de\s+vacaciones|fuera\s+de\s+la\s+oficina|ausente)"
    r"|\bfuera\s+de\s+la\s+oficina\b",
    r"\b(?:estou|estarei)\s+(?:de\s+férias|fora\s+do\s+escrit[óo]rio|ausente)"
    r"|\bfora\s+do\s+escrit[óo]rio\b",
    r"\bik\s+ben\s+(?:afwezig|niet\s+op\s+kantoor|met\s+vakantie)\b|\bafwezig\s+tot\b",
)
_ACKNOWLEDGEMENT = _table(
    r"\bthis\s+is\s+an?\s+(?:automated|automatic|auto-generated|automatically\s+generated)\s+"
    r"(?:message|response|reply|e-?mail|notification|acknowledge?ment)",
    r"\b(?:we|i)\s+(?:have|'ve)\s+received\s+your\s+(?:e-?mail|message|application|inquiry"
    r"|enquiry|note)",
    r"\breceived\s+your\s+(?:e-?mail|message)\s+and\s+will\b",
    r"\bthank\s+you\s+for\s+(?:your|the)\s+(?:e-?mail|message)\W{1,3}(?:i|we)\s+(?:will|'ll)\s+"
    r"(?:respond|reply|get\s+back)",
)

_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "microsoftexchange")
_BOUNCE_SUBJECT = re.compile(
    r"\bundeliver(?:able|ed)\b|delivery\s+status\s+notification\s+\(failure\)"
    r"|mail\s+delivery\s+(?:failed|failure|subsystem)|\breturned\s+mail\b|delivery\s+failure"
    r"|failure\s+notice|delivery\s+has\s+failed|non-?delivery|could\s+not\s+be\s+delivered"
    r"|unzustellbar|non\s+remis",
    re.IGNORECASE,
)
_BOUNCE_BODY = re.compile(
    r"could\s+not\s+be\s+delivered|delivery\s+(?:has\s+)?failed|address\s+not\s+found"
    r"|wasn't\s+delivered|was\s+not\s+delivered|recipient\s+address\s+rejected|user\s+unknown"
    r"|mailbox\s+(?:unavailable|not\s+found|full)|no\s+such\s+user",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|antw|sv|vs|r|rif|ref|réf|res|odp|ynt|回复|答复)\s*(?:\[\d+\])?\s*:",
    re.IGNORECASE,
)


_DSN_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?delivery-status")
_CLAUSE_END = re.compile(r"[.!?;:]")
_SPACE = re.compile(r"\s+")

# --- reading ----------------------------------------------------------------------------------


def _flat(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


def _quote(text: str) -> str:
    text = _flat(text)
    return text if len(text) <= 80 else text[:77] + "..."


def _hedged(text: str, start: int, hedges: re.Pattern[str]) -> bool:
    """True when the clause before `start` makes the phrase conditional."""
    before = text[max(0, start - 60) : start]
    clause = _CLAUSE_END.split(before)[-1]
    return hedges.search(clause) is not None


def _phrases(text: str, table: Sequence[re.Pattern[str]], hedges: re.Pattern[str]) -> list[str]:
    found: list[str] = []
    for pattern in table:
        for match in pattern.finditer(text):
            if _hedged(text, match.start(), hedges):
                continue
            reason = f'phrase "{_quote(match.group(0))}"'
            if reason not in found:
                found.append(reason)
            break
    return found


def _rejection(text: str) -> list[str]:
    found = _phrases(text, _REJECTION, _REJECTION_HEDGE)
    keep = _KEEP_ON_FILE.search(text)
    if keep is not None and _SAD_CONTEXT.search(text) is not None:
        found.append(f'phrase "{_quote(keep.group(0))}" with bad news')
    return found


def _offer(text: str) -> list[str]:
    found = _phrases(text, _OFFER, _HEDGE)
    start = _START_DATE.search(text)
    if found and start is not None and _OFFER_WORD.search(text) is not None:
        found.append(f'phrase "{_quote(start.group(0))}" with an offer')
    return found


def _next_round(text: str) -> list[str]:
    found = _phrases(text, _NEXT_ROUND, _NEXT_ROUND_HEDGE)
    steps = _NEXT_STEPS.search(text)
    if steps is not None and _SCHEDULING.search(text) is not None:
        found.append(f'phrase "{_quote(steps.group(0))}" with scheduling')
    return found


def _bounce(message: Message) -> list[str]:
    evidence: list[str] = []
    content_type = message.header("content-type").lower()
    if content_type.strip().startswith("multipart/report") and _DSN_REPORT_TYPE.search(
        content_type
    ):
        evidence.append(f"header content-type: {_quote(message.header('content-type'))}")
    if "x-failed-recipients" in message.headers:
        evidence.append("header x-failed-recipients")
    local = message.sender.address.partition("@")[0].lower()
    subject = _BOUNCE_SUBJECT.search(message.subject[:TEXT_LIMIT])
    if subject is not None:
        if local.startswith(_BOUNCE_SENDERS):
            evidence.append(f"sender {message.sender.address}")
            evidence.append(f'subject "{_quote(message.subject)}"')
        elif (body := _BOUNCE_BODY.search(message.snippet[:TEXT_LIMIT])) is not None:
            evidence.append(f'subject "{_quote(message.subject)}"')
            evidence.append(f'phrase "{_quote(body.group(0))}"')
    return evidence


def _auto_reply(message: Message, text: str, in_pipeline: bool) -> list[str]:
    """Evidence that the message is an auto-reply; empty when it is not one."""
    strong: list[str] = []
    weak: list[str] = []
    submitted = message.header("auto-submitted").split(";")[0].strip().lower()
    if submitted == "auto-replied":
        strong.append("header auto-submitted: auto-replied")
    elif submitted and submitted != "no":
        weak.append(f"header auto-submitted: {submitted}")
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if name in message.headers:
            strong.append(f"header {name}")
    if message.header("precedence").strip().lower() in {"auto_reply", "auto-reply"}:
        strong.append("header precedence: auto_reply")
    if "mailbox rules agent" in message.header("x-ms-exchange-generated-message-source").lower():
        weak.append("header x-ms-exchange-generated-message-source: Mailbox Rules Agent")
    if _AUTO_SUBJECT.search(message.subject[:TEXT_LIMIT]) is not None:
        strong.append(f'subject "{_quote(message.subject)}"')
    away = _phrases(text, _OUT_OF_OFFICE, _NO_HEDGE)
    acknowledged = _phrases(text, _ACKNOWLEDGEMENT, _NO_HEDGE)
    if strong:
        return strong + weak + away + acknowledged
    if in_pipeline:
        return []
    if weak and (away or acknowledged):
        return weak + away + acknowledged
    if away and find_return_date(text, message.date) is not None:
        return away
    return []


def _own_text(message: Message) -> str:
    """The sender's own words: the subject unless it is inherited, and the unquoted body."""
    body = strip_quoted(message.snippet)
    subject = message.subject[:TEXT_LIMIT]
    subject = "" if _REPLY_PREFIX.match(subject) else subject
    return _flat(f"{subject}\n{body}")


def read_message(message: Message) -> MailReading:
    """Classify one incoming message; see the module notes for the order of the rules."""
    bounce = _bounce(message)
    if bounce:
        return MailReading(MailKind.BOUNCE, None, None, tuple(bounce))

    text = _own_text(message)
    rejection = _rejection(text)
    offer = _offer(text)
    next_round = _next_round(text)

    auto = _auto_reply(message, text, bool(rejection or offer or next_round))
    if auto:
        full = _flat(f"{message.subject[:TEXT_LIMIT]}\n{strip_quoted(message.snippet)}")
        back_on = find_return_date(full, message.date)
        if back_on is not None:
            auto.append(f"back on {back_on.date().isoformat()}")
        return MailReading(MailKind.AUTO_REPLY, None, back_on, tuple(auto))

    if rejection:
        return MailReading(MailKind.REJECTION, None, None, tuple(rejection))

    frame = find_time_frame(text, message.date)
    decision_by = frame.until if frame is not None else None
    stated = (
        [f'time frame "{_quote(frame.phrase)}" until {frame.until.isoformat()}']
        if frame is not None
        else []
    )
    if offer:
        return MailReading(MailKind.OFFER, decision_by, None, tuple(offer + stated))
    if next_round:
        return MailReading(MailKind.NEXT_ROUND, decision_by, None, tuple(next_round + stated))
    if frame is not None:
        return MailReading(MailKind.TIMEFRAME, decision_by, None, tuple(stated))
    return MailReading(MailKind.REPLY, None, None, ("no rule matched: a reply from a person",))
