"""Throughput of the pure core: detection, mail classification and planning, on synthetic data.

    python benchmarks/core.py [--events 10000] [--messages 50000] [--json] [--no-memory] [--profile]

Design notes:

- The data is synthetic and seeded, so two runs measure the same work. One user
  (alex@northwind.dev) gets `--events` calendar events and `--messages` messages. The mix is
  meant to reach every branch that costs something: about 5% interviews (external interviewers,
  applicant-tracking-system fingerprints, video links; some cancelled or declined, and some with
  no attendees at all, which makes detection fall back to the mail thread), look-alikes (user
  research, podcasts, mock interviews, interviews the user conducts), internal meetings,
  all-day entries and cancelled meetings. Mail: newsletters, colleagues, company replies that
  quote the user, stated time frames, rejections, offers and next rounds, out-of-office replies
  with `Auto-Submitted`, applicant-tracking acknowledgements and bounces; 26% in Sent.
- The stages are called the way the runner calls them (`mailagent/runner.py`): `detect_all`
  gets every message, for the no-attendee fallback; `plan` gets the detected interviews, every
  message, an empty `PlannerState`, the standard policy and a fixed `now`.
- Timing and memory are measured in separate passes: tracemalloc slows allocation-heavy code
  down, so the timed pass runs without it and a second pass (`--no-memory` skips it) records the
  tracemalloc peak of each stage. `maxrss_mb` is the process's peak resident set
  (`resource.getrusage`), which includes the interpreter and both passes.
- Numbers are printed, never asserted: `tests/test_benchmarks_smoke.py` only checks that the
  script runs and prints every stage.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mailagent.core.detect import UserIdentity, detect_all
from mailagent.core.mailsignals import read_message
from mailagent.core.models import (
    Attendee,
    CalendarEvent,
    EventStatus,
    Folder,
    Message,
    Person,
    ResponseStatus,
)
from mailagent.core.planner import Observations, PlannerState, plan
from mailagent.core.policy import load_policy

NOW = datetime(2025, 3, 12, 19, 0, tzinfo=UTC)
"""A fixed Wednesday, 15:00 in New York: inside working hours, so nothing is held."""
TIMEZONE = "America/New_York"
USER = UserIdentity("alex@northwind.dev", "Alex Kim", frozenset({"alex.kim@gmail.com"}))
OWN_DOMAIN = "northwind.dev"

EVENT_SPAN = (timedelta(days=-30), timedelta(days=60))
"""The runner's calendar window: the policy lookback (30d) to `CALENDAR_LOOKAHEAD` (60d)."""
MESSAGE_SPAN = timedelta(days=120)
"""The runner keeps 120 days of messages (`MESSAGE_RETENTION`); the planner sees all of them."""

