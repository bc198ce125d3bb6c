"""`mailagent demo`: two simulated weeks on the bundled demo mailbox, told in plain words."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from rich.console import Console

from mailagent import serialize
from mailagent.config import load_config
from mailagent.core.compose import TemplateComposer, placeholders
from mailagent.core.planner import interview_label
from mailagent.errors import ConfigError
from mailagent.runner import SyncResult, sync_account
from mailagent.scenario import DraftMade, MaildirMailbox, Scenario, load_scenario, play
from mailagent.store import Store, StoredDraft
from mailagent.textlines import say
from mailagent.wiring import build_account

DEMO_SCENARIO_CANDIDATES = (
    Path(__file__).resolve().parent / "demo_data" / "scenario.yaml",  # installed (package data)
    Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "scenario.yaml",
)


def demo_scenario_path() -> Path:
    for path in DEMO_SCENARIO_CANDIDATES:
        if path.exists():
            return path
    raise FileNotFoundError("the demo scenario is not installed (fixtures/demo/scenario.yaml)")


def write_config(scenario: Scenario, root: Path, policy: str | None = None) -> Path:
    user = scenario.spec.user
    config = root / "mailagent.toml"
    config.write_text(
        'state = "state.db"\n\n[[accounts]]\n'
        f'name = "{scenario.spec.name}"\nprovider = "maildir"\n'
        f'address = "{user.address}"\nuser_name = "{user.name}"\n'
        'maildir = "Mail"\ncalendar = "calendar.ics"\n'
        f'policy = "{policy or scenario.spec.policy}"\ntimezone = "{user.timezone}"\n',
        encoding="utf-8",
    )
    return config


MARKER = ".mailagent-demo"
"""Written into a `--keep` folder: only a folder holding it is one the demo may rebuild."""

DEMO_ENTRIES = ("Mail", "calendar.ics", "mailagent.toml", "state.db", "state.db-wal",
                "state.db-shm", "state.db.lock")  # fmt: skip
"""What the demo writes into its folder, and all that a rebuild removes."""


def prepare_keep_folder(keep: Path) -> None:
    """Make `keep` ready for a fresh demo without deleting anything the demo did not make.

    An empty or missing folder is used as it is; a folder the demo made before (it holds
    `MARKER`) loses the demo's own entries only; anything else is refused, so that
    `--keep .` in a checkout deletes nothing."""
    if keep.exists() and not keep.is_dir():
        raise ConfigError(f"--keep {keep}: not a folder", advice="name a new or empty folder")
    if keep.is_dir() and any(keep.iterdir()):
        if not (keep / MARKER).is_file():
            raise ConfigError(
                f"--keep {keep}: the folder is not empty and is not a demo folder",
                advice="name a new or empty folder (nothing in this one was touched)",
            )
        for name in DEMO_ENTRIES:
            entry = keep / name
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.exists() or entry.is_symlink():
                entry.unlink()
    keep.mkdir(parents=True, exist_ok=True)
    (keep / MARKER).write_text(
        "Made by `mailagent demo --keep`; the next one may rebuild Mail/, calendar.ics,\n"
        "mailagent.toml and state.db here (and nothing else).\n",
        encoding="utf-8",
    )


FILLED_IN = (
    "I especially enjoyed hearing how the team moved its nightly batch jobs to streaming; "
    "I led a similar migration in my current role and would be glad to share what I learned."
)
"""What the simulated user writes where a draft asks them to mention something specific."""


def fill_in(text: str) -> str:
    """The body as the simulated user sends it: each spot to fill written (an "[Optional: ...]"
    paragraph deleted), as a person does before pressing Send."""
    for spot in placeholders(text):
        if spot.startswith("[Optional"):
            text = text.replace(spot + "\n\n", "").replace(spot, "")
        else:
            text = text.replace(spot, FILLED_IN)
    return text


@dataclass
class FillingMailbox(MaildirMailbox):
    """The demo's mailbox, where the simulated user fills in a draft's spots before sending."""

    def send_draft(self, key: str, moment: datetime) -> None:
        path = self._draft_path(key)
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.SMTP)
        if isinstance(message, EmailMessage) and not message.is_multipart():
            body = message.get_content().replace("\r\n", "\n")
            filled = fill_in(body)
            if filled != body:
                message.set_content(filled, cte="quoted-printable")
                path.write_bytes(message.as_bytes())
        super().send_draft(key, moment)


def run_demo(out: Console, *, keep: Path | None = None, as_json: bool = False) -> int:
    scenario = load_scenario(demo_scenario_path())
    if keep is not None:
        prepare_keep_folder(keep)
    root = keep or Path(tempfile.mkdtemp(prefix="mailagent-demo-"))
    config_path = write_config(scenario, root)
    config = load_config(config_path)
    mailbox = FillingMailbox(root)
    store = Store(config.state)
    composer = TemplateComposer(config.templates)
    results: list[tuple[datetime, SyncResult]] = []

    if not as_json:
        say(out, f"mailagent demo: {scenario.spec.description.strip()}")
        say(out, f"Mailbox: {root}  (Maildir in Mail/, calendar in calendar.ics)\n")

    def sync(moment: datetime) -> Sequence[DraftMade]:
        account = build_account(config.accounts[0], config, moment)
        result = sync_account(store, account, composer, moment)
        results.append((moment, result))
        if not as_json:
            _tell(out, moment, result, {m.agent_key: m.snippet for m in mailbox.drafts()})
        return [DraftMade(d.key, d.kind, d.step, d.to, d.subject) for d in result.drafted]

    log = play(scenario, mailbox, sync)
    scheduled = store.schedules(scenario.spec.name)
    outcome = _outcome(store, scenario.spec.name, {m.agent_key for m in mailbox.drafts()})
    store.close()
    drafts_folder = root / "Mail" / "Drafts"
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "mailbox": str(root),
                    "syncs": log.syncs,
                    "drafts": [dict(serialize.to_plain(m), at=t.isoformat()) for t, m in log.made],
                    "in_drafts": [_plain(d, outcome) for d in outcome.in_drafts],
                    "sent": [_plain(d, outcome) for d in outcome.sent],
                    "scheduled": [serialize.to_plain(s) for s in scheduled],
                    "failures": log.failures,
                }
            )
        )
    else:
        say(out, f"\n{log.syncs} syncs; the agent wrote {len(log.made)} drafts.")
        say(
            out,
            f"{len(outcome.in_drafts)} drafts in your Drafts folder ({drafts_folder}); "
            f"the simulated you sent {len(outcome.sent)}, after filling in their [bracketed] "
            "spots:",
        )
        for draft in outcome.sent:
            say(out, outcome.describe(draft), 2)
        if outcome.in_drafts:
            say(out, "Waiting in your Drafts folder:")
            for draft in outcome.in_drafts:
                say(out, outcome.describe(draft), 2)
        for draft in outcome.gone:
            say(out, f"Deleted: {outcome.describe(draft)}")
        for item in scheduled:
            say(
                out,
                f"Still scheduled: {item.kind.value.replace('_', '-')} {item.step} to {item.recipient} "
                f"on {item.draft_at:%a %b %d %H:%M}: {item.reason}",
            )
        say(out, f"Explore: mailagent --config {config_path} status --now 2026-11-30T18:00-05:00")
        if log.failures:
            say(out, "The demo did not go as scripted:")
            for failure in log.failures:
                say(out, failure, 2)
    if keep is None and as_json:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if log.failures or any(not r.ok for _, r in results) else 0


@dataclass(frozen=True)
class _Outcome:
    """What became of the agent's drafts at the demo's end, and the interviews they are for."""

    in_drafts: list[StoredDraft]
    sent: list[StoredDraft]
    gone: list[StoredDraft]
    labels: dict[str, str]

    def describe(self, draft: StoredDraft) -> str:
        what = draft.kind.value.replace("_", "-") + (f" {draft.step}" if draft.step else "")
        about = self.labels.get(draft.interview_id, draft.interview_id)
        return f"{what} to {draft.recipient} ({about})"


def _outcome(store: Store, account: str, in_folder: set[str]) -> _Outcome:
    """The drafts by where they are: in the Drafts folder (as found there), sent or deleted
    (as the last sync learned)."""
    drafts = store.drafts(account)
    return _Outcome(
        in_drafts=[d for d in drafts if d.key in in_folder],
        sent=[d for d in drafts if d.key not in in_folder and d.status == "sent"],
        gone=[d for d in drafts if d.key not in in_folder and d.status != "sent"],
        labels={i.id: interview_label(i) for i in store.interviews(account)},
    )


def _plain(draft: StoredDraft, outcome: _Outcome) -> dict[str, Any]:
    return {
        "key": draft.key,
        "kind": draft.kind.value,
        "step": draft.step,
        "to": draft.recipient,
        "subject": draft.subject,
        "interview": outcome.labels.get(draft.interview_id, draft.interview_id),
    }


def personal_sentence(body: str) -> str:
    """The sentence of a thank-you that is about this interviewer's part of the interview:
    the one after "Thank you for taking the time..." (issue 12, point 3); "" when none."""
    paragraphs = [p for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return ""
    first = " ".join(paragraphs[1].split())
    _, found, rest = first.partition(". ")
    return rest if found else ""


def _tell(out: Console, moment: datetime, result: SyncResult, bodies: dict[str, str]) -> None:
    if not result.ok:
        say(out, f"{moment:%a %b %d %H:%M}: sync failed: {result.error}")
    for drafted in result.drafted:
        say(
            out,
            f"{moment:%a %b %d %H:%M} drafted {drafted.kind.replace('_', '-')} to "
            f"{drafted.to}: {drafted.subject!r}",
        )
        personal = (
            personal_sentence(bodies.get(drafted.key, "")) if drafted.kind == "thank_you" else ""
        )
        if personal:
            say(out, f"note: {personal}", 4)
        say(out, f"why: {drafted.reason}", 4)
        say(out, f"send by: {drafted.due_by:%a %b %d %H:%M}", 4)
    for note in result.notes:
        say(out, f"{moment:%a %b %d %H:%M} {note.about}: {note.text}")
