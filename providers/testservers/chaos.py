"""The randomized fault campaign of issue 10, point 17: seeded, reproducible runs per provider,
each checked against the same script run without faults.

A run (`run_seed`) plays one seeded script (`chaos_script.make_script`: two to four interviews
over 16 simulated days, reschedules and cancellations, recruiter replies and rejections, a
time-zone or policy change of the account, and the user sending, editing and deleting drafts)
twice through `runner.sync_account` at each scripted `now`:

- the **clean run**: no faults, no hostile items;
- the **faulty run**: before some syncs, one or two faults drawn from the seed (storms of 429,
  403, 5xx and dropped connections, lost answers, expired cursors, expired tokens, a new
  UIDVALIDITY, a dropped IMAP connection in the middle of the writes, a kill -9 at a crash
  point, the state file moved aside or truncated to 0 bytes, a calendar file empty for one
  sync), and, in some runs, one hostile item (a 40-person panel, a 40 KB title, an HTML bomb,
  a subject of encoded words; on file calendars a VTIMEZONE with TZOFFSETTO:+2500 or a
  FREQ=MINUTELY series). After a sync that was killed or failed, the faults are cleared and the
  sync runs again at the same `now` (at most three times), as cron would a bit later: so the
  user acts on the same drafts at the same moments in both runs.

The user's reaction to a draft is a function of the seed and the draft's key, so it is the same
in both runs. Every draft is seen by snapshotting the Drafts folder before and after each sync:
a provider id that appears during a sync is one write by the agent.

The oracle (each violation names its seed):

- **duplicate**: a key written while a copy of it is still in Drafts (or twice in one sync),
  or a person thanked more often than the script has interviews with them (a new identity for
  the same interview, e.g. after a time-zone change);
- **missing**: a key the clean run wrote and the faulty run never did. Excused only where no
  faulty sync could have written it (each excuse came from a seed that failed, and
  `tests/test_chaos.py::REGRESSIONS` replays it):
  - every faulty sync from the clean run's write until a thank-you's `due_by` (other kinds:
    the end of the run) was *blind*, its calendar file blank: it knew no interview (the
    state was lost too) or held its drafts as out of date, and a thank-you first seen after
    its window is drafted late only within the policy's `thank_you.late_grace` (excused from
    `due_by` on: wider than it need be, the oracle does not know the grace);
  - the state was lost after the draft's `due_by` and at or before the first sync that could
    write it: a rebuilt state takes a draft whose window closed before it as settled;
  - a follow-up to a person whose thank-you the faulty run never drafted, or drafted later
    (so the user sent it later and the follow-up fell due later: its write is judged from
    the clean one moved by that delay);
  - a draft whose policy changed between the clean write and the first sync not blind;
- **overwritten**: a draft the user edited changed afterwards, or its key written again;
- **recreated**: a key written again after the user deleted or sent its draft. Excused once,
  for a delete: when the state was lost after the user's action (or before it, with only
  blind syncs in between, which knew no interview whose draft to look for) and before the
  draft's `due_by` (the end of its window, as the clean run reported it). Issue 10, point 3,
  lets a rebuilt state treat only drafts whose window has passed as settled, so a draft
  deleted while its window is open cannot be known. Also excused: a deleted thank-you written
  again late (its reason says so, within the policy's `thank_you.late_grace`) by a sync whose
  state was lost after the delete and whose look-up found none of the agent's drafts: to it
  the mailbox is a first install's (issue 11, point 18). Drafts the user left, edited or sent
  must be recognised by their key.
- **extra**: a key the clean run never wrote (beyond the hostile panel's cap of 12 thank-yous;
  a follow-up to a panel member the user thanked is not one of them). Excused when written
  at a blind sync: past half its window a draft is written from the stored events, which may
  hide a cancellation the calendar file would have shown (a draft the user can discard, by
  design, rather than a thank-you that comes too late);
- **orphan**: a draft without the agent's key written by a sync (half of a reply);
- **slow**: a sync over the time budget (a watchdog stops it at the budget; the run ends there);
- **failed**: a sync that still fails when the faults are gone (three tries at the same `now`).

A clean run's own anomalies (duplicate, failed, slow) are reported as `clean-<kind>`.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from mailagent.core.policy import Policy, load_policy
from mailagent.errors import StateError
from mailagent.runner import CRASH_POINTS, Account, SyncResult, sync_account
from mailagent.store import Store
from mailagent.wiring import close_provider
from providers.testservers.chaos_rigs import Killed, Rig, Seen, arm_kill
from providers.testservers.chaos_script import Script, make_script, rng_for

__all__ = [
    "DEFAULT_BUDGET",
    "RunReport",
    "Violation",
    "run_seed",
]

DEFAULT_BUDGET = 5.0
"""Seconds one sync may take (issue 10 asks 2 s for each hostile item; the budget leaves room
for a loaded machine)."""
FAULT_RATE = 0.45
"""Share of the faulty run's syncs that meet faults."""
HOSTILE_RATE = 0.3
"""Share of runs whose faulty world holds a hostile item."""
RECOVERY_TRIES = 3