FIRST_NAMES = (
    "Priya",
    "Jordan",
    "Maria",
    "Wei",
    "Samuel",
    "Aisha",
    "Tomasz",
    "Elena",
    "Kenji",
    "Fatima",
    "Lucas",
    "Grace",
    "Omar",
    "Ingrid",
    "Diego",
    "Hannah",
    "Ravi",
    "Chloe",
    "Mateo",
    "Yuki",
)
LAST_NAMES = (
    "Raman",
    "Lee",
    "Garcia",
    "Zhang",
    "Okafor",
    "Khan",
    "Nowak",
    "Petrova",
    "Sato",
    "Haddad",
    "Silva",
    "Kim",
    "Nasser",
    "Berg",
    "Lopez",
    "Schmidt",
    "Patel",
    "Martin",
    "Rossi",
    "Tanaka",
)
COMPANIES = (
    ("Acme", "acme.io"),
    ("Globex", "globex.com"),
    ("Initech", "initech.com"),
    ("Umbrella", "umbrella.co"),
    ("Hooli", "hooli.xyz"),
    ("Stark Industries", "stark.com"),
    ("Wayne Enterprises", "wayne.co.uk"),
    ("Soylent", "soylent.ai"),
    ("Tyrell", "tyrell.io"),
    ("Cyberdyne", "cyberdyne.net"),
    ("Vandelay", "vandelay.com"),
    ("Pied Piper", "piedpiper.com"),
    ("Aperture", "aperture.science"),
    ("Massive Dynamic", "massivedynamic.com"),
    ("Oscorp", "oscorp.org"),
    ("Wonka", "wonka.co"),
    ("Gringotts", "gringotts.bank"),
    ("Monarch", "monarch.dev"),
    ("Blue Sun", "bluesun.io"),
    ("Zorg", "zorg.fr"),
    ("Nakatomi", "nakatomi.jp"),
    ("Dunder Mifflin", "dundermifflin.com"),
    ("Prestige", "prestige.ws"),
    ("Virtucon", "virtucon.com"),
    ("Gekko", "gekko.partners"),
    ("Duff", "duff.beer"),
    ("Krusty", "krusty.biz"),
    ("Sirius", "sirius.cyb"),
    ("Weyland", "weyland.space"),
    ("Ollivander", "ollivander.shop"),
)
ROLES = (
    "Senior Data Engineer",
    "Staff Software Engineer",
    "Product Designer",
    "Backend Engineer",
    "Engineering Manager",
    "Site Reliability Engineer",
    "Data Scientist",
    "Product Manager",
)
ATS_ORGANIZERS = (
    "no-reply@greenhouse.io",
    "scheduling@hire.lever.co",
    "no-reply@ashbyhq.com",
    "notifications@goodtime.io",
    "calendar-notification@calendly.com",
)
ATS_WORDS = ("Greenhouse", "Lever", "Ashby", "GoodTime", "Calendly", "Workday")
INTERVIEW_TITLES = (
    "Phone screen with {company}",
    "{company} | Onsite interview - {role}",
    "Technical interview: {role}",
    "Interview with {company} ({role})",
    "Hiring manager chat - {company}",
    "{company} - final round",
    "Recruiter call with {company}",
    "System design interview",
)
LOOKALIKE_TITLES = (
    "User research interview - {company}",
    "Podcast interview: The Data Show",
    "Mock interview practice with {first}",
    "Press interview with {company} magazine",
    "Interview: candidate {first} {last} (Backend Engineer)",
)
INTERNAL_TITLES = (
    "Weekly sync",
    "1:1 {first} / Alex",
    "Sprint planning",
    "Design review",
    "Standup",
    "Retro",
    "Architecture office hours",
    "Lunch & learn",
    "Quarterly planning",
    "Incident review",
)
EXTERNAL_TITLES = (
    "Sales call with {company}",
    "Partnership chat - {company}",
    "{company} quarterly business review",
    "Vendor demo: {company}",
    "Coffee with {first}",
)
ALL_DAY_TITLES = (
    "Out of office",
    "Conference: PyCon",
    "Interview day (prep)",
    "Team offsite",
    "Holiday",
)
VIDEO_URLS = (
    "https://zoom.us/j/{n}",
    "https://meet.google.com/abc-{n}",
    "https://teams.microsoft.com/l/meetup-join/{n}",
)

EVENT_MIX = (
    ("interview", 5),
    ("lookalike", 4),
    ("internal", 64),
    ("external", 12),
    ("all_day", 5),
    ("cancelled", 5),
    ("personal", 5),
)
"""Percentages of `--events`."""
MESSAGE_MIX = (
    ("newsletter", 36),
    ("colleague", 14),
    ("company_reply", 6),
    ("timeframe", 3),
    ("rejection", 2),
    ("offer_or_round", 2),
    ("out_of_office", 3),
    ("ats_ack", 3),
    ("bounce", 1),
    ("sent_thanks", 7),
    ("sent_follow_up", 3),
    ("sent_colleague", 10),
    ("sent_other", 6),
)
"""Percentages of `--messages`; the `sent_*` kinds are the user's Sent folder (26%)."""


@dataclass(frozen=True, slots=True)
class StageResult:
    name: str
    items: int
    unit: str
    seconds: float
    extra: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


