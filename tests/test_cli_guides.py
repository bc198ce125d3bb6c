"""The real `mailagent` command tried as a new user would (issue 11, points 13 to 16): a
`status` that says what matters, an `explain` that finds what the user types, notes that name
their interview, a demo whose summary matches the Drafts folder, and a warning when a draft
went out with a spot still to fill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from mailagent.config import load_config
from mailagent.core.compose import TemplateComposer, placeholders
from mailagent.core.models import DraftContent, DraftObservation, Folder, Message
from mailagent.demo import write_config
from mailagent.errors import Transient
from mailagent.runner import sync_account
from mailagent.scenario import DraftMade, MaildirMailbox, Scenario, load_scenario, play
from mailagent.store import Store
from mailagent.wiring import build_account
from providers.base import Changes, KnownDraft, Window
from providers.mime import parse_message

from .conftest import DEMO, run_cli, run_json
from .scenario_support import without_clock

END = "2026-11-30T18:00:00-05:00"
"""The demo's last sync."""
WIDTH = 80


def _played(root: Path, until: str | None = None) -> tuple[Path, str]:
    """The demo's script (explicit steps only, up to `until`) synced through the text CLI:
    returns the config and everything the syncs printed."""
    scenario = without_clock(load_scenario(DEMO))
    if until is not None:
        last = datetime.fromisoformat(until)
        steps = tuple(s for s in scenario.spec.steps if scenario.local(s.at) <= last)
        scenario = Scenario(
            scenario.spec.model_copy(update={"steps": steps, "expect_total": None}),
            scenario.path,
        )
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(scenario, root)
    printed: list[str] = []
    seen: set[str] = set()

    def sync(moment: datetime) -> Sequence[DraftMade]:
        result = run_cli("--config", str(config), "sync", "--now", moment.isoformat())
        printed.append(result.stdout)
        store = Store(root / "state.db")
        try:
            new = [d for d in store.drafts(scenario.spec.name) if d.key not in seen]
        finally:
            store.close()
        seen.update(d.key for d in new)
        return [DraftMade(d.key, d.kind.value, d.step, d.recipient, d.subject) for d in new]

    log = play(scenario, MaildirMailbox(root), sync)
    assert log.failures == []
    return config, "".join(printed)


def _add_events(root: Path, *vevents: str) -> None:
    calendar = root / "calendar.ics"
    text = calendar.read_text(encoding="utf-8").replace("\r\n", "\n")
    body = "".join(v.strip() + "\n" for v in vevents)
    calendar.write_text(text.replace("END:VCALENDAR", body + "END:VCALENDAR"), encoding="utf-8")


ENTRY_STARTS = ("note:", "drafted ", "would draft ", "why:", "send by", "fix:")


def _entries(text: str) -> list[str]:
    """What a sync printed, one entry per line again: a line the 80-column wrap continued is
    joined to the one it continues."""
    entries: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if entries and line.startswith(" ") and not stripped.startswith(ENTRY_STARTS):
            entries[-1] += " " + stripped
        else:
            entries.append(line)
    return entries


def _assert_fits(text: str) -> None:
    wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not wide, "\n".join(wide)


# -- 15: every note names its interview; unknown accounts are errors ----------------------------


def test_every_sync_note_names_its_interview_and_person(tmp_path: Path) -> None:
    _, printed = _played(tmp_path)
    notes = [line for line in _entries(printed) if line.strip().startswith("note:")]
    assert notes
    titles = (
        "Phone screen - Globex",
        "Acme Onsite",
        "Initech technical interview",
        "Hooli - Hiring manager interview",
        "Umbrella hiring manager interview",
        "Technical interview - Vertex Labs (Platform Engineer)",
    )
    for note in notes:
        assert any(title in note for title in titles), note
    waiting = [n for n in notes if "waiting for you to send follow-up 1" in n]
    assert waiting
    assert all("olivia.chen@umbrella.com" in n or "sam.patel@globex.com" in n for n in waiting)