@dataclass(frozen=True, slots=True)
class Violation:
    seed: int
    provider: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"seed {self.seed} [{self.provider}] {self.kind}: {self.detail}"


@dataclass
class RunReport:
    seed: int
    provider: str
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    syncs: int = 0
    seconds: float = 0.0
    slowest_sync: float = 0.0
    log: list[str] = field(default_factory=list)
    """What happened, sync by sync (faults armed, results): for reproducing a seed."""


class Overtime(BaseException):
    """Raised by the watchdog in a sync that runs past its budget."""


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise `Overtime` in this thread after `seconds` (main thread only: SIGALRM)."""
    try:
        previous = signal.getsignal(signal.SIGALRM)
    except ValueError:  # not the main thread
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Overtime

    try:
        signal.signal(signal.SIGALRM, expire)
    except ValueError:
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class _Play:
    """What one run (clean or faulty) did, as the oracle reads it."""

    writes: dict[str, list[datetime]] = field(default_factory=dict)
    kinds: dict[str, tuple[str, str]] = field(default_factory=dict)
    """key -> (kind, recipient) from the sync results."""
    due: dict[str, datetime] = field(default_factory=dict)
    recipients: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """key -> recipients of its first copy, as the Drafts folder showed it."""
    first_seen: dict[str, datetime] = field(default_factory=dict)
    user_done: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """key -> (what the user last did: "edit", "send" or "delete"; when)."""
    edited: dict[str, tuple[str, str]] = field(default_factory=dict)
    """key -> (provider id, fingerprint) of the draft just after the user's edit."""
    losses: list[datetime] = field(default_factory=list)
    blind: dict[datetime, bool] = field(default_factory=dict)
    """moment -> whether its last sync was blind: the calendar file blank. With no stored
    events (the state lost) nothing tells the sync an interview is there; with stored ones it
    holds every draft, since they may be out of date (a cancellation it cannot see)."""
    problems: dict[tuple[str, str], str] = field(default_factory=dict)
    """(kind, subject) -> the first detail found while playing (duplicate, overwritten,
    recreated, orphan, slow, failed), one per kind and draft key."""
    hostile_thanked: set[str] = field(default_factory=set)
    """Keys of the thank-yous written to the hostile item's people (a recreation the oracle
    excuses is the same key, not one more person)."""
    stopped: bool = False
    late_unknowing: set[tuple[str, datetime]] = field(default_factory=set)
    """(key, moment) of thank-yous written late (within the policy's late grace) by a sync
    whose state, begun anew, found none of the agent's drafts in the mailbox: to it, as to a
    first install, a thank-you the user deleted is one never drafted."""