# --- synthetic data ------------------------------------------------------------------------------


def _person(rng: random.Random, domain: str) -> Person:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return Person(f"{first} {last}", f"{first}.{last}@{domain}".lower())


def _pick(rng: random.Random, mix: Sequence[tuple[str, int]], count: int) -> list[str]:
    kinds = [kind for kind, _ in mix]
    weights = [weight for _, weight in mix]
    return rng.choices(kinds, weights=weights, k=count)


def make_events(count: int, seed: int) -> list[CalendarEvent]:
    rng = random.Random(seed)
    start_span = EVENT_SPAN[1] - EVENT_SPAN[0]
    slots = int(start_span / timedelta(minutes=30))
    events: list[CalendarEvent] = []
    me = Attendee(USER.name, USER.address, response=ResponseStatus.ACCEPTED)
    for i, kind in enumerate(_pick(rng, EVENT_MIX, count)):
        start = NOW + EVENT_SPAN[0] + timedelta(minutes=30 * rng.randrange(slots))
        end = start + timedelta(minutes=rng.choice((30, 45, 60, 90)))
        company, domain = rng.choice(COMPANIES)
        role = rng.choice(ROLES)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        fields = {"company": company, "role": role, "first": first, "last": last}
        video = rng.choice(VIDEO_URLS).format(n=rng.randrange(10**9))
        uid = f"ev{i}-{seed}@bench"
        if kind == "interview":
            people = [_person(rng, domain) for _ in range(rng.choice((1, 1, 2, 3)))]
            attendees = [
                me,
                *(Attendee(p.name, p.address, response=ResponseStatus.ACCEPTED) for p in people),
            ]
            organizer = Person("", rng.choice(ATS_ORGANIZERS))
            status = EventStatus.CONFIRMED
            variant = rng.random()
            if variant < 0.06:
                status = EventStatus.CANCELLED
            elif variant < 0.10:
                attendees[0] = Attendee(USER.name, USER.address, response=ResponseStatus.DECLINED)
            elif variant < 0.20:  # typed in by hand: detection looks for the thread in the mail
                attendees, organizer = [], USER.primary
            ats = rng.choice(ATS_WORDS)
            events.append(
                CalendarEvent(
                    id=uid,
                    uid=uid,
                    title=rng.choice(INTERVIEW_TITLES).format(**fields),
                    start=start,
                    end=end,
                    status=status,
                    organizer=organizer,
                    attendees=tuple(attendees),
                    description=f"Your interview for the {role} role, scheduled with {ats}.\n"
                    f"Position: {role}\nInterviewers: {', '.join(p.name for p in people)}\n"
                    f"Join: {video}",
                    conference_urls=(video,),
                )
            )
        elif kind == "lookalike":
            title = rng.choice(LOOKALIKE_TITLES).format(**fields)
            guests = [_person(rng, rng.choice(("gmail.com", domain)))]
            own = title.startswith("Interview: candidate")
            events.append(
                CalendarEvent(
                    id=uid,
                    uid=uid,
                    title=title,
                    start=start,
                    end=end,
                    organizer=Person("Recruiting", f"recruiting@{OWN_DOMAIN}")
                    if own
                    else guests[0],
                    attendees=(me, *(Attendee(p.name, p.address) for p in guests)),
                    description="Interview kit and scorecard attached."
                    if own
                    else "Thanks for taking part in our research study. Incentive: $50 gift card.",
                    conference_urls=(video,),
                )
            )
        elif kind in ("internal", "cancelled"):
            colleagues = [_person(rng, OWN_DOMAIN) for _ in range(rng.randrange(1, 8))]
            events.append(
                CalendarEvent(
                    id=uid,
                    uid=uid,
                    title=rng.choice(INTERNAL_TITLES).format(**fields),
                    start=start,
                    end=end,
                    organizer=colleagues[0],
                    status=EventStatus.CANCELLED if kind == "cancelled" else EventStatus.CONFIRMED,
                    attendees=(me, *(Attendee(p.name, p.address) for p in colleagues)),
                    description="Agenda: updates, blockers, next steps.",
                    location="Room 4.01 (Board Room)",
                    recurring=rng.random() < 0.5,
                )
            )
        elif kind == "external":
            guests = [_person(rng, domain) for _ in range(rng.randrange(1, 4))]
            events.append(
                CalendarEvent(
                    id=uid,
                    uid=uid,
                    title=rng.choice(EXTERNAL_TITLES).format(**fields),
                    start=start,
                    end=end,
                    organizer=guests[0],
                    attendees=(me, *(Attendee(p.name, p.address) for p in guests)),
                    description=f"Let's discuss the {company} account. Dial-in: {video}",
                    conference_urls=(video,),
                )
            )
        elif kind == "all_day":
            day = start.replace(hour=0, minute=0)
            events.append(
                CalendarEvent(
                    id=uid,
                    uid=uid,
                    title=rng.choice(ALL_DAY_TITLES),
                    start=day,
                    end=day + timedelta(days=1),
                    all_day=True,
                )
            )
        else:
            events.append(
                CalendarEvent(
                    id=uid,
                    uid=uid,
                    title=rng.choice(("Dentist", "Gym", "Pick up kids", "Call mum")),
                    start=start,
                    end=end,
                )
            )
    return events