def test_an_unknown_account_is_an_error_that_lists_the_accounts(tmp_path: Path) -> None:
    config, _ = _played(tmp_path, until="2026-11-16T12:00:00-05:00")
    for command in ("sync", "status"):
        result = run_cli(
            "--config", str(config), command, "--account", "nosuch", "--now", END, check=False
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: no account named 'nosuch'"), result.stderr
        assert "fix: " in result.stderr
        assert "demo" in result.stderr.partition("fix: ")[2], result.stderr
    both = run_cli(
        "--config", str(config), "sync", "-a", "demo", "-a", "nosuch", "--now", END, check=False
    )
    assert both.returncode == 2, both.stdout


# -- 13: status says what matters, in the account's time zone, at 80 columns --------------------


def _block(text: str, title: str) -> str:
    """The lines of `status` about the interview titled `title` (up to the next blank line)."""
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else len(text)]


def test_status_shows_interviews_as_a_person_knows_them(tmp_path: Path) -> None:
    config, _ = _played(tmp_path)
    shown = run_cli("--config", str(config), "status", "--now", END, env={"COLUMNS": "80"}).stdout
    _assert_fits(shown)
    globex = _block(shown, "Phone screen - Globex")
    assert "Globex" in globex
    assert "Senior Data Engineer" in globex
    assert "past" in globex
    assert "Mon 2026-11-16 10:00" in globex  # the account's zone (New York), not 15:00 UTC
    assert "15:00" not in globex
    hooli = _block(shown, "Hooli - Hiring manager interview")
    assert "rejected" in hooli
    assert "Staff Data Engineer" in hooli
    assert "cancelled" in _block(shown, "Initech technical interview")
    # the rejection reply (due Wed Nov 25) and Olivia's follow-up (due Mon Nov 30 11:15) wait
    # in Drafts past their time; the thank-yous went out
    overdue = [line for line in shown.splitlines() if "overdue" in line.lower()]
    assert any("jian.yang@hooli.xyz" in line for line in overdue), shown
    assert any("olivia.chen@umbrella.com" in line for line in overdue), shown
    assert not any("sam.patel@globex.com" in line and "thank-you" in line for line in overdue)
    assert "America/New_York" in shown
    assert "last sync Mon 2026-11-30 12:00 succeeded" in shown  # the script's last step

    listed = run_json("--config", str(config), "status", "--now", END)[0]
    assert listed["timezone"] == "America/New_York"
    assert listed["last_sync"]["ok"] is True
    by_company = {i["company"]: i for i in listed["interviews"]}
    assert by_company["Hooli"]["state"] == "rejected"
    assert by_company["Globex"]["state"] == "past"
    assert by_company["Globex"]["role"] == "Senior Data Engineer"
    assert by_company["Globex"]["start"].startswith("2026-11-16T10:00:00-05:00")
    late = {d["to"] for d in listed["drafts"] if d["overdue"]}
    # Vertex Labs' thank-you (invited by email only) waits in Drafts past its send-by time too
    assert late == {"jian.yang@hooli.xyz", "olivia.chen@umbrella.com", "rita.moreno@vertexlabs.io"}


def test_status_flags_a_draft_due_but_not_yet_written(tmp_path: Path) -> None:
    config, _ = _played(tmp_path)
    later = "2026-12-08T12:00:00-05:00"  # Priya's follow-up was to be drafted at 09:00
    shown = run_cli("--config", str(config), "status", "--now", later).stdout
    _assert_fits(shown)
    priya = [ln for ln in shown.splitlines() if "follow-up 1 to priya.raman@acme.com" in ln]
    assert len(priya) == 1, shown
    assert "overdue" in priya[0].lower(), shown
    assert "run `mailagent sync`" in shown
    listed = run_json("--config", str(config), "status", "--now", later)[0]
    assert [s["overdue"] for s in listed["scheduled"]] == [True]


def test_status_before_any_sync_says_to_sync_first(tmp_path: Path) -> None:
    scenario = load_scenario(DEMO)
    config = write_config(scenario, tmp_path)
    MaildirMailbox(tmp_path).materialize(scenario, datetime.fromisoformat(END))
    shown = run_cli("--config", str(config), "status", "--now", END).stdout
    assert "run `mailagent sync` first" in shown
    assert run_json("--config", str(config), "status", "--now", END)[0]["last_sync"] is None