class _Player:
    def __init__(
        self,
        rig: Rig,
        script: Script,
        root: Path,
        report: RunReport,
        *,
        faulty: bool,
        budget: float,
    ) -> None:
        self.rig, self.script, self.root, self.report = rig, script, root, report
        self.faulty, self.budget = faulty, budget
        self.play = _Play()
        self.policies: dict[str, Policy] = {}
        self.rng = rng_for(script.seed, "faults", rig.provider_name)
        self.hostile = script.hostile if faulty else ()

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    def note(self, text: str) -> None:
        self.report.log.append(("faulty " if self.faulty else "clean ") + text)

    def run(self) -> _Play:
        script = self.script
        scenario = script.hostile_scenario if self.faulty and script.hostile_scenario else None
        self.rig.begin(scenario or script.scenario, self.root)
        try:
            zone = script.first_zone
            for moment in script.moments:
                self._react(moment)
                self.rig.extra_ics = b"".join(h.ics for h in self.hostile if h.at <= moment)
                self.rig.materialize(moment)
                if script.timezone_at(moment) != zone:
                    zone = script.timezone_at(moment)
                    self.rig.set_zone(zone)
                    self.note(f"{moment.isoformat()} time zone -> {zone}")
                if self.faulty and self.rng.random() < FAULT_RATE:
                    self._arm_faults(moment)
                ok = self._sync(moment, zone)
                tries = 0
                while not ok and not self.play.stopped and tries < RECOVERY_TRIES:
                    arm_kill(None)
                    self.rig.clear_faults()
                    tries += 1
                    ok = self._sync(moment, zone)
                arm_kill(None)
                self.rig.clear_faults()  # what this sync did not meet is not carried over
                if self.play.stopped:
                    break
                if not ok:
                    self.problem(
                        "failed", "", f"{moment.isoformat()}: still failing without faults"
                    )
        finally:
            arm_kill(None)
            self.rig.end()
        return self.play

    # -- the user --

    def _react(self, moment: datetime) -> None:
        for key, seen_at in sorted(self.play.first_seen.items()):
            reaction = self.script.reaction(key)
            if reaction.action == "leave":
                continue
            step = timedelta(hours=reaction.hours)
            plan = {
                "send": [("send", step)],
                "edit": [("edit", step)],
                "delete": [("delete", step)],
                "edit-send": [("edit", step), ("send", 2 * step)],
            }[reaction.action]
            done = self.play.user_done.get(key)
            for action, after in plan:
                if seen_at + after > moment:
                    break
                if done is not None and (done[0] == action or done[0] in ("send", "delete")):
                    continue
                self._act(key, action, moment)
                done = self.play.user_done.get(key)

    def _act(self, key: str, action: str, moment: datetime) -> None:
        mailbox = self.rig.mailbox
        try:
            if action == "send":
                mailbox.send_draft(key, moment)
            elif action == "delete":
                mailbox.delete_draft(key)
            else:
                mailbox.edit_draft(key, f"P.S. (chaos edit {key[:8]})")
        except LookupError:
            self.play.user_done[key] = (action, moment)  # the draft is gone: nothing to do
            return
        self.play.user_done[key] = (action, moment)
        if action == "edit":
            found = next((s for s in self.rig.snapshot() if s.key == key), None)
            if found is not None:
                self.play.edited[key] = (found.id, found.fingerprint)
        else:
            self.play.edited.pop(key, None)

    # -- faults --

    def _arm_faults(self, moment: datetime) -> None:
        kinds = self.rng.sample(self.rig.fault_kinds, self.rng.choice((1, 1, 2)))
        for kind in kinds:
            self.report.faults[kind] += 1
            if kind == "kill":
                point = self.rng.choice(CRASH_POINTS)
                occurrence = self.rng.randint(1, 2)
                arm_kill(point, occurrence)
                what = f"kill(at {point} #{occurrence})"
            elif kind in ("state-loss", "state-zero"):
                self._lose_state(zero=kind == "state-zero")
                self.play.losses.append(moment)
                what = kind
            else:
                what = self.rig.inject(kind, self.rng)
            self.note(f"{moment.isoformat()} fault {what}")

    def _lose_state(self, *, zero: bool) -> None:
        """The state file moved aside (a new machine, a restored backup, the CLI's advice for a
        bad file), or truncated to 0 bytes."""
        aside = self.root / f"aside-{len(self.play.losses)}"
        aside.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(self.state) + suffix)
            if path.exists():
                shutil.move(path, aside / path.name)
        if zero:
            self.state.touch(mode=0o600)

    # -- one sync --

    def _open_store(self) -> Store:
        try:
            return Store(self.state)
        except StateError as exc:  # the user follows the advice: move it aside
            self.note(f"state refused ({exc}); moved aside")
            self._lose_state(zero=False)
            return Store(self.state)

    def _sync(self, moment: datetime, zone: str) -> bool:
        rig = self.rig
        before = rig.snapshot()
        policy_name = self.script.policy_at(moment)
        if policy_name not in self.policies:
            self.policies[policy_name] = load_policy(policy_name)
        store = self._open_store()
        self.play.blind[moment] = rig.blank_calendar
        provider = rig.provider(moment, zone)
        account = Account("chaos", provider, rig.identity(), self.policies[policy_name], zone)
        rig.composer.composed = 0
        result: SyncResult | None = None
        started = time.perf_counter()
        outcome = "ok"
        first_install = False
        try:
            with watchdog(self.budget):
                result = sync_account(store, account, rig.composer, moment)
        except Killed as kill:
            outcome = f"killed at {kill}"
        except Overtime:
            outcome = "over budget"
        finally:
            elapsed = time.perf_counter() - started
            with contextlib.suppress(Exception):
                close_provider(provider)
            with contextlib.suppress(Exception):
                first_install = not store.adoption_pending("chaos") and (
                    store.rebuilt_at("chaos") is None
                )
            store.close()
        self.report.syncs += 1
        self.report.slowest_sync = max(self.report.slowest_sync, elapsed)
        if result is not None and not result.ok:
            outcome = f"failed: {result.error}"
        self.note(f"{moment.isoformat()} sync {outcome} ({elapsed:.2f} s)")
        if result is not None:
            for drafted in result.drafted:
                self.play.kinds[drafted.key] = (drafted.kind, drafted.to)
                self.play.due[drafted.key] = drafted.due_by
                if first_install and drafted.reason.startswith("late: "):
                    self.play.late_unknowing.add((drafted.key, moment))
        if outcome == "over budget" or elapsed > self.budget:
            self.problem(
                "slow", "", f"{moment.isoformat()}: a sync took {elapsed:.1f} s ({outcome})"
            )
            self.play.stopped = True
        self._record(moment, before, rig.snapshot())
        return outcome == "ok"

    def problem(self, kind: str, subject: str, detail: str) -> None:
        self.play.problems.setdefault((kind, subject), detail)

    def _record(self, moment: datetime, before: list[Seen], after: list[Seen]) -> None:
        play = self.play
        when = moment.isoformat()
        old = {s.id for s in before}
        present_before = Counter(s.key for s in before)
        new = [s for s in after if s.id not in old]
        for seen in new:
            if not seen.key:
                self.problem("orphan", seen.id, f"{when}: a draft without key to {seen.to}")
                continue
            thank_you = play.kinds.get(seen.key, ("thank_you", ""))[0] == "thank_you"
            if self._hostile_recipient(seen) and thank_you:  # the cap is on thank-yous
                play.hostile_thanked.add(seen.key)
            play.recipients.setdefault(seen.key, seen.to)
            writes = play.writes.setdefault(seen.key, [])
            writes.append(moment)
            play.first_seen.setdefault(seen.key, moment)
            if len(writes) == 1 and sum(1 for s in new if s.key == seen.key) == 1:
                continue
            done = play.user_done.get(seen.key)
            if present_before[seen.key] or sum(1 for s in new if s.key == seen.key) > 1:
                self.problem(
                    "duplicate", seen.key, f"{when}: {seen.key} written again while in Drafts"
                )
            elif done is not None and done[0] in ("send", "delete"):
                if done[0] == "send" or not (
                    self._excused(seen.key, done[1], moment)
                    or self._late_unknowing(seen.key, done[1], moment)
                ):
                    self.problem(
                        "recreated",
                        seen.key,
                        f"{when}: {seen.key} written again after the user's {done[0]} at "
                        f"{done[1].isoformat()}",
                    )
            else:
                self.problem("duplicate", seen.key, f"{when}: {seen.key} written again")
        for seen in after:
            edited = play.edited.get(seen.key)
            if edited is not None and seen.id == edited[0] and seen.fingerprint != edited[1]:
                self.problem(
                    "overwritten", seen.key, f"{when}: the user's edit of {seen.key} changed"
                )

    def _hostile_recipient(self, seen: Seen) -> bool:
        return any(set(seen.to) & h.addresses for h in self.hostile)

    def _excused(self, key: str, acted: datetime, written: datetime) -> bool:
        """A recreation after a state loss that came after the user's action, while the
        draft's window was still open (see the module docstring)."""
        due = self.play.due.get(key) or self.clean_due.get(key)
        sighted = [m for m, blind in self.play.blind.items() if not blind]

        def unseen(lost: datetime) -> bool:
            """No sync between the loss and the user's action could see the draft to adopt
            it: all were blind (a calendar file blank while the state was new)."""
            return lost < acted and not any(lost <= m < acted for m in sighted)

        return any(
            (acted <= lost or unseen(lost)) and lost <= written and (due is None or lost < due)
            for lost in self.play.losses
        )

    def _late_unknowing(self, key: str, acted: datetime, written: datetime) -> bool:
        """A deleted thank-you written again late, within the late grace, by a state lost
        after the delete whose look-up then found none of the agent's drafts: it cannot be told
        from a first install (docs/exactly-once.md)."""
        return (key, written) in self.play.late_unknowing and any(
            acted <= lost <= written for lost in self.play.losses
        )

    clean_due: dict[str, datetime] = {}  # noqa: RUF012 (set per run by `run_seed`)