_QUOTE = (
    "\n\nOn Tue, Mar 4, 2025 at 10:12 AM Alex Kim <alex@northwind.dev> wrote:\n"
    + "> Thank you again for taking the time to talk about the next round and the offer process.\n"
    * 6
)
_NEWSLETTER = (
    "This week in data engineering: streaming joins, lakehouse formats, and a long read on "
    "schema evolution. Unsubscribe at any time. " * 4
)

MESSAGE_TEXTS: dict[str, tuple[str, ...]] = {
    "company_reply": (
        "Hi Alex, thanks so much for your note, it was great talking to you too. I'll share it "
        "with the team.",
        "Thanks Alex! Quick question: could you send over the slides you mentioned?",
    ),
    "timeframe": (
        "Hi Alex, thank you for your patience. The team is still meeting candidates and we "
        "expect to have an update for you by next Friday.",
        "Thanks for checking in. We will get back to you within two business days.",
        "We hope to make a decision by the end of the week and will be in touch then.",
    ),
    "rejection": (
        "Hi Alex, thank you for your time. Unfortunately we have decided to move forward with "
        "other candidates whose experience more closely matches the role.",
        "We regret to inform you that your application was not successful on this occasion.",
    ),
    "offer_or_round": (
        "Great news! We would like to invite you to the final round interview next week. "
        "Please let us know your availability.",
        "We are delighted to offer you the position. Your offer letter is attached.",
    ),
    "out_of_office": (
        "I am out of the office until March 24 with limited access to email. For urgent "
        "matters please contact recruiting.",
        "Thank you for your message. I'm on vacation and will be back on Monday, March 17.",
    ),
    "ats_ack": (
        "This is an automated message. We have received your application and will review it "
        "shortly. We will keep your resume on file.",
    ),
    "bounce": (
        "Your message could not be delivered to one or more recipients. Address not found.",
    ),
    "sent_thanks": (
        "Hi {first}, thank you for taking the time to speak with me today about the {role} "
        "role. I enjoyed learning about the team. Best, Alex",
    ),
    "sent_follow_up": (
        "Hi {first}, I hope you are well. I wanted to follow up on my interview for the {role} "
        "role and ask whether there is any update. Best, Alex",
    ),
}