def test_status_shows_why_the_last_sync_of_an_account_failed(tmp_path: Path) -> None:
    config, _ = _played(tmp_path, until="2026-11-17T18:00:00-05:00")
    text = config.read_text(encoding="utf-8")
    work = text.split("[[accounts]]")[1].replace('name = "demo"', 'name = "work"')
    config.write_text(
        text + "\n[[accounts]]" + work.replace('maildir = "Mail"', 'maildir = "Gone"'),
        encoding="utf-8",
    )
    failed = run_cli("--config", str(config), "sync", "--now", END, check=False)
    assert failed.returncode == 1
    shown = run_cli("--config", str(config), "status", "--now", END).stdout
    _assert_fits(shown)
    work_part = " ".join(shown[shown.index("work <") :].split())
    assert "last sync Mon 2026-11-30 18:00 failed" in work_part, shown
    assert "does not exist" in work_part
    assert "fix: set `maildir`" in work_part
    demo_part = shown[: shown.index("work <")]
    assert "failed" not in demo_part
    listed = {a["account"]: a for a in run_json("--config", str(config), "status", "--now", END)}
    assert listed["work"]["last_sync"]["ok"] is False
    assert "does not exist" in listed["work"]["last_sync"]["error"]
    assert listed["demo"]["last_sync"]["ok"] is True
    # a later good sync clears it
    config.write_text(config.read_text(encoding="utf-8").replace('"Gone"', '"Mail"'))
    run_cli("--config", str(config), "sync", "--now", "2026-11-30T19:00:00-05:00")
    again = run_cli("--config", str(config), "status", "--now", END).stdout
    assert "failed" not in again


@dataclass
class _Unreachable:
    """A mailbox whose server does not answer (a fake provider: every read fails)."""

    name: ClassVar[str] = "maildir"

    def read_changes(self, cursor: str | None, window: Window) -> Changes:
        raise Transient("imap.example.com did not answer", advice="the next sync tries again")

    def create_draft(self, content: DraftContent, key: str) -> str:
        raise AssertionError("nothing is drafted when nothing was read")

    def find_drafts(self, drafts: Sequence[KnownDraft]) -> Sequence[DraftObservation]:
        return []


def test_status_shows_a_sync_that_failed_inside_the_runner(tmp_path: Path) -> None:
    config, _ = _played(tmp_path, until="2026-11-17T18:00:00-05:00")
    loaded = load_config(config)
    account = build_account(loaded.accounts[0], loaded, datetime.fromisoformat(END))
    store = Store(loaded.state)
    try:
        result = sync_account(
            store,
            replace(account, provider=_Unreachable()),
            TemplateComposer(),
            datetime.fromisoformat(END),
        )
    finally:
        store.close()
    assert not result.ok
    shown = " ".join(run_cli("--config", str(config), "status", "--now", END).stdout.split())
    assert "last sync Mon 2026-11-30 18:00 failed: imap.example.com did not answer" in shown
    assert "fix: the next sync tries again" in shown


# -- 14: explain finds what the user types, lists what it set aside, tells 1:1s truthfully -------

TEAM_SYNC = """
BEGIN:VEVENT
UID:team-sync-series@example.com
SUMMARY:Team sync
DTSTART:20261124T150000Z
DTEND:20261124T153000Z
RRULE:FREQ=WEEKLY;COUNT=4
ORGANIZER;CN=Lena Fischer:mailto:lena.fischer@example.com
ATTENDEE;CN=Lena Fischer;PARTSTAT=ACCEPTED:mailto:lena.fischer@example.com
ATTENDEE;CN=Alex Kim;PARTSTAT=ACCEPTED:mailto:alex@example.com
ATTENDEE;CN=Omar Diaz;PARTSTAT=ACCEPTED:mailto:omar.diaz@example.com
END:VEVENT
"""
ONE_ON_ONE = """
BEGIN:VEVENT
UID:weekly-one-on-one@example.com
SUMMARY:Alex / Lena 1:1
DTSTART:20261125T160000Z
DTEND:20261125T163000Z
ORGANIZER;CN=Lena Fischer:mailto:lena.fischer@example.com
ATTENDEE;CN=Lena Fischer;PARTSTAT=ACCEPTED:mailto:lena.fischer@example.com
ATTENDEE;CN=Alex Kim;PARTSTAT=ACCEPTED:mailto:alex@example.com
END:VEVENT
"""
ONE_ON_ONE_INTERVIEW = """
BEGIN:VEVENT
UID:initrode-screen@initrode.com
SUMMARY:Phone screen with Initrode
DTSTART:20261201T170000Z
DTEND:20261201T173000Z
DESCRIPTION:Candidate: Alex Kim\\nPosition: Data Engineer
ORGANIZER;CN=Maria Lopez:mailto:maria.lopez@initrode.com
ATTENDEE;CN=Maria Lopez;PARTSTAT=ACCEPTED:mailto:maria.lopez@initrode.com
ATTENDEE;CN=Alex Kim;PARTSTAT=ACCEPTED:mailto:alex@example.com
END:VEVENT
"""