def run_seed(
    rig: Rig,
    seed: int,
    workdir: Path,
    *,
    budget: float = DEFAULT_BUDGET,
    hostile_rate: float = HOSTILE_RATE,
) -> RunReport:
    """One seeded run on `rig`: the clean run, the faulty run, and the oracle's verdict."""
    script = make_script(seed, hostile_kinds=rig.hostile_kinds, hostile_rate=hostile_rate)
    report = RunReport(seed, rig.provider_name)
    if script.hostile:
        report.faults[f"hostile:{script.hostile[0].kind}"] += 1
        report.log.append(
            f"faulty hostile {script.hostile[0].kind} at {script.hostile[0].at.isoformat()}"
        )
    started = time.perf_counter()
    root = workdir / f"{rig.provider_name}-{seed}"
    try:
        clean_player = _Player(rig, script, root / "clean", report, faulty=False, budget=budget)
        clean = clean_player.run()
        faulty_player = _Player(rig, script, root / "faulty", report, faulty=True, budget=budget)
        faulty_player.clean_due = clean.due
        faulty = faulty_player.run()
        report.violations = _judge(script, rig.provider_name, clean, faulty)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _judge(script: Script, provider: str, clean: _Play, faulty: _Play) -> list[Violation]:
    found: list[Violation] = []

    def add(kind: str, detail: str) -> None:
        found.append(Violation(script.seed, provider, kind, detail))

    for (kind, _), detail in clean.problems.items():
        add(f"clean-{kind}", detail)
    for (kind, _), detail in faulty.problems.items():
        add(kind, detail)
    for label, play in (("clean-", clean), ("", faulty)):
        kinds = {**clean.kinds, **play.kinds}
        thanked: Counter[str] = Counter()
        for key in play.writes:
            kind, to = kinds.get(key, ("", ""))
            if kind == "thank_you":
                thanked[to] += 1
        for to, times in sorted(thanked.items()):
            allowed = script.interviewers.get(to)
            if allowed is not None and times > allowed:
                add(f"{label}duplicate", f"{to} thanked {times} times for {allowed} interview(s)")
    if faulty.stopped or clean.stopped:
        return found  # a run stopped at an over-budget sync: the rest cannot be judged
    unthanked: set[str] = set()  # whose thank-you could not be known, so was never sent
    for key in sorted(clean.writes.keys() - faulty.writes.keys(), key=_thank_yous_first(clean)):
        kind, to = clean.kinds.get(key, ("?", "?"))
        written = clean.first_seen[key]
        if kind == "follow_up":  # it counts from the user's sent thank-you, sent later here
            written += _sent_later(clean, faulty, to)
        closes = clean.due.get(key) if kind == "thank_you" else None  # the others never expire
        sighted = _first_sighted(written, faulty.blind)
        if sighted is None or (closes is not None and sighted >= closes):
            if kind == "thank_you":
                unthanked.add(to)
            continue
        due = clean.due.get(key)
        if due is not None and any(due < lost <= sighted for lost in faulty.losses):
            continue  # first seen late; a state rebuilt after its window settles it
        if kind == "follow_up" and to in unthanked:
            continue  # it follows the user's thank-you, which the faulty run never had
        if sighted > written and script.policy_at(sighted) != script.policy_at(written):
            continue  # the policy changed while the faulty run was blind: a new plan
        add("missing", f"{kind} to {to} ({key}) never written")
    hostile = script.hostile[0] if script.hostile else None
    for key in sorted(faulty.writes.keys() - clean.writes.keys()):
        kind, to = faulty.kinds.get(key, ("?", ",".join(faulty.recipients.get(key, ()))))
        if hostile is not None and set(faulty.recipients.get(key, (to,))) & hostile.addresses:
            continue
        if faulty.blind.get(faulty.first_seen[key], False):
            continue  # written from the stored events late in its window: see the docstring
        add("extra", f"{kind} to {to} ({key}) not in the clean run")
    if hostile is not None and len(faulty.hostile_thanked) > hostile.cap:
        people = len(faulty.hostile_thanked)
        add("extra", f"{people} people thanked for the {hostile.kind} (cap {hostile.cap})")
    return found