def make_messages(count: int, seed: int) -> list[Message]:
    rng = random.Random(seed + 1)
    seconds = int(MESSAGE_SPAN.total_seconds())
    messages: list[Message] = []
    sent_ids: list[str] = []
    user = USER.primary
    for i, kind in enumerate(_pick(rng, MESSAGE_MIX, count)):
        date = NOW - timedelta(seconds=rng.randrange(seconds))
        company, domain = rng.choice(COMPANIES)
        contact = _person(rng, domain)
        fields = {"first": contact.name.split()[0], "role": rng.choice(ROLES)}
        message_id = f"<m{i}.{rng.getrandbits(32):08x}@{domain}>"
        headers: dict[str, str] = {}
        in_reply_to = rng.choice(sent_ids) if sent_ids and rng.random() < 0.7 else ""
        folder, sender, to, subject = Folder.INBOX, contact, (user,), f"Re: Interview at {company}"
        text = rng.choice(MESSAGE_TEXTS.get(kind, ("",))).format(**fields)
        if kind == "newsletter":
            sender = Person("Data Weekly", f"newsletter@{domain}")
            subject, text, in_reply_to = f"Data Weekly #{i % 300}", _NEWSLETTER, ""
            headers["list-id"] = f"<weekly.{domain}>"
        elif kind == "colleague":
            sender = _person(rng, OWN_DOMAIN)
            subject, text, in_reply_to = "Re: design doc", "Looks good to me, merged.", ""
        elif kind == "company_reply":
            text += _QUOTE
        elif kind == "out_of_office":
            subject = f"Automatic reply: Thank you - {company}"
            headers["auto-submitted"] = "auto-replied"
        elif kind == "ats_ack":
            sender = Person(f"{company} Careers", f"no-reply@{domain}")
            subject = f"Thank you for applying to {company}"
            headers["auto-submitted"] = "auto-generated"
        elif kind == "bounce":
            sender = Person("Mail Delivery Subsystem", f"mailer-daemon@{OWN_DOMAIN}")
            subject = "Undeliverable: Thank you"
            headers["x-failed-recipients"] = contact.address
            headers["content-type"] = 'multipart/report; report-type="delivery-status"'
        elif kind.startswith("sent_"):
            folder, sender, to = Folder.SENT, user, (contact,)
            message_id = f"<s{i}.{rng.getrandbits(32):08x}@{OWN_DOMAIN}>"
            sent_ids.append(message_id)
            if kind == "sent_thanks":
                subject, in_reply_to = f"Thank you - {fields['role']} interview", ""
            elif kind == "sent_follow_up":
                subject = f"Re: Thank you - {fields['role']} interview"
            elif kind == "sent_colleague":
                to, subject, text = (
                    (_person(rng, OWN_DOMAIN),),
                    "Re: design doc",
                    "Thanks, will do.",
                )
            else:
                subject, text, in_reply_to = "Dinner on Friday?", "Are we still on for Friday?", ""
        messages.append(
            Message(
                id=f"{folder.value}/{i}",
                folder=folder,
                message_id=message_id,
                subject=subject,
                sender=sender,
                date=date,
                to=to,
                in_reply_to=in_reply_to,
                references=(in_reply_to,) if in_reply_to else (),
                snippet=text,
                headers=headers,
            )
        )
    messages.sort(key=lambda m: m.date)  # the store returns messages oldest first
    return messages


# --- measuring -----------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any], profile: list[str] | None = None) -> tuple[Any, float]:
    """Run `fn` once; its wall time, and (when `profile` is a list) a cProfile summary."""
    profiler = cProfile.Profile() if profile is not None else None
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    if profiler is not None and profile is not None:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        profile.append(out.getvalue())
    return value, seconds