def _with_more_events(root: Path) -> str:
    """The demo at its end plus a weekly team meeting, a 1:1 with a colleague and a 1:1 phone
    screen whose invitation names Alex as the candidate; synced once. Returns the config."""
    config, _ = _played(root)
    _add_events(root, TEAM_SYNC, ONE_ON_ONE, ONE_ON_ONE_INTERVIEW)
    run_cli("--config", str(config), "sync", "--now", "2026-11-30T19:00:00-05:00")
    return str(config)


def test_explain_finds_interviews_by_title_words_company_or_uid_in_any_case(
    tmp_path: Path,
) -> None:
    config = _with_more_events(tmp_path)
    listed = run_json("--config", config, "status", "--now", END)[0]["interviews"]
    globex_id = next(i["id"] for i in listed if i["company"] == "Globex")
    for query in ("globex", "GLOBEX", "phone SCREEN - globex", "Globex-Screen", globex_id.upper()):
        shown = run_cli("--config", config, "explain", query).stdout
        assert shown.startswith("Phone screen - Globex"), (query, shown)
        assert "Acme" not in shown
    both = run_cli("--config", config, "explain", "hiring manager").stdout
    assert "Hooli - Hiring manager interview" in both
    assert "Umbrella hiring manager interview" in both
    assert [
        d["detection"]["event"]["title"]
        for d in run_json("--config", config, "explain", "hiring manager")
    ] == [
        "Hooli - Hiring manager interview",
        "Umbrella hiring manager interview",
    ]
    assert (
        run_json("--config", config, "explain", "acme")["detection"]["interview"]["company"]
        == "Acme"
    )
    missing = run_cli("--config", config, "explain", "nosuchcompany", check=False)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_explain_rejected_lists_what_is_not_an_interview_and_why(tmp_path: Path) -> None:
    config = _with_more_events(tmp_path)
    shown = run_cli("--config", config, "explain", "--rejected").stdout
    _assert_fits(shown)
    for title in ("Podcast interview - Data Engineering Weekly", "Interview: Jordan Smith"):
        assert title in shown
    assert "look-alike" in shown
    assert "Phone screen - Globex" not in shown  # an interview is not listed
    assert shown.count("Team sync") == 1  # the series once, with its occurrences
    team = _block(shown, "Team sync")
    assert "4 occurrences" in team
    assert "Tue 2026-11-24 10:00" in team
    assert "Tue 2026-12-15 10:00" in team
    listed = run_json("--config", config, "explain", "--rejected")
    series = [r for r in listed if r["title"] == "Team sync"]
    assert len(series) == 1
    assert len(series[0]["occurrences"]) == 4
    assert all(r["verdict"].startswith("not an interview") for r in listed)
    one = run_cli("--config", config, "explain", "team sync").stdout
    assert one.count("Team sync") == 1
    assert "4 occurrences" in one


def test_a_one_on_one_is_never_called_you_are_the_interviewer(tmp_path: Path) -> None:
    config = _with_more_events(tmp_path)
    colleague = run_cli("--config", config, "explain", "1:1").stdout
    assert "Alex / Lena 1:1" in colleague
    assert "you are the interviewer" not in colleague
    assert "verdict: not an interview: nothing names it one" in colleague
    screen = run_cli("--config", config, "explain", "initrode").stdout
    assert "you are the interviewer" not in screen
    assert "verdict: interview" in screen
    assert "Maria Lopez <maria.lopez@initrode.com>" in screen