def _thank_yous_first(play: _Play) -> Callable[[str], tuple[bool, str]]:
    return lambda key: (play.kinds.get(key, ("", ""))[0] != "thank_you", key)


def _sent_later(clean: _Play, faulty: _Play, to: str) -> timedelta:
    """How much later the user sent their thank-you to `to` in the faulty run (a draft held
    through a blank calendar appears later, and the user sends it some hours after that)."""

    def sent(play: _Play) -> list[datetime]:
        kinds = {**clean.kinds, **play.kinds}
        return [
            when
            for key, (action, when) in play.user_done.items()
            if action == "send" and kinds.get(key) == ("thank_you", to)
        ]

    first, second = sent(clean), sent(faulty)
    return max(max(second) - max(first), timedelta(0)) if first and second else timedelta(0)


def _first_sighted(written: datetime, blind: dict[datetime, bool]) -> datetime | None:
    """The first faulty sync at or after the clean run's write that was not blind."""
    return min((m for m in blind if m >= written and not blind[m]), default=None)


def campaign(
    rig: Rig,
    seeds: list[int],
    workdir: Path,
    *,
    budget: float = DEFAULT_BUDGET,
    progress: Callable[[RunReport], None] | None = None,
) -> list[RunReport]:
    """`run_seed` for each seed on one rig (its server reused across runs)."""
    reports = []
    for seed in seeds:
        report = run_seed(rig, seed, workdir, budget=budget)
        reports.append(report)
        if progress is not None:
            progress(report)
    return reports


def reproduce_command(provider: str, seed: int) -> str:
    return f"python benchmarks/chaos.py --provider {provider} --runs 1 --seed {seed} --verbose"