def run_stages(
    events: Sequence[CalendarEvent], messages: Sequence[Message], *, profile: bool = False
) -> tuple[list[StageResult], list[str]]:
    """Run the three stages once, timed; returns their results and, with `profile`, a
    cProfile summary of each (profiling slows the stages down: compare timings without it)."""
    policy = load_policy("standard")
    reports: list[str] | None = [] if profile else None
    detections, detect_s = _timed(lambda: detect_all(events, USER, messages), reports)
    interviews = [d.interview for d in detections if d.interview is not None]
    readings, classify_s = _timed(lambda: [read_message(m) for m in messages], reports)
    observed = Observations(USER, interviews, messages, TIMEZONE)
    the_plan, plan_s = _timed(lambda: plan(PlannerState(), observed, policy, NOW), reports)
    kinds: dict[str, int] = {}
    for reading in readings:
        kinds[reading.kind.value] = kinds.get(reading.kind.value, 0) + 1
    stages = [
        StageResult("detect", len(events), "events", detect_s, {"interviews": len(interviews)}),
        StageResult("classify", len(messages), "messages", classify_s, dict(sorted(kinds.items()))),
        StageResult(
            "plan",
            len(interviews),
            "interviews",
            plan_s,
            {
                "messages": len(messages),
                "creates": len(the_plan.creates),
                "schedules": len(the_plan.schedules),
                "notes": len(the_plan.notes),
            },
        ),
    ]
    return stages, reports or []


def memory_peaks(events: Sequence[CalendarEvent], messages: Sequence[Message]) -> dict[str, float]:
    """Per stage, the tracemalloc peak (MB) of what the stage allocated beyond what was already
    live when it started (its inputs are built before tracing starts). A pass of its own:
    tracemalloc slows code down."""
    policy = load_policy("standard")
    peaks: dict[str, float] = {}

    def traced(name: str, fn: Callable[[], Any]) -> Any:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        value = fn()
        peaks[name] = (tracemalloc.get_traced_memory()[1] - before) / 2**20
        return value

    tracemalloc.start()
    try:
        detections = traced("detect", lambda: detect_all(events, USER, messages))
        interviews = [d.interview for d in detections if d.interview is not None]
        traced("classify", lambda: [read_message(m) for m in messages])
        observed = Observations(USER, interviews, messages, TIMEZONE)
        traced("plan", lambda: plan(PlannerState(), observed, policy, NOW))
    finally:
        tracemalloc.stop()
    return peaks


def maxrss_mb() -> float:
    """Peak resident set size of this process; Linux reports KiB (macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--events", type=int, default=10_000, help="calendar events (default 10000)"
    )
    parser.add_argument("--messages", type=int, default=50_000, help="messages (default 50000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the synthetic data")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile summary of each stage to stderr (slows them down)",
    )
    args = parser.parse_args(argv)

    (events, messages), generate_s = _timed(
        lambda: (make_events(args.events, args.seed), make_messages(args.messages, args.seed))
    )
    stages, reports = run_stages(events, messages, profile=args.profile)
    peaks = {} if args.no_memory else memory_peaks(events, messages)
    for stage, report in zip(stages, reports, strict=False):
        print(f"--- profile of {stage.name} ---\n{report}", file=sys.stderr)

    result: dict[str, Any] = {
        "events": len(events),
        "messages": len(messages),
        "interviews": stages[0].extra["interviews"],
        "generate_s": round(generate_s, 3),
        "stages": {
            s.name: {
                "items": s.items,
                "unit": s.unit,
                "seconds": round(s.seconds, 4),
                "per_s": round(s.per_second, 1),
                **s.extra,
            }
            for s in stages
        },
        "tracemalloc_peak_mb": {k: round(v, 1) for k, v in peaks.items()},
        "maxrss_mb": round(maxrss_mb(), 1),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"core benchmark: {len(events)} events, {len(messages)} messages "
        f"(generated in {generate_s:.2f} s), {result['interviews']} interviews detected"
    )
    print(
        f"{'stage':<10} {'items':>8} {'unit':<11} {'seconds':>9} {'items/s':>12} {'tracemalloc MB':>15}"
    )
    for s in stages:
        peak = f"{peaks[s.name]:.1f}" if s.name in peaks else "-"
        print(
            f"{s.name:<10} {s.items:>8} {s.unit:<11} {s.seconds:>9.3f} {s.per_second:>12,.1f} {peak:>15}"
        )
    plan_extra = stages[2].extra
    print(
        f"plan: {plan_extra['creates']} drafts now, {plan_extra['schedules']} scheduled, "
        f"{plan_extra['notes']} notes"
    )
    print(f"peak RSS (getrusage maxrss): {result['maxrss_mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