# -- 16: the demo's summary matches the Drafts folder; unfilled spots in sent drafts are flagged --


def _agent_mail(folder: Path) -> list[Message]:
    found = [parse_message(p.read_bytes(), folder=Folder.SENT, id=p.name) for p in folder.iterdir()]
    return [m for m in found if m.agent_key]


def test_the_demo_summary_matches_the_drafts_folder_and_names_what_was_sent(
    tmp_path: Path,
) -> None:
    root = tmp_path / "demo"
    shown = run_cli("demo", "--keep", str(root)).stdout
    in_drafts = _agent_mail(root / "Mail" / "Drafts" / "cur")
    sent = _agent_mail(root / "Mail" / "Sent" / "cur")
    assert (len(in_drafts), len(sent)) == (4, 5)
    flowing = " ".join(shown.split())  # the lines are wrapped at 80 columns
    assert f"4 drafts in your Drafts folder ({root / 'Mail' / 'Drafts'}); " in flowing
    assert "the simulated you sent 5" in flowing
    summary = shown[shown.index("4 drafts in your Drafts folder") :]
    for message in sent:
        person = message.to[0]
        assert any(
            "thank-you" in line and person.address in line for line in summary.splitlines()
        ), (person, summary)
    assert "drafts written to" not in shown  # the old count that did not match the folder
    for message in sent:  # the simulated user wrote what the brackets asked for
        assert placeholders(message.snippet) == (), message.snippet
        assert "[" not in message.snippet
    listed = run_json("demo", "--keep", str(root))
    assert len(listed["in_drafts"]) == 4
    assert sorted(d["to"] for d in listed["sent"]) == sorted(m.to[0].address for m in sent)


def test_what_the_demo_and_sync_print_fits_80_columns_on_a_wide_terminal(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    wide = {"COLUMNS": "200"}
    shown = run_cli("demo", "--keep", str(root), env=wide).stdout
    config = str(root / "mailagent.toml")
    synced = run_cli("--config", config, "sync", "--now", "2026-12-01T09:00-05:00", env=wide)
    for text in (shown, synced.stdout):
        too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
        assert all(" " not in line.strip() for line in too_wide), too_wide  # one long word
    assert "why:" in shown


def test_a_draft_sent_with_a_spot_still_to_fill_is_flagged_in_sync_and_status(
    tmp_path: Path,
) -> None:
    config, printed = _played(tmp_path)  # this user sends the thank-yous as drafted
    notes = [line for line in _entries(printed) if "still to fill" in line]
    assert any("Phone screen - Globex" in n and "sam.patel@globex.com" in n for n in notes), printed
    assert len([n for n in notes if "Acme" in n]) == 3  # one per panellist
    assert all('"[Mention something specific' in n for n in notes), notes
    shown = run_cli("--config", str(config), "status", "--now", END).stdout
    _assert_fits(shown)
    globex = _block(shown, "Phone screen - Globex")
    assert "thank-you to sam.patel@globex.com: sent" in globex
    assert "still to fill" in globex
    listed = run_json("--config", str(config), "status", "--now", END)[0]
    flagged = {d["to"] for d in listed["drafts"] if d["unfilled"]}
    assert flagged == {
        "sam.patel@globex.com",
        "priya.raman@acme.com",
        "marco.rossi@acme.com",
        "dana.lee@acme.com",
        "gavin@hooli.xyz",
    }


def test_placeholders_are_the_bracketed_spots_the_templates_mark() -> None:
    body = (
        "Hi Sam,\n\nThank you. [Mention something specific from your conversation.]\n\n"
        "[Optional: add a point, or delete this paragraph.]\n\nSee [1] and [x] and [URGENT].\n"
        "> [Mention a quoted spot from an earlier message]\n"
    )
    assert placeholders(body) == (
        "[Mention something specific from your conversation.]",
        "[Optional: add a point, or delete this paragraph.]",
    )
    assert placeholders("[" + "A b" * 10_000) == ()
